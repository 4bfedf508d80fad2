package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestScheduleFactor(t *testing.T) {
	tri := Schedule{Start: 0.2, Peak: 0.25, End: 0.1}
	for _, c := range []struct {
		s        Schedule
		t, steps int64
		want     float64
	}{
		{tri, 0, 8, 0.2},  // warm-up starts at Start
		{tri, 1, 8, 0.6},  // halfway up to the peak at floor(0.25*8) = 2
		{tri, 2, 8, 1},    // the peak
		{tri, 3, 8, 0.85}, // 1 - 0.9*1/6 on the way down
		{tri, 5, 8, 0.55},
		{tri, 8, 8, 0.1},   // End at the run's last step
		{tri, 100, 8, 0.1}, // and after it
		{Schedule{Start: 0.5, Peak: 0, End: 0}, 0, 4, 1},    // no warm-up: straight from the peak
		{Schedule{Start: 0.5, Peak: 0, End: 0}, 3, 4, 0.25}, // down to 0 at step 4
		{Schedule{Start: 0.2, Peak: 1, End: 0.5}, 4, 4, 0.5},
	} {
		if got := c.s.Factor(c.t, c.steps); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%+v.Factor(%d, %d) = %v, want %v", c.s, c.t, c.steps, got, c.want)
		}
	}
}

// TestNesterovByHand checks two updates of a weight and a batch normalization offset against
// the formulas of nesterov, worked out by hand: LR 0.1, momentum 0.5, weight decay 0.01, bias
// LR x2, g = 1. A plain bias trains at the weights' rate, and a parameter whose Use is no
// longer Trained (a frozen bias) does not move.
func TestNesterovByHand(t *testing.T) {
	w := newParam("l/weights", []int{1, 1}, 0, true)
	b := newParam("bn/beta", []int{1}, 0, true)
	b.Norm = true
	plain := newParam("l/biases", []int{1}, 0, true)
	frozen := newParam("whiten/biases", []int{1}, 0, true)
	w.Data()[0], b.Data()[0], plain.Data()[0], frozen.Data()[0] = 1, 1, 1, 1
	opt, err := NewOptimizer(OptimizerConfig{Kind: OptNesterov, LR: 0.1, Momentum: 0.5, WeightDecay: 0.01, BiasLR: 2}, []*Param{w, b, plain, frozen})
	if err != nil {
		t.Fatal(err)
	}
	frozen.Use = Fixed // after the optimizer is made, as a recipe freezes it
	var gotW, gotB, gotPlain []float32
	for range 2 {
		w.GradData()[0], b.GradData()[0], plain.GradData()[0], frozen.GradData()[0] = 1, 1, 1, 1
		opt.Apply()
		gotW, gotB, gotPlain = append(gotW, w.Data()[0]), append(gotB, b.Data()[0]), append(gotPlain, plain.Data()[0])
	}
	checkClose(t, "nesterov plain bias", gotPlain, gotW, 0, 0)
	checkClose(t, "nesterov frozen bias", frozen.Data(), []float32{1}, 0, 0)
	// weight: d = 1 + 0.1*1 = 1.1, acc = 1.1, w = 1 - 0.1*(1.1 + 0.55) = 0.835;
	// d = 1 + 0.1*0.835 = 1.0835, acc = 0.55 + 1.0835 = 1.6335, w = 0.835 - 0.1*(1.0835 + 0.81675).
	checkClose(t, "nesterov weight", gotW, []float32{0.835, 0.644975}, 1e-6, 0)
	// bias (lr 0.2, decay coefficient 0.01/0.2 = 0.05): d = 1.05, b = 1 - 0.2*1.575 = 0.685;
	// d = 1.03425, acc = 1.55925, b = 0.685 - 0.2*(1.03425 + 0.779625).
	checkClose(t, "nesterov bias", gotB, []float32{0.685, 0.322225}, 1e-6, 0)
	if s := opt.Slots(); len(s) != 4 || s[0].Name != "l/weights/Momentum" || s[1].Name != "bn/beta/Momentum" {
		t.Errorf("slots %v, want TF's <param>/Momentum", slotNames(s))
	}
}

