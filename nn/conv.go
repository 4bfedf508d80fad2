package nn

import (
	"unsafe"

	"cifar10/nn/gemm"
)

// KindConv is a 2-D convolution, stride 1, SAME padding, plus bias and an optional ReLU.
const KindConv LayerKind = "conv"

func init() {
	registerKind(KindConv, kind{
		outShape: func(l LayerSpec, in [3]int) ([3]int, error) {
			if l.Size < 1 || l.Out < 1 {
				return [3]int{}, l.errorf("size %d and out %d must be positive", l.Size, l.Out)
			}
			return [3]int{in[0], in[1], l.Out}, nil
		},
		params: func(l LayerSpec, in [3]int) []paramShape {
			return weightsAndBiases(l, l.Size, l.Size, in[2], l.Out) // HWIO
		},
		init: initWeightsAndBiases,
		build: func(l LayerSpec, c layerConfig) layer {
			return newConvLayer(l, c.in, c.params[0], c.params[1], c.batch, c.r, c.relu, c.needDx)
		},
		passesReLU: true,
	})
}

// convLayer is a 2-D convolution with stride 1 and TensorFlow's SAME padding, plus bias and an
// optional ReLU: y = relu(conv(x, W) + b), W stored HWIO [k, k, in, out].
//
// It runs one of two ways, chosen by shape only (so results depend on nothing else):
//   - im2col + GEMM: a block of examples is unfolded into rows of k*k*in values (the HWIO order
//     of W's rows) and one product gives the block's outputs. Used for few input channels
//     (conv1), where one kernel row of taps is too short for the implicit kernel.
//   - implicit (gemm.Conv): the batch is copied once into zero-padded images and the GEMM kernel
//     reads the patches in place, without unfolding (PLATFORM.md: +20% in the browser).
//     A 5×5 implicit convolution whose output is made of 4×4 tiles (conv2) instead computes
//     its forward, input-gradient and weight-gradient convolutions from the same padded images
//     by Winograd's F(4×4, 5×5) (winograd.go): 6 times fewer multiplications.
//
// The input gradient is the SAME convolution of dy with W rotated by 180° and transposed
// (padding k-1-pad before), run the same way. The weight gradient is unfold(x)ᵀ·dy, by blocks
// of examples, or gemm.ConvWeightGrad over the padded input kept from the forward pass.
type convLayer struct {
	r      *runner
	w, b   *Param
	k, pad int // kernel side; padding before (top and left), TF's (k-1)/2
	h, wd  int // spatial size of input and output
	c, o   int // input and output channels
	relu   bool
	chunk  int         // examples per im2col block; fixed by the shapes, never by the threads
	col    []float32   // im2col scratch
	padded [][]float32 // per part: one zero-padded image for im2col
	// colOf and colN say that col holds the unfold of all colN examples of the input at colOf,
	// left by forward: backward then computes the weight gradient without unfolding again.
	colOf *float32
	colN  int
	wflip []float32 // W rotated and transposed: [k, k, out, in]
	db    colSummer // bias gradient

	implicit      bool
	fwd, bwd      gemm.ConvShape // forward and input-gradient convolutions (Batch set per call)
	padX, padDy   []float32      // zero-padded input (kept for the weight gradient) and output gradient
	padTo, padSrc []float32      // arguments of padRange
	padShape      gemm.ConvShape
	padBefore     int
	// wfwd (forward and weight gradient) and wbwd (input gradient) compute by Winograd's
	// F(4×4, 5×5) when the shape allows (winogradFits), or F(2×2, 3×3) when the spec asks
	// for it and the shape allows (LayerSpec.Winograd, winograd3Fits); nil otherwise.
	wfwd, wbwd winoPlan

	// arguments of the other parallel range functions
	src                  []float32
	srcC, srcPad         int
	y, dy                []float32
	fnIm2col, fnBiasReLU func(part, lo, hi int)
	fnMask, fnPad        func(part, lo, hi int)
}

// winoPlan is a convolution computed by Winograd's minimal filtering (winograd.go,
// winograd3.go) over zero-padded images.
type winoPlan interface {
	setWeights(g []float32)
	conv(in []float32, n int, out []float32)
	weightGrad(in, dy []float32, n int, dw []float32)
}

// colBudget bounds the im2col scratch (in floats) so that conv2 at batch 128 does not unfold
// 118 MB at once; blocks of ~16 examples still give the GEMM thousands of rows.
const colBudget = 4 << 20

// implicitMinChannels is the input-channel count from which a convolution runs implicitly: one
// kernel row of taps is then k*in >= 48 contiguous floats.
const implicitMinChannels = 16

