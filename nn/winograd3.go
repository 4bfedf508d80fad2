package nn

// winograd3 computes a stride-1 3×3 convolution over zero-padded NHWC images (forward, input
// gradient and weight gradient) by Winograd's F(2×2, 3×3) (Lavin and Gray, 2016): every 2×2
// block of outputs comes from a 4×4 tile of the input with 16 multiplications per (input,
// output) channel pair instead of 36, 2.25 times fewer. Its interpolation points 0, 1, -1
// and ∞ make every transform additions (and halvings in G), so its rounding error stays near
// the direct sum's.
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,  Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
//	G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 -1 -1]
//
// The weight gradient is F(3×3, 2×2) with the same points: every 2×2 block of dy is a filter
// over the 4×4 tile under it, transformed by G₂ = [1 0; ½ ½; ½ -½; 0 -1], and the sums over
// the tiles come back to 3×3 by A₂ᵀ = [1 1 1 0; 0 1 -1 0; 0 1 1 1].
//
// As winograd (the 5×5 F(4×4, 5×5)), the transformed weights are 16 matrices of In×Out, the
// transformed input tiles of a block of winoChunk images 16 matrices of Tiles×In, and the 16
// products are gemm.Mul's, so results depend on neither threads nor build; the transforms are
// plain Go (they cost a few percent of the products). A convolution uses it only when its
// spec asks (LayerSpec.Winograd), so the presets trained before keep their bits.
type winograd3 struct {
	r                 *runner
	h, w, c, o        int // output size, input and output channels
	th, tw            int // tiles down and across: h/2, w/2
	u, dm             []float32
	us                int
	s                 *winoScratch
	in, out, dy       []float32
	tiles             int
	fnIn, fnOut, fnDy func(part, lo, hi int)
	inImage, outImage int
}

// wino3Points is the number of elements of a transformed 4×4 tile.
const wino3Points = 16

// winograd3Fits reports whether a convolution of this shape runs by F(2×2, 3×3): a 3×3
// kernel and whole 2×2 output tiles.
func winograd3Fits(k, h, w int) bool { return k == 3 && h%2 == 0 && w%2 == 0 && h > 0 && w > 0 }

// newWino3Scratch sizes the scratch for convolutions of up to batch images of h×w outputs with
// at most channels input or output channels.
func newWino3Scratch(h, w, channels, batch int) *winoScratch {
	n := wino3Points * winoStride(min(batch, winoChunk)*(h/2)*(w/2)*channels)
	return &winoScratch{v: make([]float32, n), m: make([]float32, n)}
}

// newWinograd3 plans the convolution of padded (h+2)×(w+2)×c images into h×w×o outputs.
func newWinograd3(r *runner, h, w, c, o int, s *winoScratch, grad bool) *winograd3 {
	wg := &winograd3{r: r, h: h, w: w, c: c, o: o, th: h / 2, tw: w / 2, s: s}
	wg.us = winoStride(c * o)
	wg.u = make([]float32, wino3Points*wg.us)
	if grad {
		wg.dm = make([]float32, wino3Points*wg.us)
	}
	wg.inImage, wg.outImage = (h+2)*(w+2)*c, h*w*o
	wg.fnIn, wg.fnOut, wg.fnDy = wg.inputRange, wg.outputRange, wg.dyRange
	return wg
}

// setWeights transforms HWIO 3×3×c×o weights into U = G g Gᵀ.
func (wg *winograd3) setWeights(g []float32) {
	co := wg.c * wg.o
	var k [3][3]float32
	var t [4][3]float32
	for i := range co {
		for y := range 3 {
			for x := range 3 {
				k[y][x] = g[(y*3+x)*co+i]
			}
		}
		for x := range 3 { // G on the columns
			t[0][x], t[1][x], t[2][x], t[3][x] = g4of3(k[0][x], k[1][x], k[2][x])
		}
		for y := range 4 { // and on the rows
			a, b, c, d := g4of3(t[y][0], t[y][1], t[y][2])
			wg.u[(y*4+0)*wg.us+i], wg.u[(y*4+1)*wg.us+i] = a, b
			wg.u[(y*4+2)*wg.us+i], wg.u[(y*4+3)*wg.us+i] = c, d
		}
	}
}

