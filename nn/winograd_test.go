package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"cifar10/nn/gemm"
)

// The Winograd transforms in use (SIMD with GOEXPERIMENT=simd) must compute exactly what their
// portable twins compute, including the fallback for channel counts that are not a multiple of 4.
func TestWinogradTransformsMatchTwins(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range []int{3, 4, 8, 64} {
		t.Run(fmt.Sprintf("c%d", c), func(t *testing.T) {
			const h, w = 8, 12 // output size: 2×3 tiles
			th, tw := h/4, w/4
			pw := w + 4
			in := randSlice(rng, (h+4)*pw*c, 1)
			vs := winoStride(th * tw * c) // as the layer lays them out
			got, want := make([]float32, winoPoints*vs), make([]float32, winoPoints*vs)
			winoInput(got, vs, in, pw, c, th, tw)
			winoInputGo(want, vs, in, pw, c, th, tw)
			equalExact(t, "winoInput", got, want)

			o := c + 4
			g := randSlice(rng, 25*c*o, 1)
			us := winoStride(c * o)
			got, want = make([]float32, winoPoints*us), make([]float32, winoPoints*us)
			winoWeights(got, us, g, c, o)
			winoWeightsGo(want, us, g, c, o)
			equalExact(t, "winoWeights", got, want)

			ms := winoStride(th * tw * c)
			m := randSlice(rng, winoPoints*ms, 1)
			got, want = make([]float32, h*w*c), make([]float32, h*w*c)
			winoOutput(got, w, c, m, ms, th, tw)
			winoOutputGo(want, w, c, m, ms, th, tw)
			equalExact(t, "winoOutput", got, want)

			dy := randSlice(rng, h*w*c, 1)
			got, want = make([]float32, winoPoints*ms), make([]float32, winoPoints*ms)
			winoDy(got, ms, dy, w, c, th, tw)
			winoDyGo(want, ms, dy, w, c, th, tw)
			equalExact(t, "winoDy", got, want)

			dm := randSlice(rng, winoPoints*us, 1)
			got, want = make([]float32, 25*c*o), make([]float32, 25*c*o)
			winoWeightGrad(got, dm, us, c, o)
			winoWeightGradGo(want, dm, us, c, o)
			equalExact(t, "winoWeightGrad", got, want)
		})
	}
}

// TestWinogradConv compares the Winograd convolution with the float64 direct sum, on shapes
// that cover several tiles, channel counts with and without SIMD, and a batch larger than one
// chunk (so the second chunk's offsets are exercised).
func TestWinogradConv(t *testing.T) {
	cases := []struct{ n, h, w, c, o int }{
		{1, 4, 4, 1, 1},
		{2, 4, 8, 3, 5},
		{3, 12, 12, 64, 64}, // conv2's shape
		{winoChunk + 3, 8, 4, 8, 4},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("n%d-%dx%dx%d-o%d", tc.n, tc.h, tc.w, tc.c, tc.o), func(t *testing.T) {
			if !winogradFits(5, tc.h, tc.w) {
				t.Fatalf("winogradFits(5, %d, %d) = false", tc.h, tc.w)
			}
			rng := rand.New(rand.NewPCG(7, uint64(tc.n*tc.c)))
			x := randSlice(rng, tc.n*tc.h*tc.w*tc.c, 1)
			g := randSlice(rng, 25*tc.c*tc.o, 0.2)
			s := gemm.ConvShape{Batch: tc.n, H: tc.h, W: tc.w, KH: 5, KW: 5, In: tc.c, Out: tc.o}
			padded := make([]float32, tc.n*s.PaddedH()*s.PaddedW()*tc.c)
			s.Pad(padded, x, 2, 2)
			for _, threads := range []int{1, 3} {
				wg := newWinograd(newRunner(threads), tc.h, tc.w, tc.c, tc.o, newWinoScratch(tc.h, tc.w, max(tc.c, tc.o), tc.n), false)
				wg.setWeights(g)
				y := make([]float32, tc.n*tc.h*tc.w*tc.o)
				wg.conv(padded, tc.n, y)
				want := conv64(to64(x), tc.n, tc.h, tc.w, tc.c, to64(g), make([]float64, tc.o), 5, tc.o, false)
				// Winograd's rounding error grows with the sums' scale (a few 1e-6 of the
				// largest output at conv2's shape); a wrong transform is off by the size of
				// the outputs.
				checkClose(t, fmt.Sprintf("threads=%d", threads), y, toF32(want), 1e-5*maxAbs64(want), 0)
			}
		})
	}
}

