package nn

// winograd computes a stride-1 5×5 convolution over zero-padded NHWC images (the seed model's
// conv2: forward, input gradient and weight gradient) by Winograd's minimal filtering
// F(4×4, 5×5) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
// every 4×4 block of outputs comes from an 8×8 tile of the input with 64 multiplications per
// (input, output) channel pair instead of 400, so the step's heaviest products shrink 6 times
// (the transforms, elementwise, cost a fraction of that).
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// with the interpolation points 0, ±1/2, ±1, ±2 and ∞ (Aᵀ 4×8, G 8×5, Bᵀ 8×8; see bt8Go, g8Go
// and at5Go). Winograd trades multiplications for rounding error, more with larger tiles.
// Measured against float64 sums at conv2's shape, the error is about 5 times that of a
// sequential float32 sum and 10 (forward) to 20 (weight gradient) times the direct GEMM's: an
// rms error near 1e-6 of the largest value, far below what moves training. (F(2×2, 5×5), tried
// first, had half the error and made the wasm training step 1.4 times slower.) The fixture
// tests against TensorFlow's values hold.
//
// The transformed weights U = G g Gᵀ are 64 matrices of In×Out, the transformed input tiles
// V = Bᵀ d B of a block of images 64 matrices of Tiles×In (channels contiguous, as in NHWC),
// each set of 64 spaced by winoStride, and the 64 products V·U are ordinary GEMMs (gemm.Mul, bit-identical for any thread count and
// kernel layout). The transforms are elementwise over channels: kernels_simd.go runs them on
// Float32x4 with exactly the operations of the portable twins, so the plain Go build, the
// wasm SIMD build and every worker count give the same bits.
type winograd struct {
	r        *runner
	h, w     int       // output height and width, multiples of 4
	c, o     int       // input and output channels
	th, tw   int       // tiles down and across: h/4, w/4
	u        []float32 // the transformed weights: 64 matrices of c × o, us apart
	s        *winoScratch
	dm       []float32 // weightGrad's sums in the transformed domain, laid out like u
	us       int       // winoStride(c·o)
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
	v, m []float32 // 64 matrices of (winoChunk·tiles) × max(c, o), winoStride apart
	vOf  *float32  // first float of the padded images v holds the transform of, or nil
	vN   int       // their number
}

// newWinoScratch sizes the scratch for convolutions of up to batch images of h×w outputs and
// at most channels input or output channels.
func newWinoScratch(h, w, channels, batch int) *winoScratch {
	n := winoPoints * winoStride(min(batch, winoChunk)*(h/4)*(w/4)*channels)
	return &winoScratch{v: make([]float32, n), m: make([]float32, n)}
}

// winoChunk is the number of images transformed and multiplied together: 16 (one browser
// shard) makes conv2's GEMMs 144 rows tall and its scratch 2 × 2.4 MB. It is a constant, so
// results depend on nothing else: outputs come from their own tiles alone, and the weight
// gradient sums the chunks in order.
const winoChunk = 16

// winoPoints is the number of elements of a transformed 8×8 tile.
const winoPoints = 64

// winoStride is the distance between the starts of consecutive matrices of n floats in a set
// of 64 (one per point): n plus a cache line. The transforms read or write all 64 at one
// offset; at conv2's sizes n·4 bytes is a multiple of 4 KB, which put all 64 in one L1
// cache set and made the SIMD transforms 2-3 times slower (the results do not change).
func winoStride(n int) int { return n + 16 }

// winogradFits reports whether a convolution of this shape (stride 1, SAME, kernel k, output
// h×w) runs by F(4×4, 5×5): whole tiles only.
func winogradFits(k, h, w int) bool { return k == 5 && h%4 == 0 && w%4 == 0 && h > 0 && w > 0 }

// newWinograd plans the convolution of padded (h+4)×(w+4)×c images into h×w×o outputs, with
// scratch s (sized for max(c, o) channels); grad also readies weightGrad.
func newWinograd(r *runner, h, w, c, o int, s *winoScratch, grad bool) *winograd {
	wg := &winograd{r: r, h: h, w: w, c: c, o: o, th: h / 4, tw: w / 4, s: s}
	wg.us = winoStride(c * o)
	wg.u = make([]float32, winoPoints*wg.us)
	if grad {
		wg.dm = make([]float32, winoPoints*wg.us)
	}
	wg.inImage, wg.outImage = (h+4)*(w+4)*c, h*w*o
	wg.fnIn, wg.fnOut, wg.fnDy = wg.inputRange, wg.outputRange, wg.dyRange
	return wg
}

