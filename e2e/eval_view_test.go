//go:build !js

package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/wasm/protocol"

	"github.com/chromedp/chromedp"
)

// Cell is one count of the page's confusion matrix.
type Cell struct {
	True  int `json:"true"`
	Pred  int `json:"pred"`
	Count int `json:"count"`
}

// ConfusionCells reads the confusion matrix's cells.
func ConfusionCells(tb testing.TB, ctx context.Context) []Cell {
	tb.Helper()
	return Eval[[]Cell](tb, ctx, `[...document.querySelectorAll('#`+ui.EvalConfusionID+` td[data-true]')].map(e => ({
		true: +e.dataset.true, pred: +e.dataset.pred, count: +e.textContent}))`)
}

// TestTile is one tile of the page's test-image grid.
type TestTile struct {
	Index int    `json:"index"`
	Label int    `json:"label"`
	Pred  int    `json:"pred"`
	Src   string `json:"src"`
}

// GridTiles reads the test-image grid's tiles.
func GridTiles(tb testing.TB, ctx context.Context) []TestTile {
	tb.Helper()
	return Eval[[]TestTile](tb, ctx, `[...document.querySelectorAll('#`+ui.TestImagesID+` .ti-tile')].map(e => ({
		index: +e.dataset.index, label: +e.dataset.label, pred: +e.dataset.pred, src: e.querySelector('img').src}))`)
}

