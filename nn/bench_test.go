package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// threadCounts is 1 and, when different, every core.
func threadCounts() []int {
	if n := runtime.NumCPU(); n > 1 {
		return []int{1, n}
	}
	return []int{1}
}

func benchTrainer(b *testing.B, threads int) (*Trainer, []float32, []uint8) {
	return benchTrainerN(b, threads, 128)
}

func benchTrainerN(b testing.TB, threads, batch int) (*Trainer, []float32, []uint8) {
	return benchPreset(b, "cifar10", threads, batch)
}

// benchPreset is a trainer of a preset on a random batch (the fast preset whitened from it).
func benchPreset(b testing.TB, preset string, threads, batch int) (*Trainer, []float32, []uint8) {
	spec, _ := Preset(preset)
	return specTrainer(b, spec, threads, batch)
}

func specTrainer(b testing.TB, spec Spec, threads, batch int) (*Trainer, []float32, []uint8) {
	m := mustModel(b, spec, 1)
	tr := mustTrainer(b, m, batch, threads)
	images, labels := randBatch(rand.New(rand.NewPCG(1, 2)), spec, batch)
	if spec.Layers[0].Kind == KindWhiten {
		if err := m.InitWhitening(images); err != nil {
			b.Fatal(err)
		}
	}
	return tr, images, labels
}

// BenchmarkFastStep is one training step of the fast preset on a batch of 128, per thread
// count, with its 3x3 convolutions by the implicit GEMM (the preset) and by Winograd's
// F(2x2, 3x3), to compare with each other and with BenchmarkTrainStep (the tutorial's model) in one
// run.
func BenchmarkFastStep(b *testing.B) {
	for _, threads := range threadCounts() {
		for _, winograd := range []bool{false, true} {
			b.Run(fmt.Sprintf("threads=%d/winograd=%v", threads, winograd), func(b *testing.B) {
				spec := FastSpec(FastWidth)
				for i := range spec.Layers {
					spec.Layers[i].Winograd = winograd
				}
				tr, images, labels := specTrainer(b, spec, threads, 128)
				tr.Step(images, labels)
				for b.Loop() {
					tr.Step(images, labels)
				}
				b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "examples/s")
			})
		}
	}
}

