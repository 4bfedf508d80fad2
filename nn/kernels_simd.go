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

// bt8 is bt8Go on vectors.
func bt8(d, y *[8]vec) {
	y[0] = d[0].Sub(d[6]).Add(bcast(5.25).Mul(d[4].Sub(d[2])))
	e := d[6].Add(bcast(4).Mul(d[2])).Sub(bcast(5).Mul(d[4]))
	o := bcast(2).Mul(d[1]).Add(bcast(0.5).Mul(d[5])).Sub(bcast(2.5).Mul(d[3]))
	y[1], y[2] = e.Add(o), e.Sub(o)
	e = d[2].Add(d[6]).Sub(bcast(4.25).Mul(d[4]))
	o = d[1].Add(d[5]).Sub(bcast(4.25).Mul(d[3]))
	y[3], y[4] = e.Add(o), e.Sub(o)
	e = d[6].Add(bcast(0.25).Mul(d[2])).Sub(bcast(1.25).Mul(d[4]))
	o = bcast(0.5).Mul(d[1]).Add(bcast(2).Mul(d[5])).Sub(bcast(2.5).Mul(d[3]))
	y[5], y[6] = e.Add(o), e.Sub(o)
	y[7] = d[7].Sub(d[1]).Add(bcast(5.25).Mul(d[3].Sub(d[5])))
}

// g8 is g8Go on vectors.
func g8(g *[5]vec, y *[8]vec) {
	y[0] = g[0]
	e := g[0].Add(bcast(0.25).Mul(g[2])).Add(bcast(0.0625).Mul(g[4]))
	o := bcast(0.5).Mul(g[1]).Add(bcast(0.125).Mul(g[3]))
	y[1], y[2] = e.Add(o).Mul(bcast(gHalf)), e.Sub(o).Mul(bcast(gHalf))
	e, o = g[0].Add(g[2]).Add(g[4]), g[1].Add(g[3])
	y[3], y[4] = e.Add(o).Mul(bcast(gOne)), e.Sub(o).Mul(bcast(gOne))
	e = g[0].Add(bcast(4).Mul(g[2])).Add(bcast(16).Mul(g[4]))
	o = bcast(2).Mul(g[1]).Add(bcast(8).Mul(g[3]))
	y[5], y[6] = e.Add(o).Mul(bcast(gTwo)), e.Sub(o).Mul(bcast(gTwo))
	y[7] = g[4]
}

// g8of4 is g8of4Go on vectors.
func g8of4(f *[4]vec, y *[8]vec) {
	y[0] = f[0]
	e, o := f[0].Add(bcast(0.25).Mul(f[2])), bcast(0.5).Mul(f[1]).Add(bcast(0.125).Mul(f[3]))
	y[1], y[2] = e.Add(o).Mul(bcast(gHalf)), e.Sub(o).Mul(bcast(gHalf))
	e, o = f[0].Add(f[2]), f[1].Add(f[3])
	y[3], y[4] = e.Add(o).Mul(bcast(gOne)), e.Sub(o).Mul(bcast(gOne))
	e, o = f[0].Add(bcast(4).Mul(f[2])), bcast(2).Mul(f[1]).Add(bcast(8).Mul(f[3]))
	y[5], y[6] = e.Add(o).Mul(bcast(gTwo)), e.Sub(o).Mul(bcast(gTwo))
	y[7] = f[3]
}

// at5 is at5Go on vectors.
func at5(m *[8]vec, y *[5]vec, last int) {
	s1, d1 := m[1].Add(m[2]), m[1].Sub(m[2])
	s2, d2 := m[3].Add(m[4]), m[3].Sub(m[4])
	s3, d3 := m[5].Add(m[6]), m[5].Sub(m[6])
	y[0] = m[0].Add(s1).Add(s2).Add(s3)
	y[1] = bcast(0.5).Mul(d1).Add(d2).Add(bcast(2).Mul(d3))
	y[2] = bcast(0.25).Mul(s1).Add(s2).Add(bcast(4).Mul(s3))
	y[3] = bcast(0.125).Mul(d1).Add(d2).Add(bcast(8).Mul(d3))
	y[4] = bcast(0.0625).Mul(s1).Add(s2).Add(bcast(16).Mul(s3))
	y[last] = y[last].Add(m[7])
}

