//go:build goexperiment.simd && (amd64 || wasm)

package nn

import "unsafe"

// The Winograd transforms on Float32x4, four channels at a time, with exactly the operations of
// their portable twins in winograd.go.
//
// They are written for Go's wasm backend, where a transform in loops over [8]vec arrays ran at
// a tenth of the arithmetic's speed: every taken branch (a loop's turn, and a bounds check
// whose passing side is not the next block) goes through the function's br_table dispatch,
// where V8 moves every live value to and from its stack. So each public transform checks its
// slices' bounds once and hands pointers to a raw function without a check or a call in its
// loop: one turn is one channel group of one tile, written out as straight-line code. The
// transforms themselves (bt8v, g8v, g8of4v, at4v, at5v) take and return vectors by value,
// which Go inlines (functions with SIMD arguments get three times the inlining budget), and
// the loads and stores go through unsafe pointers into the checked slices. 3-4 times faster
// in Node than the loops.

// load8, load5 and load4 load the vectors at p, p+s, p+2s, ... (bytes).
func load8(p unsafe.Pointer, s uintptr) (d0, d1, d2, d3, d4, d5, d6, d7 vec) {
	return ld(p), ld(unsafe.Add(p, s)), ld(unsafe.Add(p, 2*s)), ld(unsafe.Add(p, 3*s)),
		ld(unsafe.Add(p, 4*s)), ld(unsafe.Add(p, 5*s)), ld(unsafe.Add(p, 6*s)), ld(unsafe.Add(p, 7*s))
}

func load5(p unsafe.Pointer, s uintptr) (d0, d1, d2, d3, d4 vec) {
	return ld(p), ld(unsafe.Add(p, s)), ld(unsafe.Add(p, 2*s)), ld(unsafe.Add(p, 3*s)), ld(unsafe.Add(p, 4*s))
}

func load4(p unsafe.Pointer, s uintptr) (d0, d1, d2, d3 vec) {
	return ld(p), ld(unsafe.Add(p, s)), ld(unsafe.Add(p, 2*s)), ld(unsafe.Add(p, 3*s))
}

// store8, store5 and store4 store y0, y1, ... at p, p+s, p+2s, ... (bytes).
func store8(p unsafe.Pointer, s uintptr, y0, y1, y2, y3, y4, y5, y6, y7 vec) {
	store4(p, s, y0, y1, y2, y3)
	store4(unsafe.Add(p, 4*s), s, y4, y5, y6, y7)
}

func store5(p unsafe.Pointer, s uintptr, y0, y1, y2, y3, y4 vec) {
	store4(p, s, y0, y1, y2, y3)
	st(unsafe.Add(p, 4*s), y4)
}

func store4(p unsafe.Pointer, s uintptr, y0, y1, y2, y3 vec) {
	st(p, y0)
	st(unsafe.Add(p, s), y1)
	st(unsafe.Add(p, 2*s), y2)
	st(unsafe.Add(p, 3*s), y3)
}

// vals8, vals5 and vals4 return the elements of r, to pass them to a transform.
func vals8(r *[8]vec) (d0, d1, d2, d3, d4, d5, d6, d7 vec) {
	return r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
}

func vals5(r *[5]vec) (d0, d1, d2, d3, d4 vec) { return r[0], r[1], r[2], r[3], r[4] }

func vals4(r *[4]vec) (d0, d1, d2, d3 vec) { return r[0], r[1], r[2], r[3] }

// bt8v is bt8Go on vectors.
func bt8v(d0, d1, d2, d3, d4, d5, d6, d7 vec) (y0, y1, y2, y3, y4, y5, y6, y7 vec) {
	y0 = d0.Sub(d6).Add(bcast(5.25).Mul(d4.Sub(d2)))
	e := d6.Add(bcast(4).Mul(d2)).Sub(bcast(5).Mul(d4))
	o := bcast(2).Mul(d1).Add(bcast(0.5).Mul(d5)).Sub(bcast(2.5).Mul(d3))
	y1, y2 = e.Add(o), e.Sub(o)
	e = d2.Add(d6).Sub(bcast(4.25).Mul(d4))
	o = d1.Add(d5).Sub(bcast(4.25).Mul(d3))
	y3, y4 = e.Add(o), e.Sub(o)
	e = d6.Add(bcast(0.25).Mul(d2)).Sub(bcast(1.25).Mul(d4))
	o = bcast(0.5).Mul(d1).Add(bcast(2).Mul(d5)).Sub(bcast(2.5).Mul(d3))
	y5, y6 = e.Add(o), e.Sub(o)
	y7 = d7.Sub(d1).Add(bcast(5.25).Mul(d3.Sub(d5)))
	return
}

