package nn

import "math"

// KindLRN is local response normalization across channels (tf.nn.lrn).
const KindLRN LayerKind = "lrn"

func init() {
	registerKind(KindLRN, kind{
		outShape: func(l LayerSpec, in [3]int) ([3]int, error) {
			if l.Radius < 0 || l.Beta < 0 || l.Bias <= 0 || l.Alpha < 0 {
				return [3]int{}, l.errorf("radius %d, bias %g, alpha %g, beta %g out of range", l.Radius, l.Bias, l.Alpha, l.Beta)
			}
			return in, nil
		},
		build: func(l LayerSpec, c layerConfig) layer {
			return newLRNLayer(l, c.in, c.batch, c.r)
		},
	})
}

// lrnLayer is local response normalization across channels exactly as tf.nn.lrn defines it:
//
//	s[c]   = bias + alpha * sum_{c'=max(0,c-r)}^{min(C-1,c+r)} x[c']²   (alpha not divided by the window)
//	y[c]   = x[c] * s[c]^-beta
//	dx[j]  = dy[j]*s[j]^-beta - 2*alpha*beta*x[j] * sum_{|c-j|<=r} dy[c]*y[c]/s[c]
//
// s is cached for the backward pass; s^-beta is recomputed there (for beta 0.75 it is
// 1/(sqrt(s)*sqrt(sqrt(s))), two square roots instead of a pow).
type lrnLayer struct {
	r                 *runner
	radius            int
	bias, alpha, beta float32
	pix, c            int
	s                 []float32 // cache: the denominators' bases, batch x pix x c
	scratch           [][]float32
	x, y, dy, dx      []float32
	fnFwd, fnBwd      func(part, lo, hi int)
}

func newLRNLayer(l LayerSpec, in [3]int, batch int, r *runner) *lrnLayer {
	n := &lrnLayer{r: r, radius: l.Radius, bias: float32(l.Bias), alpha: float32(l.Alpha), beta: float32(l.Beta),
		pix: in[0] * in[1], c: in[2]}
	n.s = make([]float32, batch*n.pix*n.c)
	n.scratch = make([][]float32, r.threads)
	for i := range n.scratch {
		n.scratch[i] = make([]float32, n.c+2*n.radius)
	}
	n.fnFwd, n.fnBwd = n.forwardRange, n.backwardRange
	return n
}

func (n *lrnLayer) forward(x, y []float32, cnt int) {
	n.x, n.y = x, y
	n.r.parallel(cnt, n.fnFwd)
}

func (n *lrnLayer) forwardRange(part, lo, hi int) {
	a, b := lo*n.pix*n.c, hi*n.pix*n.c
	lrnForward(n.x[a:b], n.y[a:b], n.s[a:b], n.scratch[part], n.c, n.radius, n.bias, n.alpha, n.beta)
}

func (n *lrnLayer) backward(x, y, dy, dx []float32, cnt int) {
	if dx == nil {
		return
	}
	n.x, n.y, n.dy, n.dx = x, y, dy, dx
	n.r.parallel(cnt, n.fnBwd)
}

func (n *lrnLayer) backwardRange(part, lo, hi int) {
	a, b := lo*n.pix*n.c, hi*n.pix*n.c
	k := 2 * n.alpha * n.beta
	lrnBackward(n.x[a:b], n.y[a:b], n.s[a:b], n.dy[a:b], n.dx[a:b], n.scratch[part], n.c, n.radius, k, n.beta)
}

// lrnForwardGo normalizes the pixels of c channels x into y and records the bases s.
func lrnForwardGo(x, y, s, pad []float32, c, r int, bias, alpha, beta float32) {
	for o := 0; o+c <= len(x); o += c {
		lrnPixelForwardGo(x[o:o+c], y[o:o+c], s[o:o+c], pad, r, bias, alpha, beta)
	}
}

// lrnBackwardGo computes the input gradient of the pixels of c channels x; k is 2*alpha*beta.
func lrnBackwardGo(x, y, s, dy, dx, pad []float32, c, r int, k, beta float32) {
	for o := 0; o+c <= len(x); o += c {
		lrnPixelBackwardGo(x[o:o+c], y[o:o+c], s[o:o+c], dy[o:o+c], dx[o:o+c], pad, r, k, beta)
	}
}

