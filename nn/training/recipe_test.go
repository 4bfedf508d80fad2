package training

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/shard/shardtest"
)

// recipe is airbench's recipe pieces on any preset: 32x32 inputs with flip and translation,
// label smoothing, Nesterov with decoupled decay and a bias group, the triangular schedule
// (peak at step 2 of 4) and the lookahead average (starts at step 2, averages every step).
func recipe() (*nn.Recipe, *nn.OptimizerConfig) {
	return &nn.Recipe{LabelSmoothing: 0.2, Input: cifar.FlipTranslate, TTA: nn.TTAFlipTranslate},
		&nn.OptimizerConfig{Kind: nn.OptNesterov, LR: 0.01, Momentum: 0.85, WeightDecay: 5e-4, BiasLR: 4,
			Schedule: &nn.Schedule{Start: 0.2, Peak: 0.5, End: 0.07},
			Average:  &nn.Average{Start: 0.3, Every: 1, Decay: 0.95, Pow: 3}}
}

func recipeConfig(batch int, whole bool) Config {
	r, o := recipe()
	return Config{Preset: "cs231n", Seed: 8, Batch: batch, Steps: 4, WholeBatch: whole, Train: trainSet(), Threads: 2, Recipe: r, Optimizer: o}
}

func finite(losses []float32) bool {
	return !slices.ContainsFunc(losses, func(l float32) bool { return math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) })
}

// TestRecipeResumeEqualsStraight trains the cs231n preset with every recipe piece on, stops
// it at steps before, at and after the average's start, and resumes from the checkpoint: the
// losses and the final file are the straight run's bit for bit, sharded and whole-batch.
func TestRecipeResumeEqualsStraight(t *testing.T) {
	for _, c := range []struct {
		name  string
		batch int
		whole bool
		stop  int
	}{
		{"sharded/before average", 17, false, 1}, // two shards
		{"sharded/at average", 17, false, 2},
		{"whole/after average", 5, true, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := recipeConfig(c.batch, c.whole)
			straight := newRun(t, cfg)
			if got := straight.Optimizer().Config().Steps; got != cfg.Steps {
				t.Fatalf("the schedule's run length is %d, want the run's %d", got, cfg.Steps)
			}
			steps(straight, c.stop)
			saved := encode(t, straight)
			want := steps(straight, int(cfg.Steps)-c.stop)
			if !finite(want) {
				t.Fatalf("losses %v", want)
			}
			other := cfg
			other.Recipe, other.Optimizer = nil, nil // the checkpoint's own win
			resumed := fromFile(t, saved, other)
			if got := resumed.Model().Spec().Recipe; got != *cfg.Recipe {
				t.Errorf("resumed with recipe %+v, want the checkpoint's %+v", got, *cfg.Recipe)
			}
			if got := steps(resumed, int(cfg.Steps)-c.stop); !sameBits(got, want) {
				t.Errorf("losses after resuming at %d: %v, straight %v", c.stop, got, want)
			}
			if !bytes.Equal(encode(t, resumed), encode(t, straight)) {
				t.Error("the resumed run's final checkpoint differs from the straight run's")
			}
		})
	}
}

// TestRecipeGroupEqualsAlone: two workers with the recipe on end every step with the loss and
// the checkpoint of one run alone, and a group resumed from a checkpoint too.
func TestRecipeGroupEqualsAlone(t *testing.T) {
	cfg := recipeConfig(17, false) // two shards
	alone := newRun(t, cfg)
	want := steps(alone, int(cfg.Steps))
	const workers = 2
	group := func(file []byte) []*Run {
		var g []*Run
		for i := range workers {
			r := newRun(t, cfg)
			if file != nil {
				r = fromFile(t, file, cfg)
			}
			if err := r.Join(workers, i); err != nil {
				t.Fatal(err)
			}
			g = append(g, r)
		}
		return g
	}
	step := func(g []*Run, s int) {
		board := shardtest.Board{}
		var losses []float32
		for _, r := range g {
			r.Compute(nil)
			rep := r.Replica()
			for i, n := range rep.Nodes() {
				board[n] = slices.Clone(rep.NodeSum(i))
			}
			losses = append(losses, rep.Losses()...)
		}
		for i, r := range g {
			if got := r.Apply(board.Source(), losses); math.Float32bits(got) != math.Float32bits(want[s]) {
				t.Errorf("step %d, worker %d: loss %v, alone %v", s, i, got, want[s])
			}
		}
	}
	g := group(nil)
	for s := range 2 {
		step(g, s)
	}
	resumed := group(encode(t, g[0]))
	for s := 2; s < int(cfg.Steps); s++ {
		step(g, s)
		step(resumed, s)
	}
	final := encode(t, alone)
	for i := range workers {
		if !bytes.Equal(encode(t, g[i]), final) || !bytes.Equal(encode(t, resumed[i]), final) {
			t.Errorf("worker %d ends with another checkpoint than the run alone", i)
		}
	}
}

