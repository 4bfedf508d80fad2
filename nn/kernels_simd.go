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