// lrnPixelForwardGo normalizes one pixel's channels x into y and records the bases s. pad
// (len(x)+2r) holds the squares with r zeros on each side, so every window sum has the same
// 2r+1 terms in the same order (adding the zeros is exact).
func lrnPixelForwardGo(x, y, s, pad []float32, r int, bias, alpha, beta float32) {
	c := len(x)
	sq := pad[r : r+c]
	for i, v := range x {
		sq[i] = v * v
	}
	clear(pad[:r])
	clear(pad[r+c:])
	i := 0
	if beta == 0.75 {
		for ; i+4 <= c; i += 4 {
			a := windowSums4(pad, i, r)
			ss, yy, xx := s[i:i+4:i+4], y[i:i+4:i+4], x[i:i+4:i+4]
			s0, s1, s2, s3 := bias+alpha*a[0], bias+alpha*a[1], bias+alpha*a[2], bias+alpha*a[3]
			ss[0], ss[1], ss[2], ss[3] = s0, s1, s2, s3
			yy[0], yy[1], yy[2], yy[3] = xx[0]*pow075(s0), xx[1]*pow075(s1), xx[2]*pow075(s2), xx[3]*pow075(s3)
		}
	}
	for ; i < c; i++ {
		si := bias + alpha*windowSum1(pad, i, r)
		s[i] = si
		y[i] = x[i] * powNeg(si, beta)
	}
}

// lrnPixelBackwardGo computes one pixel's input gradient; pad is scratch like in
// lrnPixelForwardGo and k is 2*alpha*beta.
func lrnPixelBackwardGo(x, y, s, dy, dx, pad []float32, r int, k, beta float32) {
	c := len(x)
	t := pad[r : r+c]
	for i := range c {
		t[i] = dy[i] * y[i] / s[i]
	}
	clear(pad[:r])
	clear(pad[r+c:])
	i := 0
	if beta == 0.75 {
		for ; i+4 <= c; i += 4 {
			a := windowSums4(pad, i, r)
			d, g, ss, xx := dx[i:i+4:i+4], dy[i:i+4:i+4], s[i:i+4:i+4], x[i:i+4:i+4]
			d[0] = g[0]*pow075(ss[0]) - k*xx[0]*a[0]
			d[1] = g[1]*pow075(ss[1]) - k*xx[1]*a[1]
			d[2] = g[2]*pow075(ss[2]) - k*xx[2]*a[2]
			d[3] = g[3]*pow075(ss[3]) - k*xx[3]*a[3]
		}
	}
	for ; i < c; i++ {
		dx[i] = dy[i]*powNeg(s[i], beta) - k*x[i]*windowSum1(pad, i, r)
	}
}

// windowSums4 returns the window sums of channels i..i+3: pad[i+j] + pad[i+j+1] + ... +
// pad[i+j+2r], added in that order (as the SIMD kernel adds them), four chains at once.
func windowSums4(pad []float32, i, r int) [4]float32 {
	w := pad[i : i+4 : i+4]
	a0, a1, a2, a3 := w[0], w[1], w[2], w[3]
	for d := 1; d <= 2*r; d++ {
		w = pad[i+d : i+d+4 : i+d+4]
		a0, a1, a2, a3 = a0+w[0], a1+w[1], a2+w[2], a3+w[3]
	}
	return [4]float32{a0, a1, a2, a3}
}

// windowSum1 is one channel's window sum, in the same order as windowSums4.
func windowSum1(pad []float32, i, r int) float32 {
	w := pad[i : i+2*r+1]
	acc := w[0]
	for _, v := range w[1:] {
		acc += v
	}
	return acc
}

// powNeg returns s^-beta in float32; 0.75, the value every preset uses, takes two square roots.
func powNeg(s, beta float32) float32 {
	if beta == 0.75 {
		return pow075(s)
	}
	return float32(math.Pow(float64(s), -float64(beta)))
}

// pow075 is s^-0.75 = 1/(sqrt(s)*sqrt(sqrt(s))).
func pow075(s float32) float32 {
	q := sqrt32(s)
	return 1 / (q * sqrt32(q))
}

// sqrt32 is the correctly rounded float32 square root (one instruction on amd64 and wasm).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
