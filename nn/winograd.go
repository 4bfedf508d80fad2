package nn

// winograd computes a stride-1 5×5 convolution over zero-padded NHWC images (the seed model's
// conv2, forward and input gradient) by Winograd's minimal filtering F(2×2, 5×5) (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): every 2×2 block of outputs
// comes from a 6×6 tile of the input with 36 multiplications per (input, output) channel pair
// instead of 100, so the step's heaviest products shrink 2.8 times.
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// with the interpolation points 0, ±1/2, ±2 and ∞ (Aᵀ 2×6, G 6×5, Bᵀ 6×6; see bt6Go, g6Go and
// at2Go). Winograd trades multiplications for rounding error: on conv2's shapes these points
// give about 1.7 times the error of a sequential float32 sum (0, ±1, ±2, the usual choice,
// 2.8 times), relative error near 1e-6, far below what moves training.
//
// The transformed weights U = G g Gᵀ are 36 matrices of In×Out, the transformed input tiles
// V = Bᵀ d B of a block of images 36 matrices of Tiles×In (channels contiguous, as in NHWC),
// and the 36 products V·U are ordinary GEMMs (gemm.Mul, bit-identical for any thread count and
// kernel layout). The transforms are elementwise over channels: kernels_simd.go runs them on
// Float32x4 with exactly the operations of the portable twins, so the plain Go build, the
// wasm SIMD build and every worker count give the same bits.
type winograd struct {
	r        *runner
	h, w     int // output height and width, both even
	c, o     int // input and output channels
	th, tw   int // tiles down and across: h/2, w/2
	u        []float32
	s        *winoScratch
	dm       []float32 // weightGrad's sums in the transformed domain: 36 × c × o
	in, out  []float32 // arguments of the range functions
	dy       []float32
	tiles    int // tiles of the current block (its images × th·tw)
	fnIn     func(part, lo, hi int)
	fnOut    func(part, lo, hi int)
	fnDy     func(part, lo, hi int)
	inImage  int // floats of one padded input image
	outImage int // floats of one output image
}

// winoScratch is the transformed tiles of one block of images, shared by the plans of a layer
// (used one after the other). It remembers whose tiles v holds, so that the weight gradient
// reuses the forward pass's transform of a batch of at most winoChunk images (one shard).
type winoScratch struct {
	v, m []float32 // 36 × (winoChunk·tiles) × max(c, o)
	vOf  *float32  // first float of the padded images v holds the transform of, or nil
	vN   int       // their number
}

// newWinoScratch sizes the scratch for convolutions of up to batch images of h×w outputs and
// at most channels input or output channels.
func newWinoScratch(h, w, channels, batch int) *winoScratch {
	n := winoPoints * min(batch, winoChunk) * (h / 2) * (w / 2) * channels
	return &winoScratch{v: make([]float32, n), m: make([]float32, n)}
}

// winoChunk is the number of images transformed and multiplied together: 16 (one browser
// shard) keeps the GEMMs a few hundred rows tall and the scratch at 2 × 5.3 MB for conv2.
// Results do not depend on it: every output is computed from its own tile alone, and the
// weight gradient sums the chunks in order.
const winoChunk = 16

// winoPoints is the number of elements of a transformed 6×6 tile.
const winoPoints = 36

// winogradFits reports whether a convolution of this shape (stride 1, SAME, kernel k, output
// h×w) runs by F(2×2, 5×5).
func winogradFits(k, h, w int) bool { return k == 5 && h%2 == 0 && w%2 == 0 && h > 0 && w > 0 }

// newWinograd plans the convolution of padded (h+4)×(w+4)×c images into h×w×o outputs, with
// scratch s (sized for max(c, o) channels); grad also readies weightGrad.
func newWinograd(r *runner, h, w, c, o int, s *winoScratch, grad bool) *winograd {
	wg := &winograd{r: r, h: h, w: w, c: c, o: o, th: h / 2, tw: w / 2, s: s}
	wg.u = make([]float32, winoPoints*c*o)
	if grad {
		wg.dm = make([]float32, winoPoints*c*o)
	}
	wg.inImage, wg.outImage = (h+4)*(w+4)*c, h*w*o
	wg.fnIn, wg.fnOut, wg.fnDy = wg.inputRange, wg.outputRange, wg.dyRange
	return wg
}

// setWeights transforms HWIO 5×5×c×o weights; call it whenever they change.
func (wg *winograd) setWeights(g []float32) {
	winoWeights(wg.u, g[:25*wg.c*wg.o], wg.c, wg.o)
}