// setWeights transforms HWIO 5×5×c×o weights; call it whenever they change.
func (wg *winograd) setWeights(g []float32) {
	winoWeights(wg.u, wg.us, g[:25*wg.c*wg.o], wg.c, wg.o)
}

// conv writes the convolution of n padded images in into out (n×h×w×o), with the weights of
// the last setWeights.
func (wg *winograd) conv(in []float32, n int, out []float32) {
	for e0 := 0; e0 < n; e0 += winoChunk {
		k := min(winoChunk, n-e0)
		wg.transformInput(in[e0*wg.inImage:], k)
		wg.out = out[e0*wg.outImage:]
		vn, mn, co := wg.tiles*wg.c, wg.tiles*wg.o, wg.c*wg.o
		vs, ms := winoStride(vn), winoStride(mn)
		for p := range winoPoints {
			wg.r.gemm.Mul(false, false, wg.tiles, wg.o, wg.c, wg.s.v[p*vs:p*vs+vn], wg.c,
				wg.u[p*wg.us:p*wg.us+co], wg.o, wg.s.m[p*ms:p*ms+mn], wg.o, false)
		}
		wg.r.parallel(k, wg.fnOut)
	}
}

// weightGrad writes dw (5×5×c×o, HWIO), the gradient of conv's weights given dy = ∂loss/∂out
// for the n padded images in, by F(5×5, 4×4) with the same points: every 4×4 block of dy is a
// filter over the 8×8 tile under it, so the input tiles transform exactly as in conv (and
// are reused when conv just transformed them), the blocks of dy by G (winoDyGo), and the 64
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
		vn, mn := wg.tiles*wg.c, wg.tiles*wg.o
		vs, ms := winoStride(vn), winoStride(mn)
		for p := range winoPoints {
			wg.r.gemm.Mul(true, false, wg.c, wg.o, wg.tiles, wg.s.v[p*vs:p*vs+vn], wg.c,
				wg.s.m[p*ms:p*ms+mn], wg.o, wg.dm[p*wg.us:p*wg.us+co], wg.o, e0 > 0)
		}
	}
	winoWeightGrad(dw[:25*co], wg.dm, wg.us, wg.c, wg.o)
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
		winoInput(wg.s.v[img*per*wg.c:], winoStride(wg.tiles*wg.c), wg.in[img*wg.inImage:(img+1)*wg.inImage], wg.w+4, wg.c, wg.th, wg.tw)
	}
}

func (wg *winograd) outputRange(_, lo, hi int) {
	per := wg.th * wg.tw
	for img := lo; img < hi; img++ {
		winoOutput(wg.out[img*wg.outImage:(img+1)*wg.outImage], wg.w, wg.o, wg.s.m[img*per*wg.o:], winoStride(wg.tiles*wg.o), wg.th, wg.tw)
	}
}

func (wg *winograd) dyRange(_, lo, hi int) {
	per := wg.th * wg.tw
	for img := lo; img < hi; img++ {
		winoDy(wg.s.m[img*per*wg.o:], winoStride(wg.tiles*wg.o), wg.dy[img*wg.outImage:(img+1)*wg.outImage], wg.w, wg.o, wg.th, wg.tw)
	}
}

// Portable transforms. The SIMD versions in kernels_simd.go perform the same operations in the
// same order on four channels at once; float32(...) around each product keeps Go from fusing
// it with the following addition, so the rounding is the same everywhere.
//
// The points are ordered 0, 1/2, -1/2, 1, -1, 2, -2, ∞. For a pair ±a the rows of every
// transform differ only in the sign of their odd-power terms, so each pair is computed as
// E ± O from its even part E and odd part O.

