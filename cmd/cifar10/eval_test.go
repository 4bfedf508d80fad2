package main

import (
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/cifar/picture"
	"cifar10/nn/summary"
)

// trained returns a data folder and a checkpoint folder after a few training steps.
func trained(t *testing.T) (data, dir string) {
	t.Helper()
	data, dir = dataDir(t), t.TempDir()
	train(t, data, "-steps", "3", "-train-dir", dir, "-eval=false")
	return data, dir
}

// TestEval: precision, per-class accuracy and a 10x10 confusion matrix that adds up to the
// test set.
func TestEval(t *testing.T) {
	data, dir := trained(t)
	out := mustRun(t, "eval", "-data", data, "-ckpt", dir)
	lines := strings.Split(out, "\n")
	if !precisionLine.MatchString(lines[0]) {
		t.Fatalf("first line %q, want precision: 0.xxxx", lines[0])
	}
	row := regexp.MustCompile(`^(\w+)((?: +\d+){10})$`)
	total := 0
	for _, l := range lines {
		if m := row.FindStringSubmatch(l); m != nil {
			for _, f := range strings.Fields(m[2]) {
				n, _ := strconv.Atoi(f)
				total += n
			}
		}
	}
	if total != testRecords || !strings.Contains(out, "per-class accuracy") || !strings.Contains(out, "  airplane ") {
		t.Errorf("confusion matrix counts %d images, want %d:\n%s", total, testRecords, out)
	}
}

// TestPredictJSON: one object per line with index, label, predicted class and 10 logits.
func TestPredictJSON(t *testing.T) {
	data, dir := trained(t)
	labels := synthFiles()[cifar.TestFile]
	out := mustRun(t, "predict", "-data", data, "-ckpt", dir, "-n", "7", "-json", "-batch", "3")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want 7:\n%s", len(lines), out)
	}
	for i, l := range lines {
		var p prediction
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
		if p.Index != i || p.Label != int(labels[i*cifar.RecordSize]) || len(p.Logits) != 10 || p.Predicted != argmax(p.Logits) ||
			p.LabelName != cifar.ClassNames[p.Label] || p.PredictedName != cifar.ClassNames[p.Predicted] {
			t.Errorf("line %d: %+v", i, p)
		}
	}
	readable := mustRun(t, "predict", "-data", data, "-ckpt", dir, "-n", "3")
	if n := strings.Count(readable, "predicted"); n != 3 {
		t.Errorf("readable output has %d predictions, want 3:\n%s", n, readable)
	}
}

func argmax(z []float32) int {
	best := 0
	for i, v := range z {
		if v > z[best] {
			best = i
		}
	}
	return best
}