// TestWinogradWeightGrad compares weightGrad with the float64 sum over pixels, and checks that
// reusing the forward pass's transformed tiles changes no bit.
func TestWinogradWeightGrad(t *testing.T) {
	cases := []struct{ n, h, w, c, o int }{
		{1, 4, 4, 1, 1},
		{2, 4, 8, 3, 5},
		{3, 12, 12, 64, 64},
		{winoChunk + 3, 8, 4, 8, 4},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("n%d-%dx%dx%d-o%d", tc.n, tc.h, tc.w, tc.c, tc.o), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(8, uint64(tc.n*tc.c)))
			s := gemm.ConvShape{Batch: tc.n, H: tc.h, W: tc.w, KH: 5, KW: 5, In: tc.c, Out: tc.o}
			padded := make([]float32, tc.n*s.PaddedH()*s.PaddedW()*tc.c)
			s.Pad(padded, randSlice(rng, tc.n*tc.h*tc.w*tc.c, 1), 2, 2)
			dy := randSlice(rng, tc.n*tc.h*tc.w*tc.o, 0.1)
			want := weightGrad64(s, to64(padded), to64(dy))
			var first []float32
			for _, threads := range []int{1, 3} {
				sc := newWinoScratch(tc.h, tc.w, max(tc.c, tc.o), tc.n)
				wg := newWinograd(newRunner(threads), tc.h, tc.w, tc.c, tc.o, sc, true)
				dw := make([]float32, 25*tc.c*tc.o)
				wg.weightGrad(padded, dy, tc.n, dw)
				checkClose(t, fmt.Sprintf("threads=%d", threads), dw, toF32(want), 1e-5*maxAbs64(want), 0)
				if first == nil {
					first = dw
				}
				equalExact(t, fmt.Sprintf("threads=%d vs 1", threads), dw, first)

				// After conv, the tiles of its last chunk are still in the scratch.
				wg.setWeights(randSlice(rng, 25*tc.c*tc.o, 1))
				wg.conv(padded, tc.n, make([]float32, tc.n*tc.h*tc.w*tc.o))
				reused := make([]float32, len(dw))
				wg.weightGrad(padded, dy, tc.n, reused)
				equalExact(t, "after conv", reused, dw)
			}
		})
	}
}

// weightGrad64 is gemm.ConvWeightGrad in float64.
func weightGrad64(s gemm.ConvShape, in, dy []float64) []float64 {
	ph, pw := s.PaddedH(), s.PaddedW()
	dw := make([]float64, s.KH*s.KW*s.In*s.Out)
	for b := range s.Batch {
		for y := range s.H {
			for x := range s.W {
				g := dy[((b*s.H+y)*s.W+x)*s.Out:][:s.Out]
				for ky := range s.KH {
					for kx := range s.KW {
						p := in[((b*ph+y+ky)*pw+x+kx)*s.In:][:s.In]
						for ci, v := range p {
							row := dw[((ky*s.KW+kx)*s.In+ci)*s.Out:][:s.Out]
							for co, d := range g {
								row[co] += v * d
							}
						}
					}
				}
			}
		}
	}
	return dw
}

func TestWinogradFits(t *testing.T) {
	for _, tc := range []struct {
		k, h, w int
		want    bool
	}{{5, 12, 12, true}, {5, 24, 8, true}, {5, 10, 12, false}, {5, 12, 6, false}, {3, 12, 12, false}, {5, 0, 0, false}} {
		if got := winogradFits(tc.k, tc.h, tc.w); got != tc.want {
			t.Errorf("winogradFits(%d, %d, %d) = %v, want %v", tc.k, tc.h, tc.w, got, tc.want)
		}
	}
}

// BenchmarkConv2 times conv2's forward convolution (batch 128, 12×12×64 → 64, one thread) by
// Winograd and by the direct implicit GEMM, and the Winograd pieces alone.
func BenchmarkConv2(b *testing.B) {
	const n, h, w, c, o = 128, 12, 12, 64, 64
	rng := rand.New(rand.NewPCG(1, 1))
	s := gemm.ConvShape{Batch: n, H: h, W: w, KH: 5, KW: 5, In: c, Out: o}
	padded := randSlice(rng, n*s.PaddedH()*s.PaddedW()*c, 1)
	g := randSlice(rng, 25*c*o, 0.1)
	y := make([]float32, n*h*w*o)
	r := newRunner(1)
	wg := newWinograd(r, h, w, c, o, newWinoScratch(h, w, c, n), true)
	wg.setWeights(g)
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			r.gemm.Conv(s, padded, g, y, false)
		}
	})
	b.Run("winograd", func(b *testing.B) {
		for b.Loop() {
			wg.setWeights(g)
			wg.conv(padded, n, y)
		}
	})
	per := (h / 4) * (w / 4)
	b.Run("input-transform", func(b *testing.B) {
		for b.Loop() {
			for e := 0; e < n; e += winoChunk {
				wg.in, wg.tiles = padded[e*wg.inImage:], winoChunk*per
				wg.inputRange(0, 0, winoChunk)
			}
		}
	})
	b.Run("output-transform", func(b *testing.B) {
		for b.Loop() {
			for e := 0; e < n; e += winoChunk {
				wg.out, wg.tiles = y[e*wg.outImage:], winoChunk*per
				wg.outputRange(0, 0, winoChunk)
			}
		}
	})
	b.Run("gemms", func(b *testing.B) {
		rows := winoChunk * per
		for b.Loop() {
			for range n / winoChunk {
				for p := range winoPoints {
					r.gemm.Mul(false, false, rows, o, c, wg.s.v[p*rows*c:], c, wg.u[p*c*o:], o, wg.s.m[p*rows*o:], o, false)
				}
			}
		}
	})
}

func maxAbs64(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}