// g4of3 applies G to three taps.
func g4of3(a, b, c float32) (y0, y1, y2, y3 float32) {
	s := a + c
	return a, float32(0.5 * (s + b)), float32(0.5 * (s - b)), c
}

// g4of2 applies G₂ to two taps.
func g4of2(a, b float32) (y0, y1, y2, y3 float32) {
	return a, float32(0.5 * (a + b)), float32(0.5 * (a - b)), -b
}

// bt4 applies Bᵀ to four values.
func bt4(d0, d1, d2, d3 float32) (y0, y1, y2, y3 float32) {
	return d0 - d2, d1 + d2, d2 - d1, d1 - d3
}

// conv writes the convolution of n padded images in into out (n×h×w×o).
func (wg *winograd3) conv(in []float32, n int, out []float32) {
	for e0 := 0; e0 < n; e0 += winoChunk {
		k := min(winoChunk, n-e0)
		wg.transformInput(in[e0*wg.inImage:], k)
		wg.out = out[e0*wg.outImage:]
		vn, mn, co := wg.tiles*wg.c, wg.tiles*wg.o, wg.c*wg.o
		vs, ms := winoStride(vn), winoStride(mn)
		for p := range wino3Points {
			wg.r.gemm.Mul(false, false, wg.tiles, wg.o, wg.c, wg.s.v[p*vs:p*vs+vn], wg.c,
				wg.u[p*wg.us:p*wg.us+co], wg.o, wg.s.m[p*ms:p*ms+mn], wg.o, false)
		}
		wg.r.parallel(k, wg.fnOut)
	}
}

// weightGrad writes dw (3×3×c×o, HWIO) for the n padded images in and dy = ∂loss/∂out.
func (wg *winograd3) weightGrad(in, dy []float32, n int, dw []float32) {
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
		for p := range wino3Points {
			wg.r.gemm.Mul(true, false, wg.c, wg.o, wg.tiles, wg.s.v[p*vs:p*vs+vn], wg.c,
				wg.s.m[p*ms:p*ms+mn], wg.o, wg.dm[p*wg.us:p*wg.us+co], wg.o, e0 > 0)
		}
	}
	// dW = A₂ᵀ M A₂ per (c, o), A₂ᵀ rows [1 1 1 0], [0 1 -1 0], [0 1 1 1].
	var m [4][4]float32
	var t [3][4]float32
	for i := range co {
		for p := range wino3Points {
			m[p/4][p%4] = wg.dm[p*wg.us+i]
		}
		for x := range 4 {
			t[0][x], t[1][x], t[2][x] = a2(m[0][x], m[1][x], m[2][x], m[3][x])
		}
		for y := range 3 {
			a, b, c := a2(t[y][0], t[y][1], t[y][2], t[y][3])
			dw[(y*3+0)*co+i], dw[(y*3+1)*co+i], dw[(y*3+2)*co+i] = a, b, c
		}
	}
}

// a2 applies A₂ᵀ to four values.
func a2(m0, m1, m2, m3 float32) (y0, y1, y2 float32) {
	s := m1 + m2
	return (m0 + s), m1 - m2, s + m3
}

// transformInput fills the scratch's v with the tiles of the k padded images in.
func (wg *winograd3) transformInput(in []float32, k int) {
	wg.in, wg.tiles = in, k*wg.th*wg.tw
	wg.r.parallel(k, wg.fnIn)
	wg.s.vOf, wg.s.vN = &in[0], k
}