// conv writes the convolution of n padded images in into out (n×h×w×o), with the weights of
// the last setWeights.
func (wg *winograd) conv(in []float32, n int, out []float32) {
	for e0 := 0; e0 < n; e0 += winoChunk {
		k := min(winoChunk, n-e0)
		wg.transformInput(in[e0*wg.inImage:], k)
		wg.out = out[e0*wg.outImage:]
		vs, ms := wg.tiles*wg.c, wg.tiles*wg.o
		for p := range winoPoints {
			wg.r.gemm.Mul(false, false, wg.tiles, wg.o, wg.c, wg.s.v[p*vs:(p+1)*vs], wg.c,
				wg.u[p*wg.c*wg.o:(p+1)*wg.c*wg.o], wg.o, wg.s.m[p*ms:(p+1)*ms], wg.o, false)
		}
		wg.r.parallel(k, wg.fnOut)
	}
}

// weightGrad writes dw (5×5×c×o, HWIO), the gradient of conv's weights given dy = ∂loss/∂out
// for the n padded images in, by F(5×5, 2×2) with the same points: every 2×2 block of dy is a
// filter over the 6×6 tile under it, so the input tiles transform exactly as in conv (and
// are reused when conv just transformed them), the blocks of dy by G (winoDyGo), and the 36
// products Vᵀ·U, summed over the tiles of every image in order, by Aᵀ back to 5×5
// (winoWeightGradGo).
func (wg *winograd) weightGrad(in, dy []float32, n int, dw []float32) {
	co := wg.c * wg.o
	for e0 := 0; e0 < n; e0 += winoChunk {
		k := min(winoChunk, n-e0)
		if chunk := in[e0*wg.inImage:]; wg.s.vOf != &chunk[0] || wg.s.vN != k {
			wg.transformInput(chunk, k)
		}
		wg.tiles = k * wg.th * wg.tw
		wg.dy = dy[e0*wg.outImage:]
		wg.r.parallel(k, wg.fnDy)
		vs, ms := wg.tiles*wg.c, wg.tiles*wg.o
		for p := range winoPoints {
			wg.r.gemm.Mul(true, false, wg.c, wg.o, wg.tiles, wg.s.v[p*vs:(p+1)*vs], wg.c,
				wg.s.m[p*ms:(p+1)*ms], wg.o, wg.dm[p*co:(p+1)*co], wg.o, e0 > 0)
		}
	}
	winoWeightGrad(dw[:25*co], wg.dm, wg.c, wg.o)
}

// transformInput fills the scratch's v with the tiles of the k padded images in.
func (wg *winograd) transformInput(in []float32, k int) {
	wg.in, wg.tiles = in, k*wg.th*wg.tw
	wg.r.parallel(k, wg.fnIn)
	wg.s.vOf, wg.s.vN = &in[0], k
}

func (wg *winograd) inputRange(_, lo, hi int) {
	per := wg.th * wg.tw
	for img := lo; img < hi; img++ {
		winoInput(wg.s.v[img*per*wg.c:], wg.tiles*wg.c, wg.in[img*wg.inImage:(img+1)*wg.inImage], wg.w+4, wg.c, wg.th, wg.tw)
	}
}

func (wg *winograd) outputRange(_, lo, hi int) {
	per := wg.th * wg.tw
	for img := lo; img < hi; img++ {
		winoOutput(wg.out[img*wg.outImage:(img+1)*wg.outImage], wg.w, wg.o, wg.s.m[img*per*wg.o:], wg.tiles*wg.o, wg.th, wg.tw)
	}
}

func (wg *winograd) dyRange(_, lo, hi int) {
	per := wg.th * wg.tw
	for img := lo; img < hi; img++ {
		winoDy(wg.s.m[img*per*wg.o:], wg.tiles*wg.o, wg.dy[img*wg.outImage:(img+1)*wg.outImage], wg.w, wg.o, wg.th, wg.tw)
	}
}

// Portable transforms. The SIMD versions in kernels_simd.go perform the same operations in the
// same order on four channels at once; float32(...) around each product keeps Go from fusing
// it with the following addition, so the rounding is the same everywhere.

