package nn

// adam is tf.train.AdamOptimizer as TensorFlow 1.x's ApplyAdam kernel computes it, in float32:
//
//	lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//	m   += (g - m) * (1 - beta1)
//	v   += (g² - v) * (1 - beta2)
//	w   -= m * lr_t / (sqrt(v) + epsilon)
//
// epsilon is added to the uncorrected sqrt(v) (the TF1 form, unlike Keras/PyTorch), and beta^t
// comes from TF's beta1_power/beta2_power variables: a float32 product updated once per step.
type adam struct {
	cfg         OptimizerConfig
	params      []*Param
	m, v        []*Param
	t           int64
	pow1, pow2  float32 // beta1^(t+1), beta2^(t+1): the powers the next update uses
	b1, b2, eps float32
	slots       []*Param
}

func newAdam(cfg OptimizerConfig, params []*Param) *adam {
	a := &adam{cfg: cfg, params: params, m: slotsFor(params, "Adam"), v: slotsFor(params, "Adam_1"),
		b1: float32(cfg.Beta1), b2: float32(cfg.Beta2), eps: float32(cfg.Epsilon)}
	for i := range params {
		a.slots = append(a.slots, a.m[i], a.v[i])
	}
	a.SetSteps(0)
	return a
}

// Config, SetLearningRate, Steps and Slots implement Optimizer (documented there).
func (a *adam) Config() OptimizerConfig    { return a.cfg }
func (a *adam) SetLearningRate(lr float64) { a.cfg.LR = lr }
func (a *adam) Steps() int64               { return a.t }
func (a *adam) Slots() []*Param            { return a.slots }

// SetSteps sets the update count and replays TF's float32 beta-power products for it.
func (a *adam) SetSteps(t int64) {
	a.t = t
	a.pow1, a.pow2 = a.b1, a.b2
	for i := int64(0); i < t; i++ {
		p1, p2 := a.pow1*a.b1, a.pow2*a.b2
		if p1 == a.pow1 && p2 == a.pow2 {
			break // a float32 fixed point (0 or the smallest subnormal): later steps change nothing
		}
		a.pow1, a.pow2 = p1, p2
	}
}

// Apply performs one TF1 Adam update of every parameter with the current step's beta powers.
func (a *adam) Apply() { a.step(1) }

// step is Apply with the learning rate multiplied by factor (a schedule's).
func (a *adam) step(factor float64) {
	lr := float32(a.cfg.LR * factor)
	alpha := lr * sqrt32(1-a.pow2) / (1 - a.pow1)
	for i, p := range a.params {
		if p.Use != Trained {
			continue // frozen by the recipe
		}
		adamUpdate(p.Data(), p.GradData(), a.m[i].Data(), a.v[i].Data(), alpha, 1-a.b1, 1-a.b2, a.eps)
	}
	a.t++
	a.pow1 *= a.b1
	a.pow2 *= a.b2
}

// adamUpdateGo is one TF1 Adam update of w; c1 = 1-beta1, c2 = 1-beta2.
func adamUpdateGo(w, g, m, v []float32, alpha, c1, c2, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, gi := range g {
		mi := m[i] + (gi-m[i])*c1
		vi := v[i] + (gi*gi-v[i])*c2
		m[i], v[i] = mi, vi
		w[i] -= mi * alpha / (sqrt32(vi) + eps)
	}
}
