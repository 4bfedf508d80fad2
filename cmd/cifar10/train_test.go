package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"cifar10/nn/safetensors"
)

// logLine is the tutorial's format_str, 'Step %d, loss = %.2f (%.1f examples/sec; %.3f sec/batch)'.
var logLine = regexp.MustCompile(`^Step (\d+), loss = \d+\.\d{2} \(\d+\.\d examples/sec; \d+\.\d{3} sec/batch\)$`)

var precisionLine = regexp.MustCompile(`^precision: [01]\.\d{4}$`)

// TestTrainOutput: a log line every 10 steps in the script's format, then the precision over
// the whole test set, and nothing else on stdout.
func TestTrainOutput(t *testing.T) {
	out := train(t, dataDir(t), "-steps", "21")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("stdout has %d lines, want 3 log lines and the precision:\n%s", len(lines), out)
	}
	for i, want := range []string{"0", "10", "20"} {
		m := logLine.FindStringSubmatch(lines[i])
		if m == nil || m[1] != want {
			t.Errorf("line %d = %q, want the log line of step %s", i, lines[i], want)
		}
	}
	if !precisionLine.MatchString(lines[3]) {
		t.Errorf("last line = %q, want precision: 0.xxxx", lines[3])
	}
}

// TestTrainSavesAndKeeps: checkpoints after 10 and 20 updates are ckpt-10 and ckpt-20; the
// newest -keep remain; the final one carries the measured precision.
func TestTrainSavesAndKeeps(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	train(t, data, "-steps", "20", "-train-dir", dir)
	if got := steps(t, dir); !slices.Equal(got, []int64{10, 20}) {
		t.Fatalf("checkpoints %v, want [10 20]", got)
	}
	meta := readCkpt(t, ckptPath(dir, 20)).Metadata
	if meta["step"] != "20" || meta["examples"] != "80" || meta["batch"] != "4" || meta["seed"] != "1" || meta["precision"] == "" || meta["loss"] == "" {
		t.Errorf("ckpt-20 metadata %v", meta)
	}
	train(t, data, "-steps", "45", "-train-dir", dir, "-resume", "-keep", "2", "-save-every", "15", "-eval=false")
	if got := steps(t, dir); !slices.Equal(got, []int64{30, 45}) {
		t.Errorf("after resuming with -keep 2 -save-every 15: checkpoints %v, want [30 45]", got)
	}
}

// TestResumeEqualsStraight: 10 steps, then -resume to 20, numbers its steps on and ends with
// a checkpoint whose every tensor equals that of 20 steps straight.
func TestResumeEqualsStraight(t *testing.T) {
	data, straight, split := dataDir(t), t.TempDir(), t.TempDir()
	train(t, data, "-steps", "20", "-train-dir", straight, "-eval=false")
	first := train(t, data, "-steps", "10", "-train-dir", split, "-eval=false")
	second := train(t, data, "-steps", "20", "-train-dir", split, "-resume", "-eval=false")
	if !strings.HasPrefix(first, "Step 0,") || !strings.HasPrefix(second, "Step 10,") || strings.Contains(second, "Step 0,") {
		t.Errorf("first run:\n%ssecond run:\n%s", first, second)
	}
	a, b := readCkpt(t, ckptPath(straight, 20)), readCkpt(t, ckptPath(split, 20))
	if len(a.Tensors) != len(b.Tensors) {
		t.Fatalf("%d tensors vs %d", len(a.Tensors), len(b.Tensors))
	}
	for _, ta := range a.Tensors {
		tb, ok := b.Tensor(ta.Name)
		if !ok || ta.DType != tb.DType || !slices.Equal(ta.Shape, tb.Shape) || !bytes.Equal(ta.Data, tb.Data) {
			t.Errorf("tensor %s differs between the straight and the resumed run", ta.Name)
		}
	}
	for _, k := range []string{"step", "examples", "loss", "optimizer", "seed", "batch"} {
		if a.Metadata[k] != b.Metadata[k] {
			t.Errorf("metadata %s: straight %q, resumed %q", k, a.Metadata[k], b.Metadata[k])
		}
	}
}

// TestTrainRefusesToOverwrite: a fresh run into a folder with checkpoints, or flags that
// contradict the run being resumed, are refused and change nothing.
func TestTrainRefusesToOverwrite(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	train(t, data, "-steps", "10", "-train-dir", dir, "-eval=false")
	before := readBytes(t, ckptPath(dir, 10))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-steps", "20"}, "-resume"},
		{[]string{"-steps", "20", "-resume", "-seed", "2"}, "-seed 2"},
		{[]string{"-steps", "20", "-resume", "-preset", "cs231n"}, "cs231n"},
	} {
		args := append([]string{"train", "-data", data, "-batch", "4", "-train-dir", dir}, c.args...)
		_, _, err := runCmd(t, args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one mentioning %q", c.args, err, c.want)
		}
	}
	if !bytes.Equal(before, readBytes(t, ckptPath(dir, 10))) || !slices.Equal(steps(t, dir), []int64{10}) {
		t.Error("a refused run changed the checkpoint folder")
	}
}

// TestDivergenceNeverSaved: an absurd learning rate makes the loss infinite; training stops
// with a message and the good checkpoint is left as it was, with nothing newer.
func TestDivergenceNeverSaved(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	train(t, data, "-steps", "10", "-train-dir", dir, "-eval=false")
	good := readBytes(t, ckptPath(dir, 10))
	_, _, err := runCmd(t, "train", "-data", data, "-batch", "4", "-train-dir", dir, "-resume", "-steps", "30", "-lr", "1e30")
	if err == nil || !strings.Contains(err.Error(), "diverged") || !strings.Contains(err.Error(), "cifar10.ckpt-10") {
		t.Fatalf("error %v, want a divergence message", err)
	}
	if !bytes.Equal(good, readBytes(t, ckptPath(dir, 10))) || !slices.Equal(steps(t, dir), []int64{10}) {
		t.Errorf("divergence touched the checkpoints: %v", steps(t, dir))
	}
}

