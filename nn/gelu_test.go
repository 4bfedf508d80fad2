package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestGELU(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const n, size = 3, 50
	x := randSlice(rng, n*size, 3)
	x[0], x[1], x[2] = 0, -10, 10 // GELU(0) = 0; far left 0; far right x
	g := newGELULayer([3]int{5, 5, 2}, newRunner(2))
	y := make([]float32, len(x))
	g.forward(x, y, n)
	x64 := to64(x)
	checkClose(t, "forward", y, toF32(gelu64(x64)), 2e-6, 1e-6)
	if y[0] != 0 || y[1] != 0 || y[2] != 10 {
		t.Errorf("GELU(0, -10, 10) = %v, %v, %v", y[0], y[1], y[2])
	}
	dy := randSlice(rng, len(y), 1)
	dx := make([]float32, len(x))
	g.backward(x, y, dy, dx, n)
	fdCheck(t, "dx", x64, func() float64 { return dot64(gelu64(x64), dy) }, dx)
	// Known values: GELU'(0) = 1/2.
	if d := dx[0] / dy[0]; math.Abs(float64(d)-0.5) > 1e-7 {
		t.Errorf("GELU'(0) = %g", d)
	}
}

// TestGELUKernels: erf32 and expNeg32 are within their stated errors of float64's, and the
// SIMD kernels (in a GOEXPERIMENT=simd build) give their portable twins' bits, tails included.
func TestGELUKernels(t *testing.T) {
	for i := -60000; i <= 60000; i++ {
		z := float32(i) / 10000
		if d := math.Abs(float64(erf32(z)) - math.Erf(float64(z))); d > 5e-7 {
			t.Fatalf("erf32(%g) off by %g", z, d)
		}
		want := math.Exp(-float64(z) * float64(z) / 2)
		if d := math.Abs(float64(expNeg32(z))-want) / want; d > 1e-5 {
			t.Fatalf("expNeg32(%g) off by %g relative", z, d)
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	x := randSlice(rng, 1003, 3)
	x[5], x[6], x[7] = 20, -20, 0
	dy := randSlice(rng, len(x), 1)
	y, y0 := make([]float32, len(x)), make([]float32, len(x))
	geluForward(x, y)
	geluForwardGo(x, y0)
	if i, ok := sameBits32(y, y0); !ok {
		t.Errorf("geluForward[%d] = %g, twin %g", i, y[i], y0[i])
	}
	geluBackward(x, dy, y)
	geluBackwardGo(x, dy, y0)
	if i, ok := sameBits32(y, y0); !ok {
		t.Errorf("geluBackward[%d] = %g, twin %g", i, y[i], y0[i])
	}
}

func TestGlobalMaxPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	const n, h, w, c = 3, 3, 4, 5
	x := distinct(rng, n*h*w*c)
	p := newGlobalMaxPool([3]int{h, w, c}, newRunner(2))
	y := make([]float32, n*c)
	p.forward(x, y, n)
	x64 := to64(x)
	checkClose(t, "forward", y, toF32(globalMax64(x64, n, h*w, c)), 0, 0)
	dy := randSlice(rng, len(y), 1)
	dx := make([]float32, len(x))
	p.backward(x, y, dy, dx, n)
	fdCheck(t, "dx", x64, func() float64 { return dot64(globalMax64(x64, n, h*w, c), dy) }, dx)
	// Ties: the first pixel holding the maximum, in row-major order, takes the gradient.
	tie := []float32{1, 5, 5, 2, 5, 0} // 3 pixels, 2 channels
	ty, tdx := make([]float32, 2), make([]float32, 6)
	q := newGlobalMaxPool([3]int{1, 3, 2}, newRunner(1))
	q.forward(tie, ty, 1)
	q.backward(tie, ty, []float32{7, 9}, tdx, 1)
	if want := []float32{0, 9, 7, 0, 0, 0}; !equal32(tdx, want) || ty[0] != 5 || ty[1] != 5 {
		t.Errorf("ties: y %v, dx %v; want [5 5], %v", ty, tdx, want)
	}
}

func equal32(a, b []float32) bool {
	_, ok := sameBits32(a, b)
	return ok
}

// TestBackwardStopsAtFirstTrained: layers before the first with a trained parameter get no
// backward pass, and the rest still get the right gradients.
func TestBackwardStopsAtFirstTrained(t *testing.T) {
	spec := Spec{Name: "geluFirst", Input: [3]int{4, 4, 2}, Classes: 3, Optimizer: DefaultMomentum(),
		Layers: []LayerSpec{
			{Kind: KindGELU, Name: "gelu"},
			{Kind: KindMaxPool, Name: "pool", Size: 2, Stride: 2},
			{Kind: KindConv, Name: "conv", Size: 3, Out: 3, Stddev: 0.4},
			{Kind: KindDense, Name: "softmax_linear", Out: 3, Stddev: 0.4},
		}}
	tr := mustTrainer(t, mustModel(t, spec, 1), 2, 1)
	images, labels := randBatch(rand.New(rand.NewPCG(1, 1)), spec, 2)
	tr.Gradients(images, labels, 0.5)
	if tr.first != 2 {
		t.Errorf("backward stops at layer %d, want 2 (conv)", tr.first)
	}
	modelGradients(t, spec)
}
