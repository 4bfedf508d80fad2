package training

import (
	"bytes"
	"testing"
	"time"

	"cifar10/nn/checkpoint"
	"cifar10/nn/cifar"
	"cifar10/nn/cifar/cifartest"
)

// trainSet is a small random training set: 40 images, so a few steps of a batch of 32 cross
// epoch boundaries.
func trainSet() *cifar.Set { return cifartest.Random(40, 1, 15) }

// at is the time every test checkpoint is made at, so two files can be compared as bytes.
var at = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// newRun is New that fails the test on error and closes the run at its end.
func newRun(t testing.TB, cfg Config) *Run {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// fromFile decodes a checkpoint file and continues a run from it, failing the test on error.
func fromFile(t testing.TB, file []byte, cfg Config) *Run {
	t.Helper()
	ck, err := checkpoint.Decode(file, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := FromCheckpoint(ck, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// encode is Encode at the fixed time, as a copy the run does not write over.
func encode(t testing.TB, r *Run) []byte {
	t.Helper()
	data, err := r.Encode(at, nil)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(data)
}

// steps trains n steps and returns their losses.
func steps(r *Run, n int) []float32 {
	var losses []float32
	for range n {
		losses = append(losses, r.Step())
	}
	return losses
}

// decode is checkpoint.Decode that fails the test on error.
func decode(t testing.TB, file []byte) *checkpoint.Checkpoint {
	t.Helper()
	ck, err := checkpoint.Decode(file, "")
	if err != nil {
		t.Fatal(err)
	}
	return ck
}