// TestScheduledNesterovByHand: the schedule scales the step but not the decay coefficient.
func TestScheduledNesterovByHand(t *testing.T) {
	w := newParam("w", []int{1, 1}, 0, true)
	w.Data()[0] = 1
	cfg := OptimizerConfig{Kind: OptNesterov, LR: 0.1, Momentum: 0.5, WeightDecay: 0.01,
		Steps: 2, Schedule: &Schedule{Start: 0.5, Peak: 0.5, End: 0}}
	opt, err := NewOptimizer(cfg, []*Param{w})
	if err != nil {
		t.Fatal(err)
	}
	w.GradData()[0] = 1
	opt.Apply()
	// factor 0.5: d = 1.1, w = 1 - 0.05*1.65 = 0.9175.
	checkClose(t, "scheduled nesterov", w.Data(), []float32{0.9175}, 1e-6, 0)
	if got := opt.Config().LR; got != 0.1 {
		t.Errorf("Config().LR = %v after a scheduled step, want the peak 0.1", got)
	}
}

// TestAverageByHand follows the lookahead average on plain SGD whose weight rises by 1 per
// step (LR 1, gradient -1): Start 0.5, Every 2, Decay 0.5, Pow 1.
func TestAverageByHand(t *testing.T) {
	for _, c := range []struct {
		steps int64
		want  []float32
	}{
		// first average at step 4 (avg = 4); step 6: rho = 0.25*6/8, avg = 4 + 2*0.8125 = 5.625,
		// w = avg; step 8: rho = 0.25, avg = 5.625 + 2*0.75 = 7.125.
		{8, []float32{1, 2, 3, 4, 5, 5.625, 6.625, 7.125}},
		// Steps 7: step 6: rho = 0.25*6/7, avg = 4 + 2*(1 - 0.2142857); step 7 is the last: w = avg.
		{7, []float32{1, 2, 3, 4, 5, 5.5714286, 5.5714286}},
	} {
		cfg := OptimizerConfig{Kind: OptMomentum, LR: 1, Steps: c.steps, Average: &Average{Start: 0.5, Every: 2, Decay: 0.5, Pow: 1}}
		got := optimizerSteps(t, cfg, 0, slicesRepeat(-1, int(c.steps)))
		checkClose(t, "average", got, c.want, 1e-6, 0)
	}
}

