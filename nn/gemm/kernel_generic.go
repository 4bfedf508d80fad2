package gemm

// generic is the plain-Go micro-kernel: a 2x4 tile (8 scalar accumulators, few enough to stay in
// registers on amd64 and in Go's wasm locals), k unrolled by 4. PLATFORM.md measured this shape
// fastest among scalar tiles, natively and in wasm.
var generic = kernel{name: "generic", mr: 2, nr: 4, tileT: tileGenericT, tileS: tileGenericS, tileN: tileGenericN}

// acc2x4 is the generic tile's accumulator block, kept as eight scalars so they live in registers.
type acc2x4 struct{ c00, c01, c02, c03, c10, c11, c12, c13 float32 }

// tileGenericT reads A(r,p) at a[p*lda+r].
func tileGenericT(kc int, a []float32, lda int, b, c []float32, ldc int, add bool) {
	tileGenericS(1, kc, a, lda, 0, b, c, ldc, add)
}

// tileGenericS reads A(r,p) for p = s*kseg+t at a[s*sstride+t*lda+r].
func tileGenericS(nseg, kseg int, a []float32, lda, sstride int, b, c []float32, ldc int, add bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	lda = max(lda, 0) // lets the compiler see both rows in w: one bounds check per two steps
	for s := range nseg {
		bs := b[s*kseg*4 : (s+1)*kseg*4 : (s+1)*kseg*4]
		o := s * sstride
		for ; len(bs) >= 16; bs = bs[16:] {
			w := a[o : o+lda+2 : o+lda+2]
			x := w[:2:2]
			z := w[lda : lda+2 : lda+2]
			y := bs[:16:16]
			c00, c01, c02, c03 = c00+x[0]*y[0], c01+x[0]*y[1], c02+x[0]*y[2], c03+x[0]*y[3]
			c10, c11, c12, c13 = c10+x[1]*y[0], c11+x[1]*y[1], c12+x[1]*y[2], c13+x[1]*y[3]
			c00, c01, c02, c03 = c00+z[0]*y[4], c01+z[0]*y[5], c02+z[0]*y[6], c03+z[0]*y[7]
			c10, c11, c12, c13 = c10+z[1]*y[4], c11+z[1]*y[5], c12+z[1]*y[6], c13+z[1]*y[7]
			w = a[o+2*lda : o+3*lda+2 : o+3*lda+2]
			x = w[:2:2]
			z = w[lda : lda+2 : lda+2]
			c00, c01, c02, c03 = c00+x[0]*y[8], c01+x[0]*y[9], c02+x[0]*y[10], c03+x[0]*y[11]
			c10, c11, c12, c13 = c10+x[1]*y[8], c11+x[1]*y[9], c12+x[1]*y[10], c13+x[1]*y[11]
			c00, c01, c02, c03 = c00+z[0]*y[12], c01+z[0]*y[13], c02+z[0]*y[14], c03+z[0]*y[15]
			c10, c11, c12, c13 = c10+z[1]*y[12], c11+z[1]*y[13], c12+z[1]*y[14], c13+z[1]*y[15]
			o += 4 * lda
		}
		for ; len(bs) >= 4; bs = bs[4:] {
			x := a[o : o+2 : o+2]
			y := bs[:4:4]
			c00, c01, c02, c03 = c00+x[0]*y[0], c01+x[0]*y[1], c02+x[0]*y[2], c03+x[0]*y[3]
			c10, c11, c12, c13 = c10+x[1]*y[0], c11+x[1]*y[1], c12+x[1]*y[2], c13+x[1]*y[3]
			o += lda
		}
	}
	storeGeneric(c, ldc, add, acc2x4{c00, c01, c02, c03, c10, c11, c12, c13})
}

// tileGenericN reads A(r,p) at a[r*lda+p].
func tileGenericN(kc int, a []float32, lda int, b, c []float32, ldc int, add bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	r0 := a[:kc:kc]
	r1 := a[lda:][:kc:kc]
	b = b[: 4*kc : 4*kc]
	p := 0
	for ; p+4 <= kc && len(b) >= 16; p += 4 {
		x := r0[p : p+4 : p+4]
		z := r1[p : p+4 : p+4]
		y := b[:16:16]
		c00, c01, c02, c03 = c00+x[0]*y[0], c01+x[0]*y[1], c02+x[0]*y[2], c03+x[0]*y[3]
		c10, c11, c12, c13 = c10+z[0]*y[0], c11+z[0]*y[1], c12+z[0]*y[2], c13+z[0]*y[3]
		c00, c01, c02, c03 = c00+x[1]*y[4], c01+x[1]*y[5], c02+x[1]*y[6], c03+x[1]*y[7]
		c10, c11, c12, c13 = c10+z[1]*y[4], c11+z[1]*y[5], c12+z[1]*y[6], c13+z[1]*y[7]
		c00, c01, c02, c03 = c00+x[2]*y[8], c01+x[2]*y[9], c02+x[2]*y[10], c03+x[2]*y[11]
		c10, c11, c12, c13 = c10+z[2]*y[8], c11+z[2]*y[9], c12+z[2]*y[10], c13+z[2]*y[11]
		c00, c01, c02, c03 = c00+x[3]*y[12], c01+x[3]*y[13], c02+x[3]*y[14], c03+x[3]*y[15]
		c10, c11, c12, c13 = c10+z[3]*y[12], c11+z[3]*y[13], c12+z[3]*y[14], c13+z[3]*y[15]
		b = b[16:]
	}
	for ; p < kc && len(b) >= 4; p++ {
		x, z := r0[p], r1[p]
		y := b[:4:4]
		c00, c01, c02, c03 = c00+x*y[0], c01+x*y[1], c02+x*y[2], c03+x*y[3]
		c10, c11, c12, c13 = c10+z*y[0], c11+z*y[1], c12+z*y[2], c13+z*y[3]
		b = b[4:]
	}
	storeGeneric(c, ldc, add, acc2x4{c00, c01, c02, c03, c10, c11, c12, c13})
}

// storeGeneric writes the 2x4 tile into c, adding to what is there when add is set.
func storeGeneric(c []float32, ldc int, add bool, t acc2x4) {
	r0 := c[0:4:4]
	r1 := c[ldc : ldc+4 : ldc+4]
	if add {
		t.c00, t.c01, t.c02, t.c03 = r0[0]+t.c00, r0[1]+t.c01, r0[2]+t.c02, r0[3]+t.c03
		t.c10, t.c11, t.c12, t.c13 = r1[0]+t.c10, r1[1]+t.c11, r1[2]+t.c12, r1[3]+t.c13
	}
	r0[0], r0[1], r0[2], r0[3] = t.c00, t.c01, t.c02, t.c03
	r1[0], r1[1], r1[2], r1[3] = t.c10, t.c11, t.c12, t.c13
}
