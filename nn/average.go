package nn

import (
	"fmt"
	"math"
)

// AverageSlot names the slots of the weights' moving average, "<param>/ExponentialMovingAverage",
// as tf.train.ExponentialMovingAverage names its shadow variables.
const AverageSlot = "ExponentialMovingAverage"

// Average is airbench's lookahead-style exponential moving average of the weights. Every
// Every updates, once a fraction Start of the run's steps is done, the average moves towards
// the weights, avg += (w - avg)*(1 - rho), and the weights are set to it (so training goes on
// from the average, like the Lookahead optimizer); the first time, the average is the
// weights. A parameter frozen by the recipe (Use no longer Trained) is left out: it keeps
// its value, and its average slot the value it had. rho = Decay^Every * (s/Steps)^Pow after s updates: weak averaging early, strong at
// the end. After the run's last update the weights are set to the average once more.
// airbench94 uses Start 3/9.9 of its epochs, Every 5, Decay 0.95, Pow 3.
//
// Lookahead rather than a plain average on the side: the network trains from the averaged
// point (airbench's choice, which its ablations found better than a separate average in a
// short run), and the weights a checkpoint or an evaluation sees are the ones trained, with no
// second model to evaluate. The averages are optimizer slots, so checkpoints save and restore
// them like the momentum.
type Average struct {
	Start float64 `json:"start"`
	Every int64   `json:"every"`
	Decay float64 `json:"decay"`
	Pow   float64 `json:"pow"`
}

// validate names a field out of range.
func (a Average) validate() error {
	switch {
	case !(a.Start >= 0 && a.Start <= 1):
		return fmt.Errorf("nn: average start = %g, want a fraction of the run in [0, 1]", a.Start)
	case a.Every < 1:
		return fmt.Errorf("nn: average every = %d, want at least 1", a.Every)
	case !(a.Decay >= 0 && a.Decay < 1):
		return fmt.Errorf("nn: average decay = %g, want a value in [0, 1)", a.Decay)
	case !(a.Pow >= 0) || !isFinite(a.Pow):
		return fmt.Errorf("nn: average pow = %g, want a finite value >= 0", a.Pow)
	}
	return nil
}

// first is the update count of the first average: the first multiple of Every at or after
// Start of the run.
func (a Average) first(steps int64) int64 {
	start := int64(math.Ceil(a.Start * float64(steps)))
	return max(a.Every, (start+a.Every-1)/a.Every*a.Every)
}

// rho is the average's decay after s updates of a run of steps.
func (a Average) rho(s, steps int64) float64 {
	return math.Pow(a.Decay, float64(a.Every)) * math.Pow(float64(s)/float64(steps), a.Pow)
}

// average does what the average calls for after s updates: start it, move it and set the
// weights to it, or (after the run's last update) set the weights to it.
func (o *scheduled) average(s int64) {
	a, steps := *o.cfg.Average, o.cfg.Steps
	first := a.first(steps)
	switch {
	case s < first:
	case s == first:
		for i, p := range o.params {
			if p.Use == Trained {
				copy(o.avg[i].Data(), p.Data())
			}
		}
	case s%a.Every == 0:
		w := float32(1 - a.rho(s, steps))
		for i, p := range o.params {
			if p.Use == Trained {
				lookahead(p.Data(), o.avg[i].Data(), w)
			}
		}
	case s == steps:
		for i, p := range o.params {
			if p.Use == Trained {
				copy(p.Data(), o.avg[i].Data())
			}
		}
	}
}

// lookahead moves avg towards w by weight, avg += (w - avg)*weight (torch.lerp), and sets w to
// the result.
func lookahead(w, avg []float32, weight float32) {
	avg = avg[:len(w)]
	for i, x := range w {
		v := avg[i] + float32((x-avg[i])*weight) // no FMA: same bits everywhere
		avg[i], w[i] = v, v
	}
}
