package training

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"cifar10/nn"
	"cifar10/nn/checkpoint"
	"cifar10/nn/cifar"
	"cifar10/nn/replica"
	"cifar10/nn/shard/shardtest"
)

// sameBits compares losses bit for bit.
func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// TestResumeEqualsStraight: a run continued from its own Encode() takes the checkpoint's seed,
// batch and data position over the config's, and its steps and final file are bit for bit
// those of the run that never stopped, in both modes and for both presets.
func TestResumeEqualsStraight(t *testing.T) {
	for _, c := range []struct {
		name       string
		preset     string
		batch      int
		wholeBatch bool
	}{
		{"cifar10/sharded", "cifar10", 32, false}, // two shards
		{"cifar10/whole", "cifar10", 3, true},
		{"cs231n/sharded", "cs231n", 2, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Preset: c.preset, Seed: 7, Batch: c.batch, Steps: 4, SaveEvery: 2, WholeBatch: c.wholeBatch, Train: trainSet(), Threads: 2}
			straight := newRun(t, cfg)
			steps(straight, 2)
			saved := encode(t, straight)
			want := steps(straight, 2)

			other := cfg
			other.Seed, other.Batch = 99, 5 // the checkpoint's own win
			resumed := fromFile(t, saved, other)
			if got := resumed.Config(); got.Seed != 7 || got.Batch != c.batch || got.Preset != c.preset {
				t.Errorf("resumed with seed %d, batch %d, preset %s; want the checkpoint's 7, %d, %s", got.Seed, got.Batch, got.Preset, c.batch, c.preset)
			}
			if resumed.StepsDone() != 2 || resumed.Examples() != int64(2*c.batch) {
				t.Errorf("resumed at step %d, example %d; want 2, %d", resumed.StepsDone(), resumed.Examples(), 2*c.batch)
			}
			if _, ok := resumed.Loss(); ok {
				t.Error("a run just restored reports a loss it has not measured")
			}
			if got := steps(resumed, 2); !sameBits(got, want) {
				t.Errorf("losses after resuming %v, straight %v", got, want)
			}
			if !resumed.Finished() || !bytes.Equal(encode(t, resumed), encode(t, straight)) {
				t.Error("the resumed run's final checkpoint differs from the straight run's")
			}
		})
	}
}

// TestCheckpointDue: a save is due every SaveEvery steps and after the last step, counted from
// step 0 also for a run that started later; none with SaveEvery 0. Logging is due at steps 0,
// 10, 20, ... (the index of the step just done).
func TestCheckpointDue(t *testing.T) {
	set := trainSet()
	for _, c := range []struct {
		from, steps, every int64
		saves, logs        []int64 // steps done when a save is due; indices of the logged steps
	}{
		{0, 7, 3, []int64{3, 6, 7}, []int64{0}},
		{0, 6, 3, []int64{3, 6}, []int64{0}},
		{0, 3, 1, []int64{1, 2, 3}, []int64{0}},
		{0, 4, 0, nil, []int64{0}},
		{7, 12, 5, []int64{10, 12}, []int64{10}},
		{9, 21, 10, []int64{10, 20, 21}, []int64{10, 20}},
		{5, 5, 1, nil, nil},
	} {
		r := newRun(t, Config{Preset: "cifar10", Seed: 1, Batch: 1, Steps: c.steps, SaveEvery: c.every, Train: set})
		r.Optimizer().SetSteps(c.from) // as if resumed there: the policy counts the run's steps
		var saves, logs []int64
		for !r.Finished() {
			step := r.StepsDone()
			r.Step()
			if r.CheckpointDue() {
				saves = append(saves, r.StepsDone())
			}
			if r.LogDue() {
				logs = append(logs, step)
			}
		}
		if !slices.Equal(saves, c.saves) || !slices.Equal(logs, c.logs) {
			t.Errorf("from %d to %d, save every %d: saves after %v, logs %v; want %v, %v", c.from, c.steps, c.every, saves, logs, c.saves, c.logs)
		}
	}
}