// g8v is g8Go on vectors.
func g8v(g0, g1, g2, g3, g4 vec) (y0, y1, y2, y3, y4, y5, y6, y7 vec) {
	h, one, two := bcast(gHalf), bcast(gOne), bcast(gTwo)
	e := g0.Add(bcast(0.25).Mul(g2)).Add(bcast(0.0625).Mul(g4))
	o := bcast(0.5).Mul(g1).Add(bcast(0.125).Mul(g3))
	y1, y2 = e.Add(o).Mul(h), e.Sub(o).Mul(h)
	e, o = g0.Add(g2).Add(g4), g1.Add(g3)
	y3, y4 = e.Add(o).Mul(one), e.Sub(o).Mul(one)
	e = g0.Add(bcast(4).Mul(g2)).Add(bcast(16).Mul(g4))
	o = bcast(2).Mul(g1).Add(bcast(8).Mul(g3))
	y5, y6 = e.Add(o).Mul(two), e.Sub(o).Mul(two)
	return g0, y1, y2, y3, y4, y5, y6, g4
}

// g8of4v is g8of4Go on vectors.
func g8of4v(f0, f1, f2, f3 vec) (y0, y1, y2, y3, y4, y5, y6, y7 vec) {
	h, one, two := bcast(gHalf), bcast(gOne), bcast(gTwo)
	e, o := f0.Add(bcast(0.25).Mul(f2)), bcast(0.5).Mul(f1).Add(bcast(0.125).Mul(f3))
	y1, y2 = e.Add(o).Mul(h), e.Sub(o).Mul(h)
	e, o = f0.Add(f2), f1.Add(f3)
	y3, y4 = e.Add(o).Mul(one), e.Sub(o).Mul(one)
	e, o = f0.Add(bcast(4).Mul(f2)), bcast(2).Mul(f1).Add(bcast(8).Mul(f3))
	y5, y6 = e.Add(o).Mul(two), e.Sub(o).Mul(two)
	return f0, y1, y2, y3, y4, y5, y6, f3
}

// at4v is at5Go with last = 3 on vectors: the four outputs of F(4, 5).
func at4v(m0, m1, m2, m3, m4, m5, m6, m7 vec) (y0, y1, y2, y3 vec) {
	s1, d1 := m1.Add(m2), m1.Sub(m2)
	s2, d2 := m3.Add(m4), m3.Sub(m4)
	s3, d3 := m5.Add(m6), m5.Sub(m6)
	y0 = m0.Add(s1).Add(s2).Add(s3)
	y1 = bcast(0.5).Mul(d1).Add(d2).Add(bcast(2).Mul(d3))
	y2 = bcast(0.25).Mul(s1).Add(s2).Add(bcast(4).Mul(s3))
	y3 = bcast(0.125).Mul(d1).Add(d2).Add(bcast(8).Mul(d3)).Add(m7)
	return
}

// at5v is at5Go with last = 4 on vectors: the five outputs of weightGrad's F(5, 4).
func at5v(m0, m1, m2, m3, m4, m5, m6, m7 vec) (y0, y1, y2, y3, y4 vec) {
	s1, d1 := m1.Add(m2), m1.Sub(m2)
	s2, d2 := m3.Add(m4), m3.Sub(m4)
	s3, d3 := m5.Add(m6), m5.Sub(m6)
	y0 = m0.Add(s1).Add(s2).Add(s3)
	y1 = bcast(0.5).Mul(d1).Add(d2).Add(bcast(2).Mul(d3))
	y2 = bcast(0.25).Mul(s1).Add(s2).Add(bcast(4).Mul(s3))
	y3 = bcast(0.125).Mul(d1).Add(d2).Add(bcast(8).Mul(d3))
	y4 = bcast(0.0625).Mul(s1).Add(s2).Add(bcast(16).Mul(s3)).Add(m7)
	return
}

