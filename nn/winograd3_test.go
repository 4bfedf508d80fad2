package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestWinograd3MatchesGEMM: over two blocks of winoChunk images (the weight gradient summed
// across them) and with two threads, F(2×2, 3×3) gives the implicit GEMM's outputs and
// gradients within rounding.
func TestWinograd3MatchesGEMM(t *testing.T) {
	const n, h, w, c, o = 20, 8, 6, 16, 24
	rng := rand.New(rand.NewPCG(3, 3))
	x := randSlice(rng, n*h*w*c, 1)
	dy := randSlice(rng, n*h*w*o, 1)
	run := func(winograd bool) (y, dx, dw, db []float32) {
		wp := newParam("c/weights", []int{3, 3, c, o}, 0, true)
		copy(wp.Data(), randSlice(rand.New(rand.NewPCG(4, 4)), wp.Size(), 0.2))
		bp := newParam("c/biases", []int{o}, 0, true)
		cv := newConvLayer(LayerSpec{Kind: KindConv, Name: "c", Size: 3, Out: o, Winograd: winograd}, [3]int{h, w, c}, wp, bp, n, newRunner(2), true, true)
		if (cv.wfwd != nil) != winograd {
			t.Fatalf("winograd %v: plan %v", winograd, cv.wfwd)
		}
		y, dx = make([]float32, n*h*w*o), make([]float32, len(x))
		cv.forward(x, y, n)
		cv.backward(x, y, append([]float32(nil), dy...), dx, n)
		return y, dx, wp.GradData(), bp.GradData()
	}
	y0, dx0, dw0, db0 := run(false)
	y1, dx1, dw1, db1 := run(true)
	checkClose(t, "forward", y1, y0, 1e-5, 1e-5)
	checkClose(t, "dx", dx1, dx0, 1e-5, 1e-5)
	checkClose(t, "dW", dw1, dw0, 1e-4, 1e-5)
	checkClose(t, "db", db1, db0, 0, 0)
}

// BenchmarkConv3 times one 3x3 convolution of each of the fast preset's even shapes (forward
// and backward of a 16-example shard, one thread) by the implicit GEMM and by F(2×2, 3×3),
// reporting the minimum over the iterations (the figure to compare on a noisy machine).
func BenchmarkConv3(b *testing.B) {
	shapes := []struct{ hw, c, o int }{{16, 32, 32}, {16, 32, 128}, {8, 128, 128}, {4, 128, 128}}
	for _, s := range shapes {
		for _, winograd := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dx%dx%d-%d/winograd=%v", s.hw, s.hw, s.c, s.o, winograd), func(b *testing.B) {
				const n = 16
				rng := rand.New(rand.NewPCG(1, 1))
				wp := newParam("c/weights", []int{3, 3, s.c, s.o}, 0, true)
				copy(wp.Data(), randSlice(rng, wp.Size(), 0.1))
				bp := newParam("c/biases", []int{s.o}, 0, true)
				cv := newConvLayer(LayerSpec{Kind: KindConv, Name: "c", Size: 3, Out: s.o, Winograd: winograd},
					[3]int{s.hw, s.hw, s.c}, wp, bp, n, newRunner(1), false, true)
				x := randSlice(rng, n*s.hw*s.hw*s.c, 1)
				y, dy, dx := make([]float32, n*s.hw*s.hw*s.o), randSlice(rng, n*s.hw*s.hw*s.o, 1), make([]float32, len(x))
				best := time.Duration(0)
				for b.Loop() {
					t0 := time.Now()
					cv.forward(x, y, n)
					cv.backward(x, y, dy, dx, n)
					if d := time.Since(t0); best == 0 || d < best {
						best = d
					}
				}
				b.ReportMetric(float64(best.Microseconds())/1e3, "min-ms")
			})
		}
	}
}
