//go:build goexperiment.simd && (amd64 || wasm)

package nn

import (
	"runtime"
	"unsafe"

	"simd/archsimd"
)

// SIMD kernels (Float32x4: wasm SIMD128 in the browser, AVX on amd64). Each performs exactly the
// operations of its portable twin in kernels.go, in the same order, lane by lane, so results on
// finite values are bit-identical up to the sign of zero; the tests compare them. Tails shorter
// than a vector go to the twin.

// useSIMD is false on an amd64 CPU without AVX2 (BroadcastFloat32x4 needs it).
var useSIMD = runtime.GOARCH == "wasm" || (archsimd.X86.AVX() && archsimd.X86.AVX2())

type vec = archsimd.Float32x4

func load(s []float32) vec { return archsimd.LoadFloat32x4(s) }

func bcast(v float32) vec { return archsimd.BroadcastFloat32x4(v) }

// ld and st load and store the four floats at p, for raw kernels: Go's wasm backend makes a
// bounds check whose passing side is not the next block a br_table dispatch, so in their loops
// the kernels below, in winograd_simd.go and the ones generated from a pattern (gen_kernels.go
// writes kernels_simd_gen.go and winograd_simd_gen.go) use pointers into slices checked once
// beforehand.
//
// The rule the raw kernels follow: every pointer they form points into the slice it came
// from. Their callers reslice (or check) every slice to the extent the kernel reads or writes,
// with non-negative strides, so the accesses stay inside; and a loop advances its pointers
// only when another turn follows, never to just past the end (unsafe.Add's rule: such a
// pointer may point into another object or a free span, and the GC, scanning the stack at a
// call or preemption, throws "found bad pointer in Go heap"). TestKernelsStayInSlices run with
// -gcflags=all=-d=checkptr catches pointers formed past the end.
func ld(p unsafe.Pointer) vec    { return archsimd.LoadFloat32x4Array((*[4]float32)(p)) }
func st(p unsafe.Pointer, v vec) { v.StoreArray((*[4]float32)(p)) }