// TestCorruptNewest: a damaged newest checkpoint is reported by name (with the older ones) and
// never skipped silently; naming the older one with -ckpt works; nothing is deleted.
func TestCorruptNewest(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	train(t, data, "-steps", "20", "-train-dir", dir, "-eval=false")
	newest := ckptPath(dir, 20)
	damaged := readBytes(t, newest)
	damaged = damaged[:len(damaged)-100]
	if err := os.WriteFile(newest, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"eval", "-data", data, "-ckpt", dir},
		{"predict", "-data", data, "-ckpt", dir},
		{"train", "-data", data, "-batch", "4", "-train-dir", dir, "-resume", "-steps", "30"},
	} {
		_, _, err := runCmd(t, args...)
		if err == nil || !strings.Contains(err.Error(), "cifar10.ckpt-20.safetensors") || !strings.Contains(err.Error(), "cifar10.ckpt-10.safetensors") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming the damaged file and the older one", args[0], err)
		}
	}
	out := mustRun(t, "eval", "-data", data, "-ckpt", ckptPath(dir, 10))
	if !precisionLine.MatchString(strings.SplitN(out, "\n", 2)[0]) {
		t.Errorf("eval of the older checkpoint printed:\n%s", out)
	}
	if !slices.Equal(steps(t, dir), []int64{10, 20}) || !bytes.Equal(damaged, readBytes(t, newest)) {
		t.Error("the checkpoint folder changed")
	}
}

// TestArchiveInput: -data also takes the cifar-10-binary.tar.gz archive.
func TestArchiveInput(t *testing.T) {
	out := train(t, dataArchive(t), "-steps", "1")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !logLine.MatchString(lines[0]) || !precisionLine.MatchString(lines[1]) {
		t.Errorf("training from the archive printed:\n%s", out)
	}
}

// TestCS231nPreset: -preset cs231n trains the other model, and its checkpoint says so.
func TestCS231nPreset(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	train(t, data, "-steps", "2", "-preset", "cs231n", "-train-dir", dir, "-eval=false")
	if meta := readCkpt(t, ckptPath(dir, 2)).Metadata; meta["preset"] != "cs231n" || !strings.Contains(meta["optimizer"], "momentum") {
		t.Errorf("cs231n checkpoint metadata %v", meta)
	}
	if _, _, err := runCmd(t, "eval", "-data", data, "-ckpt", dir, "-preset", "cifar10"); err == nil || !strings.Contains(err.Error(), "cs231n, not cifar10") {
		t.Errorf("evaluating a cs231n checkpoint as cifar10: %v", err)
	}
}

// TestInterruptSaves: an interrupt stops training after the current step and saves it.
func TestInterruptSaves(t *testing.T) {
	defer func(f func() (context.Context, context.CancelFunc)) { interruptContext = f }(interruptContext)
	interruptContext = func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // as if Ctrl-C came during the first step
		return ctx, cancel
	}
	data, dir := dataDir(t), t.TempDir()
	_, _, err := runCmd(t, "train", "-data", data, "-batch", "4", "-train-dir", dir, "-steps", "20")
	if err == nil || !strings.Contains(err.Error(), "interrupted with 1 steps done") || !strings.Contains(err.Error(), "cifar10.ckpt-1.safetensors") {
		t.Errorf("error %v, want an interruption saved at step 1", err)
	}
	if got := steps(t, dir); !slices.Equal(got, []int64{1}) {
		t.Errorf("checkpoints %v, want [1]", got)
	}
}

// TestFineTuneWeightsOnly: a weights-only file (no optimizer state, no metadata) is accepted
// by eval and trained on with a fresh optimizer from step 0; -resume in an empty folder
// starts from scratch.
func TestFineTuneWeightsOnly(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	train(t, data, "-steps", "2", "-train-dir", dir, "-eval=false")
	f := readCkpt(t, ckptPath(dir, 2))
	f.Metadata = nil
	f.Tensors = slices.DeleteFunc(f.Tensors, func(ts safetensors.Tensor) bool {
		return strings.Contains(ts.Name, "/Adam") || ts.DType == safetensors.DTypeI64
	})
	exported, err := safetensors.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "weights.safetensors")
	if err := os.WriteFile(path, exported, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "eval", "-data", data, "-ckpt", path)
	tuned := t.TempDir()
	_, stderr, err := runCmd(t, "train", "-data", data, "-batch", "4", "-ckpt", path, "-train-dir", tuned, "-steps", "3", "-eval=false")
	if err != nil || !strings.Contains(stderr, "weights only") || !slices.Equal(steps(t, tuned), []int64{3}) {
		t.Errorf("fine-tuning: %v, stderr %q, checkpoints %v", err, stderr, steps(t, tuned))
	}
	empty := filepath.Join(t.TempDir(), "new")
	_, stderr, err = runCmd(t, "train", "-data", data, "-batch", "4", "-resume", "-train-dir", empty, "-steps", "1", "-eval=false")
	if err != nil || !strings.Contains(stderr, "starting from step 0") || !slices.Equal(steps(t, empty), []int64{1}) {
		t.Errorf("-resume in a new folder: %v, stderr %q", err, stderr)
	}
}