// bt6Go applies Bᵀ to the six values x[off], x[off+st], ..., x[off+5st], writing y at the
// same positions:
//
//	Bᵀ = [1 0 -17/4 0 1 0; 0 -2 -4 1/2 1 0; 0 2 -4 -1/2 1 0;
//	      0 -1/2 -1/4 2 1 0; 0 1/2 -1/4 -2 1 0; 0 1 0 -17/4 0 1]
func bt6Go(x, y *[winoPoints]float32, off, st int) {
	d0, d1, d2, d3, d4, d5 := x[off], x[off+st], x[off+2*st], x[off+3*st], x[off+4*st], x[off+5*st]
	s1, s2 := d4-float32(4*d2), float32(0.5*d3)-float32(2*d1)
	t1, t2 := d4-float32(0.25*d2), float32(2*d3)-float32(0.5*d1)
	y[off] = (d0 + d4) - float32(4.25*d2)
	y[off+st] = s1 + s2
	y[off+2*st] = s1 - s2
	y[off+3*st] = t1 + t2
	y[off+4*st] = t1 - t2
	y[off+5*st] = (d1 + d5) - float32(4.25*d3)
}

// Constants of G: its rows are [1 0 0 0 0], -8/15 [1 1/2 1/4 1/8 1/16],
// -8/15 [1 -1/2 1/4 -1/8 1/16], 1/30 [1 2 4 8 16], 1/30 [1 -2 4 -8 16] and [0 0 0 0 1].
const (
	gHalfRow = float32(-8.0 / 15)
	gTwoRow  = float32(1.0 / 30)
)

// g6Go applies G to the five values x[off], ..., x[off+4st], writing six values to y at
// y[yoff], ..., y[yoff+5yst].
func g6Go(x []float32, off, st int, y []float32, yoff, yst int) {
	g0, g1, g2, g3, g4 := x[off], x[off+st], x[off+2*st], x[off+3*st], x[off+4*st]
	e, od := (g0+float32(0.25*g2))+float32(0.0625*g4), float32(0.5*g1)+float32(0.125*g3)
	e2, o2 := (g0+float32(4*g2))+float32(16*g4), float32(2*g1)+float32(8*g3)
	y[yoff] = g0
	y[yoff+yst] = (e + od) * gHalfRow
	y[yoff+2*yst] = (e - od) * gHalfRow
	y[yoff+3*yst] = (e2 + o2) * gTwoRow
	y[yoff+4*yst] = (e2 - o2) * gTwoRow
	y[yoff+5*yst] = g4
}

// at2Go applies Aᵀ = [1 1 1 1 1 0; 0 1/2 -1/2 2 -2 1] to m0..m5.
func at2Go(m0, m1, m2, m3, m4, m5 float32) (y0, y1 float32) {
	return (m0 + (m1 + m2)) + (m3 + m4), (float32(0.5*(m1-m2)) + float32(2*(m3-m4))) + m5
}

// winoInputGo writes V = Bᵀ d B of every 6×6 tile of one padded image in (rows of pw pixels
// of c channels): tile (ty, tx) starts at pixel (2ty, 2tx), and element p of its channel ch
// goes to v[p*vs + (ty*tw+tx)*c + ch].
func winoInputGo(v []float32, vs int, in []float32, pw, c, th, tw int) {
	var d, s [winoPoints]float32
	for ty := range th {
		for tx := range tw {
			base, t := (2*ty*pw+2*tx)*c, (ty*tw+tx)*c
			for ch := range c {
				for y := range 6 {
					for x := range 6 {
						d[y*6+x] = in[base+(y*pw+x)*c+ch]
					}
				}
				for x := range 6 {
					bt6Go(&d, &s, x, 6) // columns
				}
				for j := range 6 {
					bt6Go(&s, &d, j*6, 1) // rows
				}
				for p, e := range d {
					v[p*vs+t+ch] = e
				}
			}
		}
	}
}

// winoWeightsGo writes U = G g Gᵀ of HWIO 5×5×c×o weights g: element p of the pair (ci, co)
// goes to u[p*c*o + ci*o + co].
func winoWeightsGo(u, g []float32, c, o int) {
	co := c * o
	var t [30]float32
	var r [6]float32
	for e := range co {
		for kx := range 5 {
			g6Go(g, kx*co+e, 5*co, t[:], kx, 5) // columns: t[j*5+kx]
		}
		for j := range 6 {
			g6Go(t[:], j*5, 1, r[:], 0, 1) // rows
			for i, x := range r {
				u[(j*6+i)*co+e] = x
			}
		}
	}
}

