package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var convShapes = []ConvShape{
	{Batch: 1, H: 1, W: 1, KH: 1, KW: 1, In: 1, Out: 1},
	{Batch: 2, H: 5, W: 6, KH: 3, KW: 3, In: 3, Out: 5},
	{Batch: 3, H: 7, W: 9, KH: 5, KW: 5, In: 4, Out: 33},
	{Batch: 1, H: 4, W: 13, KH: 3, KW: 5, In: 2, Out: 17},
	{Batch: 2, H: 3, W: 1, KH: 1, KW: 1, In: 7, Out: 40},
	{Batch: 2, H: 12, W: 12, KH: 5, KW: 5, In: 64, Out: 64},
	// Rows of 8 and 16 pixels: the wasm kernel's written-out tileS variants (with 12 above).
	{Batch: 2, H: 3, W: 8, KH: 3, KW: 3, In: 8, Out: 9},
	{Batch: 1, H: 2, W: 16, KH: 3, KW: 3, In: 6, Out: 16},
}

// convRef is the definition of Conv in float64, with the magnitude Σ|terms| for the tolerance.
func convRef(s ConvShape, in, w []float32, b, y, x, co int) (sum, mag float64) {
	ph, pw := s.PaddedH(), s.PaddedW()
	for ky := 0; ky < s.KH; ky++ {
		for kx := 0; kx < s.KW; kx++ {
			for ci := 0; ci < s.In; ci++ {
				t := float64(in[((b*ph+y+ky)*pw+x+kx)*s.In+ci]) * float64(w[((ky*s.KW+kx)*s.In+ci)*s.Out+co])
				sum += t
				mag += math.Abs(t)
			}
		}
	}
	return sum, mag
}

func checkConv(t *testing.T, s ConvShape, in, w, out0, out []float32, acc bool) {
	t.Helper()
	n := s.Batch * s.H * s.W * s.Out
	for i := n; i < len(out); i++ {
		if !same(out[i], out0[i]) {
			t.Fatalf("out[%d] past the output changed", i)
		}
	}
	bad := 0
	for i := 0; i < n; i++ {
		co, px := i%s.Out, i/s.Out
		x, y, b := px%s.W, px/s.W%s.H, px/(s.W*s.H)
		want, mag := convRef(s, in, w, b, y, x, co)
		if acc {
			want += float64(out0[i])
			mag += math.Abs(float64(out0[i]))
		}
		tol := 2e-7*float64(s.KH*s.KW*s.In+2)*mag + 1e-30
		if d := math.Abs(float64(out[i]) - want); !(d <= tol) {
			if bad++; bad < 5 {
				t.Errorf("out[%d][%d][%d][%d] = %v, want %v", b, y, x, co, out[i], want)
			}
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 2*rng.Float32() - 1
	}
	return x
}

func convOperands(s ConvShape, seed uint64) (in, w, out0 []float32) {
	rng := rand.New(rand.NewPCG(seed, 7))
	in = randSlice(rng, s.Batch*s.PaddedH()*s.PaddedW()*s.In)
	w = randSlice(rng, s.KH*s.KW*s.In*s.Out)
	out0 = append(randSlice(rng, s.Batch*s.H*s.W*s.Out), sentinel, sentinel)
	return in, w, out0
}

func TestConv(t *testing.T) {
	for _, kern := range kernels() {
		g := newWithKernel(1, kern)
		for i, s := range convShapes {
			for _, acc := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%+v/acc=%v", kern.name, s, acc), func(t *testing.T) {
					in, w, out0 := convOperands(s, uint64(i))
					out := append([]float32(nil), out0...)
					g.Conv(s, in, w, out, acc)
					checkConv(t, s, in, w, out0, out, acc)
				})
			}
		}
	}
}

