package training

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/cifar/cifartest"
	"cifar10/nn/shard/shardtest"
)

// fastConfig is a short run of the fast preset with its own recipe: 6 steps, so its
// whitening bias freezes from update floor(6*3/9.9) = 1 on, the schedule peaks at update 1
// and the lookahead average starts at update 5.
func fastConfig(batch int, whole bool) Config {
	return Config{Preset: "fast", Seed: 3, Batch: batch, Steps: 6, WholeBatch: whole, Train: trainSet(), Threads: 2}
}

// whitening is a copy of the run's whitening weights.
func whitening(r *Run) []float32 { return slices.Clone(r.Model().Param("whiten/weights").Data()) }

// TestFastWhitens: a fresh run of the fast preset computes its whitening weights from the
// first images of the seed's order as evaluation inputs, whether it is given the pixels or
// (a browser worker with a shared dataset) calls InitWhitening itself; a run resumed from a
// checkpoint keeps the checkpoint's weights, even on another training set.
func TestFastWhitens(t *testing.T) {
	cfg := fastConfig(8, true)
	r := newRun(t, cfg)
	if r.WhiteningPending() {
		t.Fatal("a run given its pixels still waits for them")
	}
	got := whitening(r)

	spec, _ := nn.Preset("fast")
	m, err := nn.NewModel(spec, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	identity := slices.Clone(m.Param("whiten/weights").Data())
	if sameBits(got, identity) {
		t.Fatal("the run kept the identity whitening of a model not yet shown data")
	}
	sp := spec.Recipe.Input.NewSampler(cfg.Train, cfg.Seed, 32)
	images := make([]float32, cfg.Train.Len()*m.InputSize())
	for k := range cfg.Train.Len() {
		spec.Recipe.Input.EvalPixels(images[k*m.InputSize():(k+1)*m.InputSize()], cfg.Train.Image(sp.Index(int64(k))), 32)
	}
	if err := m.InitWhitening(images); err != nil {
		t.Fatal(err)
	}
	if !sameBits(got, m.Param("whiten/weights").Data()) {
		t.Error("the run's whitening differs from InitWhitening on the seed's first images")
	}

	shared := cfg
	shared.Train = &cifar.Set{Labels: cfg.Train.Labels} // labels only, pixels elsewhere
	later := newRun(t, shared)
	if !later.WhiteningPending() || !sameBits(whitening(later), identity) {
		t.Fatal("a run without pixels did not wait for InitWhitening")
	}
	if err := later.InitWhitening(cfg.Train.Image); err != nil {
		t.Fatal(err)
	}
	if later.WhiteningPending() || !sameBits(whitening(later), got) {
		t.Error("InitWhitening from the pixels elsewhere differs from the run given them")
	}

	steps(r, 1)
	other := cfg
	other.Train = cifartest.Random(40, 9, 15)
	resumed := fromFile(t, encode(t, r), other)
	if resumed.WhiteningPending() || !sameBits(whitening(resumed), got) {
		t.Error("a resumed run computed its whitening again instead of keeping the checkpoint's")
	}
}

// TestFastFreezesWhitenBias: the whitening bias trains until the recipe's freeze step and
// stays from then on, while the rest trains.
func TestFastFreezesWhitenBias(t *testing.T) {
	cfg := fastConfig(8, true)
	r := newRun(t, cfg)
	at := r.Model().Spec().Recipe.FreezeStep(cfg.Steps)
	if at != 1 {
		t.Fatalf("freeze step %d, want 1 of 6", at)
	}
	bias := func() []float32 { return slices.Clone(r.Model().Param("whiten/biases").Data()) }
	conv := func() []float32 { return slices.Clone(r.Model().Param("block1/conv1/weights").Data()) }
	before := bias()
	steps(r, 1)
	frozen := bias()
	if sameBits(before, frozen) {
		t.Fatal("the whitening bias did not train before its freeze step")
	}
	c := conv()
	steps(r, 2)
	if !sameBits(bias(), frozen) {
		t.Error("the whitening bias moved after its freeze step")
	}
	if sameBits(conv(), c) {
		t.Error("the first convolution stopped training with the frozen bias")
	}
}

// TestFastResumeEqualsStraight stops the fast preset's run before, at and after the freeze,
// and resumes from the checkpoint: losses and the final file are the straight run's bit for
// bit, sharded and whole-batch.
func TestFastResumeEqualsStraight(t *testing.T) {
	for _, c := range []struct {
		name  string
		batch int
		whole bool
		stop  int
	}{
		{"sharded/at freeze", 17, false, 1},
		{"sharded/before average", 17, false, 4},
		{"whole/after freeze", 5, true, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := fastConfig(c.batch, c.whole)
			straight := newRun(t, cfg)
			steps(straight, c.stop)
			saved := encode(t, straight)
			want := steps(straight, int(cfg.Steps)-c.stop)
			if !finite(want) {
				t.Fatalf("losses %v", want)
			}
			resumed := fromFile(t, saved, cfg)
			if got := steps(resumed, int(cfg.Steps)-c.stop); !sameBits(got, want) {
				t.Errorf("losses after resuming at %d: %v, straight %v", c.stop, got, want)
			}
			if !bytes.Equal(encode(t, resumed), encode(t, straight)) {
				t.Error("the resumed run's final checkpoint differs from the straight run's")
			}
		})
	}
}

