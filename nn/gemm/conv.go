package gemm

import (
	"fmt"
	"unsafe"
)

// ConvShape describes a stride-1 convolution over a batch of zero-padded NHWC images, the
// shape of the seed model's conv2 (PLATFORM.md): Batch output images of H×W pixels with Out
// channels, computed from input images of (H+KH-1)×(W+KW-1) pixels with In channels (already
// padded) and HWIO weights KH×KW×In×Out.
type ConvShape struct {
	Batch, H, W int
	KH, KW      int
	In, Out     int
}

// PaddedH is the height of one input image of Conv.
func (s ConvShape) PaddedH() int { return s.H + s.KH - 1 }

// PaddedW is the width of one input image of Conv.
func (s ConvShape) PaddedW() int { return s.W + s.KW - 1 }

// Conv computes out = conv(in, weights), or out += conv(in, weights) when accumulate is set:
//
//	out[b][y][x][co] = Σ_{ky<KH, kx<KW, ci<In} in[b][y+ky][x+kx][ci] · weights[ky][kx][ci][co]
//
// It is the im2col product of Mul without the im2col matrix: four neighbouring output pixels
// are rows of A at a constant stride of In floats in the padded image, and one kernel row
// (KW×In weights) is a contiguous run of each, so the kernel reads the images in place and
// only the weights are packed. Use Pad to build in from unpadded images, and FlipWeights to
// get the input gradient as the same convolution of the padded output gradient.
// The result is bit-identical for any thread count.
//
// It pays off when a kernel row is long (KW*In = 320 floats for the seed model's conv2: about
// as fast as Mul on the im2col matrix, without building it); for conv1 (KW*In = 15) the kernel
// restarts too often and im2col plus Mul (k = 75) is faster.
func (g *Context) Conv(s ConvShape, in, weights, out []float32, accumulate bool) {
	s.check(len(in), len(weights), len(out))
	if s.Batch == 0 || s.H == 0 || s.W == 0 || s.Out == 0 {
		return
	}
	k := s.KH * s.KW * s.In
	if k == 0 {
		if !accumulate {
			clear(out[:s.Batch*s.H*s.W*s.Out])
		}
		return
	}
	g.run(problem{
		m: s.Batch * s.H * s.W, n: s.Out, k: k, kb: s.KW * s.In,
		a: in, b: weights, ldb: s.Out, c: out, accumulate: accumulate,
		flops: 2 * float64(s.Batch*s.H*s.W) * float64(s.Out) * float64(k),
		conv:  s,
	}, convImages, s.Batch)
}

func (s ConvShape) check(in, weights, out int) {
	if s.Batch < 0 || s.H < 0 || s.W < 0 || s.KH < 0 || s.KW < 0 || s.In < 0 || s.Out < 0 {
		panic(fmt.Sprintf("gemm: negative size in %+v", s))
	}
	need := []int{s.Batch * s.PaddedH() * s.PaddedW() * s.In, s.KH * s.KW * s.In * s.Out, s.Batch * s.H * s.W * s.Out}
	for i, have := range []int{in, weights, out} {
		if s.Batch*s.H*s.W*s.Out == 0 && i != 1 {
			continue
		}
		if have < need[i] {
			panic(fmt.Sprintf("gemm: Conv %+v: %s has %d elements, needs %d", s, []string{"in", "weights", "out"}[i], have, need[i]))
		}
	}
}

// convImages computes output images [lo, hi). For each column panel and kernel row, the packed
// weights of that kernel row (KW*In × nr) stay in L1 while every tile of the image uses them.
func (g *pool) convImages(w *worker, lo, hi int) {
	p, mr, nr := &g.p, g.kern.mr, g.kern.nr
	s := p.conv
	ph, pw := s.PaddedH(), s.PaddedW()
	panels := (p.n + nr - 1) / nr
	for img := lo; img < hi; img++ {
		in := p.a[img*ph*pw*s.In : (img+1)*ph*pw*s.In]
		out := p.c[img*s.H*s.W*s.Out : (img+1)*s.H*s.W*s.Out]
		for jp := 0; jp < panels; jp++ {
			j := jp * nr
			cols := min(nr, p.n-j)
			for ky := 0; ky < s.KH; ky++ {
				off := ky*p.kb*panels*nr + jp*p.kb*nr
				bp := g.packedB[off : off+p.kb*nr]
				add := p.accumulate || ky > 0
				for y := 0; y < s.H; y++ {
					for x := 0; x < s.W; x += mr {
						a := in[((y+ky)*pw+x)*s.In:]
						g.tile(w, p.kb, a, s.In, false, bp, out[(y*s.W+x)*s.Out+j:], s.Out, min(mr, s.W-x), cols, add)
					}
				}
			}
		}
	}
}