func winoInput(v []float32, vs int, in []float32, pw, c, th, tw int) {
	if !useSIMD || c%4 != 0 || c <= 0 || th <= 0 || tw <= 0 || vs < 0 || pw < 0 {
		winoInputGo(v, vs, in, pw, c, th, tw)
		return
	}
	in = in[:((4*th+3)*pw+4*tw+4)*c] // the last tile ends with pixel (4th+3, 4tw+3)
	v = v[:63*vs+th*tw*c]
	pv, pin := unsafe.Pointer(&v[0]), unsafe.Pointer(&in[0]) // pointers only into what is checked here
	for ty := range th {
		for tx := range tw {
			base, t := (4*ty*pw+4*tx)*c, (ty*tw+tx)*c
			rawInput(unsafe.Add(pv, 4*t), uintptr(4*vs), unsafe.Add(pin, 4*base), uintptr(4*pw*c), uintptr(4*c), c/4)
		}
	}
}

// rawInput transforms one tile of winoInput, groups channel groups of it: the input pixel (y,
// x) of a group at in + y*rs + x*cs, its element p at v + p*vs, both moving 16 bytes a group.
func rawInput(v unsafe.Pointer, vs uintptr, in unsafe.Pointer, rs, cs uintptr, groups int) {
	var s [8][8]vec // s[j][x]: row j of Bᵀ applied to column x
	for {
		s[0][0], s[1][0], s[2][0], s[3][0], s[4][0], s[5][0], s[6][0], s[7][0] = bt8v(load8(in, rs))
		s[0][1], s[1][1], s[2][1], s[3][1], s[4][1], s[5][1], s[6][1], s[7][1] = bt8v(load8(unsafe.Add(in, cs), rs))
		s[0][2], s[1][2], s[2][2], s[3][2], s[4][2], s[5][2], s[6][2], s[7][2] = bt8v(load8(unsafe.Add(in, 2*cs), rs))
		s[0][3], s[1][3], s[2][3], s[3][3], s[4][3], s[5][3], s[6][3], s[7][3] = bt8v(load8(unsafe.Add(in, 3*cs), rs))
		s[0][4], s[1][4], s[2][4], s[3][4], s[4][4], s[5][4], s[6][4], s[7][4] = bt8v(load8(unsafe.Add(in, 4*cs), rs))
		s[0][5], s[1][5], s[2][5], s[3][5], s[4][5], s[5][5], s[6][5], s[7][5] = bt8v(load8(unsafe.Add(in, 5*cs), rs))
		s[0][6], s[1][6], s[2][6], s[3][6], s[4][6], s[5][6], s[6][6], s[7][6] = bt8v(load8(unsafe.Add(in, 6*cs), rs))
		s[0][7], s[1][7], s[2][7], s[3][7], s[4][7], s[5][7], s[6][7], s[7][7] = bt8v(load8(unsafe.Add(in, 7*cs), rs))
		y0, y1, y2, y3, y4, y5, y6, y7 := bt8v(vals8(&s[0]))
		store8(v, vs, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = bt8v(vals8(&s[1]))
		store8(unsafe.Add(v, 8*vs), vs, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = bt8v(vals8(&s[2]))
		store8(unsafe.Add(v, 16*vs), vs, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = bt8v(vals8(&s[3]))
		store8(unsafe.Add(v, 24*vs), vs, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = bt8v(vals8(&s[4]))
		store8(unsafe.Add(v, 32*vs), vs, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = bt8v(vals8(&s[5]))
		store8(unsafe.Add(v, 40*vs), vs, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = bt8v(vals8(&s[6]))
		store8(unsafe.Add(v, 48*vs), vs, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = bt8v(vals8(&s[7]))
		store8(unsafe.Add(v, 56*vs), vs, y0, y1, y2, y3, y4, y5, y6, y7)
		groups--
		if groups == 0 {
			break
		}
		in, v = unsafe.Add(in, 16), unsafe.Add(v, 16)
	}
}

func winoWeights(u []float32, us int, g []float32, c, o int) {
	co := c * o
	if !useSIMD || co%4 != 0 || co <= 0 || us < co {
		winoWeightsGo(u, us, g, c, o)
		return
	}
	g, u = g[:25*co], u[:63*us+co]
	rawWeights(unsafe.Pointer(&u[0]), uintptr(4*us), unsafe.Pointer(&g[0]), uintptr(4*co), co/4)
}

// rawWeights is winoWeights on groups groups of four channel pairs: tap (ky, kx) of a group at
// g + (5ky+kx)*s, its element p at u + p*us, both moving 16 bytes a group.
func rawWeights(u unsafe.Pointer, us uintptr, g unsafe.Pointer, s uintptr, groups int) {
	var t [8][5]vec // t[j][kx]: row j of G applied to column kx
	for {
		t[0][0], t[1][0], t[2][0], t[3][0], t[4][0], t[5][0], t[6][0], t[7][0] = g8v(load5(g, 5*s))
		t[0][1], t[1][1], t[2][1], t[3][1], t[4][1], t[5][1], t[6][1], t[7][1] = g8v(load5(unsafe.Add(g, s), 5*s))
		t[0][2], t[1][2], t[2][2], t[3][2], t[4][2], t[5][2], t[6][2], t[7][2] = g8v(load5(unsafe.Add(g, 2*s), 5*s))
		t[0][3], t[1][3], t[2][3], t[3][3], t[4][3], t[5][3], t[6][3], t[7][3] = g8v(load5(unsafe.Add(g, 3*s), 5*s))
		t[0][4], t[1][4], t[2][4], t[3][4], t[4][4], t[5][4], t[6][4], t[7][4] = g8v(load5(unsafe.Add(g, 4*s), 5*s))
		y0, y1, y2, y3, y4, y5, y6, y7 := g8v(vals5(&t[0]))
		store8(u, us, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8v(vals5(&t[1]))
		store8(unsafe.Add(u, 8*us), us, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8v(vals5(&t[2]))
		store8(unsafe.Add(u, 16*us), us, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8v(vals5(&t[3]))
		store8(unsafe.Add(u, 24*us), us, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8v(vals5(&t[4]))
		store8(unsafe.Add(u, 32*us), us, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8v(vals5(&t[5]))
		store8(unsafe.Add(u, 40*us), us, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8v(vals5(&t[6]))
		store8(unsafe.Add(u, 48*us), us, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8v(vals5(&t[7]))
		store8(unsafe.Add(u, 56*us), us, y0, y1, y2, y3, y4, y5, y6, y7)
		groups--
		if groups == 0 {
			break
		}
		g, u = unsafe.Add(g, 16), unsafe.Add(u, 16)
	}
}

func winoOutput(out []float32, w, o int, m []float32, ms, th, tw int) {
	if !useSIMD || o%4 != 0 || o <= 0 || th <= 0 || tw <= 0 || w < 0 || ms < 0 {
		winoOutputGo(out, w, o, m, ms, th, tw)
		return
	}
	out = out[:((4*th-1)*w+4*tw)*o]
	m = m[:63*ms+th*tw*o]
	pout, pm := unsafe.Pointer(&out[0]), unsafe.Pointer(&m[0]) // pointers only into what is checked here
	for ty := range th {
		for tx := range tw {
			base, t := (4*ty*w+4*tx)*o, (ty*tw+tx)*o
			rawOutput(unsafe.Add(pout, 4*base), uintptr(4*w*o), uintptr(4*o), unsafe.Add(pm, 4*t), uintptr(4*ms), o/4)
		}
	}
}

// rawOutput is winoOutput on groups channel groups of one tile: element p of a group at m +
// p*ms, its output pixel (y, x) at out + y*rs + x*cs, both moving 16 bytes a group.
func rawOutput(out unsafe.Pointer, rs, cs uintptr, m unsafe.Pointer, ms uintptr, groups int) {
	var z [4][8]vec // z[x][j]: output column x of Aᵀ applied to row j
	for {
		z[0][0], z[1][0], z[2][0], z[3][0] = at4v(load8(m, ms))
		z[0][1], z[1][1], z[2][1], z[3][1] = at4v(load8(unsafe.Add(m, 8*ms), ms))
		z[0][2], z[1][2], z[2][2], z[3][2] = at4v(load8(unsafe.Add(m, 16*ms), ms))
		z[0][3], z[1][3], z[2][3], z[3][3] = at4v(load8(unsafe.Add(m, 24*ms), ms))
		z[0][4], z[1][4], z[2][4], z[3][4] = at4v(load8(unsafe.Add(m, 32*ms), ms))
		z[0][5], z[1][5], z[2][5], z[3][5] = at4v(load8(unsafe.Add(m, 40*ms), ms))
		z[0][6], z[1][6], z[2][6], z[3][6] = at4v(load8(unsafe.Add(m, 48*ms), ms))
		z[0][7], z[1][7], z[2][7], z[3][7] = at4v(load8(unsafe.Add(m, 56*ms), ms))
		y0, y1, y2, y3 := at4v(vals8(&z[0]))
		store4(out, rs, y0, y1, y2, y3)
		y0, y1, y2, y3 = at4v(vals8(&z[1]))
		store4(unsafe.Add(out, cs), rs, y0, y1, y2, y3)
		y0, y1, y2, y3 = at4v(vals8(&z[2]))
		store4(unsafe.Add(out, 2*cs), rs, y0, y1, y2, y3)
		y0, y1, y2, y3 = at4v(vals8(&z[3]))
		store4(unsafe.Add(out, 3*cs), rs, y0, y1, y2, y3)
		groups--
		if groups == 0 {
			break
		}
		out, m = unsafe.Add(out, 16), unsafe.Add(m, 16)
	}
}

func winoDy(m []float32, ms int, dy []float32, w, o, th, tw int) {
	if !useSIMD || o%4 != 0 || o <= 0 || th <= 0 || tw <= 0 || w < 0 || ms < 0 {
		winoDyGo(m, ms, dy, w, o, th, tw)
		return
	}
	dy = dy[:((4*th-1)*w+4*tw)*o]
	m = m[:63*ms+th*tw*o]
	pdy, pm := unsafe.Pointer(&dy[0]), unsafe.Pointer(&m[0]) // pointers only into what is checked here
	for ty := range th {
		for tx := range tw {
			base, t := (4*ty*w+4*tx)*o, (ty*tw+tx)*o
			rawDy(unsafe.Add(pm, 4*t), uintptr(4*ms), unsafe.Add(pdy, 4*base), uintptr(4*w*o), uintptr(4*o), o/4)
		}
	}
}

// rawDy is winoDy on groups channel groups of one block: its pixel (a, b) at dy + a*rs + b*cs,
// element p at m + p*ms, both moving 16 bytes a group.
func rawDy(m unsafe.Pointer, ms uintptr, dy unsafe.Pointer, rs, cs uintptr, groups int) {
	var s [8][4]vec // s[j][b]: row j of G applied to column b
	for {
		s[0][0], s[1][0], s[2][0], s[3][0], s[4][0], s[5][0], s[6][0], s[7][0] = g8of4v(load4(dy, rs))
		s[0][1], s[1][1], s[2][1], s[3][1], s[4][1], s[5][1], s[6][1], s[7][1] = g8of4v(load4(unsafe.Add(dy, cs), rs))
		s[0][2], s[1][2], s[2][2], s[3][2], s[4][2], s[5][2], s[6][2], s[7][2] = g8of4v(load4(unsafe.Add(dy, 2*cs), rs))
		s[0][3], s[1][3], s[2][3], s[3][3], s[4][3], s[5][3], s[6][3], s[7][3] = g8of4v(load4(unsafe.Add(dy, 3*cs), rs))
		y0, y1, y2, y3, y4, y5, y6, y7 := g8of4v(vals4(&s[0]))
		store8(m, ms, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8of4v(vals4(&s[1]))
		store8(unsafe.Add(m, 8*ms), ms, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8of4v(vals4(&s[2]))
		store8(unsafe.Add(m, 16*ms), ms, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8of4v(vals4(&s[3]))
		store8(unsafe.Add(m, 24*ms), ms, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8of4v(vals4(&s[4]))
		store8(unsafe.Add(m, 32*ms), ms, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8of4v(vals4(&s[5]))
		store8(unsafe.Add(m, 40*ms), ms, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8of4v(vals4(&s[6]))
		store8(unsafe.Add(m, 48*ms), ms, y0, y1, y2, y3, y4, y5, y6, y7)
		y0, y1, y2, y3, y4, y5, y6, y7 = g8of4v(vals4(&s[7]))
		store8(unsafe.Add(m, 56*ms), ms, y0, y1, y2, y3, y4, y5, y6, y7)
		groups--
		if groups == 0 {
			break
		}
		dy, m = unsafe.Add(dy, 16), unsafe.Add(m, 16)
	}
}

func winoWeightGrad(dw, dm []float32, us, c, o int) {
	co := c * o
	if !useSIMD || co%4 != 0 || co <= 0 || us < co {
		winoWeightGradGo(dw, dm, us, c, o)
		return
	}
	dw, dm = dw[:25*co], dm[:63*us+co]
	rawWeightGrad(unsafe.Pointer(&dw[0]), uintptr(4*co), unsafe.Pointer(&dm[0]), uintptr(4*us), co/4)
}

// rawWeightGrad is winoWeightGrad on groups groups of four channel pairs: element p of a group
// at dm + p*us, its tap (ky, kx) at dw + (5ky+kx)*s, both moving 16 bytes a group.
func rawWeightGrad(dw unsafe.Pointer, s uintptr, dm unsafe.Pointer, us uintptr, groups int) {
	var z [5][8]vec // z[kx][j]: output kx of Aᵀ applied to row j
	for {
		z[0][0], z[1][0], z[2][0], z[3][0], z[4][0] = at5v(load8(dm, us))
		z[0][1], z[1][1], z[2][1], z[3][1], z[4][1] = at5v(load8(unsafe.Add(dm, 8*us), us))
		z[0][2], z[1][2], z[2][2], z[3][2], z[4][2] = at5v(load8(unsafe.Add(dm, 16*us), us))
		z[0][3], z[1][3], z[2][3], z[3][3], z[4][3] = at5v(load8(unsafe.Add(dm, 24*us), us))
		z[0][4], z[1][4], z[2][4], z[3][4], z[4][4] = at5v(load8(unsafe.Add(dm, 32*us), us))
		z[0][5], z[1][5], z[2][5], z[3][5], z[4][5] = at5v(load8(unsafe.Add(dm, 40*us), us))
		z[0][6], z[1][6], z[2][6], z[3][6], z[4][6] = at5v(load8(unsafe.Add(dm, 48*us), us))
		z[0][7], z[1][7], z[2][7], z[3][7], z[4][7] = at5v(load8(unsafe.Add(dm, 56*us), us))
		y0, y1, y2, y3, y4 := at5v(vals8(&z[0]))
		store5(dw, 5*s, y0, y1, y2, y3, y4)
		y0, y1, y2, y3, y4 = at5v(vals8(&z[1]))
		store5(unsafe.Add(dw, s), 5*s, y0, y1, y2, y3, y4)
		y0, y1, y2, y3, y4 = at5v(vals8(&z[2]))
		store5(unsafe.Add(dw, 2*s), 5*s, y0, y1, y2, y3, y4)
		y0, y1, y2, y3, y4 = at5v(vals8(&z[3]))
		store5(unsafe.Add(dw, 3*s), 5*s, y0, y1, y2, y3, y4)
		y0, y1, y2, y3, y4 = at5v(vals8(&z[4]))
		store5(unsafe.Add(dw, 4*s), 5*s, y0, y1, y2, y3, y4)
		groups--
		if groups == 0 {
			break
		}
		dw, dm = unsafe.Add(dw, 16), unsafe.Add(dm, 16)
	}
}
