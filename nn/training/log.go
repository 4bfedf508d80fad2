package training

import "cifar10/nn/training/seedlog"

// LogDue reports whether the step just done is one the seed script logs (every
// seedlog.Every, from step 0); seedlog.Line is its text.
func (r *Run) LogDue() bool { return (r.opt.Steps()-1)%seedlog.Every == 0 }
