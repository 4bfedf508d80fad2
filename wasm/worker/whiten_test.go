package worker

import (
	"slices"
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/training"
	"cifar10/wasm/protocol"
)

// labelsOnly holds a dataset's pixels apart from its labels, as the workers share them.
type labelsOnly struct{ data *cifar.Data }

func (p labelsOnly) Train(i int, buf []byte) []byte { return append(buf[:0], p.data.Train.Image(i)...) }
func (p labelsOnly) Test(i int, buf []byte) []byte  { return append(buf[:0], p.data.Test.Image(i)...) }

// TestWhitenFromSharedPixels: a fresh fast run whose training pixels are shared (not in the
// worker's training set) gets the whitening weights a run holding the pixels computes.
func TestWhitenFromSharedPixels(t *testing.T) {
	data := testData()
	rec := &recorder{}
	e := NewEngine(rec.post, nil)
	e.data = &cifar.Data{Train: &cifar.Set{Labels: data.Train.Labels}, Test: &cifar.Set{Labels: data.Test.Labels}, ClassNames: data.ClassNames}
	e.pixels = labelsOnly{data}
	s := *settings(1, 4, 7)
	s.Preset = "fast"
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: s}})
	if e.run == nil {
		t.Fatalf("no run: %v", rec.of(protocol.KindError))
	}
	want, err := training.New(training.Config{Preset: "fast", Seed: 7, Batch: 4, Steps: 1, Threads: 1, Train: data.Train})
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	name := want.Model().Spec().Layers[0].Name + "/weights"
	got, ref := e.run.tr.Model().Param(name).Data(), want.Model().Param(name).Data()
	if e.run.tr.WhiteningPending() || !slices.Equal(got, ref) || slices.Equal(ref, fresh(t, name)) {
		t.Errorf("whitening weights %v, want those computed from the pixels %v", got[:4], ref[:4])
	}
}

// fresh is parameter name of a fast model before whitening.
func fresh(t *testing.T, name string) []float32 {
	t.Helper()
	spec, _ := nn.Preset("fast")
	m, err := nn.NewModel(spec, 7)
	if err != nil {
		t.Fatal(err)
	}
	return m.Param(name).Data()
}
