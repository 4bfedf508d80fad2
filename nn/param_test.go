package nn

import "testing"

// newParam allocates a zeroed float32 parameter (and its gradient when withGrad is set) in a
// slab of its own; models and optimizers make theirs with viewParams.
func newParam(name string, shape []int, decay float32, withGrad bool) *Param {
	ps := []paramShape{{name: name, shape: shape, decay: decay}}
	values, grads := make([]float32, sizeOf(shape)), []float32(nil)
	if withGrad {
		grads = make([]float32, len(values))
	}
	return viewParams(ps, values, grads)[0]
}

// TestFrozenParamStays: every optimizer kind, and the weight average, leave a parameter whose
// Use a recipe sets to Fixed after the optimizer was made (the whitening bias, frozen after
// part of the run), while the others train.
func TestFrozenParamStays(t *testing.T) {
	avg := &Average{Start: 0, Every: 1, Decay: 0.5, Pow: 0}
	for _, cfg := range []OptimizerConfig{
		DefaultAdam(),
		DefaultMomentum(),
		{Kind: OptNesterov, LR: 0.1, Momentum: 0.5, WeightDecay: 0.01, BiasLR: 4},
		{Kind: OptNesterov, LR: 0.1, Momentum: 0.5, WeightDecay: 0.01, Steps: 3, Average: avg},
	} {
		w := newParam("l/weights", []int{2}, 0, true)
		b := newParam("whiten/biases", []int{2}, 0, true)
		copy(w.Data(), []float32{1, 2})
		copy(b.Data(), []float32{3, 4})
		opt, err := NewOptimizer(cfg, []*Param{w, b})
		if err != nil {
			t.Fatal(err)
		}
		b.Use = Fixed
		for range 3 {
			copy(w.GradData(), []float32{1, 1})
			copy(b.GradData(), []float32{1, 1})
			opt.Apply()
		}
		if b.Data()[0] != 3 || b.Data()[1] != 4 {
			t.Errorf("%s (average %v): the frozen parameter moved to %v", cfg.Kind, cfg.Average != nil, b.Data())
		}
		if w.Data()[0] == 1 {
			t.Errorf("%s (average %v): the trained parameter did not move", cfg.Kind, cfg.Average != nil)
		}
	}
}
