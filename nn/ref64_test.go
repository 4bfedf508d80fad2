package nn

import (
	"math"

	"cifar10/nn/shard"
)

// Float64 reference implementations of every layer, written directly from TensorFlow's
// definitions with plain loops (independent of the engine's im2col, window tables and kernels).
// The tests differentiate them numerically to check the engine's backward passes.

// samePad returns TF's SAME output size and padding before for one axis.
func samePad(in, k, stride int) (out, before int) {
	out = (in + stride - 1) / stride
	total := max((out-1)*stride+k-in, 0)
	return out, total / 2
}

// conv64 is tf.nn.conv2d(x, w, strides 1, "SAME") + b, with optional ReLU, NHWC / HWIO.
func conv64(x []float64, n, h, w, c int, wt, b []float64, k, o int, relu bool) []float64 {
	_, ph := samePad(h, k, 1)
	_, pw := samePad(w, k, 1)
	y := make([]float64, n*h*w*o)
	for e := 0; e < n; e++ {
		for oy := 0; oy < h; oy++ {
			for ox := 0; ox < w; ox++ {
				for j := 0; j < o; j++ {
					s := b[j]
					for kh := 0; kh < k; kh++ {
						for kw := 0; kw < k; kw++ {
							iy, ix := oy+kh-ph, ox+kw-pw
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							for i := 0; i < c; i++ {
								s += x[((e*h+iy)*w+ix)*c+i] * wt[((kh*k+kw)*c+i)*o+j]
							}
						}
					}
					if relu {
						s = math.Max(s, 0)
					}
					y[((e*h+oy)*w+ox)*o+j] = s
				}
			}
		}
	}
	return y
}

// pool64 is tf.nn.max_pool(x, k, stride, "SAME") with an optional ReLU before it.
func pool64(x []float64, n, h, w, c, k, stride int, relu bool) []float64 {
	oh, ph := samePad(h, k, stride)
	ow, pw := samePad(w, k, stride)
	y := make([]float64, n*oh*ow*c)
	for e := 0; e < n; e++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for ch := 0; ch < c; ch++ {
					m := math.Inf(-1)
					for dy := 0; dy < k; dy++ {
						for dx := 0; dx < k; dx++ {
							iy, ix := oy*stride+dy-ph, ox*stride+dx-pw
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue // padding never wins
							}
							v := x[((e*h+iy)*w+ix)*c+ch]
							if relu {
								v = math.Max(v, 0)
							}
							m = math.Max(m, v)
						}
					}
					y[((e*oh+oy)*ow+ox)*c+ch] = m
				}
			}
		}
	}
	return y
}

// lrn64 is tf.nn.lrn over the last axis of rows of c channels.
func lrn64(x []float64, c, r int, bias, alpha, beta float64) []float64 {
	y := make([]float64, len(x))
	for p := 0; p < len(x)/c; p++ {
		for j := 0; j < c; j++ {
			s := 0.0
			for i := max(0, j-r); i <= min(c-1, j+r); i++ {
				s += x[p*c+i] * x[p*c+i]
			}
			y[p*c+j] = x[p*c+j] / math.Pow(bias+alpha*s, beta)
		}
	}
	return y
}

// dense64 is x·W + b with optional ReLU, W [in, out].
func dense64(x []float64, n, in int, wt, b []float64, o int, relu bool) []float64 {
	y := make([]float64, n*o)
	for e := 0; e < n; e++ {
		for j := 0; j < o; j++ {
			s := b[j]
			for i := 0; i < in; i++ {
				s += x[e*in+i] * wt[i*o+j]
			}
			if relu {
				s = math.Max(s, 0)
			}
			y[e*o+j] = s
		}
	}
	return y
}

// xent64 is the sum over examples of sparse softmax cross-entropy.
func xent64(z []float64, labels []uint8, classes int) float64 {
	total := 0.0
	for e, lab := range labels {
		row := z[e*classes : (e+1)*classes]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(v - m)
		}
		total += math.Log(s) + m - row[lab]
	}
	return total
}

