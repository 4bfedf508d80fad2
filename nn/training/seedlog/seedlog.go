// Package seedlog is the text the seed script (cifar10_train.py, cifar10_eval.py) prints: its
// step line and its precision line. The native trainer prints it, the browser's worker sends
// it and the page shows it, so a run can be compared line by line in both; it is a leaf (it
// imports only fmt) so that the page, which never links the engine, can use it too.
package seedlog

import "fmt"

// Every is how often the seed script logs a step: steps 0, 10, 20, ...
const Every = 10

// Line is the seed script's log line, `format_str % (step, loss_value, examples_per_sec,
// sec_per_batch)`, with the timing of the logged step alone.
func Line(step int64, loss float32, examplesPerSec, secPerBatch float64) string {
	return fmt.Sprintf("Step %d, loss = %.2f (%.1f examples/sec; %.3f sec/batch)", step, loss, examplesPerSec, secPerBatch)
}

// Precision is the line the evaluation ends with: precision@1 with four decimals.
func Precision(p float64) string {
	return fmt.Sprintf("precision: %.4f", p)
}

// PrecisionWith is the precision line of an evaluation with test-time augmentation (named
// as nn.TTA names its levels), printed after the plain one.
func PrecisionWith(augmentation string, p float64) string {
	return fmt.Sprintf("precision with %s: %.4f", augmentation, p)
}

// SlicePrecision is the periodic precision line of a run: after step steps, on a fixed
// slice of images test images.
func SlicePrecision(step int64, images int, p float64) string {
	return fmt.Sprintf("Step %d, %s (%d test images)", step, Precision(p), images)
}