// winoOutputGo writes the 2×2 outputs Aᵀ M A of every tile of one image to out (w pixels of o
// channels a row), reading element p of tile t's channel ch at m[p*ms + t*o + ch].
func winoOutputGo(out []float32, w, o int, m []float32, ms, th, tw int) {
	var z [12]float32
	for ty := range th {
		for tx := range tw {
			base, t := (2*ty*w+2*tx)*o, (ty*tw+tx)*o
			for ch := range o {
				for j := range 6 {
					q := j*6*ms + t + ch
					z[2*j], z[2*j+1] = at2Go(m[q], m[q+ms], m[q+2*ms], m[q+3*ms], m[q+4*ms], m[q+5*ms])
				}
				y00, y10 := at2Go(z[0], z[2], z[4], z[6], z[8], z[10])
				y01, y11 := at2Go(z[1], z[3], z[5], z[7], z[9], z[11])
				out[base+ch], out[base+o+ch] = y00, y01
				out[base+w*o+ch], out[base+(w+1)*o+ch] = y10, y11
			}
		}
	}
}

// g2Go applies G (the rows above) to the two values f0, f1 of a 2-tap filter: the transform of
// a block of dy in weightGrad.
func g2Go(f0, f1 float32) (y0, y1, y2, y3, y4, y5 float32) {
	h, t := float32(0.5*f1), float32(2*f1)
	return f0, (f0 + h) * gHalfRow, (f0 - h) * gHalfRow, (f0 + t) * gTwoRow, (f0 - t) * gTwoRow, f1
}

// a5Go applies the 5×6 Aᵀ of F(5, 2), rows [1 1 1 1 1 0], [0 1/2 -1/2 2 -2 0],
// [0 1/4 1/4 4 4 0], [0 1/8 -1/8 8 -8 0] and [0 1/16 1/16 16 16 1], to m0..m5.
func a5Go(m0, m1, m2, m3, m4, m5 float32) (y0, y1, y2, y3, y4 float32) {
	s1, d1, s2, d2 := m1+m2, m1-m2, m3+m4, m3-m4
	return (m0 + s1) + s2, float32(0.5*d1) + float32(2*d2), float32(0.25*s1) + float32(4*s2),
		float32(0.125*d1) + float32(8*d2), (float32(0.0625*s1) + float32(16*s2)) + m5
}

// winoDyGo writes U = G f Gᵀ of every 2×2 block f of one image's dy (w pixels of o channels a
// row): element p of block t's channel ch goes to m[p*ms + t*o + ch].
func winoDyGo(m []float32, ms int, dy []float32, w, o, th, tw int) {
	var c [12]float32
	for ty := range th {
		for tx := range tw {
			base, t := (2*ty*w+2*tx)*o, (ty*tw+tx)*o
			for ch := range o {
				q := base + ch
				c[0], c[2], c[4], c[6], c[8], c[10] = g2Go(dy[q], dy[q+w*o])       // left column
				c[1], c[3], c[5], c[7], c[9], c[11] = g2Go(dy[q+o], dy[q+(w+1)*o]) // right column
				for j := range 6 {
					y0, y1, y2, y3, y4, y5 := g2Go(c[2*j], c[2*j+1])
					r := j*6*ms + t + ch
					m[r], m[r+ms], m[r+2*ms], m[r+3*ms], m[r+4*ms], m[r+5*ms] = y0, y1, y2, y3, y4, y5
				}
			}
		}
	}
}

// winoWeightGradGo writes the 5×5 weight gradient Aᵀ M A of every channel pair to dw (HWIO),
// reading element p of pair e = ci*o + co at dm[p*c*o + e].
func winoWeightGradGo(dw, dm []float32, c, o int) {
	co := c * o
	var z [30]float32
	for e := range co {
		for j := range 6 {
			q := j*6*co + e
			z[5*j], z[5*j+1], z[5*j+2], z[5*j+3], z[5*j+4] = a5Go(dm[q], dm[q+co], dm[q+2*co], dm[q+3*co], dm[q+4*co], dm[q+5*co])
		}
		for kx := range 5 {
			y0, y1, y2, y3, y4 := a5Go(z[kx], z[5+kx], z[10+kx], z[15+kx], z[20+kx], z[25+kx])
			dw[kx*co+e], dw[(5+kx)*co+e], dw[(10+kx)*co+e], dw[(15+kx)*co+e], dw[(20+kx)*co+e] = y0, y1, y2, y3, y4
		}
	}
}