// inputRange writes V = Bᵀ d B of every 4×4 tile of images lo..hi-1: tile (ty, tx) starts at
// padded pixel (2ty, 2tx), and element p of its channel ch goes to v[p*vs + tile*c + ch].
func (wg *winograd3) inputRange(_, lo, hi int) {
	per, c, pw := wg.th*wg.tw, wg.c, wg.w+2
	vs := winoStride(wg.tiles * c)
	var d, t [4][4]float32
	for img := lo; img < hi; img++ {
		src := wg.in[img*wg.inImage : (img+1)*wg.inImage]
		for ty := range wg.th {
			for tx := range wg.tw {
				base, dst := (2*ty*pw+2*tx)*c, (img*per+ty*wg.tw+tx)*c
				for ch := range c {
					for y := range 4 {
						row := src[base+y*pw*c+ch:]
						d[y][0], d[y][1], d[y][2], d[y][3] = row[0], row[c], row[2*c], row[3*c]
					}
					for x := range 4 {
						t[0][x], t[1][x], t[2][x], t[3][x] = bt4(d[0][x], d[1][x], d[2][x], d[3][x])
					}
					for y := range 4 {
						a, b, e, f := bt4(t[y][0], t[y][1], t[y][2], t[y][3])
						o := y*4*vs + dst + ch
						wg.s.v[o], wg.s.v[o+vs], wg.s.v[o+2*vs], wg.s.v[o+3*vs] = a, b, e, f
					}
				}
			}
		}
	}
}

// outputRange writes Y = Aᵀ M A of every tile of images lo..hi-1 into out.
func (wg *winograd3) outputRange(_, lo, hi int) {
	per, o := wg.th*wg.tw, wg.o
	ms := winoStride(wg.tiles * o)
	var m [4][4]float32
	var t [2][4]float32
	for img := lo; img < hi; img++ {
		dst := wg.out[img*wg.outImage : (img+1)*wg.outImage]
		for ty := range wg.th {
			for tx := range wg.tw {
				src := (img*per + ty*wg.tw + tx) * o
				for ch := range o {
					for p := range wino3Points {
						m[p/4][p%4] = wg.s.m[p*ms+src+ch]
					}
					for x := range 4 {
						t[0][x], t[1][x] = at2(m[0][x], m[1][x], m[2][x], m[3][x])
					}
					for y := range 2 {
						a, b := at2(t[y][0], t[y][1], t[y][2], t[y][3])
						row := ((2*ty+y)*wg.w + 2*tx) * o
						dst[row+ch], dst[row+o+ch] = a, b
					}
				}
			}
		}
	}
}

// at2 applies Aᵀ to four values.
func at2(m0, m1, m2, m3 float32) (y0, y1 float32) {
	return (m0 + m1) + m2, (m1 - m2) - m3
}

// dyRange writes G₂ f G₂ᵀ of every 2×2 block f of dy of images lo..hi-1 into the scratch's m,
// laid out as conv's products.
func (wg *winograd3) dyRange(_, lo, hi int) {
	per, o := wg.th*wg.tw, wg.o
	ms := winoStride(wg.tiles * o)
	var t [4][2]float32
	for img := lo; img < hi; img++ {
		src := wg.dy[img*wg.outImage : (img+1)*wg.outImage]
		for ty := range wg.th {
			for tx := range wg.tw {
				dst := (img*per + ty*wg.tw + tx) * o
				for ch := range o {
					r0 := ((2*ty)*wg.w+2*tx)*o + ch
					r1 := r0 + wg.w*o
					for x := range 2 {
						t[0][x], t[1][x], t[2][x], t[3][x] = g4of2(src[r0+x*o], src[r1+x*o])
					}
					for y := range 4 {
						a, b, e, f := g4of2(t[y][0], t[y][1])
						q := y*4*ms + dst + ch
						wg.s.m[q], wg.s.m[q+ms], wg.s.m[q+2*ms], wg.s.m[q+3*ms] = a, b, e, f
					}
				}
			}
		}
	}
}