func newConvLayer(l LayerSpec, in [3]int, w, b *Param, batch int, r *runner, relu, needDx bool) *convLayer {
	cv := &convLayer{r: r, w: w, b: b, k: l.Size, pad: (l.Size - 1) / 2, h: in[0], wd: in[1], c: in[2], o: l.Out, relu: relu}
	cv.implicit = cv.c >= implicitMinChannels
	width := cv.k * cv.k * cv.c
	if cv.implicit {
		width = 0 // nothing is unfolded
		cv.fwd = gemm.ConvShape{H: cv.h, W: cv.wd, KH: cv.k, KW: cv.k, In: cv.c, Out: cv.o}
		cv.bwd = gemm.ConvShape{H: cv.h, W: cv.wd, KH: cv.k, KW: cv.k, In: cv.o, Out: cv.c}
		cv.padX = make([]float32, batch*cv.fwd.PaddedH()*cv.fwd.PaddedW()*cv.c)
		if needDx {
			cv.padDy = make([]float32, batch*cv.bwd.PaddedH()*cv.bwd.PaddedW()*cv.o)
		}
		if winogradFits(cv.k, cv.h, cv.wd) {
			s := newWinoScratch(cv.h, cv.wd, max(cv.c, cv.o), batch)
			cv.wfwd = newWinograd(r, cv.h, cv.wd, cv.c, cv.o, s, true)
			if needDx {
				cv.wbwd = newWinograd(r, cv.h, cv.wd, cv.o, cv.c, s, false)
			}
		} else if l.Winograd && winograd3Fits(cv.k, cv.h, cv.wd) {
			s := newWino3Scratch(cv.h, cv.wd, max(cv.c, cv.o), batch)
			cv.wfwd = newWinograd3(r, cv.h, cv.wd, cv.c, cv.o, s, true)
			if needDx {
				cv.wbwd = newWinograd3(r, cv.h, cv.wd, cv.o, cv.c, s, false)
			}
		}
	} else if needDx {
		width = max(width, cv.k*cv.k*cv.o)
	}
	if perExample := cv.h * cv.wd * width; perExample > 0 {
		cv.chunk = max(1, min(batch, colBudget/perExample))
		cv.col = make([]float32, cv.chunk*perExample)
		cv.padded = make([][]float32, r.threads)
		for i := range cv.padded {
			cv.padded[i] = make([]float32, (cv.h+cv.k-1)*(cv.wd+cv.k-1)*(width/(cv.k*cv.k))) // width/k² channels
		}
	}
	if needDx {
		cv.wflip = make([]float32, len(w.Data()))
	}
	cv.db = newColSummer(cv.o)
	cv.fnIm2col, cv.fnBiasReLU, cv.fnMask, cv.fnPad = cv.im2colRange, cv.biasReLURange, cv.maskRange, cv.padRange
	return cv
}

func (cv *convLayer) forward(x, y []float32, n int) {
	pix := cv.h * cv.wd
	y = y[:n*pix*cv.o]
	if cv.implicit {
		s := cv.fwd
		s.Batch = n
		cv.padImages(s, cv.padX, x, cv.pad)
		if cv.wfwd != nil {
			cv.wfwd.setWeights(cv.w.Data())
			cv.wfwd.conv(cv.padX, n, y)
		} else {
			cv.r.gemm.Conv(s, cv.padX, cv.w.Data(), y, false)
		}
	} else {
		kk := cv.k * cv.k * cv.c
		for e0 := 0; e0 < n; e0 += cv.chunk {
			m := min(cv.chunk, n-e0)
			cv.unfold(x[e0*pix*cv.c:], cv.c, cv.pad, m)
			cv.r.gemm.Mul(false, false, m*pix, cv.o, kk, cv.col, kk, cv.w.Data(), cv.o, y[e0*pix*cv.o:], cv.o, false)
		}
		cv.colOf, cv.colN = nil, 0
		if n <= cv.chunk {
			cv.colOf, cv.colN = unsafe.SliceData(x), n
		}
	}
	cv.y = y
	cv.r.parallel(n, cv.fnBiasReLU)
}

