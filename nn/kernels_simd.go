//go:build goexperiment.simd && (amd64 || wasm)

package nn

import (
	"runtime"

	"simd/archsimd"
)

// SIMD kernels (Float32x4: wasm SIMD128 in the browser, AVX on amd64). Each performs exactly the
// operations of its portable twin in kernels.go, in the same order, lane by lane, so results on
// finite values are bit-identical up to the sign of zero; the tests compare them. Tails shorter
// than a vector go to the twin.

// useSIMD is false on an amd64 CPU without AVX2 (BroadcastFloat32x4 needs it).
var useSIMD = runtime.GOARCH == "wasm" || (archsimd.X86.AVX() && archsimd.X86.AVX2())

func load(s []float32) archsimd.Float32x4 { return archsimd.LoadFloat32x4(s) }

func bcast(v float32) archsimd.Float32x4 { return archsimd.BroadcastFloat32x4(v) }

func biasReLU(y, b []float32, relu bool) {
	c := len(b)
	if !useSIMD || c%4 != 0 {
		biasReLUGo(y, b, relu)
		return
	}
	zero := bcast(0)
	for r := 0; r+c <= len(y); r += c {
		row := y[r : r+c : r+c]
		for j := 0; j+4 <= c; j += 4 {
			v := load(row[j:]).Add(load(b[j:]))
			if relu {
				v = v.Max(zero)
			}
			v.Store(row[j:])
		}
	}
}

func reluMask(dy, y []float32) {
	if !useSIMD {
		reluMaskGo(dy, y)
		return
	}
	zero := bcast(0)
	y = y[:len(dy)]
	i := 0
	for ; i+4 <= len(dy); i += 4 {
		load(dy[i:]).Masked(load(y[i:]).Greater(zero)).Store(dy[i:])
	}
	reluMaskGo(dy[i:], y[i:])
}

func addRows(acc, x []float32) {
	c := len(acc)
	if !useSIMD || c%4 != 0 {
		addRowsGo(acc, x)
		return
	}
	for j := 0; j+4 <= c; j += 4 {
		a := load(acc[j:])
		for r := j; r+4 <= len(x); r += c {
			a = a.Add(load(x[r:]))
		}
		a.Store(acc[j:])
	}
}

func poolMax(dst, x []float32, cells []int, relu bool) {
	c := len(dst)
	if !useSIMD || c%4 != 0 {
		poolMaxGo(dst, x, cells, relu)
		return
	}
	zero := bcast(0)
	for j := 0; j+4 <= c; j += 4 {
		m := load(x[cells[0]+j:])
		for _, o := range cells[1:] {
			m = m.Max(load(x[o+j:]))
		}
		if relu {
			m = m.Max(zero)
		}
		m.Store(dst[j:])
	}
}

func poolRoute(dx, x, y, g []float32) {
	if !useSIMD {
		poolRouteGo(dx, x, y, g)
		return
	}
	x, y, g = x[:len(dx)], y[:len(dx)], g[:len(dx)]
	i := 0
	for ; i+4 <= len(dx); i += 4 {
		gv := load(g[i:])
		add := gv.Masked(load(x[i:]).Equal(load(y[i:])))
		load(dx[i:]).Add(add).Store(dx[i:])
		gv.Sub(add).Store(g[i:])
	}
	poolRouteGo(dx[i:], x[i:], y[i:], g[i:])
}

// powNeg075 is s^-0.75 = 1/(sqrt(s)*sqrt(sqrt(s))), as powNeg computes it.
func powNeg075(s archsimd.Float32x4) archsimd.Float32x4 {
	q := s.Sqrt()
	return bcast(1).Div(q.Mul(q.Sqrt()))
}

// windowSum adds the 2r+1 vectors pad[i], pad[i+1], ..., pad[i+2r] in that order.
func windowSum(pad []float32, i, r int) archsimd.Float32x4 {
	acc := load(pad[i:])
	for d := 1; d <= 2*r; d++ {
		acc = acc.Add(load(pad[i+d:]))
	}
	return acc
}