// TestWeightsOnlyFineTunes: a weights-only file starts at step 0 and example 0 of the config's
// seed and batch, with a fresh optimizer of the preset's kind, and trains exactly as a new run
// whose weights were replaced by the file's.
func TestWeightsOnlyFineTunes(t *testing.T) {
	set := trainSet()
	trained := newRun(t, Config{Preset: "cifar10", Seed: 3, Batch: 2, Steps: 2, Train: set})
	steps(trained, 2)
	file, err := checkpoint.Encode(trained.Model(), nil, checkpoint.Run{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Preset: "cifar10", Seed: 4, Batch: 3, Steps: 2, Train: set}
	tuned := fromFile(t, file, cfg)
	if got := tuned.Config(); tuned.StepsDone() != 0 || tuned.Examples() != 0 || got.Seed != 4 || got.Batch != 3 {
		t.Errorf("fine-tuning starts at step %d, example %d with seed %d, batch %d; want 0, 0, 4, 3", tuned.StepsDone(), tuned.Examples(), got.Seed, got.Batch)
	}
	for _, s := range tuned.Optimizer().Slots() {
		if slices.ContainsFunc(s.Data(), func(x float32) bool { return x != 0 }) {
			t.Fatalf("slot %s of a fresh optimizer is not zero", s.Name)
		}
	}
	ref := newRun(t, cfg)
	ck, err := checkpoint.Decode(file, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ck.Restore(ref.Model(), nil); err != nil {
		t.Fatal(err)
	}
	if got, want := steps(tuned, 2), steps(ref, 2); !sameBits(got, want) {
		t.Errorf("fine-tuning losses %v, want %v", got, want)
	}
	if !bytes.Equal(encode(t, tuned), encode(t, ref)) {
		t.Error("the fine-tuned run's checkpoint differs from the reference's")
	}
}

// TestLearningRate: a positive LR replaces the learning rate of a new run, of a resumed one
// and of a fine-tuned one; 0 keeps the preset's, or the checkpoint's when resuming.
func TestLearningRate(t *testing.T) {
	base := Config{Preset: "cifar10", Seed: 1, Batch: 2, Steps: 1}
	fresh := newRun(t, base)
	fresh.Optimizer().SetLearningRate(0.005)
	resumable := encode(t, fresh)
	weights, err := checkpoint.Encode(fresh.Model(), nil, checkpoint.Run{})
	if err != nil {
		t.Fatal(err)
	}
	preset := nn.DefaultAdam().LR
	for _, c := range []struct {
		name string
		file []byte // nil: a new run
		lr   float64
		want float64
	}{
		{"new", nil, 0, preset},
		{"new with lr", nil, 0.02, 0.02},
		{"resumed", resumable, 0, 0.005},
		{"resumed with lr", resumable, 0.03, 0.03},
		{"weights only", weights, 0, preset},
		{"weights only with lr", weights, 0.04, 0.04},
	} {
		cfg := base
		cfg.LR = c.lr
		var r *Run
		if c.file == nil {
			r = newRun(t, cfg)
		} else {
			r = fromFile(t, c.file, cfg)
		}
		if got := r.Optimizer().Config().LR; got != c.want || r.Config().LR != c.want {
			t.Errorf("%s: learning rate %g (config %g), want %g", c.name, got, r.Config().LR, c.want)
		}
	}
}

// TestModes: a whole-batch run steps as one nn.Trainer over the sampler's batches, and a
// sharded run as one replica alone (nn/replica), bit for bit: the two engines the native
// trainer used without and with -exact.
func TestModes(t *testing.T) {
	set := trainSet()
	const batch, n = 32, 2
	for _, whole := range []bool{true, false} {
		cfg := Config{Preset: "cifar10", Seed: 5, Batch: batch, Steps: n, WholeBatch: whole, Train: set, Threads: 2}
		got := steps(newRun(t, cfg), n)

		spec, _ := nn.Preset("cifar10")
		m, err := nn.NewModel(spec, 5)
		if err != nil {
			t.Fatal(err)
		}
		opt, err := nn.NewOptimizer(spec.Optimizer, m.Params())
		if err != nil {
			t.Fatal(err)
		}
		var step func(images []float32, labels []uint8) float32
		if whole {
			tr, err := nn.NewTrainer(m, opt, batch, 2)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(tr.Close)
			step = tr.Step
		} else {
			rep, err := replica.New(m, opt, batch, 1, 0, 2)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(rep.Close)
			step = rep.Step
		}
		sp := cifar.NewSampler(set, 5, spec.Input[0])
		images, labels := make([]float32, batch*m.InputSize()), make([]uint8, batch)
		var want []float32
		for i := range n {
			sp.Fill(int64(i*batch), batch, images, labels)
			want = append(want, step(images, labels))
		}
		if !sameBits(got, want) {
			t.Errorf("whole batch %v: losses %v, want %v", whole, got, want)
		}
	}
}

// TestGroupEqualsAlone: workers that each Join a group, Compute their shards and Apply with the
// others' sums end every step with the loss and the checkpoint of one run alone: what the
// browser's workers do, with a map for their board.
func TestGroupEqualsAlone(t *testing.T) {
	set := trainSet()
	cfg := Config{Preset: "cifar10", Seed: 2, Batch: 48, Steps: 2, Train: set} // three shards
	alone := newRun(t, cfg)
	want := steps(alone, 2)
	const workers = 2
	var group []*Run
	for i := range workers {
		r := newRun(t, cfg)
		if err := r.Join(workers, i); err != nil {
			t.Fatal(err)
		}
		group = append(group, r)
	}
	for s := range 2 {
		board := shardtest.Board{}
		var losses []float32
		for _, r := range group {
			r.Compute(nil)
			rep := r.Replica()
			for i, n := range rep.Nodes() {
				board[n] = slices.Clone(rep.NodeSum(i))
			}
			losses = append(losses, rep.Losses()...)
		}
		others := board.Source()
		for i, r := range group {
			if got := r.Apply(others, losses); math.Float32bits(got) != math.Float32bits(want[s]) {
				t.Errorf("step %d, worker %d: loss %v, alone %v", s, i, got, want[s])
			}
		}
	}
	for i, r := range group {
		if r.Examples() != alone.Examples() || !bytes.Equal(encode(t, r), encode(t, alone)) {
			t.Errorf("worker %d ends at example %d with another checkpoint than the run alone (example %d)", i, r.Examples(), alone.Examples())
		}
	}
	whole := newRun(t, Config{Preset: "cifar10", Batch: 2, WholeBatch: true})
	if err := whole.Join(2, 1); err == nil {
		t.Error("a whole-batch run joined a group")
	}
}

// TestEncode: the file carries the run's position and last loss, is written into the same
// buffer every time, and a diverged run is refused.
func TestEncode(t *testing.T) {
	r := newRun(t, Config{Preset: "cifar10", Seed: 6, Batch: 2, Steps: 1, Train: trainSet()})
	first, err := r.Encode(at, nil)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.Decode(first, "")
	if err != nil || ck.Run.Loss != nil || ck.Step != 0 {
		t.Fatalf("before any step: %v, loss %v, step %v; want no loss at step 0", err, ck.Run.Loss, ck.Step)
	}
	loss := r.Step()
	p := 0.25
	second, err := r.Encode(at, &p)
	if err != nil {
		t.Fatal(err)
	}
	if &first[:1][0] != &second[:1][0] {
		t.Error("the second Encode did not reuse the first one's buffer")
	}
	ck, err = checkpoint.Decode(second, "")
	if err != nil {
		t.Fatal(err)
	}
	if ck.Step != 1 || ck.Run.Seed != 6 || ck.Run.Batch != 2 || ck.Run.Examples != 2 || ck.Run.Loss == nil || *ck.Run.Loss != float64(loss) ||
		ck.Run.Precision == nil || *ck.Run.Precision != p || !ck.Run.Time.Equal(at) {
		t.Errorf("checkpoint step %d, run %+v; want step 1, seed 6, batch 2, 2 examples, loss %v, precision %v, time %v", ck.Step, ck.Run, loss, p, at)
	}
	r.Model().Params()[0].Data()[0] = float32(math.NaN())
	if _, err := r.Encode(at, nil); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("encoding a diverged run: %v, want a refusal naming NaN", err)
	}
}

// TestEvalTrainer: the evaluation trainer is made once per batch size and sees the run's
// weights.
func TestEvalTrainer(t *testing.T) {
	r := newRun(t, Config{Preset: "cifar10", Batch: 2, Threads: 1})
	a, err := r.EvalTrainer(10)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.EvalTrainer(10)
	if err != nil || a != b || a.Model() != r.Model() || a.Batch() != 10 {
		t.Errorf("second EvalTrainer: %v, same %v, model shared %v, batch %d", err, a == b, a.Model() == r.Model(), a.Batch())
	}
}

// TestConfigRefused: settings out of range are refused with what is wrong.
func TestConfigRefused(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Preset: "cifar10", Batch: 0}, "batch 0"},
		{Config{Preset: "cifar10", Batch: 1, Steps: -1}, "steps -1"},
		{Config{Preset: "cifar10", Batch: 1, SaveEvery: -2}, "save every -2"},
		{Config{Preset: "cifar10", Batch: 1, LR: math.NaN()}, "learning rate NaN"},
		{Config{Preset: "nope", Batch: 1}, "nope"},
	} {
		if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one about %q", c.cfg, err, c.want)
		}
	}
}
