//go:build !js

package e2e

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/nn/cifar"
	"cifar10/wasm/protocol"
)

// pageLayer is one .act-layer of the activations view as the page exposes it.
type pageLayer struct {
	Layer    string `json:"layer"`
	Channels int    `json:"channels"`
	Tiles    int    `json:"tiles"`
	Digest   string `json:"digest"`
}

// ActLayers reads the activations view's layers: name, channels, tiles drawn and digest.
func ActLayers(tb testing.TB, ctx context.Context) []pageLayer {
	tb.Helper()
	return Eval[[]pageLayer](tb, ctx, `[...document.querySelectorAll('#`+ui.ActivationsID+` .act-layer')].map(e => ({
		layer: e.dataset.layer, channels: +e.dataset.channels, tiles: e.querySelectorAll('.act-tile').length, digest: e.dataset.digest || ''}))`)
}

// nativeActivations is `cifar10 predict -activations` for a checkpoint file and test image.
type nativeActivations struct {
	Image   int `json:"image"`
	Filters struct {
		Name   string `json:"name"`
		Shape  []int  `json:"shape"`
		Digest string `json:"digest"`
	} `json:"filters"`
	Input struct {
		Digest string `json:"digest"`
	} `json:"input"`
	Layers []struct {
		Name   string `json:"name"`
		Shape  []int  `json:"shape"`
		Digest string `json:"digest"`
	} `json:"layers"`
}

// NativeActivations runs the native trainer's `predict -activations` on a checkpoint file.
func NativeActivations(tb testing.TB, path string, index int) nativeActivations {
	tb.Helper()
	var a nativeActivations
	out := RunNative(tb, "predict", "-ckpt", path, "-activations", "-index", fmt.Sprint(index))
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		tb.Fatalf("e2e: predict -activations: %v\n%s", err, out)
	}
	return a
}

// sameMaps compares the page's views with the native trainer's for the same weights and image.
func sameMaps(tb testing.TB, ctx context.Context, native nativeActivations) {
	tb.Helper()
	if got := Data(tb, ctx, ui.FiltersID, "digest"); got != native.Filters.Digest {
		tb.Errorf("the page's filters (digest %s) are not the native trainer's (%s)", got, native.Filters.Digest)
	}
	layers := ActLayers(tb, ctx)
	if len(layers) != len(native.Layers)+2 {
		tb.Fatalf("the page shows %d layers (input, layers, probabilities), native %d layers", len(layers), len(native.Layers))
	}
	if layers[0].Digest != native.Input.Digest {
		tb.Errorf("the input as the network sees it differs from the native trainer's")
	}
	for i, n := range native.Layers {
		p := layers[i+1]
		if p.Layer != n.Name || p.Digest != n.Digest || p.Channels != n.Shape[2] {
			tb.Errorf("layer %s: page %+v, native %+v", n.Name, p, n)
		}
	}
}