func winoInput(v []float32, vs int, in []float32, pw, c, th, tw int) {
	if !useSIMD || c%4 != 0 {
		winoInputGo(v, vs, in, pw, c, th, tw)
		return
	}
	var col, r [8]vec
	var s [8][8]vec
	for ty := range th {
		for tx := range tw {
			base, t := (4*ty*pw+4*tx)*c, (ty*tw+tx)*c
			for ch := 0; ch < c; ch += 4 {
				for x := range 8 {
					for y := range 8 {
						col[y] = load(in[base+(y*pw+x)*c+ch:])
					}
					bt8(&col, &r)
					for j := range 8 {
						s[j][x] = r[j]
					}
				}
				for j := range 8 {
					bt8(&s[j], &r)
					for i, e := range r {
						e.Store(v[(j*8+i)*vs+t+ch:])
					}
				}
			}
		}
	}
}

func winoWeights(u, g []float32, c, o int) {
	co := c * o
	if !useSIMD || co%4 != 0 {
		winoWeightsGo(u, g, c, o)
		return
	}
	var col [5]vec
	var r [8]vec
	var s [8][5]vec
	for e := 0; e < co; e += 4 {
		for kx := range 5 {
			for ky := range 5 {
				col[ky] = load(g[(ky*5+kx)*co+e:])
			}
			g8(&col, &r)
			for j := range 8 {
				s[j][kx] = r[j]
			}
		}
		for j := range 8 {
			g8(&s[j], &r)
			for i, x := range r {
				x.Store(u[(j*8+i)*co+e:])
			}
		}
	}
}

func winoOutput(out []float32, w, o int, m []float32, ms, th, tw int) {
	if !useSIMD || o%4 != 0 {
		winoOutputGo(out, w, o, m, ms, th, tw)
		return
	}
	var row, col [8]vec
	var y [5]vec
	var z [8][4]vec
	for ty := range th {
		for tx := range tw {
			base, t := (4*ty*w+4*tx)*o, (ty*tw+tx)*o
			for ch := 0; ch < o; ch += 4 {
				for j := range 8 {
					for i := range 8 {
						row[i] = load(m[(j*8+i)*ms+t+ch:])
					}
					at5(&row, &y, 3)
					z[j] = [4]vec{y[0], y[1], y[2], y[3]}
				}
				for x := range 4 {
					for j := range 8 {
						col[j] = z[j][x]
					}
					at5(&col, &y, 3)
					for yy := range 4 {
						y[yy].Store(out[base+(yy*w+x)*o+ch:])
					}
				}
			}
		}
	}
}

func winoDy(m []float32, ms int, dy []float32, w, o, th, tw int) {
	if !useSIMD || o%4 != 0 {
		winoDyGo(m, ms, dy, w, o, th, tw)
		return
	}
	var col [4]vec
	var r [8]vec
	var s [8][4]vec
	for ty := range th {
		for tx := range tw {
			base, t := (4*ty*w+4*tx)*o, (ty*tw+tx)*o
			for ch := 0; ch < o; ch += 4 {
				for b := range 4 {
					for a := range 4 {
						col[a] = load(dy[base+(a*w+b)*o+ch:])
					}
					g8of4(&col, &r)
					for j := range 8 {
						s[j][b] = r[j]
					}
				}
				for j := range 8 {
					g8of4(&s[j], &r)
					for i, e := range r {
						e.Store(m[(j*8+i)*ms+t+ch:])
					}
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
	var row, col [8]vec
	var y [5]vec
	var z [8][5]vec
	for e := 0; e < co; e += 4 {
		for j := range 8 {
			for i := range 8 {
				row[i] = load(dm[(j*8+i)*co+e:])
			}
			at5(&row, &z[j], 4)
		}
		for kx := range 5 {
			for j := range 8 {
				col[j] = z[j][kx]
			}
			at5(&col, &y, 4)
			for ky := range 5 {
				y[ky].Store(dw[(ky*5+kx)*co+e:])
			}
		}
	}
}
