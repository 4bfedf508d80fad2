package main

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	sliceLine = regexp.MustCompile(`^Step (\d+), precision: [01]\.\d{4} \(16 test images\)$`)
	ttaLine   = regexp.MustCompile(`^precision with (flip|flip\+translate): [01]\.\d{4}$`)
)

// recipeTrain trains cs231n with airbench's recipe on the small set.
func recipeTrain(t *testing.T, data, dir string, extra ...string) string {
	t.Helper()
	return train(t, data, append([]string{"-preset", "cs231n", "-recipe", "airbench", "-train-dir", dir, "-save-every", "100"}, extra...)...)
}

// TestTrainRecipe: -recipe airbench logs the precision on the test slice every -eval-every
// steps and ends with the plain precision and both test-time augmented ones; the checkpoint
// carries the recipe, so eval reports the same levels, and -tta 0 only the plain one; a run
// stopped and resumed without -steps continues its schedule to its end and ends with the
// straight run's tensors.
func TestTrainRecipe(t *testing.T) {
	data, dir, split := dataDir(t), t.TempDir(), t.TempDir()
	out := recipeTrain(t, data, dir, "-steps", "4", "-eval-every", "2", "-eval-images", "16")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 6 || !logLine.MatchString(lines[0]) || !precisionLine.MatchString(lines[3]) {
		t.Fatalf("stdout:\n%s\nwant a log line, two slice lines, then three precision lines", out)
	}
	for i, step := range []string{"2", "4"} {
		if m := sliceLine.FindStringSubmatch(lines[1+i]); m == nil || m[1] != step {
			t.Errorf("line %d = %q, want the slice precision after step %s", 1+i, lines[1+i], step)
		}
	}
	for i, level := range []string{"flip", "flip+translate"} {
		if m := ttaLine.FindStringSubmatch(lines[4+i]); m == nil || m[1] != level {
			t.Errorf("line %d = %q, want the precision with %s", 4+i, lines[4+i], level)
		}
	}
	meta := readCkpt(t, ckptPath(dir, 4)).Metadata
	if !strings.Contains(meta["recipe"], `"input":"flip-translate"`) || !strings.Contains(meta["optimizer"], `"kind":"nesterov"`) {
		t.Errorf("checkpoint metadata %v, want the recipe and the Nesterov optimizer", meta)
	}
	eval := mustRun(t, "eval", "-data", data, "-ckpt", dir)
	if got := strings.Split(eval, "\n"); strings.Join(got[:3], "\n") != strings.Join(lines[3:], "\n") {
		t.Errorf("eval prints\n%s\nwant the training's final lines\n%s", strings.Join(got[:3], "\n"), strings.Join(lines[3:], "\n"))
	}
	if plain := mustRun(t, "eval", "-data", data, "-ckpt", dir, "-tta", "0"); strings.Contains(plain, "precision with") {
		t.Errorf("eval -tta 0 prints augmented figures:\n%s", plain)
	}

	interrupted := interruptContext
	interruptContext = func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // as if Ctrl-C came during the first step
		return ctx, cancel
	}
	_, _, err := runCmd(t, "train", "-data", data, "-batch", "4", "-seed", "1", "-threads", "2", "-preset", "cs231n", "-recipe", "airbench", "-train-dir", split, "-steps", "4")
	interruptContext = interrupted
	if err == nil || !strings.Contains(err.Error(), "interrupted with 1 steps done") {
		t.Fatalf("error %v, want an interruption after step 1", err)
	}
	if _, _, err := runCmd(t, "train", "-data", data, "-train-dir", split, "-resume", "-recipe", "airbench", "-batch", "8"); err == nil || !strings.Contains(err.Error(), "-batch 8 differs") {
		t.Errorf("resuming with another batch: %v", err)
	}
	// The same command line plus -resume continues it; -steps comes from the schedule: 4.
	recipeTrain(t, data, split, "-resume", "-eval=false")
	if got := steps(t, split); !slices.Equal(got, []int64{1, 4}) {
		t.Fatalf("checkpoints %v after resuming without -steps, want [1 4]: the schedule's end", got)
	}
	a, b := readCkpt(t, ckptPath(dir, 4)), readCkpt(t, ckptPath(split, 4))
	for _, ta := range a.Tensors {
		tb, ok := b.Tensor(ta.Name)
		if !ok || !bytes.Equal(ta.Data, tb.Data) {
			t.Errorf("tensor %s differs between the straight and the resumed run", ta.Name)
		}
	}
}

// TestRecipeFlagsRefused: bad recipe flags are one clear error.
func TestRecipeFlagsRefused(t *testing.T) {
	data, tutorial := dataDir(t), t.TempDir()
	train(t, data, "-steps", "1", "-preset", "cs231n", "-train-dir", tutorial, "-eval=false")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "-recipe", "fastest"}, `-recipe "fastest" is not a recipe`},
		{[]string{"train", "-tta", "3"}, "-tta 3"},
		{[]string{"eval", "-ckpt", "x", "-tta", "-2"}, "-tta -2"},
		{[]string{"train", "-eval-every", "-1"}, "-eval-every -1"},
		{[]string{"train", "-recipe", "airbench", "-steps", "1"}, "not 24x24"}, // the tutorial's crops
		{[]string{"train", "-recipe", "airbench", "-resume", "-train-dir", tutorial}, "not trained with -recipe airbench"},
	} {
		_, _, err := runCmd(t, append(c.args, "-data", data)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}
