package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestConvKeepsUnfold: conv1's weight gradient computed from the unfold forward kept (a batch
// that fits one im2col block) has the same bits as when backward unfolds the input again.
func TestConvKeepsUnfold(t *testing.T) {
	spec, _ := Preset("cifar10")
	const n = 8
	tr := mustTrainer(t, mustModel(t, spec, 3), n, 1)
	images, labels := randBatch(rand.New(rand.NewPCG(5, 6)), spec, n)
	cv := tr.layers[0].(*convLayer)
	grads := func(spoil bool) []float32 {
		tr.forward(images, n)
		if cv.colN != n {
			t.Fatalf("forward kept the unfold of %d examples, want %d", cv.colN, n)
		}
		if spoil {
			cv.colN = 0 // backward must unfold again
			clear(cv.col)
		}
		tr.backward(labels, 1/float32(n))
		return append([]float32(nil), cv.w.GradData()...)
	}
	kept, again := grads(false), grads(true)
	for i := range kept {
		if math.Float32bits(kept[i]) != math.Float32bits(again[i]) {
			t.Fatalf("conv1 weight gradient %d: %v with the kept unfold, %v unfolded again", i, kept[i], again[i])
		}
	}
	if cv.colN != 0 {
		t.Errorf("backward left the unfold marked as kept")
	}
}