func lrnForward(x, y, s, pad []float32, r int, bias, alpha, beta float32) {
	c := len(x)
	if !useSIMD || beta != 0.75 || c%4 != 0 {
		lrnForwardGo(x, y, s, pad, r, bias, alpha, beta)
		return
	}
	clear(pad[:r])
	clear(pad[r+c:])
	for i := 0; i+4 <= c; i += 4 {
		v := load(x[i:])
		v.Mul(v).Store(pad[r+i:])
	}
	av, bv := bcast(alpha), bcast(bias)
	for i := 0; i+4 <= c; i += 4 {
		si := windowSum(pad, i, r).Mul(av).Add(bv)
		si.Store(s[i:])
		load(x[i:]).Mul(powNeg075(si)).Store(y[i:])
	}
}

func lrnBackward(x, y, s, dy, dx, pad []float32, r int, k, beta float32) {
	c := len(x)
	if !useSIMD || beta != 0.75 || c%4 != 0 {
		lrnBackwardGo(x, y, s, dy, dx, pad, r, k, beta)
		return
	}
	clear(pad[:r])
	clear(pad[r+c:])
	for i := 0; i+4 <= c; i += 4 {
		load(dy[i:]).Mul(load(y[i:])).Div(load(s[i:])).Store(pad[r+i:])
	}
	kv := bcast(k)
	for i := 0; i+4 <= c; i += 4 {
		acc := windowSum(pad, i, r)
		d := load(dy[i:]).Mul(powNeg075(load(s[i:])))
		d.Sub(kv.Mul(load(x[i:])).Mul(acc)).Store(dx[i:])
	}
}

func adamUpdate(w, g, m, v []float32, alpha, c1, c2, eps float32) {
	if !useSIMD {
		adamUpdateGo(w, g, m, v, alpha, c1, c2, eps)
		return
	}
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	av, c1v, c2v, ev := bcast(alpha), bcast(c1), bcast(c2), bcast(eps)
	i := 0
	for ; i+4 <= len(w); i += 4 {
		gi, mi, vi := load(g[i:]), load(m[i:]), load(v[i:])
		mi = mi.Add(gi.Sub(mi).Mul(c1v))
		vi = vi.Add(gi.Mul(gi).Sub(vi).Mul(c2v))
		mi.Store(m[i:])
		vi.Store(v[i:])
		load(w[i:]).Sub(mi.Mul(av).Div(vi.Sqrt().Add(ev))).Store(w[i:])
	}
	adamUpdateGo(w[i:], g[i:], m[i:], v[i:], alpha, c1, c2, eps)
}

func momentumUpdate(w, g, acc []float32, lr, mom float32) {
	if !useSIMD {
		momentumUpdateGo(w, g, acc, lr, mom)
		return
	}
	g, acc = g[:len(w)], acc[:len(w)]
	lv, mv := bcast(lr), bcast(mom)
	i := 0
	for ; i+4 <= len(w); i += 4 {
		a := load(acc[i:]).Mul(mv).Add(load(g[i:]))
		a.Store(acc[i:])
		load(w[i:]).Sub(a.Mul(lv)).Store(w[i:])
	}
	momentumUpdateGo(w[i:], g[i:], acc[i:], lr, mom)
}

type vec = archsimd.Float32x4

// bt6 is bt6Go on vectors.
func bt6(d0, d1, d2, d3, d4, d5 vec) (r0, r1, r2, r3, r4, r5 vec) {
	half, two, four, quarter, k := bcast(0.5), bcast(2), bcast(4), bcast(0.25), bcast(4.25)
	s1, s2 := d4.Sub(four.Mul(d2)), half.Mul(d3).Sub(two.Mul(d1))
	t1, t2 := d4.Sub(quarter.Mul(d2)), two.Mul(d3).Sub(half.Mul(d1))
	return d0.Add(d4).Sub(k.Mul(d2)), s1.Add(s2), s1.Sub(s2), t1.Add(t2), t1.Sub(t2),
		d1.Add(d5).Sub(k.Mul(d3))
}

