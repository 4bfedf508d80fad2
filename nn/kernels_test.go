package nn

import (
	"math/rand/v2"
	"testing"
)

// The kernels in use (SIMD with GOEXPERIMENT=simd, otherwise the portable ones) must compute
// exactly what the portable twins compute, on lengths that exercise vector bodies and tails.

func equalExact(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] { // == treats -0 and +0 alike, as the layers do
			t.Fatalf("%s: entry %d = %.9g, portable twin %.9g", what, i, got[i], want[i])
		}
	}
}

func TestKernelsMatchPortableTwins(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	cp := func(x []float32) []float32 { return append([]float32(nil), x...) }
	for _, c := range []int{4, 10, 64, 67} {
		x := randSlice(rng, 5*c, 1)
		b := randSlice(rng, c, 1)
		for _, r := range []bool{false, true} {
			got, want := cp(x), cp(x)
			biasReLU(got, b, r)
			biasReLUGo(want, b, r)
			equalExact(t, "biasReLU", got, want)
		}
		y := randSlice(rng, 5*c, 1)
		got, want := cp(x), cp(x)
		reluMask(got, y)
		reluMaskGo(want, y)
		equalExact(t, "reluMask", got, want)

		got, want = cp(b), cp(b)
		addRows(got, x)
		addRowsGo(want, x)
		equalExact(t, "addRows", got, want)

		cells := []int{0, c, 3 * c, 4 * c}
		for _, r := range []bool{false, true} {
			got, want := make([]float32, c), make([]float32, c)
			poolMax(got, x, cells, r)
			poolMaxGo(want, x, cells, r)
			equalExact(t, "poolMax", got, want)
		}

		// Pool routing: y equal to x in some lanes.
		py := cp(y[:c])
		for i := 0; i < c; i += 3 {
			py[i] = x[i]
		}
		g1, g2 := randSlice(rng, c, 1), []float32(nil)
		g2 = cp(g1)
		d1, d2 := randSlice(rng, c, 1), []float32(nil)
		d2 = cp(d1)
		poolRoute(d1, x[:c], py, g1)
		poolRouteGo(d2, x[:c], py, g2)
		equalExact(t, "poolRoute dx", d1, d2)
		equalExact(t, "poolRoute g", g1, g2)

		for _, radius := range []int{0, 2, 5} {
			xs := randSlice(rng, c, 3)
			pad := make([]float32, c+2*radius)
			y1, s1 := make([]float32, c), make([]float32, c)
			y2, s2 := make([]float32, c), make([]float32, c)
			lrnForward(xs, y1, s1, pad, radius, 1, 0.05, 0.75)
			lrnForwardGo(xs, y2, s2, pad, radius, 1, 0.05, 0.75)
			equalExact(t, "lrnForward y", y1, y2)
			equalExact(t, "lrnForward s", s1, s2)
			dy := randSlice(rng, c, 1)
			dx1, dx2 := make([]float32, c), make([]float32, c)
			lrnBackward(xs, y1, s1, dy, dx1, pad, radius, 0.075, 0.75)
			lrnBackwardGo(xs, y2, s2, dy, dx2, pad, radius, 0.075, 0.75)
			equalExact(t, "lrnBackward", dx1, dx2)
		}

		g := randSlice(rng, 5*c, 1)
		m, v := randSlice(rng, 5*c, 0.1), randSlice(rng, 5*c, 0.1)
		for i := range v {
			v[i] *= v[i]
		}
		w1, m1, v1 := cp(x), cp(m), cp(v)
		w2, m2, v2 := cp(x), cp(m), cp(v)
		adamUpdate(w1, g, m1, v1, 0.01, 0.1, 0.001, 1e-8)
		adamUpdateGo(w2, g, m2, v2, 0.01, 0.1, 0.001, 1e-8)
		equalExact(t, "adam w", w1, w2)
		equalExact(t, "adam m", m1, m2)
		equalExact(t, "adam v", v1, v2)
		w1, a1 := cp(x), cp(m)
		w2, a2 := cp(x), cp(m)
		momentumUpdate(w1, g, a1, 0.01, 0.9)
		momentumUpdateGo(w2, g, a2, 0.01, 0.9)
		equalExact(t, "momentum w", w1, w2)
		equalExact(t, "momentum accum", a1, a2)
	}
}
