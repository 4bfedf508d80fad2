package training

import (
	"time"

	"cifar10/nn/checkpoint"
	"cifar10/nn/training/seedlog"
)

// CheckpointDue reports whether a checkpoint is due after the step just done: every
// SaveEvery steps, as the seed script's Saver, and after the last step, so a finished run
// always ends with its final weights saved. It is false with SaveEvery 0.
func (r *Run) CheckpointDue() bool {
	every, step := r.cfg.SaveEvery, r.opt.Steps()
	return every > 0 && (step%every == 0 || step == r.cfg.Steps)
}

// LogDue reports whether the step just done is one the seed script logs (every
// seedlog.Every, from step 0); seedlog.Line is its text.
func (r *Run) LogDue() bool { return (r.opt.Steps()-1)%seedlog.Every == 0 }

// EvalDue reports whether the precision log is due after the step just done: every
// EvalEvery steps (none with 0). The caller evaluates the first EvalImages test images
// (Evaluate) and logs seedlog.SlicePrecision.
func (r *Run) EvalDue() bool {
	every := r.cfg.EvalEvery
	return every > 0 && r.opt.Steps()%every == 0
}

// Encode returns the checkpoint file of the run's current state: weights, optimizer state and
// step, seed, batch and data position (everything FromCheckpoint needs to continue exactly),
// with the last loss, the time at (none when zero) and the test precision when one was
// measured (else nil). The file is written into one buffer the run keeps, valid until the
// next Encode: a fresh 12.8 MB buffer for every save cost the browser 40 ms of page faults.
// It refuses a diverged run (NaN or infinite values), so one is never saved.
func (r *Run) Encode(at time.Time, precision *float64) ([]byte, error) {
	run := checkpoint.Run{Seed: r.cfg.Seed, Batch: r.cfg.Batch, Examples: r.examples, Time: at, Precision: precision}
	if r.measured {
		loss := float64(r.loss)
		run.Loss = &loss
	}
	data, err := checkpoint.AppendEncode(r.file[:0], r.model, r.opt, run)
	if err != nil {
		return nil, err
	}
	r.file = data
	return data, nil
}
