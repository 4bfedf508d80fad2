package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// threadCounts is 1 and, when different, every core.
func threadCounts() []int {
	if n := runtime.NumCPU(); n > 1 {
		return []int{1, n}
	}
	return []int{1}
}

func benchTrainer(b *testing.B, threads int) (*Trainer, []float32, []uint8) {
	spec, _ := Preset("cifar10")
	m := mustModel(b, spec, 1)
	tr := mustTrainer(b, m, 128, threads)
	images, labels := randBatch(rand.New(rand.NewPCG(1, 2)), spec, 128)
	return tr, images, labels
}

// BenchmarkTrainStep is one full training step (forward, loss, backward, Adam) of the cifar10
// model on a batch of 128, the tutorial's unit of work.
func BenchmarkTrainStep(b *testing.B) {
	for _, threads := range threadCounts() {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			tr, images, labels := benchTrainer(b, threads)
			tr.Step(images, labels)
			for b.Loop() {
				tr.Step(images, labels)
			}
			b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}

// BenchmarkEval is the forward pass alone (logits of a batch of 128), as evaluation runs it.
func BenchmarkEval(b *testing.B) {
	for _, threads := range threadCounts() {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			tr, images, _ := benchTrainer(b, threads)
			tr.Logits(images)
			for b.Loop() {
				tr.Logits(images)
			}
			b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}