// model64 runs a whole spec in float64 with the given parameters (by name) and returns the sum of
// the cross-entropies plus the weight decay, scaled like Trainer.Step's loss (mean over n).
func model64(spec Spec, params map[string][]float64, x []float64, labels []uint8) float64 {
	n := len(labels)
	in := spec.Input
	for _, l := range spec.Layers {
		switch l.Kind {
		case KindConv:
			x = conv64(x, n, in[0], in[1], in[2], params[l.Name+"/weights"], params[l.Name+"/biases"], l.Size, l.Out, l.ReLU)
			in[2] = l.Out
		case KindMaxPool:
			x = pool64(x, n, in[0], in[1], in[2], l.Size, l.Stride, false)
			in[0], _ = samePad(in[0], l.Size, l.Stride)
			in[1], _ = samePad(in[1], l.Size, l.Stride)
		case KindLRN:
			x = lrn64(x, in[2], l.Radius, l.Bias, l.Alpha, l.Beta)
		case KindGELU:
			x = gelu64(x)
		case KindGlobalMaxPool:
			x = globalMax64(x, n, in[0]*in[1], in[2])
			in[0], in[1] = 1, 1
		case KindBatchNorm:
			x, _, _ = batchNorm64(x, n, in[0]*in[1], in[2], params[l.Name+"/gamma"], params[l.Name+"/beta"], l.Epsilon)
		case KindWhiten:
			o := whitenOut(l.Size, in[2])
			x = whiten64(x, n, in[0], in[1], in[2], params[l.Name+"/weights"], params[l.Name+"/biases"], l.Size, o)
			in = [3]int{in[0] - l.Size + 1, in[1] - l.Size + 1, o}
		case KindDense:
			x = dense64(x, n, in[0]*in[1]*in[2], params[l.Name+"/weights"], params[l.Name+"/biases"], l.Out, l.ReLU)
			if l.Mul != 0 {
				for i := range x {
					x[i] *= l.Mul
				}
			}
			in = [3]int{1, 1, l.Out}
		}
	}
	loss := xent64(x, labels, spec.Classes) / float64(n)
	for _, l := range spec.Layers {
		if w := params[l.Name+"/weights"]; w != nil && l.WeightDecay != 0 {
			s := 0.0
			for _, v := range w {
				s += v * v
			}
			loss += l.WeightDecay * s / 2
		}
	}
	return loss
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func dot64(a []float64, b []float32) float64 {
	s := 0.0
	for i, v := range a {
		s += v * float64(b[i])
	}
	return s
}

// gelu64 is x·Φ(x) with Φ(x) = (1 + erf(x/√2))/2.
func gelu64(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v * (1 + math.Erf(v/math.Sqrt2)) / 2
	}
	return y
}

// globalMax64 is each channel's largest value over an example's pixels.
func globalMax64(x []float64, n, pix, c int) []float64 {
	y := make([]float64, n*c)
	for e := range n {
		for j := range c {
			m := math.Inf(-1)
			for p := range pix {
				m = max(m, x[(e*pix+p)*c+j])
			}
			y[e*c+j] = m
		}
	}
	return y
}

// batchNorm64 normalizes each channel over each group of examples (the shards of nn/shard
// for n examples), then scales by gamma (nil: 1) and adds beta. It also returns each
// channel's mean over the groups of their means and of their unbiased variances, weighted
// by the groups' examples: what the running statistics receive.
func batchNorm64(x []float64, n, pix, c int, gamma, beta []float64, eps float64) (y, mean, variance []float64) {
	y = make([]float64, len(x))
	mean, variance = make([]float64, c), make([]float64, c)
	groups := shard.Count(n)
	for g := range groups {
		lo, hi := shard.Bounds(n, groups, g)
		cnt := float64((hi - lo) * pix)
		for j := range c {
			m, v := 0.0, 0.0
			for i := lo * pix; i < hi*pix; i++ {
				m += x[i*c+j]
			}
			m /= cnt
			for i := lo * pix; i < hi*pix; i++ {
				v += (x[i*c+j] - m) * (x[i*c+j] - m)
			}
			v /= cnt
			s := 1.0
			if gamma != nil {
				s = gamma[j]
			}
			for i := lo * pix; i < hi*pix; i++ {
				y[i*c+j] = (x[i*c+j]-m)/math.Sqrt(v+eps)*s + beta[j]
			}
			w := float64(hi-lo) / float64(n)
			mean[j] += m * w
			variance[j] += v * cnt / (cnt - 1) * w
		}
	}
	return y, mean, variance
}

// whiten64 is a k×k convolution without padding (HWIO weights [k,k,c,o]) plus bias.
func whiten64(x []float64, n, h, w, c int, wt, b []float64, k, o int) []float64 {
	oh, ow := h-k+1, w-k+1
	y := make([]float64, n*oh*ow*o)
	for e := range n {
		for oy := range oh {
			for ox := range ow {
				for q := range o {
					s := b[q]
					for ky := range k {
						for kx := range k {
							for ci := range c {
								s += x[((e*h+oy+ky)*w+ox+kx)*c+ci] * wt[((ky*k+kx)*c+ci)*o+q]
							}
						}
					}
					y[((e*oh+oy)*ow+ox)*o+q] = s
				}
			}
		}
	}
	return y
}