// TestPredictImage: one's own PNG is shrunk to 32x32 and classified.
func TestPredictImage(t *testing.T) {
	if picture.Side != cifar.Side || picture.Bytes != cifar.ImageBytes {
		t.Fatalf("picture makes %d-byte records, the dataset's images are %d bytes", picture.Bytes, cifar.ImageBytes)
	}
	_, dir := trained(t)
	path := filepath.Join(t.TempDir(), "photo.png")
	img := image.NewRGBA(image.Rect(0, 0, 50, 40))
	for y := range 40 {
		for x := range 50 {
			img.Set(x, y, color.RGBA{uint8(5 * x), uint8(6 * y), 200, 255})
		}
	}
	writePNG(t, path, img)
	out := mustRun(t, "predict", "-ckpt", dir, "-image", path, "-json")
	var p imagePrediction
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, q := range p.Probabilities {
		sum += q
	}
	if len(p.Logits) != 10 || len(p.Probabilities) != 10 || math.Abs(sum-1) > 1e-9 || p.Predicted != argmax(p.Logits) {
		t.Errorf("prediction %+v", p)
	}
	readable := mustRun(t, "predict", "-ckpt", dir, "-image", path)
	if !strings.HasPrefix(readable, path+": "+cifar.ClassNames[p.Predicted]) || strings.Count(readable, "%") != 11 {
		t.Errorf("readable prediction:\n%s", readable)
	}
	bad := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(bad, []byte("hello"), 0o644)
	if _, _, err := runCmd(t, "predict", "-ckpt", dir, "-image", bad); err == nil || !strings.Contains(err.Error(), "not a PNG or JPEG") {
		t.Errorf("a text file as -image: %v", err)
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// TestErrors: bad command lines and missing inputs give one line and the right kind of error.
func TestErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing")
	for _, c := range []struct {
		args  []string
		want  string
		usage bool
	}{
		{nil, "missing command", true},
		{[]string{"fly"}, `unknown command "fly"`, true},
		{[]string{"train", "-bogus"}, "-bogus", true},
		{[]string{"train", "-batch", "0"}, "-batch 0", true},
		{[]string{"train", "-preset", "vgg"}, `"vgg"`, true},
		{[]string{"train", "-resume"}, "-train-dir", true},
		{[]string{"train", "extra"}, `"extra"`, true},
		{[]string{"train", "-data", missing, "-steps", "1"}, "make data", false},
		{[]string{"eval"}, "-ckpt", true},
		{[]string{"eval", "-ckpt", missing}, "nothing", false},
		{[]string{"predict", "-ckpt", t.TempDir()}, "no checkpoint", false},
		{[]string{"predict", "-n", "-1"}, "-n -1", true},
	} {
		_, _, err := runCmd(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v, want one line mentioning %q", c.args, err, c.want)
			continue
		}
		if got := errors.As(err, new(usageError)); got != c.usage {
			t.Errorf("%v: usage error %v, want %v", c.args, got, c.usage)
		}
	}
	if out := mustRun(t, "eval", "-h"); !strings.Contains(out, "-ckpt") {
		t.Errorf("eval -h printed %q", out)
	}
}

// TestPredictActivations: the filters and every layer's maps with their shapes, and digests
// equal to those of the engine's own activations for the same checkpoint and test image; a
// test image that does not exist is refused.
func TestPredictActivations(t *testing.T) {
	data, dir := trained(t)
	out := mustRun(t, "predict", "-data", data, "-ckpt", dir, "-activations", "-index", "4")
	var got activationsOut
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	ck, _, err := openCheckpoint(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ck.NewModel()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := nn.NewTrainer(m, nil, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	set, err := cifar.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	input := make([]float32, m.InputSize())
	cifar.EvalImage(input, set.Test, 4, 24)
	maps := tr.Activations(nil, input)
	_, _, tiles, _ := m.Filters()
	if got.Image != 4 || got.Label != int(set.Test.Labels[4]) || got.Filters == nil || got.Filters.Digest != summary.Digest(tiles) ||
		got.Input.Digest != summary.Digest(input) || len(got.Probs) != 10 {
		t.Errorf("image %d label %d, filters %+v, input %+v", got.Image, got.Label, got.Filters, got.Input)
	}
	var names []string
	for i, l := range m.Summary() {
		n := l.Output[0] * l.Output[1] * l.Output[2]
		g := got.Layers[i]
		if g.Name != l.Name || g.Digest != summary.Digest(maps[:n]) || g.Min != slices.Min(maps[:n]) || g.Max != slices.Max(maps[:n]) {
			t.Errorf("layer %s: %+v", l.Name, g)
		}
		names = append(names, g.Name)
		maps = maps[n:]
	}
	if strings.Join(names, ",") != "conv1,pool1,norm1,conv2,norm2,pool2,local3,local4,softmax_linear" {
		t.Errorf("layers %v", names)
	}
	if _, _, err := runCmd(t, "predict", "-data", data, "-ckpt", dir, "-activations", "-index", strconv.Itoa(testRecords)); err == nil || !strings.Contains(err.Error(), "is not one of the") {
		t.Errorf("a test image past the end: %v", err)
	}
}
