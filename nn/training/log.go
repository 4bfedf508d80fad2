package training

import "fmt"

// LogEvery is how often the seed script (cifar10_train.py) logs a step: steps 0, 10, 20, ...
const LogEvery = 10

// LogDue reports whether the step just done is one the seed script logs (every LogEvery,
// from step 0).
func (r *Run) LogDue() bool { return (r.opt.Steps()-1)%LogEvery == 0 }

// FormatLog is the seed script's log line, `format_str % (step, loss_value, examples_per_sec,
// sec_per_batch)`, with the timing of the logged step alone: the same text natively and in
// the browser, so the two can be compared line by line.
func FormatLog(step int64, loss float32, examplesPerSec, secPerBatch float64) string {
	return fmt.Sprintf("Step %d, loss = %.2f (%.1f examples/sec; %.3f sec/batch)", step, loss, examplesPerSec, secPerBatch)
}