// bt8Go applies Bᵀ (rows: the coefficients of Π(x - a_l) over the finite points other than
// a_j, and for ∞ of the product over all of them; row 0 negated, as is G's row 0, so that G
// has no negation) to d:
//
//	Bᵀ = [1 0 -21/4 0 21/4 0 -1 0;  0 ±2 4 ∓5/2 -5 ±1/2 1 0;  0 ±1 1 ∓17/4 -17/4 ±1 1 0;
//	      0 ±1/2 1/4 ∓5/2 -5/4 ±2 1 0;  0 -1 0 21/4 0 -21/4 0 1]
func bt8Go(d, y *[8]float32) {
	y[0] = (d[0] - d[6]) + float32(5.25*(d[4]-d[2]))
	e, o := (d[6]+float32(4*d[2]))-float32(5*d[4]), (float32(2*d[1])+float32(0.5*d[5]))-float32(2.5*d[3])
	y[1], y[2] = e+o, e-o
	e, o = (d[2]+d[6])-float32(4.25*d[4]), (d[1]+d[5])-float32(4.25*d[3])
	y[3], y[4] = e+o, e-o
	e, o = (d[6]+float32(0.25*d[2]))-float32(1.25*d[4]), (float32(0.5*d[1])+float32(2*d[5]))-float32(2.5*d[3])
	y[5], y[6] = e+o, e-o
	y[7] = (d[7] - d[1]) + float32(5.25*(d[3]-d[5]))
}

// Constants of G, the rows a_j^k / Π_{l≠j}(a_j - a_l): [1 0 0 0 0] (negated), 32/45 [1 ±1/2 1/4 ±1/8 1/16],
// -2/9 [1 ±1 1 ±1 1], 1/90 [1 ±2 4 ±8 16] and [0 0 0 0 1]; weightGrad's G for 4 taps is
// the same without the last column (and [0 0 0 1] for ∞).
const (
	gHalf = float32(32.0 / 45)
	gOne  = float32(-2.0 / 9)
	gTwo  = float32(1.0 / 90)
)

// g8Go applies G to the five weights g (one column or row of a 5×5 kernel).
func g8Go(g *[5]float32, y *[8]float32) {
	y[0] = g[0]
	e, o := (g[0]+float32(0.25*g[2]))+float32(0.0625*g[4]), float32(0.5*g[1])+float32(0.125*g[3])
	y[1], y[2] = (e+o)*gHalf, (e-o)*gHalf
	e, o = (g[0]+g[2])+g[4], g[1]+g[3]
	y[3], y[4] = (e+o)*gOne, (e-o)*gOne
	e, o = (g[0]+float32(4*g[2]))+float32(16*g[4]), float32(2*g[1])+float32(8*g[3])
	y[5], y[6] = (e+o)*gTwo, (e-o)*gTwo
	y[7] = g[4]
}

// g8of4Go applies the G of 4 taps to f (one column or row of a 4×4 block of dy).
func g8of4Go(f *[4]float32, y *[8]float32) {
	y[0] = f[0]
	e, o := f[0]+float32(0.25*f[2]), float32(0.5*f[1])+float32(0.125*f[3])
	y[1], y[2] = (e+o)*gHalf, (e-o)*gHalf
	e, o = f[0]+f[2], f[1]+f[3]
	y[3], y[4] = (e+o)*gOne, (e-o)*gOne
	e, o = f[0]+float32(4*f[2]), float32(2*f[1])+float32(8*f[3])
	y[5], y[6] = (e+o)*gTwo, (e-o)*gTwo
	y[7] = f[3]
}

// at5Go applies the rows a_j^i, i = 0..4, of Aᵀ (with ∞ in the last row) to m: y[0..3] are
// the four outputs of F(4, 5) when last is 3 (∞ added to y[3]), and y[0..4] the five of
// weightGrad's F(5, 4) when last is 4.
func at5Go(m *[8]float32, y *[5]float32, last int) {
	s1, d1, s2, d2, s3, d3 := m[1]+m[2], m[1]-m[2], m[3]+m[4], m[3]-m[4], m[5]+m[6], m[5]-m[6]
	y[0] = ((m[0] + s1) + s2) + s3
	y[1] = (float32(0.5*d1) + d2) + float32(2*d3)
	y[2] = (float32(0.25*s1) + s2) + float32(4*s3)
	y[3] = (float32(0.125*d1) + d2) + float32(8*d3)
	y[4] = (float32(0.0625*s1) + s2) + float32(16*s3)
	y[last] += m[7]
}

