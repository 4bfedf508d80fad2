package checkpoint

import (
	"math"
	"slices"
	"strings"
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/safetensors"
)

// session is one training run as a trainer drives it: model, optimizer, trainer, sampler and
// the data position.
type session struct {
	m        *nn.Model
	opt      nn.Optimizer
	tr       *nn.Trainer
	sp       *cifar.Sampler
	seed     uint64
	batch    int
	examples int64
	images   []float32
	labels   []uint8
}

func newSession(t *testing.T, m *nn.Model, opt nn.Optimizer, set *cifar.Set, seed uint64, batch int, examples int64) *session {
	t.Helper()
	tr, err := nn.NewTrainer(m, opt, batch, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return &session{m: m, opt: opt, tr: tr, sp: cifar.NewSampler(set, seed, m.Spec().Input[0]),
		seed: seed, batch: batch, examples: examples,
		images: make([]float32, batch*m.InputSize()), labels: make([]uint8, batch)}
}

// steps trains n batches and returns their losses.
func (s *session) steps(n int) []float32 {
	var losses []float32
	for range n {
		s.sp.Fill(s.examples, s.batch, s.images, s.labels)
		losses = append(losses, s.tr.Step(s.images, s.labels))
		s.examples += int64(s.batch)
	}
	return losses
}

func (s *session) run() Run { return Run{Seed: s.seed, Batch: s.batch, Examples: s.examples} }

// TestResumeExact: 20 steps straight equal 10 steps, a checkpoint through bytes into a fresh
// model, optimizer, trainer and sampler, and 10 more steps, bit for bit, for both optimizers
// and both presets.
func TestResumeExact(t *testing.T) {
	set := synthSet(25, 1) // 20 steps of 3 cross two epoch boundaries, each inside a batch
	for _, c := range []struct{ preset, kind string }{
		{"cifar10", nn.OptAdam}, {"cifar10", nn.OptMomentum}, {"cs231n", nn.OptMomentum}, {"cs231n", nn.OptAdam},
	} {
		t.Run(c.preset+"/"+c.kind, func(t *testing.T) {
			m, opt := newModelOpt(t, c.preset, c.kind, 11)
			straight := newSession(t, m, opt, set, 11, 3, 0)
			straight.steps(10)
			data := encode(t, m, opt, straight.run())
			want := straight.steps(10)

			ck, err := Decode(data, "")
			if err != nil {
				t.Fatal(err)
			}
			m2, err := ck.NewModel()
			if err != nil {
				t.Fatal(err)
			}
			opt2, err := ck.NewOptimizer(m2)
			if err != nil {
				t.Fatal(err)
			}
			resumed := newSession(t, m2, opt2, set, ck.Run.Seed, ck.Run.Batch, ck.Run.Examples)
			got := resumed.steps(10)

			if !sameBits(got, want) {
				t.Errorf("losses after resuming %v, straight %v", got, want)
			}
			sameParams(t, "parameters", m2.Params(), m.Params())
			sameParams(t, "slots", opt2.Slots(), opt.Slots())
			if opt2.Steps() != 20 || resumed.examples != straight.examples {
				t.Errorf("resumed at step %d, %d examples; straight %d, %d", opt2.Steps(), resumed.examples, opt.Steps(), straight.examples)
			}
		})
	}
}

// TestEncodeRefusesNonFinite: a diverged model or loss is never written.
func TestEncodeRefusesNonFinite(t *testing.T) {
	m, opt := newModelOpt(t, "cs231n", nn.OptMomentum, 12)
	run := Run{Batch: 4}
	opt.Slots()[3].Data()[5] = float32(math.Inf(-1))
	_, err := Encode(m, opt, run)
	wantError(t, err, opt.Slots()[3].Name, "-Inf", "index 5")
	opt.Slots()[3].Data()[5] = 0
	m.Param("conv2/weights").Data()[9] = float32(math.NaN())
	_, err = Encode(m, nil, Run{})
	wantError(t, err, "conv2/weights", "NaN", "index 9")
	m.Param("conv2/weights").Data()[9] = 0
	_, err = Encode(m, opt, Run{Batch: 4, Loss: ptr(math.Inf(1))})
	wantError(t, err, "loss", "+Inf")
	_, err = Encode(m, opt, Run{})
	wantError(t, err, "batch 0")
}

// TestRestoreChecks: Restore refuses a mismatch before touching anything.
func TestRestoreChecks(t *testing.T) {
	m, opt := newModelOpt(t, "cs231n", nn.OptMomentum, 13)
	ck, err := Decode(encode(t, m, opt, Run{Batch: 2}), "")
	if err != nil {
		t.Fatal(err)
	}
	other, otherOpt := newModelOpt(t, "cifar10", nn.OptMomentum, 14)
	wantError(t, ck.Restore(other, otherOpt), "cs231n checkpoint into a cifar10 model")

	fresh, adam := newModelOpt(t, "cs231n", nn.OptAdam, 15)
	before := slices.Clone(fresh.Values())
	err = ck.Restore(fresh, adam)
	wantError(t, err, "momentum", "adam")
	if !sameBits(before, fresh.Values()) {
		t.Error("a refused Restore changed the model")
	}
	if err := ck.Restore(fresh, newOpt(t, fresh, nn.OptMomentum)); err != nil {
		t.Errorf("restore into a matching model and optimizer: %v", err)
	}
	if !strings.Contains(ck.Spec.Name, "cs231n") {
		t.Error(ck.Spec.Name)
	}
}

// recipeOptimizer is airbench's optimizer for a run of steps updates: Nesterov with decoupled
// decay and a bias group, the triangular schedule and the lookahead average.
func recipeOptimizer(steps int64) nn.OptimizerConfig {
	return nn.OptimizerConfig{Kind: nn.OptNesterov, LR: 0.005, Momentum: 0.85, WeightDecay: 5e-4, BiasLR: 2,
		Steps: steps, Schedule: &nn.Schedule{Start: 0.2, Peak: 0.23, End: 0.07},
		Average: &nn.Average{Start: 0.3, Every: 3, Decay: 0.95, Pow: 3}}
}

// TestResumeRecipeExact: with the schedule and the average on, a run stopped and resumed
// from its checkpoint (between two averages, after the average started, and just before the
// end) equals the straight run bit for bit, and the file holds the averages under TF's name.
func TestResumeRecipeExact(t *testing.T) {
	set := synthSet(25, 2)
	const steps = 16
	for _, stop := range []int{4, 10, steps - 1} {
		t.Run("", func(t *testing.T) {
			spec, err := nn.Preset("cs231n")
			if err != nil {
				t.Fatal(err)
			}
			m, err := nn.NewModel(spec, 21)
			if err != nil {
				t.Fatal(err)
			}
			opt, err := nn.NewOptimizer(recipeOptimizer(steps), m.Params())
			if err != nil {
				t.Fatal(err)
			}
			straight := newSession(t, m, opt, set, 21, 3, 0)
			straight.steps(stop)
			data := encode(t, m, opt, straight.run())
			want := straight.steps(steps - stop)

			f := parse(t, data)
			if !slices.ContainsFunc(f.Tensors, func(t safetensors.Tensor) bool { return t.Name == "conv1/weights/"+nn.AverageSlot }) {
				t.Fatalf("the file has no conv1/weights/%s", nn.AverageSlot)
			}
			ck, err := Decode(data, "")
			if err != nil {
				t.Fatal(err)
			}
			if ck.Optimizer == nil || *ck.Optimizer.Schedule != *recipeOptimizer(steps).Schedule || ck.Optimizer.Steps != steps {
				t.Fatalf("decoded optimizer %+v, want the saved schedule and steps", ck.Optimizer)
			}
			m2, err := ck.NewModel()
			if err != nil {
				t.Fatal(err)
			}
			opt2, err := ck.NewOptimizer(m2)
			if err != nil {
				t.Fatal(err)
			}
			got := newSession(t, m2, opt2, set, ck.Run.Seed, ck.Run.Batch, ck.Run.Examples).steps(steps - stop)
			if !sameBits(got, want) || slices.ContainsFunc(want, func(l float32) bool { return l-l != 0 }) {
				t.Errorf("losses after resuming at %d: %v, straight %v (finite and equal wanted)", stop, got, want)
			}
			sameParams(t, "parameters", m2.Params(), m.Params())
			sameParams(t, "slots", opt2.Slots(), opt.Slots())
		})
	}
}

// TestDecodeRefusesMissingAverage: an optimizer with an average needs every parameter's.
func TestDecodeRefusesMissingAverage(t *testing.T) {
	m, err := nn.NewModel(mustPreset(t, "cs231n"), 3)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := nn.NewOptimizer(recipeOptimizer(10), m.Params())
	if err != nil {
		t.Fatal(err)
	}
	f := parse(t, encode(t, m, opt, Run{Batch: 2}))
	f.Tensors = slices.DeleteFunc(f.Tensors, func(t safetensors.Tensor) bool { return t.Name == "conv2/biases/"+nn.AverageSlot })
	_, err = DecodeFile(f, "")
	wantError(t, err, "conv2/biases/"+nn.AverageSlot, "missing")
}

func mustPreset(t *testing.T, name string) nn.Spec {
	t.Helper()
	s, err := nn.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
