package nn

import "math"

// KindDense is a fully connected layer, y = x·W + b, plus an optional ReLU and an optional
// constant factor (LayerSpec.Mul). It flattens its
// input in (h, w, c) order, which is TensorFlow's reshape of an NHWC tensor, so no separate
// flatten layer is needed.
const KindDense LayerKind = "dense"

func init() {
	registerKind(KindDense, kind{
		outShape: func(l LayerSpec, in [3]int) ([3]int, error) {
			if l.Out < 1 || !(l.Mul >= 0) || math.IsInf(l.Mul, 0) {
				return [3]int{}, l.errorf("out %d must be positive and mul %g a finite value >= 0 (0 means 1)", l.Out, l.Mul)
			}
			return [3]int{1, 1, l.Out}, nil
		},
		params: func(l LayerSpec, in [3]int) []paramShape {
			return weightsAndBiases(l, in[0]*in[1]*in[2], l.Out)
		},
		init: initWeightsAndBiases,
		build: func(l LayerSpec, c layerConfig) layer {
			return newDenseLayer(l, c.in, c.params[0], c.params[1], c.r)
		},
	})
}

// denseLayer is a fully connected layer y = relu?(x·W + b) with W stored [in, out] as TensorFlow
// stores it. Its input is the previous activation flattened in (h, w, c) order, which is the
// NHWC memory order, so flattening costs nothing.
type denseLayer struct {
	r       *runner
	w, b    *Param
	in, out int
	relu    bool
	mul     float32 // the output's factor; 1 skips it
	db      colSummer
}

func newDenseLayer(l LayerSpec, in [3]int, w, b *Param, r *runner) *denseLayer {
	d := &denseLayer{r: r, w: w, b: b, in: in[0] * in[1] * in[2], out: l.Out, relu: l.ReLU, mul: 1}
	if l.Mul != 0 {
		d.mul = float32(l.Mul)
	}
	d.db = newColSummer(d.out)
	return d
}

func (d *denseLayer) forward(x, y []float32, n int) {
	y = y[:n*d.out]
	d.r.gemm.Mul(false, false, n, d.out, d.in, x, d.in, d.w.Data(), d.out, y, d.out, false)
	biasReLU(y, d.b.Data(), d.relu)
	if d.mul != 1 {
		scale32(y, d.mul)
	}
}

// scale32 multiplies x by s in place.
func scale32(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

func (d *denseLayer) backward(x, y, dy, dx []float32, n int) {
	dy = dy[:n*d.out]
	if d.mul != 1 {
		scale32(dy, d.mul)
	}
	if d.relu {
		reluMask(dy, y)
	}
	d.db.sum(d.b.GradData(), dy, n, 1)
	d.r.gemm.Mul(true, false, d.in, d.out, n, x, d.in, dy, d.out, d.w.GradData(), d.out, false)
	if dx != nil {
		d.r.gemm.Mul(false, true, n, d.in, d.out, dy, d.out, d.w.Data(), d.out, dx, d.in, false)
	}
}
