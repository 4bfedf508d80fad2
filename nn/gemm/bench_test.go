package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// hot are the engine's heaviest products (seed model, batch 128), named as the engine uses them.
var hot = []struct {
	name           string
	transA, transB bool
	m, n, k        int
	acc            bool
}{
	{"conv2-fwd", false, false, 18432, 64, 1600, false},
	{"conv2-dW", true, false, 1600, 64, 18432, true},
	{"conv2-dX", false, true, 18432, 1600, 64, false},
	{"conv1-fwd", false, false, 73728, 64, 75, false},
	{"conv1-dW", true, false, 75, 64, 73728, true},
	{"local3-fwd", false, false, 128, 384, 2304, false},
}

// BenchmarkMul reports GFLOP/s for each hot shape with every kernel of this build (best
// first), on one thread and, natively, on two.
func BenchmarkMul(b *testing.B) {
	threads := []int{1}
	if runtime.GOARCH != "wasm" {
		threads = append(threads, 2)
	}
	for _, h := range hot {
		var x, y, c []float32 // made by the first sub-benchmark that runs
		lda, ldb := h.k, h.n
		if h.transA {
			lda = h.m
		}
		if h.transB {
			ldb = h.k
		}
		for _, kern := range kernels() {
			for _, t := range threads {
				b.Run(fmt.Sprintf("%s/%s-threads=%d", h.name, kern.name, t), func(b *testing.B) {
					if x == nil {
						rng := rand.New(rand.NewPCG(1, 2))
						x = randMatrix(rng, h.m*h.k, 1, 1)
						y = randMatrix(rng, h.k*h.n, 1, 1)
						c = make([]float32, h.m*h.n)
					}
					g := newWithKernel(t, kern)
					g.Mul(h.transA, h.transB, h.m, h.n, h.k, x, lda, y, ldb, c, h.n, h.acc)
					b.ResetTimer()
					for b.Loop() {
						g.Mul(h.transA, h.transB, h.m, h.n, h.k, x, lda, y, ldb, c, h.n, h.acc)
					}
					flops := 2 * float64(h.m) * float64(h.n) * float64(h.k) * float64(b.N)
					b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkTile measures each micro-kernel alone on cache-resident panels (kc = kcBlock): the
// ceiling that packing and memory traffic then eat into.
func BenchmarkTile(b *testing.B) {
	for _, kern := range kernels() {
		rng := rand.New(rand.NewPCG(1, 2))
		a := randMatrix(rng, kern.mr*kcBlock, 1, 1)
		y := randMatrix(rng, kern.nr*kcBlock, 1, 1)
		c := make([]float32, kern.mr*kern.nr)
		for _, v := range []struct {
			name string
			tile tileFunc
			lda  int
		}{{"T", kern.tileT, kern.mr}, {"N", kern.tileN, kcBlock}} {
			b.Run(kern.name+"/"+v.name, func(b *testing.B) {
				for b.Loop() {
					v.tile(kcBlock, a, v.lda, y, c, kern.nr, true)
				}
				flops := 2 * float64(kern.mr*kern.nr*kcBlock) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkConv measures Conv and ConvWeightGrad on the seed model's convolutions (batch 128,
// 5x5 SAME): conv2 (12x12, 64->64) and conv1 (24x24, 3->64), the im2col-free alternatives to
// the products of BenchmarkMul, with every kernel of this build. The input gradient is Conv
// with flipped weights, so it costs what the forward pass costs.
func BenchmarkConv(b *testing.B) {
	shapes := []struct {
		name string
		s    ConvShape
	}{
		{"conv2", ConvShape{Batch: 128, H: 12, W: 12, KH: 5, KW: 5, In: 64, Out: 64}},
		{"conv1", ConvShape{Batch: 128, H: 24, W: 24, KH: 5, KW: 5, In: 3, Out: 64}},
	}
	threads := []int{1}
	if runtime.GOARCH != "wasm" {
		threads = append(threads, 2)
	}
	for _, sh := range shapes {
		s := sh.s
		in, w, out := convOperands(s, 1)
		flops := 2 * float64(s.Batch*s.H*s.W*s.Out*s.KH*s.KW*s.In)
		for _, kern := range kernels() {
			for _, t := range threads {
				g := newWithKernel(t, kern)
				for _, v := range []struct {
					name string
					run  func()
				}{
					{"fwd", func() { g.Conv(s, in, w, out, false) }},
					{"dW", func() { g.ConvWeightGrad(s, in, out, w, false) }},
				} {
					b.Run(fmt.Sprintf("%s-%s/%s-threads=%d", sh.name, v.name, kern.name, t), func(b *testing.B) {
						v.run()
						for b.Loop() {
							v.run()
						}
						b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}