// g6 is g6Go on vectors.
func g6(g0, g1, g2, g3, g4 vec) (r0, r1, r2, r3, r4, r5 vec) {
	e := g0.Add(bcast(0.25).Mul(g2)).Add(bcast(0.0625).Mul(g4))
	od := bcast(0.5).Mul(g1).Add(bcast(0.125).Mul(g3))
	e2 := g0.Add(bcast(4).Mul(g2)).Add(bcast(16).Mul(g4))
	o2 := bcast(2).Mul(g1).Add(bcast(8).Mul(g3))
	hr, tr := bcast(gHalfRow), bcast(gTwoRow)
	return g0, e.Add(od).Mul(hr), e.Sub(od).Mul(hr), e2.Add(o2).Mul(tr), e2.Sub(o2).Mul(tr), g4
}

// at2 is at2Go on vectors.
func at2(m0, m1, m2, m3, m4, m5 vec) (y0, y1 vec) {
	return m0.Add(m1.Add(m2)).Add(m3.Add(m4)), bcast(0.5).Mul(m1.Sub(m2)).Add(bcast(2).Mul(m3.Sub(m4))).Add(m5)
}

func winoInput(v []float32, vs int, in []float32, pw, c, th, tw int) {
	if !useSIMD || c%4 != 0 {
		winoInputGo(v, vs, in, pw, c, th, tw)
		return
	}
	var s [winoPoints]vec
	row := pw * c
	for ty := range th {
		for tx := range tw {
			base, t := (2*ty*pw+2*tx)*c, (ty*tw+tx)*c
			for ch := 0; ch < c; ch += 4 {
				for x := range 6 {
					o := base + x*c + ch
					s[x], s[6+x], s[12+x], s[18+x], s[24+x], s[30+x] = bt6(load(in[o:]), load(in[o+row:]),
						load(in[o+2*row:]), load(in[o+3*row:]), load(in[o+4*row:]), load(in[o+5*row:]))
				}
				for j := range 6 {
					r0, r1, r2, r3, r4, r5 := bt6(s[6*j], s[6*j+1], s[6*j+2], s[6*j+3], s[6*j+4], s[6*j+5])
					o := 6*j*vs + t + ch
					r0.Store(v[o:])
					r1.Store(v[o+vs:])
					r2.Store(v[o+2*vs:])
					r3.Store(v[o+3*vs:])
					r4.Store(v[o+4*vs:])
					r5.Store(v[o+5*vs:])
				}
			}
		}
	}
}

func winoWeights(u, g []float32, c, o int) {
	co := c * o
	if !useSIMD || o%4 != 0 {
		winoWeightsGo(u, g, c, o)
		return
	}
	var t [30]vec
	for e := 0; e < co; e += 4 {
		for kx := range 5 {
			q := kx*co + e
			t[kx], t[5+kx], t[10+kx], t[15+kx], t[20+kx], t[25+kx] = g6(load(g[q:]), load(g[q+5*co:]),
				load(g[q+10*co:]), load(g[q+15*co:]), load(g[q+20*co:]))
		}
		for j := range 6 {
			r0, r1, r2, r3, r4, r5 := g6(t[5*j], t[5*j+1], t[5*j+2], t[5*j+3], t[5*j+4])
			q := 6*j*co + e
			r0.Store(u[q:])
			r1.Store(u[q+co:])
			r2.Store(u[q+2*co:])
			r3.Store(u[q+3*co:])
			r4.Store(u[q+4*co:])
			r5.Store(u[q+5*co:])
		}
	}
}

