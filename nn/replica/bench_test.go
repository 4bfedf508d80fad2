package replica

import (
	"math/rand/v2"
	"testing"

	"cifar10/nn"
)

// BenchmarkStep is what one browser worker training alone does each step: a batch of 128 of
// the cifar10 preset computed as its 8 shards of 16 and summed by the fixed tree, then the
// update. Compare with nn's BenchmarkTrainStep/threads=1 (the whole batch at once) for the
// cost of sharding.
func BenchmarkStep(b *testing.B) {
	spec, err := nn.Preset("cifar10")
	if err != nil {
		b.Fatal(err)
	}
	m, err := nn.NewModel(spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	opt, err := nn.NewOptimizer(spec.Optimizer, m.Params())
	if err != nil {
		b.Fatal(err)
	}
	const batch = 128
	r, err := New(m, opt, batch, 1, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	images := make([]float32, batch*m.InputSize())
	for i := range images {
		images[i] = float32(rng.NormFloat64())
	}
	labels := make([]uint8, batch)
	for i := range labels {
		labels[i] = uint8(rng.IntN(10))
	}
	r.Step(images, labels)
	for b.Loop() {
		r.Step(images, labels)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "examples/s")
}