func (cv *convLayer) backward(x, y, dy, dx []float32, n int) {
	pix := cv.h * cv.wd
	dy = dy[:n*pix*cv.o]
	if cv.relu {
		cv.y, cv.dy = y, dy
		cv.r.parallel(n, cv.fnMask)
	}
	cv.db.sum(cv.b.GradData(), dy, n, pix)
	dw := cv.w.GradData()
	if cv.implicit {
		if cv.wfwd != nil {
			cv.wfwd.weightGrad(cv.padX, dy, n, dw)
		} else {
			s := cv.fwd
			s.Batch = n
			cv.r.gemm.ConvWeightGrad(s, cv.padX, dy, dw, false)
		}
	} else {
		kk := cv.k * cv.k * cv.c
		kept := cv.colN == n && cv.colOf == unsafe.SliceData(x) // forward's unfold of x (one chunk)
		for e0 := 0; e0 < n; e0 += cv.chunk {
			m := min(cv.chunk, n-e0)
			if !kept {
				cv.unfold(x[e0*pix*cv.c:], cv.c, cv.pad, m)
			}
			cv.r.gemm.Mul(true, false, kk, cv.o, m*pix, cv.col, kk, dy[e0*pix*cv.o:], cv.o, dw, cv.o, e0 > 0)
		}
	}
	cv.colOf, cv.colN = nil, 0 // the input gradient below may overwrite col
	if dx == nil {
		return
	}
	gemm.FlipWeights(cv.wflip, cv.w.Data(), cv.k, cv.k, cv.c, cv.o)
	if cv.implicit {
		s := cv.bwd
		s.Batch = n
		cv.padImages(s, cv.padDy, dy, cv.k-1-cv.pad)
		if cv.wbwd != nil {
			cv.wbwd.setWeights(cv.wflip)
			cv.wbwd.conv(cv.padDy, n, dx)
		} else {
			cv.r.gemm.Conv(s, cv.padDy, cv.wflip, dx, false)
		}
		return
	}
	ko := cv.k * cv.k * cv.o
	for e0 := 0; e0 < n; e0 += cv.chunk {
		m := min(cv.chunk, n-e0)
		cv.unfold(dy[e0*pix*cv.o:], cv.o, cv.k-1-cv.pad, m)
		cv.r.gemm.Mul(false, false, m*pix, cv.c, ko, cv.col, ko, cv.wflip, cv.c, dx[e0*pix*cv.c:], cv.c, false)
	}
}

// padImages copies s.Batch images from src into dst zero-padded for s, before = top = left.
func (cv *convLayer) padImages(s gemm.ConvShape, dst, src []float32, before int) {
	cv.padShape, cv.padTo, cv.padSrc, cv.padBefore = s, dst, src, before
	cv.r.parallel(s.Batch, cv.fnPad)
}

func (cv *convLayer) padRange(_, lo, hi int) {
	s := cv.padShape
	in, out := s.H*s.W*s.In, s.PaddedH()*s.PaddedW()*s.In
	s.Batch = hi - lo
	s.Pad(cv.padTo[lo*out:hi*out], cv.padSrc[lo*in:hi*in], cv.padBefore, cv.padBefore)
}

// unfold writes the im2col rows of m examples of src (channels ch, padding pad before) to col.
func (cv *convLayer) unfold(src []float32, ch, pad, m int) {
	cv.src, cv.srcC, cv.srcPad = src, ch, pad
	cv.r.parallel(m, cv.fnIm2col)
}

func (cv *convLayer) im2colRange(part, lo, hi int) {
	in := cv.h * cv.wd * cv.srcC
	out := cv.h * cv.wd * cv.k * cv.k * cv.srcC
	for e := lo; e < hi; e++ {
		im2col(cv.src[e*in:(e+1)*in], cv.col[e*out:(e+1)*out], cv.padded[part], cv.h, cv.wd, cv.srcC, cv.k, cv.srcPad)
	}
}

// im2col unfolds one HWC image: row y*w+x holds the k×k×c patch whose top-left input pixel is
// (y-pad, x-pad), in (kh, kw, c) order, with zeros where the patch leaves the image. The image
// is first copied into padded, (h+k-1)×(w+k-1)×c with zeros around it, so that every patch
// is k runs of k·c floats (unfoldRun): no clipping, and no memclr or memmove call per run
// (which cost Go's wasm more than the copying; conv1's SIMD unfoldRun copies a run of 15
// floats as four vectors).
func im2col(x, col, padded []float32, h, w, c, k, pad int) {
	pw := w + k - 1
	padded = padded[:(h+k-1)*pw*c]
	clear(padded)
	for y := range h {
		copy(padded[((y+pad)*pw+pad)*c:], x[y*w*c:(y+1)*w*c])
	}
	row := k * k * c
	for y := range h {
		unfoldRun(col[y*w*row:(y+1)*w*row], padded[y*pw*c:], w, pw, c, k)
	}
}

func (cv *convLayer) biasReLURange(_, lo, hi int) {
	rows := cv.h * cv.wd
	biasReLU(cv.y[lo*rows*cv.o:hi*rows*cv.o], cv.b.Data(), cv.relu)
}

func (cv *convLayer) maskRange(_, lo, hi int) {
	size := cv.h * cv.wd * cv.o
	reluMask(cv.dy[lo*size:hi*size], cv.y[lo*size:hi*size])
}