// ConvWeightGrad computes the weight gradient of Conv, dw = ∂loss/∂weights given
// dout = ∂loss/∂out, or adds it to dw when accumulate is set:
//
//	dw[ky][kx][ci][co] = Σ_{b<Batch, y<H, x<W} in[b][y+ky][x+kx][ci] · dout[b][y][x][co]
//
// in is the padded input of the forward Conv, dout is Batch×H×W×Out, dw is KH×KW×In×Out. As a
// product, each kernel row ky is (KW*In)×Out = Σ over pixels of a row of in (KW*In contiguous
// floats) times a row of dout; the pixels of one image row are at a constant stride of In
// floats and the image rows at a constant stride too, so the kernel reads in in place and only
// dout is packed. Images are summed in order, each in one register-resident block, so the
// result is bit-identical for any thread count (threads split the rows of dw).
func (g *Context) ConvWeightGrad(s ConvShape, in, dout, dw []float32, accumulate bool) {
	s.check(len(in), len(dw), len(dout))
	rows := s.KH * s.KW * s.In
	if rows == 0 || s.Out == 0 {
		return
	}
	if s.Batch*s.H*s.W == 0 {
		if !accumulate {
			clear(dw[:rows*s.Out])
		}
		return
	}
	mr := g.kern.mr
	g.run(problem{
		m: rows, n: s.Out, k: s.Batch * s.H * s.W, kb: s.H * s.W,
		a: in, b: dout, ldb: s.Out, c: dw, ldc: s.Out, accumulate: accumulate,
		flops: 2 * float64(s.Batch*s.H*s.W) * float64(s.Out) * float64(rows),
		conv:  s,
	}, convWeightRows, s.KH*((s.KW*s.In+mr-1)/mr))
}

// convWeightRows computes row tiles [lo, hi) of dw, numbered kernel row by kernel row (each
// kernel row ky has ceil(KW*In/mr) tiles), image after image.
func (g *pool) convWeightRows(w *worker, lo, hi int) {
	if g.kern.tileS == nil {
		g.convWeightRowsCopied(w, lo, hi)
		return
	}
	p, mr, nr := &g.p, g.kern.mr, g.kern.nr
	s := p.conv
	ph, pw := s.PaddedH(), s.PaddedW()
	rowsPerKy := s.KW * s.In
	tilesPerKy := (rowsPerKy + mr - 1) / mr
	panels := (p.n + nr - 1) / nr
	for img := 0; img < s.Batch; img++ {
		in := p.a[img*ph*pw*s.In : (img+1)*ph*pw*s.In]
		bBlock := g.packedB[img*p.kb*panels*nr:]
		add := p.accumulate || img > 0
		for u := lo; u < hi; u++ {
			ky, r := u/tilesPerKy, u%tilesPerKy*mr
			a := in[ky*pw*s.In+r:]
			h := min(mr, rowsPerKy-r)
			for jp := 0; jp < panels; jp++ {
				j := jp * nr
				bp := bBlock[jp*p.kb*nr : (jp+1)*p.kb*nr]
				c := p.c[(ky*rowsPerKy+r)*p.ldc+j:]
				g.tileSegments(w, s.H, s.W, a, s.In, pw*s.In, bp, c, p.ldc, h, min(nr, p.n-j), add)
			}
		}
	}
}

// segRows is how many rows of A convWeightRowsCopied copies at once: 16 floats per k step,
// moved 8 bytes at a time.
const segRows = 16

// convWeightRowsCopied is convWeightRows for a kernel without tileS: for each image it copies
// the segmented rows of A of up to segRows/mr consecutive row tiles (of one kernel row) into a
// panel, k step by k step, and runs tileT over it for each of these tiles and every column
// panel. Each tile sees the same k steps in the same order as with tileS.
func (g *pool) convWeightRowsCopied(w *worker, lo, hi int) {
	p, mr, nr := &g.p, g.kern.mr, g.kern.nr
	s := p.conv
	ph, pw := s.PaddedH(), s.PaddedW()
	rowsPerKy := s.KW * s.In
	tilesPerKy := (rowsPerKy + mr - 1) / mr
	panels := (p.n + nr - 1) / nr
	group := max(1, segRows/mr)
	for img := 0; img < s.Batch; img++ {
		in := p.a[img*ph*pw*s.In : (img+1)*ph*pw*s.In]
		bBlock := g.packedB[img*p.kb*panels*nr:]
		add := p.accumulate || img > 0
		for u := lo; u < hi; {
			ky, r := u/tilesPerKy, u%tilesPerKy*mr
			n := min(hi-u, tilesPerKy-u%tilesPerKy, group) // tiles copied together
			width := n * mr
			panel := grow(w.segs, p.kb*width)
			w.segs = panel
			packSegments(panel, width, min(width, rowsPerKy-r), s.H, s.W, in[ky*pw*s.In+r:], s.In, pw*s.In)
			for t := range n {
				i := r + t*mr
				for jp := 0; jp < panels; jp++ {
					j := jp * nr
					bp := bBlock[jp*p.kb*nr : (jp+1)*p.kb*nr]
					g.tile(w, p.kb, panel[t*mr:], width, true, bp, p.c[(ky*rowsPerKy+i)*p.ldc+j:], p.ldc, min(mr, rowsPerKy-i), min(nr, p.n-j), add)
				}
			}
			u += n
		}
	}
}