// biasReLU runs rawBias or rawBiasReLU (kernels_simd_gen.go) when rows have whole blocks of 16
// channels.
func biasReLU(y, b []float32, relu bool) {
	c := len(b)
	if !useSIMD || c%4 != 0 {
		biasReLUGo(y, b, relu)
		return
	}
	if rows := len(y) / c; c%16 == 0 && rows > 0 {
		y = y[:rows*c]
		if relu {
			rawBiasReLU(unsafe.Pointer(&y[0]), unsafe.Pointer(&b[0]), rows, c/16)
		} else {
			rawBias(unsafe.Pointer(&y[0]), unsafe.Pointer(&b[0]), rows, c/16)
		}
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

// addRows sums 16 columns at a time down the rows (rawAddRows) when rows have whole blocks of
// 16 channels.
func addRows(acc, x []float32) {
	c := len(acc)
	if !useSIMD || c%4 != 0 {
		addRowsGo(acc, x)
		return
	}
	if rows := len(x) / c; c%16 == 0 && rows > 0 && len(x) == rows*c {
		for j := 0; j < c; j += 16 {
			rawAddRows(unsafe.Pointer(&acc[j]), unsafe.Pointer(&x[j]), uintptr(4*c), rows)
		}
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

// rawAddRows adds rows rows of 16 floats, stride bytes apart from x on, into the 16 at acc,
// in order.
func rawAddRows(acc, x unsafe.Pointer, stride uintptr, rows int) {
	a0, a1, a2, a3 := ld(acc), ld(unsafe.Add(acc, 16)), ld(unsafe.Add(acc, 32)), ld(unsafe.Add(acc, 48))
	for {
		a0, a1 = a0.Add(ld(x)), a1.Add(ld(unsafe.Add(x, 16)))
		a2, a3 = a2.Add(ld(unsafe.Add(x, 32))), a3.Add(ld(unsafe.Add(x, 48)))
		rows--
		if rows == 0 {
			break
		}
		x = unsafe.Add(x, stride)
	}
	st(acc, a0)
	st(unsafe.Add(acc, 16), a1)
	st(unsafe.Add(acc, 32), a2)
	st(unsafe.Add(acc, 48), a3)
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
			m = gtMax(m, load(x[o+j:]))
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

// poolMax3Row is poolMax3RowGo: rawPoolMax3 runs over the n outputs, with the window's nine
// loads at fixed offsets.
func poolMax3Row(y, x []float32, n, s, w, c int, relu bool) {
	if !useSIMD || c%4 != 0 || c <= 0 || n <= 0 || s < 0 || w < 0 {
		poolMax3RowGo(y, x, n, s, w, c, relu)
		return
	}
	y, x = y[:n*c], x[:((n-1)*s+2*w+3)*c] // the last window ends with pixel (2, (n-1)s+2)
	rawPoolMax3(unsafe.Pointer(&y[0]), unsafe.Pointer(&x[0]), uintptr(4*w*c), uintptr(4*c), uintptr(4*s*c), n, c/4, relu)
}

// rawPoolMax3 pools n outputs of groups channel groups: output i at y + 16*groups*i, its
// window's cell (r, q) at x + i*step + r*rs + q*cs. (Four groups a turn ran at the same speed:
// their 36 addresses spill.)
func rawPoolMax3(y, x unsafe.Pointer, rs, cs, step uintptr, n, groups int, relu bool) {
	zero := bcast(0)
	for {
		xg := x
		for g := groups; ; {
			r1, r2 := unsafe.Add(xg, rs), unsafe.Add(xg, 2*rs)
			m := gtMax(gtMax(ld(xg), ld(unsafe.Add(xg, cs))), ld(unsafe.Add(xg, 2*cs)))
			m = gtMax(gtMax(gtMax(m, ld(r1)), ld(unsafe.Add(r1, cs))), ld(unsafe.Add(r1, 2*cs)))
			m = gtMax(gtMax(gtMax(m, ld(r2)), ld(unsafe.Add(r2, cs))), ld(unsafe.Add(r2, 2*cs)))
			if relu {
				m = m.Max(zero)
			}
			st(y, m)
			g--
			if g == 0 {
				break
			}
			y, xg = unsafe.Add(y, 16), unsafe.Add(xg, 16)
		}
		n--
		if n == 0 {
			break
		}
		y, x = unsafe.Add(y, 16), unsafe.Add(x, step)
	}
}

// gtMax is v where v > m, else m: poolMaxGo's step, exactly (a NaN never wins, the first of
// equal values stays). V8 compiles it to a compare and a select; Float32x4.Max (wasm's
// f32x4.max, which orders -0 below +0 and propagates NaN) takes about eight instructions, and
// the pool ran 2.5 times faster without it.
func gtMax(m, v vec) vec { return v.IfElse(v.Greater(m), m) }

// poolRoute3Row is poolRoute3RowGo with each channel group's remaining gradient kept in a
// register across the nine cells (g is not needed).
func poolRoute3Row(dx, x, y, dy, g []float32, n, s, w, c int, relu bool) {
	if !useSIMD || c%4 != 0 || c <= 0 || n <= 0 || s < 0 || w < 0 {
		poolRoute3RowGo(dx, x, y, dy, g, n, s, w, c, relu)
		return
	}
	in := ((n-1)*s + 2*w + 3) * c
	dx, x, y, dy = dx[:in], x[:in], y[:n*c], dy[:n*c]
	rawPoolRoute3(unsafe.Pointer(&dx[0]), unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0]), unsafe.Pointer(&dy[0]),
		uintptr(4*w*c), uintptr(4*c), uintptr(4*s*c), n, c/4, relu)
}

// rawPoolRoute3 routes the gradients of rawPoolMax3's n outputs of groups channel groups:
// output i's y and dy at + 16*groups*i, its window's cell (r, q) of x and dx at + i*step +
// r*rs + q*cs.
func rawPoolRoute3(dx, x, y, dy unsafe.Pointer, rs, cs, step uintptr, n, groups int, relu bool) {
	zero := bcast(0)
	for {
		o := uintptr(0) // offset of the group in the window's cells
		for b := groups; ; {
			yv, g := ld(y), ld(dy)
			if relu {
				g = g.Masked(yv.Greater(zero))
			}
			g = routeCell(dx, x, o, yv, g)
			g = routeCell(dx, x, o+cs, yv, g)
			g = routeCell(dx, x, o+2*cs, yv, g)
			g = routeCell(dx, x, o+rs, yv, g)
			g = routeCell(dx, x, o+rs+cs, yv, g)
			g = routeCell(dx, x, o+rs+2*cs, yv, g)
			g = routeCell(dx, x, o+2*rs, yv, g)
			g = routeCell(dx, x, o+2*rs+cs, yv, g)
			routeCell(dx, x, o+2*rs+2*cs, yv, g)
			b--
			if b == 0 {
				break
			}
			y, dy, o = unsafe.Add(y, 16), unsafe.Add(dy, 16), o+16
		}
		n--
		if n == 0 {
			break
		}
		y, dy = unsafe.Add(y, 16), unsafe.Add(dy, 16)
		dx, x = unsafe.Add(dx, step), unsafe.Add(x, step)
	}
}

// routeCell is poolRoute on one channel group of the cell at byte o of dx and x: it adds the
// remaining gradient g to dx where x holds the maximum y and returns what remains of g.
func routeCell(dx, x unsafe.Pointer, o uintptr, y, g vec) vec {
	add := g.Masked(ld(unsafe.Add(x, o)).Equal(y))
	p := unsafe.Add(dx, o)
	st(p, ld(p).Add(add))
	return g.Sub(add)
}

// unfoldRun is unfoldRunGo; conv1's patches (5×5×3) are copied by rawUnfold5x3.
func unfoldRun(dst, src []float32, n, w, c, k int) {
	if !useSIMD || k != 5 || c != 3 || n <= 0 || w < 0 {
		unfoldRunGo(dst, src, n, w, c, k)
		return
	}
	dst, src = dst[:75*n], src[:3*(4*w+n-1)+15] // the last patch's last tap row ends there
	rawUnfold5x3(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), uintptr(12*w), n)
}

// rawUnfold5x3 copies n patches of 5 tap rows of 15 floats: tap row kh of patch i from src +
// 12i + kh*rs to dst + 300i + 60kh.
func rawUnfold5x3(dst, src unsafe.Pointer, rs uintptr, n int) {
	for {
		copy15(dst, src)
		copy15(unsafe.Add(dst, 60), unsafe.Add(src, rs))
		copy15(unsafe.Add(dst, 120), unsafe.Add(src, 2*rs))
		copy15(unsafe.Add(dst, 180), unsafe.Add(src, 3*rs))
		copy15(unsafe.Add(dst, 240), unsafe.Add(src, 4*rs))
		n--
		if n == 0 {
			break
		}
		dst, src = unsafe.Add(dst, 300), unsafe.Add(src, 12)
	}
}

// copy15 copies 15 floats from s to d as four vectors, the last one overlapping the third.
func copy15(d, s unsafe.Pointer) {
	st(d, ld(s))
	st(unsafe.Add(d, 16), ld(unsafe.Add(s, 16)))
	st(unsafe.Add(d, 32), ld(unsafe.Add(s, 32)))
	st(unsafe.Add(d, 44), ld(unsafe.Add(s, 44)))
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

// windowSums sets dst[i] to pad[i] + pad[i+1] + ... + pad[i+2r] for every i < len(dst) (a
// multiple of 4), added in that order. The presets' radii 4 and 5 have loops of their own with
// constant offsets (windowSums9 and windowSums11, generated into kernels_simd_gen.go): in Go's
// wasm every taken branch costs a br_table dispatch and every variable offset a bounds check,
// which made the general loop 3 times slower.
func windowSums(dst, pad []float32, r int) {
	switch r {
	case 4:
		windowSums9(dst, pad)
	case 5:
		windowSums11(dst, pad)
	default:
		for i := 0; i+4 <= len(dst); i += 4 {
			windowSum(pad, i, r).Store(dst[i:])
		}
	}
}

// lrnForward runs three passes over each pixel's channels: the squares into pad (whose r zeros
// on each side are cleared once), their window sums into s, and from those s and y. The
// loops do 16 channels a turn: in Go's wasm a loop's turn costs a br_table dispatch and
// reloads of spilled values, several times the cost of four vector operations.
func lrnForward(x, y, s, pad []float32, c, r int, bias, alpha, beta float32) {
	if !useSIMD || beta != 0.75 || c%4 != 0 {
		lrnForwardGo(x, y, s, pad, c, r, bias, alpha, beta)
		return
	}
	pad = pad[:c+2*r]
	clear(pad[:r])
	clear(pad[r+c:])
	sq := pad[r : r+c : r+c]
	for o := 0; o+c <= len(x); o += c {
		xp := x[o : o+c : o+c]
		i := 0
		for ; i+16 <= c; i += 16 {
			v, q := xp[i:i+16:i+16], sq[i:i+16:i+16]
			v0, v1, v2, v3 := load(v[0:]), load(v[4:]), load(v[8:]), load(v[12:])
			v0.Mul(v0).Store(q[0:])
			v1.Mul(v1).Store(q[4:])
			v2.Mul(v2).Store(q[8:])
			v3.Mul(v3).Store(q[12:])
		}
		for ; i+4 <= c; i += 4 {
			v := load(xp[i:])
			v.Mul(v).Store(sq[i:])
		}
		windowSums(s[o:o+c:o+c], pad, r)
	}
	lrnNormalize(x, y, s[:len(x)], bcast(alpha), bcast(bias))
}

// lrnNormalize turns the window sums s into the bases s*alpha + bias and sets y = x*s^-0.75.
func lrnNormalize(x, y, s []float32, av, bv vec) {
	x, y = x[:len(s)], y[:len(s)]
	i := 0
	for ; i+16 <= len(s); i += 16 {
		sv, xv, yv := s[i:i+16:i+16], x[i:i+16:i+16], y[i:i+16:i+16]
		s0, s1 := load(sv[0:]).Mul(av).Add(bv), load(sv[4:]).Mul(av).Add(bv)
		s2, s3 := load(sv[8:]).Mul(av).Add(bv), load(sv[12:]).Mul(av).Add(bv)
		s0.Store(sv[0:])
		s1.Store(sv[4:])
		s2.Store(sv[8:])
		s3.Store(sv[12:])
		load(xv[0:]).Mul(powNeg075(s0)).Store(yv[0:])
		load(xv[4:]).Mul(powNeg075(s1)).Store(yv[4:])
		load(xv[8:]).Mul(powNeg075(s2)).Store(yv[8:])
		load(xv[12:]).Mul(powNeg075(s3)).Store(yv[12:])
	}
	for ; i+4 <= len(s); i += 4 {
		si := load(s[i:]).Mul(av).Add(bv)
		si.Store(s[i:])
		load(x[i:]).Mul(powNeg075(si)).Store(y[i:])
	}
}

// lrnBackward is lrnForward's scheme for the gradient: dy*y/s into pad, the window sums into
// dx (which must not overlap the inputs), then dx from them.
func lrnBackward(x, y, s, dy, dx, pad []float32, c, r int, k, beta float32) {
	if !useSIMD || beta != 0.75 || c%4 != 0 {
		lrnBackwardGo(x, y, s, dy, dx, pad, c, r, k, beta)
		return
	}
	pad = pad[:c+2*r]
	clear(pad[:r])
	clear(pad[r+c:])
	t := pad[r : r+c : r+c]
	for o := 0; o+c <= len(x); o += c {
		yp, sp, dyp := y[o:o+c:o+c], s[o:o+c:o+c], dy[o:o+c:o+c]
		i := 0
		for ; i+16 <= c; i += 16 {
			yv, sv, gv, tv := yp[i:i+16:i+16], sp[i:i+16:i+16], dyp[i:i+16:i+16], t[i:i+16:i+16]
			load(gv[0:]).Mul(load(yv[0:])).Div(load(sv[0:])).Store(tv[0:])
			load(gv[4:]).Mul(load(yv[4:])).Div(load(sv[4:])).Store(tv[4:])
			load(gv[8:]).Mul(load(yv[8:])).Div(load(sv[8:])).Store(tv[8:])
			load(gv[12:]).Mul(load(yv[12:])).Div(load(sv[12:])).Store(tv[12:])
		}
		for ; i+4 <= c; i += 4 {
			load(dyp[i:]).Mul(load(yp[i:])).Div(load(sp[i:])).Store(t[i:])
		}
		windowSums(dx[o:o+c:o+c], pad, r)
	}
	lrnInputGrad(x, s, dy, dx[:len(x)], bcast(k))
}

// lrnInputGrad turns the window sums dx into dx = dy*s^-0.75 - k*x*dx.
func lrnInputGrad(x, s, dy, dx []float32, kv vec) {
	x, s, dy = x[:len(dx)], s[:len(dx)], dy[:len(dx)]
	i := 0
	for ; i+16 <= len(dx); i += 16 {
		xv, sv, gv, dv := x[i:i+16:i+16], s[i:i+16:i+16], dy[i:i+16:i+16], dx[i:i+16:i+16]
		d0 := load(gv[0:]).Mul(powNeg075(load(sv[0:])))
		d1 := load(gv[4:]).Mul(powNeg075(load(sv[4:])))
		d2 := load(gv[8:]).Mul(powNeg075(load(sv[8:])))
		d3 := load(gv[12:]).Mul(powNeg075(load(sv[12:])))
		d0.Sub(kv.Mul(load(xv[0:])).Mul(load(dv[0:]))).Store(dv[0:])
		d1.Sub(kv.Mul(load(xv[4:])).Mul(load(dv[4:]))).Store(dv[4:])
		d2.Sub(kv.Mul(load(xv[8:])).Mul(load(dv[8:]))).Store(dv[8:])
		d3.Sub(kv.Mul(load(xv[12:])).Mul(load(dv[12:]))).Store(dv[12:])
	}
	for ; i+4 <= len(dx); i += 4 {
		d := load(dy[i:]).Mul(powNeg075(load(s[i:])))
		d.Sub(kv.Mul(load(x[i:])).Mul(load(dx[i:]))).Store(dx[i:])
	}
}

// addScaled is addScaledGo, 16 floats a turn (rawAddScaled), the tail by the twin.
func addScaled(dst, x []float32, a float32) {
	x = x[:len(dst)]
	n := len(dst) / 16 * 16
	if !useSIMD || n == 0 {
		addScaledGo(dst, x, a)
		return
	}
	rawAddScaled(unsafe.Pointer(&dst[0]), unsafe.Pointer(&x[0]), bcast(a), n/16)
	addScaledGo(dst[n:], x[n:], a)
}

// rawAddScaled sets the 16*blocks floats at dst to dst + a*x.
func rawAddScaled(dst, x unsafe.Pointer, a vec, blocks int) {
	for {
		st(dst, ld(dst).Add(a.Mul(ld(x))))
		st(unsafe.Add(dst, 16), ld(unsafe.Add(dst, 16)).Add(a.Mul(ld(unsafe.Add(x, 16)))))
		st(unsafe.Add(dst, 32), ld(unsafe.Add(dst, 32)).Add(a.Mul(ld(unsafe.Add(x, 32)))))
		st(unsafe.Add(dst, 48), ld(unsafe.Add(dst, 48)).Add(a.Mul(ld(unsafe.Add(x, 48)))))
		blocks--
		if blocks == 0 {
			break
		}
		dst, x = unsafe.Add(dst, 64), unsafe.Add(x, 64)
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