// winoInputGo writes V = Bᵀ d B of every 8×8 tile of one padded image in (rows of pw pixels
// of c channels): tile (ty, tx) starts at pixel (4ty, 4tx), and element p of its channel ch
// goes to v[p*vs + (ty*tw+tx)*c + ch].
func winoInputGo(v []float32, vs int, in []float32, pw, c, th, tw int) {
	var col, r [8]float32
	var s [8][8]float32
	for ty := range th {
		for tx := range tw {
			base, t := (4*ty*pw+4*tx)*c, (ty*tw+tx)*c
			for ch := range c {
				for x := range 8 {
					for y := range 8 {
						col[y] = in[base+(y*pw+x)*c+ch]
					}
					bt8Go(&col, &r)
					for j := range 8 {
						s[j][x] = r[j]
					}
				}
				for j := range 8 {
					bt8Go(&s[j], &r)
					for i, e := range r {
						v[(j*8+i)*vs+t+ch] = e
					}
				}
			}
		}
	}
}

// winoWeightsGo writes U = G g Gᵀ of HWIO 5×5×c×o weights g: element p of the pair (ci, co)
// goes to u[p*us + ci*o + co].
func winoWeightsGo(u []float32, us int, g []float32, c, o int) {
	co := c * o
	var col [5]float32
	var r [8]float32
	var s [8][5]float32
	for e := range co {
		for kx := range 5 {
			for ky := range 5 {
				col[ky] = g[(ky*5+kx)*co+e]
			}
			g8Go(&col, &r)
			for j := range 8 {
				s[j][kx] = r[j]
			}
		}
		for j := range 8 {
			g8Go(&s[j], &r)
			for i, x := range r {
				u[(j*8+i)*us+e] = x
			}
		}
	}
}

// winoOutputGo writes the 4×4 outputs Aᵀ M A of every tile of one image to out (w pixels of o
// channels a row), reading element p of tile t's channel ch at m[p*ms + t*o + ch].
func winoOutputGo(out []float32, w, o int, m []float32, ms, th, tw int) {
	var row, col [8]float32
	var y [5]float32
	var z [8][4]float32
	for ty := range th {
		for tx := range tw {
			base, t := (4*ty*w+4*tx)*o, (ty*tw+tx)*o
			for ch := range o {
				for j := range 8 {
					for i := range 8 {
						row[i] = m[(j*8+i)*ms+t+ch]
					}
					at5Go(&row, &y, 3)
					copy(z[j][:], y[:4])
				}
				for x := range 4 {
					for j := range 8 {
						col[j] = z[j][x]
					}
					at5Go(&col, &y, 3)
					for yy := range 4 {
						out[base+(yy*w+x)*o+ch] = y[yy]
					}
				}
			}
		}
	}
}

// winoDyGo writes U = G f Gᵀ of every 4×4 block f of one image's dy (w pixels of o channels a
// row): element p of block t's channel ch goes to m[p*ms + t*o + ch].
func winoDyGo(m []float32, ms int, dy []float32, w, o, th, tw int) {
	var col [4]float32
	var r [8]float32
	var s [8][4]float32
	for ty := range th {
		for tx := range tw {
			base, t := (4*ty*w+4*tx)*o, (ty*tw+tx)*o
			for ch := range o {
				for b := range 4 {
					for a := range 4 {
						col[a] = dy[base+(a*w+b)*o+ch]
					}
					g8of4Go(&col, &r)
					for j := range 8 {
						s[j][b] = r[j]
					}
				}
				for j := range 8 {
					g8of4Go(&s[j], &r)
					for i, e := range r {
						m[(j*8+i)*ms+t+ch] = e
					}
				}
			}
		}
	}
}

// winoWeightGradGo writes the 5×5 weight gradient Aᵀ M A of every channel pair to dw (HWIO),
// reading element p of pair e = ci*o + co at dm[p*us + e].
func winoWeightGradGo(dw, dm []float32, us, c, o int) {
	co := c * o
	var row, col [8]float32
	var y [5]float32
	var z [8][5]float32
	for e := range co {
		for j := range 8 {
			for i := range 8 {
				row[i] = dm[(j*8+i)*us+e]
			}
			at5Go(&row, &z[j], 4)
		}
		for kx := range 5 {
			for j := range 8 {
				col[j] = z[j][kx]
			}
			at5Go(&col, &y, 4)
			for ky := range 5 {
				dw[(ky*5+kx)*co+e] = y[ky]
			}
		}
	}
}