// TestFastGroupEqualsAlone: 1, 2 and 4 workers training the fast preset (whitening, freeze,
// batch normalization statistics, average; the bias frozen from the start here) end every step with the loss, and the run with
// the checkpoint, of one run computing every shard.
func TestFastGroupEqualsAlone(t *testing.T) {
	cfg := fastConfig(64, false) // four shards
	cfg.Steps = 2                // the whitening bias frozen from the start (floor(2*3/9.9) = 0): the resume test covers before
	alone := newRun(t, cfg)
	want := steps(alone, int(cfg.Steps))
	final := encode(t, alone)
	for _, workers := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) { // its runs freed at its end (wasm's memory)
			fastGroup(t, cfg, workers, want, final)
		})
	}
}

// fastGroup trains cfg with workers workers, checking every step's loss against want and the
// final checkpoint against final.
func fastGroup(t *testing.T, cfg Config, workers int, want []float32, final []byte) {
	var g []*Run
	for i := range workers {
		r := newRun(t, cfg)
		if err := r.Join(workers, i); err != nil {
			t.Fatal(err)
		}
		g = append(g, r)
	}
	for s := range int(cfg.Steps) {
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
				t.Errorf("%d workers, step %d, worker %d: loss %v, alone %v", workers, s, i, got, want[s])
			}
		}
	}
	for i, r := range g {
		if !bytes.Equal(encode(t, r), final) {
			t.Errorf("%d workers: worker %d ends with another checkpoint than the run alone", workers, i)
		}
	}
}

// TestFastBatchScalesRate: the fast preset's learning rate and decay are airbench's for its
// batch, and a run with another batch gets them scaled as nn.Airbench scales them.
func TestFastBatchScalesRate(t *testing.T) {
	spec, _ := nn.Preset("fast")
	for _, batch := range []int{spec.Recipe.Batch, 512, 64} {
		_, want := nn.Airbench(batch)
		cfg := fastConfig(batch, false) // sharded: a trainer for one shard, not for 1,024 examples
		cfg.Train = nil
		got := newRun(t, cfg).Optimizer().Config()
		if math.Abs(got.LR-want.LR) > 1e-12*want.LR || math.Abs(got.WeightDecay-want.WeightDecay) > 1e-12*want.WeightDecay {
			t.Errorf("batch %d: lr %g, decay %g; want airbench's %g, %g", batch, got.LR, got.WeightDecay, want.LR, want.WeightDecay)
		}
	}
}