// TestConvInputGradient: Conv of the padded output gradient with flipped weights is the input
// gradient of a SAME convolution, computed here from its definition.
func TestConvInputGradient(t *testing.T) {
	for _, s := range []ConvShape{{Batch: 2, H: 6, W: 5, KH: 5, KW: 3, In: 3, Out: 4}, {Batch: 1, H: 12, W: 12, KH: 5, KW: 5, In: 64, Out: 64}} {
		top, left := (s.KH-1)/2, (s.KW-1)/2
		rng := rand.New(rand.NewPCG(3, 4))
		dz := randSlice(rng, s.Batch*s.H*s.W*s.Out)
		w := randSlice(rng, s.KH*s.KW*s.In*s.Out)
		back := ConvShape{Batch: s.Batch, H: s.H, W: s.W, KH: s.KH, KW: s.KW, In: s.Out, Out: s.In}
		padded := make([]float32, back.Batch*back.PaddedH()*back.PaddedW()*back.In)
		back.Pad(padded, dz, s.KH-1-top, s.KW-1-left)
		flipped := make([]float32, len(w))
		FlipWeights(flipped, w, s.KH, s.KW, s.In, s.Out)
		dx := make([]float32, s.Batch*s.H*s.W*s.In)
		New(1).Conv(back, padded, flipped, dx, false)
		for i, got := range dx {
			ci, px := i%s.In, i/s.In
			ix, iy, b := px%s.W, px/s.W%s.H, px/(s.W*s.H)
			var want float64
			for ky := 0; ky < s.KH; ky++ {
				for kx := 0; kx < s.KW; kx++ {
					y, x := iy-ky+top, ix-kx+left // the output pixel that used input (iy, ix) at tap (ky, kx)
					if y < 0 || y >= s.H || x < 0 || x >= s.W {
						continue
					}
					for co := 0; co < s.Out; co++ {
						want += float64(dz[((b*s.H+y)*s.W+x)*s.Out+co]) * float64(w[((ky*s.KW+kx)*s.In+ci)*s.Out+co])
					}
				}
			}
			if math.Abs(float64(got)-want) > 1e-4 {
				t.Fatalf("%+v: dx[%d] = %v, want %v", s, i, got, want)
			}
		}
	}
}

func TestPad(t *testing.T) {
	s := ConvShape{Batch: 2, H: 2, W: 3, KH: 3, KW: 2, In: 2}
	src := make([]float32, 2*2*3*2)
	for i := range src {
		src[i] = float32(i + 1)
	}
	dst := make([]float32, 2*4*4*2)
	for i := range dst {
		dst[i] = -1 // Pad must overwrite everything
	}
	s.Pad(dst, src, 1, 1)
	for b := 0; b < 2; b++ {
		for y := 0; y < 4; y++ {
			for x := 0; x < 4; x++ {
				for c := 0; c < 2; c++ {
					var want float32
					if y >= 1 && y < 3 && x >= 1 {
						want = src[((b*2+y-1)*3+x-1)*2+c]
					}
					if got := dst[((b*4+y)*4+x)*2+c]; got != want {
						t.Fatalf("dst[%d][%d][%d][%d] = %v, want %v", b, y, x, c, got, want)
					}
				}
			}
		}
	}
}

func TestConvThreadsBitIdentical(t *testing.T) {
	defer func(v float64) { minParallelFlops = v }(minParallelFlops)
	minParallelFlops = 0
	for _, kern := range kernels() {
		ctx := []*Context{newWithKernel(1, kern), newWithKernel(2, kern), newWithKernel(3, kern)}
		for i, s := range convShapes {
			in, w, out0 := convOperands(s, uint64(i))
			var want []float32
			for _, g := range ctx {
				out := append([]float32(nil), out0...)
				g.Conv(s, in, w, out, true)
				if want == nil {
					want = out
					continue
				}
				for j := range want {
					if !same(out[j], want[j]) {
						t.Fatalf("%s %+v threads %d: out[%d] = %v, 1 thread gave %v", kern.name, s, g.threads, j, out[j], want[j])
					}
				}
			}
		}
	}
}

func TestConvNoAllocs(t *testing.T) {
	s := ConvShape{Batch: 4, H: 12, W: 10, KH: 5, KW: 5, In: 16, Out: 40}
	in, w, out := convOperands(s, 1)
	for _, threads := range []int{1, 2} {
		g := New(threads)
		conv := func() { g.Conv(s, in, w, out, false) }
		conv()
		if n := testing.AllocsPerRun(5, conv); n != 0 {
			t.Errorf("threads %d: %v allocations per Conv", threads, n)
		}
	}
}