// TestRecipeFineTune: a weights-only file fine-tunes with a fresh optimizer whose schedule
// spans the new run's steps.
func TestRecipeFineTune(t *testing.T) {
	cfg := recipeConfig(4, true)
	trained := newRun(t, cfg)
	steps(trained, 1)
	file, err := trained.Encode(at, nil)
	if err != nil {
		t.Fatal(err)
	}
	ck := decode(t, file)
	ck.Optimizer = nil // as a weights-only file decodes
	cfg.Steps = 9
	tuned, err := FromCheckpoint(ck, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tuned.Close()
	if got := tuned.Optimizer().Config(); got.Steps != 9 || got.Kind != nn.OptNesterov || tuned.StepsDone() != 0 {
		t.Errorf("fine-tuning optimizer %+v at step %d, want Nesterov over 9 steps from 0", got, tuned.StepsDone())
	}
}

// TestEvalDue: the precision log is due every EvalEvery steps, none with 0.
func TestEvalDue(t *testing.T) {
	for _, c := range []struct {
		from, steps, every int64
		want               []int64
	}{
		{0, 7, 3, []int64{3, 6}},
		{0, 4, 0, nil},
		{5, 9, 2, []int64{6, 8}},
	} {
		r := newRun(t, Config{Preset: "cifar10", Seed: 1, Batch: 1, Steps: c.steps, EvalEvery: c.every, Train: trainSet()})
		r.Optimizer().SetSteps(c.from)
		var got []int64
		for !r.Finished() {
			r.Step()
			if r.EvalDue() {
				got = append(got, r.StepsDone())
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("from %d to %d every %d: due after %v, want %v", c.from, c.steps, c.every, got, c.want)
		}
	}
	if _, err := New(Config{Preset: "cifar10", Batch: 1, EvalEvery: -1}); err == nil {
		t.Error("eval every -1 accepted")
	}
}

// TestEvaluate: the slice is the first images of the test set, preprocessed as the model's
// recipe says, with every level up to the one asked.
func TestEvaluate(t *testing.T) {
	test := trainSet()
	r := newRun(t, recipeConfig(4, true))
	tr, err := r.EvalTrainer(16)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := Evaluate(tr, test, 25, nn.TTAFlipTranslate, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].Total != 25 || evs[2].Total != 25 {
		t.Fatalf("%d levels over %d images, want 3 over 25", len(evs), evs[0].Total)
	}
	want, err := tr.Evaluate(25, func(start int, x []float32, labels []uint8) error {
		cifar.FlipTranslate.EvalBatch(test, start, len(labels), cifar.Side, x, labels)
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].Correct != want.Correct || !slices.EqualFunc(evs[0].Confusion, want.Confusion, slices.Equal) {
		t.Errorf("plain figure %d correct, want %d (normalized inputs)", evs[0].Correct, want.Correct)
	}
	all, err := Evaluate(tr, test, 0, nn.TTANone, nil)
	if err != nil || len(all) != 1 || all[0].Total != test.Len() {
		t.Errorf("images 0: %v, %d levels, total %d; want the whole set of %d, plain", err, len(all), all[0].Total, test.Len())
	}
}
