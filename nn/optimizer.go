package nn

import (
	"fmt"
)

// Optimizer updates parameters from their gradients, TensorFlow 1.x style. Its state (slots and
// the update count) is exposed as named tensors so a checkpoint can save and restore it exactly.
type Optimizer interface {
	// Config returns the hyperparameters (with the current learning rate).
	Config() OptimizerConfig
	// SetLearningRate changes the learning rate for the following updates.
	SetLearningRate(lr float64)
	// Steps is the number of updates applied so far (TensorFlow's global_step).
	Steps() int64
	// SetSteps restores the update count, e.g. from a checkpoint; Adam's bias correction
	// depends on it.
	SetSteps(t int64)
	// Apply performs one update of every parameter from its Grad.
	Apply()
	// Slots lists the optimizer's state tensors, named like TensorFlow's
	// ("<param>/Adam", "<param>/Adam_1" or "<param>/Momentum"), in parameter order, then
	// with a weight average "<param>/ExponentialMovingAverage" for every parameter.
	Slots() []*Param
}

// NewOptimizer returns the optimizer that cfg describes, bound to the Trained parameters of
// params (it keeps one set of slots per parameter, zeroed; Fixed parameters and Statistics
// have none). With a schedule or an average it is the base optimizer driven by them
// (schedule.go); without, the base optimizer itself, computing as it always did.
func NewOptimizer(cfg OptimizerConfig, params []*Param) (Optimizer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	params = Trainable(params)
	var base stepper
	switch cfg.Kind {
	case OptAdam:
		base = newAdam(cfg, params)
	case OptNesterov:
		base = newNesterov(cfg, params)
	default:
		base = newMomentum(cfg, params)
	}
	if cfg.Schedule == nil && cfg.Average == nil {
		return base, nil
	}
	return newScheduled(base, cfg, params), nil
}

// Validate reports a hyperparameter outside its meaningful range, naming it.
func (c OptimizerConfig) Validate() error {
	bad := func(field string, v float64, want string) error {
		return fmt.Errorf("nn: optimizer %q: %s = %g, want %s", c.Kind, field, v, want)
	}
	if !(c.LR > 0) {
		return bad("lr", c.LR, "> 0")
	}
	switch c.Kind {
	case OptAdam:
		if !(c.Beta1 >= 0 && c.Beta1 < 1) {
			return bad("beta1", c.Beta1, "in [0, 1)")
		}
		if !(c.Beta2 >= 0 && c.Beta2 < 1) {
			return bad("beta2", c.Beta2, "in [0, 1)")
		}
		if !(c.Epsilon > 0) {
			return bad("epsilon", c.Epsilon, "> 0")
		}
	case OptMomentum:
		if !(c.Momentum >= 0) {
			return bad("momentum", c.Momentum, ">= 0")
		}
	case OptNesterov:
		if !(c.Momentum >= 0 && c.Momentum < 1) {
			return bad("momentum", c.Momentum, "in [0, 1)")
		}
		if !(c.WeightDecay >= 0) || !isFinite(c.WeightDecay) {
			return bad("weight_decay", c.WeightDecay, "a finite value >= 0")
		}
		if !(c.BiasLR >= 0) || !isFinite(c.BiasLR) {
			return bad("bias_lr", c.BiasLR, "a finite value >= 0 (0 means 1)")
		}
	default:
		return fmt.Errorf("nn: unknown optimizer kind %q (want %q, %q or %q)", c.Kind, OptAdam, OptMomentum, OptNesterov)
	}
	if !isFinite(c.LR) {
		return bad("lr", c.LR, "a finite value")
	}
	return c.validateRun()
}

// slotsFor allocates one zeroed slot per parameter, named "<param>/<suffix>": views of one slab
// holding them all back to back, in parameter order.
func slotsFor(params []*Param, suffix string) []*Param {
	shapes := make([]paramShape, len(params))
	n := 0
	for i, p := range params {
		shapes[i] = paramShape{name: p.Name + "/" + suffix, shape: p.Shape()}
		n += p.Size()
	}
	return viewParams(shapes, make([]float32, n), nil)
}