// BenchmarkFastLayers is BenchmarkLayers for the fast preset: each layer's forward and
// backward of a step of 128 on one thread, in milliseconds per batch.
func BenchmarkFastLayers(b *testing.B) {
	for _, winograd := range []bool{false, true} {
		b.Run(fmt.Sprintf("winograd=%v", winograd), func(b *testing.B) {
			spec := FastSpec(FastWidth)
			for i := range spec.Layers {
				spec.Layers[i].Winograd = winograd
			}
			tr, images, labels := specTrainer(b, spec, 1, 128)
			defer tr.Close()
			reportLayers(b, tr, images, labels)
		})
	}
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

// BenchmarkLayers times each layer's forward and backward of a training step (batch 128, the
// cifar10 preset, one thread) and the optimizer update, reported as milliseconds per batch, so
// a change to one kernel shows where the step's time goes (run it as wasm under Node to see
// the browser's engine).
func BenchmarkLayers(b *testing.B) { benchLayers(b, 128) }

func benchLayers(b *testing.B, batch int) {
	tr, images, labels := benchTrainerN(b, 1, batch)
	defer tr.Close()
	reportLayers(b, tr, images, labels)
}

// reportLayers times tr's layers' forward and backward passes and the update over the
// benchmark's iterations, reported in milliseconds per batch.
func reportLayers(b *testing.B, tr *Trainer, images []float32, labels []uint8) {
	tr.Step(images, labels)
	fwd := make([]time.Duration, len(tr.layers))
	bwd := make([]time.Duration, len(tr.layers))
	var apply time.Duration
	for b.Loop() {
		f, bw := layerPass(tr, images, labels)
		for i := range f {
			fwd[i] += f[i]
			bwd[i] += bw[i]
		}
		t0 := time.Now()
		tr.WeightDecay()
		tr.Apply()
		apply += time.Since(t0)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 / float64(b.N) }
	for i, l := range tr.model.spec.Layers {
		b.ReportMetric(ms(fwd[i]), l.Name+"-fwd-ms")
		b.ReportMetric(ms(bwd[i]), l.Name+"-bwd-ms")
	}
	b.ReportMetric(ms(apply), "decay+update-ms")
}

// BenchmarkShardLayersMin times each layer's forward and backward on one shard of 16 examples
// (the browser's unit of work; cifar10 preset, one thread) and reports, in milliseconds, the
// minimum over the iterations of each and of the whole forward+backward. On a shared,
// noisy machine the same mean varies by 30-50% between runs, the minima far less, so they are
// what to compare before and after a change to a kernel. For the browser's engine run it as
// wasm under Node, with enough iterations for the minima to settle:
//
//	GOOS=js GOARCH=wasm GOEXPERIMENT=simd go test -run '^$' -bench ShardLayersMin -benchtime 60x \
//		-exec $(go env GOROOT)/lib/wasm/go_js_wasm_exec ./nn
func BenchmarkShardLayersMin(b *testing.B) { shardLayersMin(b, "cifar10") }

// BenchmarkFastShardLayersMin is BenchmarkShardLayersMin for the fast preset.
func BenchmarkFastShardLayersMin(b *testing.B) { shardLayersMin(b, "fast") }

func shardLayersMin(b *testing.B, preset string) {
	tr, images, labels := benchPreset(b, preset, 1, 16)
	defer tr.Close()
	tr.Step(images, labels)
	minOf := func(best *time.Duration, d time.Duration) {
		if *best == 0 || d < *best {
			*best = d
		}
	}
	fwd := make([]time.Duration, len(tr.layers))
	bwd := make([]time.Duration, len(tr.layers))
	var whole time.Duration
	for b.Loop() {
		t0 := time.Now()
		f, bw := layerPass(tr, images, labels)
		minOf(&whole, time.Since(t0))
		for i := range f {
			minOf(&fwd[i], f[i])
			minOf(&bwd[i], bw[i])
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	for i, l := range tr.model.spec.Layers {
		b.ReportMetric(ms(fwd[i]), l.Name+"-fwd-min-ms")
		b.ReportMetric(ms(bwd[i]), l.Name+"-bwd-min-ms")
	}
	b.ReportMetric(ms(whole), "shard-min-ms")
}

// layerPass runs one forward pass, the loss and one backward pass of tr over a batch and
// returns the time of every layer's forward and backward.
func layerPass(tr *Trainer, images []float32, labels []uint8) (fwd, bwd []time.Duration) {
	n := len(labels)
	fwd = make([]time.Duration, len(tr.layers))
	bwd = make([]time.Duration, len(tr.layers))
	tr.pass = pass{train: true, scale: 1 / float32(n)}
	tr.first = firstTrained(tr.model.layer)
	tr.input = images
	x := images
	for i, l := range tr.layers {
		t0 := time.Now()
		l.forward(x, tr.acts[i], n)
		fwd[i] = time.Since(t0)
		x = tr.acts[i]
	}
	last := len(tr.layers) - 1
	tr.xent.forward(tr.acts[last], labels)
	tr.xent.backward(tr.grads[last], labels, 1/float32(n))
	for i := last; i >= tr.first; i-- {
		x := tr.input
		var dx []float32
		if i > 0 {
			x = tr.acts[i-1]
		}
		if i > tr.first {
			dx = tr.grads[i-1]
		}
		t0 := time.Now()
		tr.layers[i].backward(x, tr.acts[i], tr.grads[i], dx, n)
		bwd[i] = time.Since(t0)
	}
	return fwd, bwd
}