func slicesRepeat(v float32, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func slotNames(ps []*Param) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// TestScheduledResumeMatchesContinuous stops every kind of optimizer with a schedule and an
// average at several steps, copies its weights, slots and step into a fresh one (what a
// checkpoint keeps) and checks that the rest of the run has the same bits as without a stop.
func TestScheduledResumeMatchesContinuous(t *testing.T) {
	const steps = 23
	sched := &Schedule{Start: 0.2, Peak: 0.23, End: 0.07}
	avg := &Average{Start: 0.3, Every: 3, Decay: 0.95, Pow: 3}
	for _, base := range []OptimizerConfig{
		{Kind: OptNesterov, LR: 0.2, Momentum: 0.85, WeightDecay: 0.002, BiasLR: 64},
		{Kind: OptMomentum, LR: 0.05, Momentum: 0.9},
		DefaultAdam(),
	} {
		cfg := base
		cfg.Steps, cfg.Schedule, cfg.Average = steps, sched, avg
		for _, stop := range []int{1, 8, 9, 12, steps - 1} {
			straight := runOptimizer(t, cfg, steps, -1)
			resumed := runOptimizer(t, cfg, steps, stop)
			for i := range straight {
				if math.Float32bits(straight[i]) != math.Float32bits(resumed[i]) {
					t.Fatalf("%s stopped at %d: value %d is %v, straight run %v", cfg.Kind, stop, i, resumed[i], straight[i])
				}
			}
		}
	}
}

// runOptimizer trains a weight and a bias on pseudo-random gradients for steps updates; with
// stop >= 0 it moves to a fresh optimizer after stop updates. It returns the final values and
// slots.
func runOptimizer(t *testing.T, cfg OptimizerConfig, steps, stop int) []float32 {
	t.Helper()
	ps := []*Param{newParam("l/weights", []int{2, 3}, 0, true), newParam("l/biases", []int{3}, 0, true)}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range ps {
		for i := range p.Data() {
			p.Data()[i] = float32(rng.NormFloat64())
		}
	}
	opt, err := NewOptimizer(cfg, ps)
	if err != nil {
		t.Fatal(err)
	}
	for s := range steps {
		if s == stop {
			fresh, err := NewOptimizer(cfg, ps)
			if err != nil {
				t.Fatal(err)
			}
			for i, slot := range opt.Slots() {
				copy(fresh.Slots()[i].Data(), slot.Data())
			}
			fresh.SetSteps(opt.Steps())
			opt = fresh
		}
		for _, p := range ps {
			for i := range p.GradData() {
				p.GradData()[i] = float32(rng.NormFloat64())
			}
		}
		opt.Apply()
	}
	var out []float32
	for _, p := range append(append([]*Param(nil), ps...), opt.Slots()...) {
		out = append(out, p.Data()...)
	}
	if want := 2 * len(ps); cfg.Kind == OptAdam {
		want = 3 * len(ps)
		if len(opt.Slots()) != want {
			t.Errorf("%s slots %v", cfg.Kind, slotNames(opt.Slots()))
		}
	} else if len(opt.Slots()) != want || !strings.HasSuffix(opt.Slots()[want-1].Name, "/"+AverageSlot) {
		t.Errorf("%s slots %v, want the momentum then the averages", cfg.Kind, slotNames(opt.Slots()))
	}
	return out
}

func TestOptimizerConfigRefusesBadRecipe(t *testing.T) {
	ok := OptimizerConfig{Kind: OptNesterov, LR: 1, Momentum: 0.9, Steps: 10,
		Schedule: &Schedule{Start: 0.2, Peak: 0.2, End: 0.1}, Average: &Average{Start: 0.3, Every: 5, Decay: 0.95, Pow: 3}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*OptimizerConfig)
		want string
	}{
		{"no steps", func(c *OptimizerConfig) { c.Steps = 0 }, "run's steps"},
		{"momentum 1", func(c *OptimizerConfig) { c.Momentum = 1 }, "momentum"},
		{"negative decay", func(c *OptimizerConfig) { c.WeightDecay = -1 }, "weight_decay"},
		{"NaN bias lr", func(c *OptimizerConfig) { c.BiasLR = math.NaN() }, "bias_lr"},
		{"infinite lr", func(c *OptimizerConfig) { c.LR = math.Inf(1) }, "lr"},
		{"peak above 1", func(c *OptimizerConfig) { s := *c.Schedule; s.Peak = 1.5; c.Schedule = &s }, "peak"},
		{"negative start", func(c *OptimizerConfig) { s := *c.Schedule; s.Start = -0.1; c.Schedule = &s }, "start"},
		{"every 0", func(c *OptimizerConfig) { a := *c.Average; a.Every = 0; c.Average = &a }, "every"},
		{"decay 1", func(c *OptimizerConfig) { a := *c.Average; a.Decay = 1; c.Average = &a }, "decay"},
		{"average start 2", func(c *OptimizerConfig) { a := *c.Average; a.Start = 2; c.Average = &a }, "start"},
	} {
		cfg := ok
		c.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
}

// TestAirbench pins the conversion of airbench94's hyperparameters: at batch 1,024 its
// torch lr 11.5/7850.67 per summed example is 1.5 per batch mean, and the decay step
// 0.0153*1024/7850.67 = 0.0019957.
func TestAirbench(t *testing.T) {
	for _, c := range []struct {
		batch  int
		lr, wd float64
	}{
		{1024, 1.5, 0.0019957},
		{512, 0.75, 0.00099783},
	} {
		r, o := Airbench(c.batch)
		if math.Abs(o.LR-c.lr) > 1e-12 || math.Abs(o.WeightDecay-c.wd) > 1e-7 || r.Batch != c.batch {
			t.Errorf("batch %d: lr %v, wd %v, recipe batch %d; want %v, %v, %d", c.batch, o.LR, o.WeightDecay, r.Batch, c.lr, c.wd, c.batch)
		}
		o.Steps = 100
		if err := o.Validate(); err != nil {
			t.Errorf("batch %d: %v", c.batch, err)
		}
		if err := r.Validate([3]int{32, 32, 3}); err != nil {
			t.Errorf("batch %d: %v", c.batch, err)
		}
	}
}
