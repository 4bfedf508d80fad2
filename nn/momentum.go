package nn

// momentum is tf.train.MomentumOptimizer (use_nesterov false) as TF's ApplyMomentum kernel
// computes it, in float32: accum = accum*momentum + g; w -= accum*lr.
type momentum struct{ accumulated }

// accumulated is what momentum and Nesterov keep alike: the configuration, the parameters, one
// "<param>/Momentum" accumulator each (TF's slot name for both) and the number of updates.
type accumulated struct {
	cfg    OptimizerConfig
	params []*Param
	accum  []*Param
	t      int64
}

func newAccumulated(cfg OptimizerConfig, params []*Param) accumulated {
	return accumulated{cfg: cfg, params: params, accum: slotsFor(params, "Momentum")}
}

func newMomentum(cfg OptimizerConfig, params []*Param) *momentum {
	return &momentum{newAccumulated(cfg, params)}
}

// Config, SetLearningRate, Steps, SetSteps and Slots implement Optimizer (documented there).
func (o *accumulated) Config() OptimizerConfig    { return o.cfg }
func (o *accumulated) SetLearningRate(lr float64) { o.cfg.LR = lr }
func (o *accumulated) Steps() int64               { return o.t }
func (o *accumulated) SetSteps(t int64)           { o.t = t }
func (o *accumulated) Slots() []*Param            { return o.accum }

// Apply performs one momentum update of every parameter.
func (o *momentum) Apply() { o.step(1) }

// step is Apply with the learning rate multiplied by factor (a schedule's).
func (o *momentum) step(factor float64) {
	lr, mom := float32(o.cfg.LR*factor), float32(o.cfg.Momentum)
	for i, p := range o.params {
		if p.Use != Trained {
			continue // frozen by the recipe
		}
		momentumUpdate(p.Data(), p.GradData(), o.accum[i].Data(), lr, mom)
	}
	o.t++
}

// momentumUpdateGo is one TF momentum update of w.
func momentumUpdateGo(w, g, acc []float32, lr, mom float32) {
	g, acc = g[:len(w)], acc[:len(w)]
	for i, gi := range g {
		a := acc[i]*mom + gi
		acc[i] = a
		w[i] -= a * lr
	}
}