// tileSegments is tile for the segmented A of tileS: nseg segments of kseg steps.
func (g *pool) tileSegments(w *worker, nseg, kseg int, a []float32, lda, sstride int, bp, c []float32, ldc, h, cols int, add bool) {
	kern := g.kern
	mr, nr := kern.mr, kern.nr
	if h == mr && cols == nr {
		kern.tileS(nseg, kseg, a, lda, sstride, bp, c, ldc, add)
		return
	}
	if len(a) >= (nseg-1)*sstride+(kseg-1)*lda+mr {
		kern.tileS(nseg, kseg, a, lda, sstride, bp, w.edge, nr, false)
	} else {
		kc := nseg * kseg
		panel := grow(w.panel, kc*mr)
		w.panel = panel
		for sg := range nseg {
			packSlow(panel[sg*kseg*mr:], mr, h, true, a[sg*sstride:], lda, 0, 0, kseg)
		}
		kern.tileT(kc, panel, mr, bp, w.edge, nr, false)
	}
	merge(c, ldc, w.edge, nr, h, cols, add)
}

// quad is 4 floats that Go copies without a call: on wasm as two 8-byte integer loads and
// stores, whose offsets are folded into the instructions (those of float loads and stores are
// not). Copying a [4]float32 through pointers calls memmove instead, since two array pointers
// made from slices may overlap in part.
type quad struct{ v [4]float32 }

// packSegments copies h rows of the segmented A of tileS into a panel for tileT, width floats
// per k step: nseg segments of kseg steps, A(r,p) for p = s*kseg+t at a[s*sstride+t*lda+r],
// become panel[p*width+r], with rows h <= r < width zero.
func packSegments(panel []float32, width, h, nseg, kseg int, a []float32, lda, sstride int) {
	p := 0
	for sg := range nseg {
		o := sg * sstride
		for range kseg {
			dst := panel[p : p+width : p+width]
			src := a[o : o+h : o+h]
			if width == segRows && h == segRows {
				d, s := unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0])
				*(*quad)(d) = *(*quad)(s)
				*(*quad)(unsafe.Add(d, 16)) = *(*quad)(unsafe.Add(s, 16))
				*(*quad)(unsafe.Add(d, 32)) = *(*quad)(unsafe.Add(s, 32))
				*(*quad)(unsafe.Add(d, 48)) = *(*quad)(unsafe.Add(s, 48))
			} else {
				copy(dst, src)
				clear(dst[h:])
			}
			p += width
			o += lda
		}
	}
}

// Pad copies Batch images of H×W×In floats from src into dst as images of
// PaddedH()×PaddedW()×In with the source at row top, column left, and zeros around it:
// the input of Conv. For TensorFlow's SAME padding, top = (KH-1)/2 and left = (KW-1)/2; for
// the input gradient, pad the output gradient with top = KH-1-top and left = KW-1-left.
func (s ConvShape) Pad(dst, src []float32, top, left int) {
	ph, pw := s.PaddedH(), s.PaddedW()
	if top < 0 || left < 0 || top > s.KH-1 || left > s.KW-1 {
		panic(fmt.Sprintf("gemm: Pad: offset (%d, %d) outside a %dx%d kernel", top, left, s.KH, s.KW))
	}
	c := s.In
	row := s.W * c
	dst = dst[:s.Batch*ph*pw*c]
	src = src[:s.Batch*s.H*row]
	for b := 0; b < s.Batch; b++ {
		img := dst[b*ph*pw*c : (b+1)*ph*pw*c]
		clear(img[:top*pw*c])
		for y := 0; y < s.H; y++ {
			d := img[(top+y)*pw*c : (top+y+1)*pw*c]
			clear(d[:left*c])
			copy(d[left*c:left*c+row], src[(b*s.H+y)*row:])
			clear(d[left*c+row:])
		}
		clear(img[(top+s.H)*pw*c:])
	}
}

// FlipWeights writes into dst the weights of the input-gradient convolution: dst is
// KH×KW×out×in with dst[ky][kx][co][ci] = w[KH-1-ky][KW-1-kx][ci][co], for w of KH×KW×in×out.
// Conv of the padded output gradient with dst, as a ConvShape with In and Out swapped, is the
// gradient of the loss with respect to the input.
func FlipWeights(dst, w []float32, kh, kw, in, out int) {
	n := kh * kw * in * out
	dst, w = dst[:n], w[:n]
	for ky := 0; ky < kh; ky++ {
		for kx := 0; kx < kw; kx++ {
			src := w[((kh-1-ky)*kw+kw-1-kx)*in*out:][:in*out]
			d := dst[(ky*kw+kx)*out*in:][:out*in]
			for ci := 0; ci < in; ci++ {
				for co, v := range src[ci*out : (ci+1)*out] {
					d[co*in+ci] = v
				}
			}
		}
	}
}