func winoOutput(out []float32, w, o int, m []float32, ms, th, tw int) {
	if !useSIMD || o%4 != 0 {
		winoOutputGo(out, w, o, m, ms, th, tw)
		return
	}
	var z [12]vec
	for ty := range th {
		for tx := range tw {
			base, t := (2*ty*w+2*tx)*o, (ty*tw+tx)*o
			for ch := 0; ch < o; ch += 4 {
				for j := range 6 {
					q := j*6*ms + t + ch
					z[2*j], z[2*j+1] = at2(load(m[q:]), load(m[q+ms:]), load(m[q+2*ms:]), load(m[q+3*ms:]), load(m[q+4*ms:]), load(m[q+5*ms:]))
				}
				y00, y10 := at2(z[0], z[2], z[4], z[6], z[8], z[10])
				y01, y11 := at2(z[1], z[3], z[5], z[7], z[9], z[11])
				y00.Store(out[base+ch:])
				y01.Store(out[base+o+ch:])
				y10.Store(out[base+w*o+ch:])
				y11.Store(out[base+(w+1)*o+ch:])
			}
		}
	}
}

// g2 is g2Go on vectors.
func g2(f0, f1 vec) (y0, y1, y2, y3, y4, y5 vec) {
	h, t := bcast(0.5).Mul(f1), bcast(2).Mul(f1)
	hr, tr := bcast(gHalfRow), bcast(gTwoRow)
	return f0, f0.Add(h).Mul(hr), f0.Sub(h).Mul(hr), f0.Add(t).Mul(tr), f0.Sub(t).Mul(tr), f1
}

// a5 is a5Go on vectors.
func a5(m0, m1, m2, m3, m4, m5 vec) (y0, y1, y2, y3, y4 vec) {
	s1, d1, s2, d2 := m1.Add(m2), m1.Sub(m2), m3.Add(m4), m3.Sub(m4)
	return m0.Add(s1).Add(s2), bcast(0.5).Mul(d1).Add(bcast(2).Mul(d2)), bcast(0.25).Mul(s1).Add(bcast(4).Mul(s2)),
		bcast(0.125).Mul(d1).Add(bcast(8).Mul(d2)), bcast(0.0625).Mul(s1).Add(bcast(16).Mul(s2)).Add(m5)
}

func winoDy(m []float32, ms int, dy []float32, w, o, th, tw int) {
	if !useSIMD || o%4 != 0 {
		winoDyGo(m, ms, dy, w, o, th, tw)
		return
	}
	var c [12]vec
	for ty := range th {
		for tx := range tw {
			base, t := (2*ty*w+2*tx)*o, (ty*tw+tx)*o
			for ch := 0; ch < o; ch += 4 {
				q := base + ch
				c[0], c[2], c[4], c[6], c[8], c[10] = g2(load(dy[q:]), load(dy[q+w*o:]))
				c[1], c[3], c[5], c[7], c[9], c[11] = g2(load(dy[q+o:]), load(dy[q+(w+1)*o:]))
				for j := range 6 {
					y0, y1, y2, y3, y4, y5 := g2(c[2*j], c[2*j+1])
					r := j*6*ms + t + ch
					y0.Store(m[r:])
					y1.Store(m[r+ms:])
					y2.Store(m[r+2*ms:])
					y3.Store(m[r+3*ms:])
					y4.Store(m[r+4*ms:])
					y5.Store(m[r+5*ms:])
				}
			}
		}
	}
}

func winoWeightGrad(dw, dm []float32, c, o int) {
	co := c * o
	if !useSIMD || co%4 != 0 {
		winoWeightGradGo(dw, dm, c, o)
		return
	}
	var z [30]vec
	for e := 0; e < co; e += 4 {
		for j := range 6 {
			q := j*6*co + e
			z[5*j], z[5*j+1], z[5*j+2], z[5*j+3], z[5*j+4] = a5(load(dm[q:]), load(dm[q+co:]), load(dm[q+2*co:]),
				load(dm[q+3*co:]), load(dm[q+4*co:]), load(dm[q+5*co:]))
		}
		for kx := range 5 {
			y0, y1, y2, y3, y4 := a5(z[kx], z[5+kx], z[10+kx], z[15+kx], z[20+kx], z[25+kx])
			y0.Store(dw[kx*co+e:])
			y1.Store(dw[(5+kx)*co+e:])
			y2.Store(dw[(10+kx)*co+e:])
			y3.Store(dw[(15+kx)*co+e:])
			y4.Store(dw[(20+kx)*co+e:])
		}
	}
}