// NativePredictions runs `cifar10 predict -json` on a checkpoint file for the first n test
// images and returns each one's predicted class (the first largest logit, as evaluation
// counts it).
func NativePredictions(tb testing.TB, path string, n int) []int {
	tb.Helper()
	out := RunNative(tb, "predict", "-ckpt", path, "-n", fmt.Sprint(n), "-json")
	var preds []int
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var p struct {
			Index     int       `json:"index"`
			Predicted int       `json:"predicted"`
			Logits    []float32 `json:"logits"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil || p.Index != len(preds) || nn.Argmax(p.Logits) != p.Predicted {
			tb.Fatalf("e2e: predict line %q: %v", sc.Text(), err)
		}
		preds = append(preds, p.Predicted)
	}
	if len(preds) != n {
		tb.Fatalf("e2e: predict printed %d predictions, want %d:\n%s", len(preds), n, out)
	}
	return preds
}

// TestEvaluationView trains 10 steps, evaluates, and checks the evaluation view: the confusion
// matrix adds up to the test set with its diagonal the correct count; the test-image grid
// shows the first 24 test images with their labels, the native trainer's predictions for the
// same checkpoint, and the count of mistakes; "mistakes only" lists only mistakes.
func TestEvaluationView(t *testing.T) {
	ctx := NewBrowser(t, WindowSize(1280, 2400), Timeout(120*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "steps=10&batch=16&seed=5&save_every=10")
	StartRun(t, ctx)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)
	correct, text := Evaluate(t, ctx, 10)
	total := DataInt(t, ctx, ui.EvalPrecisionID, "total")

	cells := ConfusionCells(t, ctx)
	sum, diagonal := 0, 0
	for _, c := range cells {
		sum += c.Count
		if c.True == c.Pred {
			diagonal += c.Count
		}
	}
	if len(cells) != 100 || sum != SyntheticTest || sum != total || diagonal != correct {
		t.Errorf("confusion matrix: %d cells adding up to %d (test images %d), diagonal %d; %s, %d correct", len(cells), sum, total, diagonal, text, correct)
	}
	heads := Eval[[]string](t, ctx, `[...document.querySelectorAll('#`+ui.EvalConfusionID+` thead th.pred-head')].map(e => e.textContent)`)
	if strings.Join(heads, ",") != strings.Join(SyntheticClassNames, ",") {
		t.Errorf("the matrix's columns are %q", heads)
	}

	// The evaluation brought the first page of test images.
	WaitJS(t, ctx, fmt.Sprintf(`document.getElementById(%q)?.dataset.count === '24' && document.getElementById(%q).dataset.step === '10'`, ui.TestImagesID, ui.TestImagesID), 20*time.Second)
	tiles := GridTiles(t, ctx)
	data, err := cifar.Load(DataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	_, file := Download(t, ctx, WaitNewest(t, ctx, 10))
	path := filepath.Join(t.TempDir(), "cifar10.ckpt-10.safetensors")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	native := NativePredictions(t, path, 24)
	mistakes := 0
	for i, tile := range tiles {
		if tile.Index != i || tile.Label != int(data.Test.Labels[i]) || tile.Pred != native[i] {
			t.Errorf("tile %d: %+v; want test image %d, label %d, native prediction %d", i, tile, i, data.Test.Labels[i], native[i])
		}
		if tile.Label != tile.Pred {
			mistakes++
		}
	}
	if shown := DataInt(t, ctx, ui.TestImagesID, "mistakes"); shown != mistakes || !strings.Contains(Text(t, ctx, sel(ui.TestImagesID)), fmt.Sprintf("%d of 24 shown are mistakes", mistakes)) {
		t.Errorf("the grid says %d mistakes, its tiles hold %d", shown, mistakes)
	}
	if got := tilePixels(t, tiles[5].Src); string(got) != string(data.Test.Image(5)) {
		t.Error("tile 5 does not show test image 5's pixels")
	}
	Screenshot(t, ctx, "evaluation-view")

	// Mistakes only, then the next page of them.
	Click(t, ctx, ui.TestImagesMistakesID)
	WaitJS(t, ctx, `document.querySelector('#`+ui.TestImagesID+` .ti-summary')?.textContent.startsWith('Mistakes')`, 10*time.Second)
	firstMistakes := GridTiles(t, ctx)
	if len(firstMistakes) == 0 {
		t.Fatal("no mistakes shown after 10 steps")
	}
	for _, tile := range firstMistakes {
		if tile.Label == tile.Pred || tile.Label != int(data.Test.Labels[tile.Index]) {
			t.Errorf("mistakes only shows %+v", tile)
		}
	}
	if DataInt(t, ctx, ui.TestImagesID, "mistakes") != len(firstMistakes) {
		t.Errorf("%d mistakes shown, data-mistakes %d", len(firstMistakes), DataInt(t, ctx, ui.TestImagesID, "mistakes"))
	}
	if next := DataInt(t, ctx, ui.TestImagesID, "next"); next < SyntheticTest {
		Click(t, ctx, ui.TestImagesNextID)
		WaitJS(t, ctx, fmt.Sprintf(`document.getElementById(%q)?.dataset.start === '%d'`, ui.TestImagesID, next), 10*time.Second)
		for _, tile := range GridTiles(t, ctx) {
			if tile.Index < next || tile.Label == tile.Pred {
				t.Errorf("the next page of mistakes shows %+v", tile)
			}
		}
		Click(t, ctx, ui.TestImagesPrevID)
		WaitJS(t, ctx, `document.getElementById('`+ui.TestImagesID+`')?.dataset.start === '0'`, 10*time.Second)
	}
	t.Logf("%s; %d of the first 24 test images mistaken; %d mistakes on the first page of them", text, mistakes, len(firstMistakes))
}

// tilePixels decodes a tile's PNG data: URL to the record it draws.
func tilePixels(tb testing.TB, src string) []byte {
	tb.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(src, "data:image/png;base64,"))
	if err != nil {
		tb.Fatalf("e2e: tile src %.40s: %v", src, err)
	}
	img, err := png.Decode(strings.NewReader(string(raw)))
	if err != nil {
		tb.Fatalf("e2e: tile PNG: %v", err)
	}
	b := img.Bounds()
	const plane = cifar.Side * cifar.Side
	out := make([]byte, cifar.ImageBytes)
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := y*cifar.Side + x
			out[i], out[plane+i], out[2*plane+i] = byte(r>>8), byte(g>>8), byte(bl>>8)
		}
	}
	return out
}

// ClassifyRows reads the classification's rows: class and probability, in the order shown.
type ClassifyRow struct {
	Class int     `json:"class"`
	Prob  float64 `json:"prob"`
}

// ClassifyRows reads the classes listed for one's own picture, most probable first.
func ClassifyRows(tb testing.TB, ctx context.Context) []ClassifyRow {
	tb.Helper()
	return Eval[[]ClassifyRow](tb, ctx, `[...document.querySelectorAll('#`+ui.ClassifyResultID+` .classify-row')].map(e => ({
		class: +e.dataset.class, prob: +e.dataset.prob}))`)
}

// ChoosePicture picks path in the "classify my own image" field, as a user does.
func ChoosePicture(tb testing.TB, ctx context.Context, path string) {
	tb.Helper()
	WaitJS(tb, ctx, `!document.getElementById('`+ui.ClassifyUploadID+`').disabled`, 10*time.Second)
	if err := chromedp.Run(ctx, chromedp.SetUploadFiles(sel(ui.ClassifyUploadID), []string{path}, chromedp.ByQuery)); err != nil {
		tb.Fatalf("e2e: choosing %s: %v", path, err)
	}
}

// TestClassifyOwnImage: before any weights the picture field is disabled with a hint; after a
// short run, a PNG of test image 3 (made here) is classified into the class the grid predicts
// for test image 3, with 10 probabilities adding up to 1; a text file gets one sentence and
// leaves the result as it was.
func TestClassifyOwnImage(t *testing.T) {
	ctx := NewBrowser(t, Timeout(90*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "steps=5&batch=16&seed=2&save_every=0")
	if !Eval[bool](t, ctx, `document.getElementById('`+ui.ClassifyUploadID+`').disabled`) ||
		!strings.Contains(Text(t, ctx, ".classify"), "Train a few steps") {
		t.Errorf("without weights the picture field should be disabled with a hint: %q", Text(t, ctx, ".classify"))
	}
	StartRun(t, ctx)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)

	Click(t, ctx, ui.TestImagesShowID)
	WaitJS(t, ctx, `document.getElementById('`+ui.TestImagesID+`')?.dataset.count === '24'`, 20*time.Second)
	tile := GridTiles(t, ctx)[3]

	data, err := cifar.Load(DataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	picture := filepath.Join(dir, "test-image-3.png")
	f, err := os.Create(picture)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, ui.RecordImage(data.Test.Image(3))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ChoosePicture(t, ctx, picture)
	WaitJS(t, ctx, `document.getElementById('`+ui.ClassifyResultID+`')`, 20*time.Second)
	rows := ClassifyRows(t, ctx)
	sum := 0.0
	for i, r := range rows {
		sum += r.Prob
		if i > 0 && r.Prob > rows[i-1].Prob {
			t.Errorf("row %d (%v) is more probable than row %d (%v)", i, r.Prob, i-1, rows[i-1].Prob)
		}
	}
	top := DataInt(t, ctx, ui.ClassifyResultID, "class")
	if len(rows) != 10 || math.Abs(sum-1) > 1e-4 || top != rows[0].Class {
		t.Errorf("classification %+v (sum %v), top class %d", rows, sum, top)
	}
	if top != tile.Pred {
		t.Errorf("test image 3 as a PNG is classified %d, the grid predicts %d for it", top, tile.Pred)
	}

	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a picture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ChoosePicture(t, ctx, text)
	WaitJS(t, ctx, `document.getElementById('`+ui.ClassifyErrorID+`')`, 10*time.Second)
	if msg := Text(t, ctx, sel(ui.ClassifyErrorID)); msg != "The file notes.txt is not a PNG or JPEG image, so it was not classified." {
		t.Errorf("a text file: %q", msg)
	}
	if DataInt(t, ctx, ui.ClassifyResultID, "class") != top || len(ClassifyRows(t, ctx)) != 10 || notices(ctx) != "" {
		t.Errorf("a text file changed more than the message (notices %q)", notices(ctx))
	}
	ScreenshotOf(t, ctx, ".classify", "classify-own-image")
}

// TestEvaluationViewTwoWorkers: with 2 workers sharing a paused run (dataset in shared
// memory), the merged confusion matrix adds up to the test set, and the leader alone predicts
// the test images (pixels read from shared memory) and classifies a picture.
func TestEvaluationViewTwoWorkers(t *testing.T) {
	ctx := NewBrowser(t, Timeout(90*time.Second))
	srv := StartServer(t)
	OpenWorkers(t, ctx, srv, "steps=200&batch=32&seed=4&save_every=0&workers=2", 2)
	StartRun(t, ctx)
	WaitStep(t, ctx, 3, 30*time.Second)
	Click(t, ctx, ui.TrainPauseID)
	WaitPhase(t, ctx, 10*time.Second, protocol.PhasePaused)
	if got := DataInt(t, ctx, ui.WorkerStatusID, "run-workers"); got != 2 {
		t.Fatalf("the run is shared by %d workers, want 2", got)
	}
	step := Step(t, ctx)
	correct, _ := Evaluate(t, ctx, int64(step))
	sum, diagonal := 0, 0
	for _, c := range ConfusionCells(t, ctx) {
		sum += c.Count
		if c.True == c.Pred {
			diagonal += c.Count
		}
	}
	if sum != SyntheticTest || diagonal != correct {
		t.Errorf("two workers' confusion matrix adds up to %d with diagonal %d; %d correct of %d", sum, diagonal, correct, SyntheticTest)
	}
	WaitJS(t, ctx, fmt.Sprintf(`document.getElementById(%q)?.dataset.step === '%d' && document.getElementById(%q).dataset.count === '24'`, ui.TestImagesID, step, ui.TestImagesID), 20*time.Second)
	data, err := cifar.Load(DataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	tiles := GridTiles(t, ctx)
	for i, tile := range tiles {
		if tile.Index != i || tile.Label != int(data.Test.Labels[i]) || tile.Pred < 0 || tile.Pred > 9 {
			t.Errorf("tile %d: %+v", i, tile)
		}
	}
	if got := tilePixels(t, tiles[23].Src); string(got) != string(data.Test.Image(23)) {
		t.Error("tile 23 does not show test image 23's pixels")
	}
	picture := filepath.Join(t.TempDir(), "seven.png")
	f, err := os.Create(picture)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, ui.RecordImage(data.Test.Image(7))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ChoosePicture(t, ctx, picture)
	WaitJS(t, ctx, `document.getElementById('`+ui.ClassifyResultID+`')`, 20*time.Second)
	if top := DataInt(t, ctx, ui.ClassifyResultID, "class"); top != tiles[7].Pred || len(ClassifyRows(t, ctx)) != 10 {
		t.Errorf("test image 7 as a PNG is classified %d, the grid predicts %d", top, tiles[7].Pred)
	}
	if Phase(t, ctx) != protocol.PhasePaused || Step(t, ctx) != step {
		t.Errorf("predicting changed the paused run: %s at step %d", Phase(t, ctx), Step(t, ctx))
	}
}
