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
	// Runs of im2col patches: conv1's 5×5×3 (a kernel of its own) and another shape.
	for _, kc := range [][2]int{{5, 3}, {3, 4}} {
		k, c := kc[0], kc[1]
		const w, n = 9, 4
		src := randSlice(rng, k*w*c, 1)
		got, want := make([]float32, n*k*k*c), make([]float32, n*k*k*c)
		unfoldRun(got, src, n, w, c, k)
		unfoldRunGo(want, src, n, w, c, k)
		equalExact(t, "unfoldRun", got, want)
	}
	for _, c := range []int{4, 10, 20, 64, 67} {
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

		// A row of three 3x3/2 windows over rows of 7 pixels, with ties between cells.
		const w, n, stride = 7, 3, 2
		px := randSlice(rng, 3*w*c, 1)
		for i := 0; i < c; i += 2 {
			px[c+i] = px[i]           // pixel 1 ties pixel 0
			px[(w+2)*c+i] = px[2*c+i] // pixel (1, 2) ties pixel (0, 2), in two windows
		}
		for _, r := range []bool{false, true} {
			y1, y2 := make([]float32, n*c), make([]float32, n*c)
			poolMax3Row(y1, px, n, stride, w, c, r)
			poolMax3RowGo(y2, px, n, stride, w, c, r)
			equalExact(t, "poolMax3Row", y1, y2)
			dy := randSlice(rng, n*c, 1)
			d1 := randSlice(rng, 3*w*c, 1)
			d2 := cp(d1)
			poolRoute3Row(d1, px, y1, dy, make([]float32, c), n, stride, w, c, r)
			poolRoute3RowGo(d2, px, y2, dy, make([]float32, c), n, stride, w, c, r)
			equalExact(t, "poolRoute3Row", d1, d2)
		}

		// Three pixels; radii 4 and 5 (the presets') have kernels of their own.
		for _, radius := range []int{0, 2, 4, 5, 7} {
			const pix = 3
			xs := randSlice(rng, pix*c, 3)
			pad := make([]float32, c+2*radius)
			y1, s1 := make([]float32, pix*c), make([]float32, pix*c)
			y2, s2 := make([]float32, pix*c), make([]float32, pix*c)
			lrnForward(xs, y1, s1, pad, c, radius, 1, 0.05, 0.75)
			lrnForwardGo(xs, y2, s2, pad, c, radius, 1, 0.05, 0.75)
			equalExact(t, "lrnForward y", y1, y2)
			equalExact(t, "lrnForward s", s1, s2)
			dy := randSlice(rng, pix*c, 1)
			dx1, dx2 := make([]float32, pix*c), make([]float32, pix*c)
			lrnBackward(xs, y1, s1, dy, dx1, pad, c, radius, 0.075, 0.75)
			lrnBackwardGo(xs, y2, s2, dy, dx2, pad, c, radius, 0.075, 0.75)
			equalExact(t, "lrnBackward", dx1, dx2)
		}

		got, want = cp(x), cp(x)
		addScaled(got, y, 0.004)
		addScaledGo(want, y, 0.004)
		equalExact(t, "addScaled", got, want)

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

// atAllocEnd returns a copy of x that ends where its allocation ends (append rounds the
// capacity up to the size class), so that a pointer just past its end points into another
// object: checkptr (-gcflags=all=-d=checkptr, or -race) reports such a pointer when a raw
// SIMD kernel forms one.
func atAllocEnd(x []float32) []float32 {
	s := append([]float32(nil), x...)
	s = s[:cap(s)]
	s = s[len(s)-len(x):]
	copy(s, x)
	return s
}

// TestKernelsStayInSlices runs the kernels with raw SIMD loops on slices exactly as long as
// they read or write, each at the end of its allocation, and compares them with their twins.
func TestKernelsStayInSlices(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	rs := func(n int) []float32 { return atAllocEnd(randSlice(rng, n, 1)) }
	cp := func(x []float32) []float32 { return append([]float32(nil), x...) }
	const c, rows = 32, 3
	for _, r := range []bool{false, true} {
		y, b := rs(rows*c), rs(c)
		want := cp(y)
		biasReLU(y, b, r)
		biasReLUGo(want, b, r)
		equalExact(t, "biasReLU", y, want)
	}
	acc, x := rs(c), rs(rows*c)
	want := cp(acc)
	addRows(acc, x)
	addRowsGo(want, x)
	equalExact(t, "addRows", acc, want)

	dst, src := rs(48), rs(48)
	want = cp(dst)
	addScaled(dst, src, 0.5)
	addScaledGo(want, src, 0.5)
	equalExact(t, "addScaled", dst, want)

	const n, w = 4, 9 // conv1's runs: 5×5×3 patches
	dst, src = rs(75*n), rs(3*(4*w+n-1)+15)
	want = make([]float32, len(dst))
	unfoldRun(dst, src, n, w, 3, 5)
	unfoldRunGo(want, src, n, w, 3, 5)
	equalExact(t, "unfoldRun", dst, want)

	const pn, ps, pw = 3, 2, 8 // a row of three 3x3/2 windows, rows of 8 pixels
	in := ((pn-1)*ps + 2*pw + 3) * c
	for _, r := range []bool{false, true} {
		px, y1, y2 := rs(in), rs(pn*c), make([]float32, pn*c)
		poolMax3Row(y1, px, pn, ps, pw, c, r)
		poolMax3RowGo(y2, px, pn, ps, pw, c, r)
		equalExact(t, "poolMax3Row", y1, y2)
		dy, d1 := rs(pn*c), rs(in)
		d2 := cp(d1)
		poolRoute3Row(d1, px, y1, dy, make([]float32, c), pn, ps, pw, c, r)
		poolRoute3RowGo(d2, px, y2, dy, make([]float32, c), pn, ps, pw, c, r)
		equalExact(t, "poolRoute3Row", d1, d2)
	}

	const th, tw, wc, o = 2, 2, 8, 12 // Winograd: 2×2 tiles, 8 in and 12 out channels
	iw := 4*tw + 4
	vs, ms, us := winoStride(th*tw*wc), winoStride(th*tw*o), winoStride(wc*o)
	img := rs(((4*th+3)*iw + 4*tw + 4) * wc)
	got := rs(63*vs + th*tw*wc)
	want = cp(got)
	winoInput(got, vs, img, iw, wc, th, tw)
	winoInputGo(want, vs, img, iw, wc, th, tw)
	equalExact(t, "winoInput", got, want)
	g := rs(25 * wc * o)
	got = rs(63*us + wc*o)
	want = cp(got)
	winoWeights(got, us, g, wc, o)
	winoWeightsGo(want, us, g, wc, o)
	equalExact(t, "winoWeights", got, want)
	m, ow := rs(63*ms+th*tw*o), 4*tw
	got = rs(((4*th-1)*ow + 4*tw) * o)
	want = cp(got)
	winoOutput(got, ow, o, m, ms, th, tw)
	winoOutputGo(want, ow, o, m, ms, th, tw)
	equalExact(t, "winoOutput", got, want)
	dy := rs(((4*th-1)*ow + 4*tw) * o)
	got = rs(63*ms + th*tw*o)
	want = cp(got)
	winoDy(got, ms, dy, ow, o, th, tw)
	winoDyGo(want, ms, dy, ow, o, th, tw)
	equalExact(t, "winoDy", got, want)
	dm := rs(63*us + wc*o)
	got = rs(25 * wc * o)
	want = cp(got)
	winoWeightGrad(got, dm, us, wc, o)
	winoWeightGradGo(want, dm, us, wc, o)
	equalExact(t, "winoWeightGrad", got, want)
}