// TestInsideView trains a short run with the views open and checks them: 64 filter tiles and
// every layer's maps with the right counts, updated while training, equal bit for bit to the
// native trainer's for the same checkpoint and test image (also after clicking a grid tile);
// precision over time gets its points during the run, and Evaluate all checkpoints one per
// stored checkpoint, equal to the run's own at the same step; the grid's top-3 is the native
// trainer's, its class filter keeps only that class; a PNG dropped on the page is classified
// and looked inside.
func TestInsideView(t *testing.T) {
	ctx := NewBrowser(t, WindowSize(1280, 2400), Timeout(180*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "steps=120&batch=16&seed=3&save_every=30&keep=5&eval_every=20&eval_images=100&workers=1")
	if !Eval[bool](t, ctx, `document.getElementById('`+ui.InsideToggleID+`').disabled`) {
		t.Error("the views can be opened before there are weights")
	}
	StartRun(t, ctx)
	WaitStep(t, ctx, 1, 60*time.Second)
	Click(t, ctx, ui.InsideToggleID)
	WaitJS(t, ctx, `document.querySelectorAll('#`+ui.FiltersID+` .filter-tile').length === 64 && document.getElementById('`+ui.ActivationsID+`')?.dataset.step`, 30*time.Second)
	if l, n := Data(t, ctx, ui.FiltersID, "layer"), DataInt(t, ctx, ui.FiltersID, "count"); l != "conv1" || n != 64 {
		t.Errorf("filters of %s, count %d", l, n)
	}
	want := map[string]int{"input": 3, "conv1": 64, "pool1": 64, "norm1": 64, "conv2": 64, "norm2": 64, "pool2": 64,
		"local3": 384, "local4": 192, "softmax_linear": 10, "probabilities": 10}
	for _, l := range ActLayers(t, ctx) {
		maps := l.Layer != "input" && l.Layer != "probabilities" && !strings.HasPrefix(l.Layer, "local") && l.Layer != "softmax_linear"
		if want[l.Layer] != l.Channels || (maps && l.Tiles != l.Channels) || (!maps && l.Tiles != 0) {
			t.Errorf("layer %+v, want %d channels (tiles: %v)", l, want[l.Layer], maps)
		}
		delete(want, l.Layer)
	}
	if len(want) != 0 {
		t.Errorf("layers not shown: %v", want)
	}
	// Live: the views follow the weights while the run trains.
	first := DataInt(t, ctx, ui.ActivationsID, "step")
	WaitJS(t, ctx, fmt.Sprintf(`+document.getElementById('%s').dataset.step > %d || document.getElementById('%s').dataset.phase !== 'running'`,
		ui.ActivationsID, first, ui.StatusPhaseID), 30*time.Second)
	if Phase(t, ctx) == protocol.PhaseRunning || DataInt(t, ctx, ui.ActivationsID, "step") > first {
		if DataInt(t, ctx, ui.ActivationsID, "step") <= first {
			t.Errorf("the activations stayed at step %d while training", first)
		}
	}
	WaitJS(t, ctx, `+document.getElementById('`+ui.PrecisionChartID+`').dataset.runPoints >= 2`, 60*time.Second)
	if Phase(t, ctx) != protocol.PhaseRunning {
		t.Log("the run ended before two precision points were seen during it")
	}
	Screenshot(t, ctx, "inside-training")
	WaitPhase(t, ctx, 120*time.Second, protocol.PhaseFinished)
	WaitJS(t, ctx, `document.getElementById('`+ui.ActivationsID+`')?.dataset.step === '120' && document.getElementById('`+ui.FiltersID+`')?.dataset.step === '120'`, 20*time.Second)
	WaitJS(t, ctx, `document.getElementById('`+ui.PrecisionChartID+`').dataset.runPoints === '6'`, 20*time.Second)

	_, file := Download(t, ctx, WaitNewest(t, ctx, 120))
	path := filepath.Join(t.TempDir(), "cifar10.ckpt-120.safetensors")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	sameMaps(t, ctx, NativeActivations(t, path, 0))
	// Tapping a tile names its layer and channel.
	Eval[bool](t, ctx, `(document.querySelector('#`+ui.ActivationsID+` .act-layer[data-layer="conv2"] .act-tile[data-channel="5"]').click(), true)`)
	WaitJS(t, ctx, `document.querySelector('#`+ui.ActivationsID+` .act-pointed')?.textContent === 'conv2, channel 5'`, 10*time.Second)
	ScreenshotOf(t, ctx, ".inside", "inside-network")

	// Evaluate all checkpoints: 30, 60, 90, 120, each on the same 100 test images as the run.
	Click(t, ctx, ui.EvalCheckpointsID)
	WaitJS(t, ctx, `document.getElementById('`+ui.PrecisionChartID+`').dataset.ckptPoints === '4' && !document.getElementById('`+ui.EvalCheckpointsID+`').disabled`, 60*time.Second)
	titles := Eval[[]string](t, ctx, `[...document.querySelectorAll('#`+ui.PrecisionChartID+` title')].map(e => e.textContent)`)
	for _, step := range []int{60, 120} {
		run, ckpt := "", ""
		for _, s := range titles {
			if strings.HasPrefix(s, fmt.Sprintf("step %d: ", step)) {
				run = strings.TrimPrefix(s, fmt.Sprintf("step %d: ", step))
			}
			if strings.HasPrefix(s, fmt.Sprintf("checkpoint at step %d: ", step)) {
				ckpt = strings.TrimPrefix(s, fmt.Sprintf("checkpoint at step %d: ", step))
			}
		}
		if run == "" || run != ckpt {
			t.Errorf("step %d: the run measured %q, its checkpoint %q", step, run, ckpt)
		}
	}
	if n := DataInt(t, ctx, ui.PrecisionChartID, "points"); n != 10 {
		t.Errorf("the chart plots %d evaluations, want 6 of the run and 4 of its checkpoints", n)
	}
	ScreenshotOf(t, ctx, ".charts", "precision-chart")

	// Top-3 in the grid is the native trainer's, and a class filter keeps that class.
	Click(t, ctx, ui.TestImagesShowID)
	WaitJS(t, ctx, `document.getElementById('`+ui.TestImagesID+`')?.dataset.count === '24'`, 20*time.Second)
	top := Eval[[][]int](t, ctx, `[...document.querySelectorAll('#`+ui.TestImagesID+` .ti-tile')].map(e =>
		[...e.querySelectorAll('.top3-row')].map(r => +r.dataset.class))`)
	native := nativeTop3(t, path, 24)
	for i := range native {
		if i >= len(top) || !slices.Equal(top[i], native[i]) {
			t.Errorf("test image %d: top-3 %v on the page, %v natively", i, top[i], native[i])
		}
	}
	ScreenshotOf(t, ctx, ".test-images-panel", "test-images-top3")
	Eval[bool](t, ctx, `(() => { const s = document.getElementById('`+ui.TestImagesLabelID+`'); s.value = '3'; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`)
	WaitJS(t, ctx, `document.querySelector('#`+ui.TestImagesID+` .ti-summary')?.textContent.includes('chosen classes')`, 20*time.Second)
	for _, tile := range GridTiles(t, ctx) {
		if tile.Label != 3 {
			t.Errorf("the filter on class 3 shows %+v", tile)
		}
	}
	if len(GridTiles(t, ctx)) == 0 {
		t.Error("no test image of class 3 shown")
	}
	// Clicking a tile looks inside for that test image.
	clicked := GridTiles(t, ctx)[1].Index
	Eval[bool](t, ctx, `(document.querySelectorAll('#`+ui.TestImagesID+` .ti-tile')[1].click(), true)`)
	WaitJS(t, ctx, fmt.Sprintf(`document.getElementById('%s')?.dataset.image === '%d'`, ui.ActivationsID, clicked), 20*time.Second)
	sameMaps(t, ctx, NativeActivations(t, path, clicked))

	// A PNG of test image 7 dropped on the page is classified, and looked inside.
	data, err := cifar.Load(DataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, ui.RecordImage(data.Test.Image(7))); err != nil {
		t.Fatal(err)
	}
	DropPicture(t, ctx, "seven.png", buf.Bytes())
	WaitJS(t, ctx, `document.getElementById('`+ui.ClassifyResultID+`')?.dataset.name !== undefined && document.getElementById('`+ui.ActivationsID+`')?.dataset.image === '-1'`, 20*time.Second)
	if got := DataInt(t, ctx, ui.ClassifyResultID, "class"); got != native[7][0] {
		t.Errorf("test image 7 dropped as a PNG is classified %d, natively %d", got, native[7][0])
	}
	rows := Eval[[]int](t, ctx, `[...document.querySelectorAll('.classify .top3-row')].map(r => +r.dataset.class)`)
	if !slices.Equal(rows, native[7]) {
		t.Errorf("the dropped picture's top-3 %v, natively %v", rows, native[7])
	}
	ScreenshotOf(t, ctx, ".classify", "classify-drop")
	ScreenshotOf(t, ctx, ".inside", "inside-picture")
}

// DropPicture drops a file on the classify drop zone, as a user dragging it from their
// desktop does (a DataTransfer holding the file).
func DropPicture(tb testing.TB, ctx context.Context, name string, data []byte) {
	tb.Helper()
	WaitJS(tb, ctx, `!document.getElementById('`+ui.ClassifyUploadID+`').disabled`, 10*time.Second)
	js := fmt.Sprintf(`(() => {
		const bytes = Uint8Array.from(atob(%q), c => c.charCodeAt(0));
		const dt = new DataTransfer();
		dt.items.add(new File([bytes], %q, {type: 'image/png'}));
		const zone = document.getElementById(%q);
		zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
		return !zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
	})()`, base64.StdEncoding.EncodeToString(data), name, ui.ClassifyDropID)
	if !Eval[bool](tb, ctx, js) {
		tb.Error("e2e: the page did not take the drop (the browser would open the file)")
	}
}

// nativeTop3 is the three most probable classes of the first n test images by `cifar10
// predict -json`: the largest logits, the first largest first.
func nativeTop3(tb testing.TB, path string, n int) [][]int {
	tb.Helper()
	out := RunNative(tb, "predict", "-ckpt", path, "-n", fmt.Sprint(n), "-json")
	var top [][]int
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var p struct {
			Logits []float32 `json:"logits"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			tb.Fatalf("e2e: predict line %q: %v", sc.Text(), err)
		}
		order := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(p.Logits[b], p.Logits[a]) })
		top = append(top, order[:3])
	}
	if len(top) != n {
		tb.Fatalf("e2e: %d predictions, want %d", len(top), n)
	}
	return top
}