// weightGradRef is the definition of ConvWeightGrad in float64, with Σ|terms| for the tolerance.
func weightGradRef(s ConvShape, in, dout []float32, ky, kx, ci, co int) (sum, mag float64) {
	ph, pw := s.PaddedH(), s.PaddedW()
	for b := 0; b < s.Batch; b++ {
		for y := 0; y < s.H; y++ {
			for x := 0; x < s.W; x++ {
				t := float64(in[((b*ph+y+ky)*pw+x+kx)*s.In+ci]) * float64(dout[((b*s.H+y)*s.W+x)*s.Out+co])
				sum += t
				mag += math.Abs(t)
			}
		}
	}
	return sum, mag
}

func weightGradOperands(s ConvShape, seed uint64) (in, dout, dw0 []float32) {
	rng := rand.New(rand.NewPCG(seed, 9))
	in = randSlice(rng, s.Batch*s.PaddedH()*s.PaddedW()*s.In)
	dout = randSlice(rng, s.Batch*s.H*s.W*s.Out)
	dw0 = append(randSlice(rng, s.KH*s.KW*s.In*s.Out), sentinel, sentinel)
	return in, dout, dw0
}

func TestConvWeightGrad(t *testing.T) {
	for _, kern := range kernels() {
		g := newWithKernel(1, kern)
		for i, s := range convShapes {
			for _, acc := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%+v/acc=%v", kern.name, s, acc), func(t *testing.T) {
					in, dout, dw0 := weightGradOperands(s, uint64(i))
					dw := append([]float32(nil), dw0...)
					g.ConvWeightGrad(s, in, dout, dw, acc)
					n := s.KH * s.KW * s.In * s.Out
					for j := n; j < len(dw); j++ {
						if !same(dw[j], dw0[j]) {
							t.Fatalf("dw[%d] past the gradient changed", j)
						}
					}
					bad := 0
					for j := 0; j < n; j++ {
						co, ci, kx, ky := j%s.Out, j/s.Out%s.In, j/(s.Out*s.In)%s.KW, j/(s.Out*s.In*s.KW)
						want, mag := weightGradRef(s, in, dout, ky, kx, ci, co)
						if acc {
							want += float64(dw0[j])
							mag += math.Abs(float64(dw0[j]))
						}
						tol := 2e-7*float64(s.Batch*s.H*s.W+2)*mag + 1e-30
						if d := math.Abs(float64(dw[j]) - want); !(d <= tol) {
							if bad++; bad < 5 {
								t.Errorf("dw[%d][%d][%d][%d] = %v, want %v", ky, kx, ci, co, dw[j], want)
							}
						}
					}
				})
			}
		}
	}
}

func TestConvWeightGradThreadsBitIdentical(t *testing.T) {
	defer func(v float64) { minParallelFlops = v }(minParallelFlops)
	minParallelFlops = 0
	for _, kern := range kernels() {
		ctx := []*Context{newWithKernel(1, kern), newWithKernel(2, kern), newWithKernel(3, kern)}
		for i, s := range convShapes {
			in, dout, dw0 := weightGradOperands(s, uint64(i))
			var want []float32
			for _, g := range ctx {
				dw := append([]float32(nil), dw0...)
				g.ConvWeightGrad(s, in, dout, dw, true)
				if want == nil {
					want = dw
					continue
				}
				for j := range want {
					if !same(dw[j], want[j]) {
						t.Fatalf("%s %+v threads %d: dw[%d] = %v, 1 thread gave %v", kern.name, s, g.threads, j, dw[j], want[j])
					}
				}
			}
		}
	}
}

func TestConvWeightGradNoAllocs(t *testing.T) {
	s := ConvShape{Batch: 4, H: 12, W: 10, KH: 5, KW: 5, In: 16, Out: 40}
	in, dout, dw := weightGradOperands(s, 1)
	for _, threads := range []int{1, 2} {
		g := New(threads)
		grad := func() { g.ConvWeightGrad(s, in, dout, dw, true) }
		grad()
		if n := testing.AllocsPerRun(5, grad); n != 0 {
			t.Errorf("threads %d: %v allocations per ConvWeightGrad", threads, n)
		}
	}
}
