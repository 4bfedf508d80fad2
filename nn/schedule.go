package nn

import (
	"fmt"
	"math"
)

// Schedule is a learning rate that changes with the step, airbench's triangle: a warm-up from
// Start times the optimizer's LR up to LR itself at update floor(Peak*Steps), then a linear
// decay to End times LR at update Steps (OptimizerConfig.Steps, the run's length), where it
// stays. airbench94 uses Start 0.2, Peak 0.23, End 0.07. It is a pure function of the step
// and the configuration a checkpoint stores, so a resumed run continues it exactly.
type Schedule struct {
	Start float64 `json:"start"`
	Peak  float64 `json:"peak"`
	End   float64 `json:"end"`
}

// Factor is what multiplies the learning rate of the update that follows t updates, in a run
// of steps updates (t = 0 is the first update).
func (s Schedule) Factor(t, steps int64) float64 {
	peak := int64(s.Peak * float64(steps))
	switch {
	case t >= steps:
		return s.End
	case t < peak:
		return s.Start + (1-s.Start)*float64(t)/float64(peak)
	default:
		return 1 + (s.End-1)*float64(t-peak)/float64(steps-peak)
	}
}

// validate names a field out of range.
func (s Schedule) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"start", s.Start}, {"peak", s.Peak}, {"end", s.End}} {
		if !(f.v >= 0 && f.v <= 1) {
			return fmt.Errorf("nn: schedule %s = %g, want a value in [0, 1]", f.name, f.v)
		}
	}
	return nil
}

// scheduled is an optimizer whose learning rate follows cfg.Schedule and whose weights are
// averaged as cfg.Average says: it drives a base optimizer (adam, momentum or nesterov), whose
// update runs with the step's factor, then averages. Its slots are the base's followed by the
// averages ("<param>/ExponentialMovingAverage").
type scheduled struct {
	base   stepper
	cfg    OptimizerConfig
	params []*Param
	avg    []*Param // nil without Average
	slots  []*Param
}

// stepper is a base optimizer: Optimizer plus an update with its learning rate scaled.
type stepper interface {
	Optimizer
	// step is Apply with the learning rate multiplied by factor (Apply is step(1)).
	step(factor float64)
}

func newScheduled(base stepper, cfg OptimizerConfig, params []*Param) *scheduled {
	s := &scheduled{base: base, cfg: cfg, params: params, slots: base.Slots()}
	if cfg.Average != nil {
		s.avg = slotsFor(params, AverageSlot)
		s.slots = append(append([]*Param(nil), s.slots...), s.avg...)
	}
	return s
}

// Config, Steps, SetSteps and Slots implement Optimizer (documented there).
func (s *scheduled) Config() OptimizerConfig { return s.cfg }
func (s *scheduled) Steps() int64            { return s.base.Steps() }
func (s *scheduled) SetSteps(t int64)        { s.base.SetSteps(t) }
func (s *scheduled) Slots() []*Param         { return s.slots }

// SetLearningRate sets the learning rate the schedule's factors multiply (its peak).
func (s *scheduled) SetLearningRate(lr float64) {
	s.cfg.LR = lr
	s.base.SetLearningRate(lr)
}

// Apply updates the weights with this step's learning rate, then averages them when due.
func (s *scheduled) Apply() {
	t := s.base.Steps()
	factor := 1.0
	if s.cfg.Schedule != nil {
		factor = s.cfg.Schedule.Factor(t, s.cfg.Steps)
	}
	s.base.step(factor)
	if s.avg != nil {
		s.average(t + 1)
	}
}

// validateRun checks the fields that define a run's schedule and average.
func (c OptimizerConfig) validateRun() error {
	if c.Schedule == nil && c.Average == nil {
		return nil
	}
	if c.Steps < 1 {
		return fmt.Errorf("nn: optimizer %q: a schedule or an average needs the run's steps, got %d", c.Kind, c.Steps)
	}
	if c.Schedule != nil {
		if err := c.Schedule.validate(); err != nil {
			return err
		}
	}
	if c.Average != nil {
		return c.Average.validate()
	}
	return nil
}

// isFinite reports whether x is neither NaN nor infinite.
func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
