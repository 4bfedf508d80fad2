package nn

// nesterov is SGD with Nesterov momentum and decoupled weight decay, as airbench runs
// torch.optim.SGD(nesterov=True) with one parameter group per learning rate. For a parameter
// of group learning rate lr (LR, or LR*BiasLR for batch normalization's parameters) and schedule factor f,
// in float32:
//
//	d     = g + (WeightDecay/lr)*w
//	accum = accum*momentum + d
//	w    -= lr*f * (d + momentum*accum)
//
// which is also tf.train.MomentumOptimizer(use_nesterov=True) on the gradient d, so the slot
// is TF's "<param>/Momentum". The decay coefficient is divided by the group's own (unscheduled)
// learning rate: the decay's step, WeightDecay*f*w, is the same in every group and does not
// change when LR is tuned (airbench's "decoupled" form). Gradients are batch means here while
// airbench sums over its batch of B: its lr, wd are ours divided by B (see docs/ARCHITECTURE.md).
type nesterov struct{ accumulated }

func newNesterov(cfg OptimizerConfig, params []*Param) *nesterov {
	return &nesterov{newAccumulated(cfg, params)}
}

// Apply performs one update of every parameter at the configured learning rate.
func (o *nesterov) Apply() { o.step(1) }

// step performs one update with the learning rates multiplied by factor.
func (o *nesterov) step(factor float64) {
	mom := float32(o.cfg.Momentum)
	for i, p := range o.params {
		if p.Use != Trained {
			continue // frozen by the recipe: no decay, no momentum
		}
		lr := o.groupLR(p)
		nesterovUpdate(p.Data(), p.GradData(), o.accum[i].Data(), float32(lr*factor), mom, float32(o.cfg.WeightDecay/lr))
	}
	o.t++
}

// groupLR is the unscheduled learning rate of p's group: LR, times BiasLR for a batch
// normalization's offset or scale (Param.Norm). Other biases (the whitening layer's, the
// convolutions' and the dense layer's) train at LR, as airbench's "other params".
func (o *nesterov) groupLR(p *Param) float64 {
	if p.Norm && o.cfg.BiasLR != 0 {
		return o.cfg.LR * o.cfg.BiasLR
	}
	return o.cfg.LR
}

// nesterovUpdate is one update of w with gradient g, momentum accumulator acc, step size lr,
// momentum mom and decay coefficient decay (see nesterov).
func nesterovUpdate(w, g, acc []float32, lr, mom, decay float32) {
	g, acc = g[:len(w)], acc[:len(w)]
	for i, gi := range g {
		d := gi + float32(decay*w[i]) // explicit roundings: no FMA, same bits everywhere
		a := float32(acc[i]*mom) + d
		acc[i] = a
		w[i] -= float32(lr * (d + float32(mom*a)))
	}
}
