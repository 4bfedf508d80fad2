//go:build wasm && !goexperiment.simd

package gemm

import "unsafe"

// best is the plain-Go kernel shaped for Go's WebAssembly backend and V8 (measured in Node 20).
// Its arithmetic is generic's (each element of C summed in order from zero over k, then
// stored or added; no fused multiply-add), so results are bit-identical to the native plain
// build; only the loops are written for how Go's wasm code runs:
//
//   - Every jump in Go's wasm output goes back through the function's br_table dispatch loop,
//     and V8 compiles that loop as one big loop. A call anywhere in the function (a bounds-check
//     or nil-check panic, even on a path never taken) kept the accumulators in stack slots
//     across the dispatch: V8 stored and reloaded them on every iteration. So the k loop lives
//     in a function with no call at all (rawN, rawT: unsafe loads, no checks), and the tile
//     functions check the bounds once and store.
//   - The loop body is one block that is also the loop header (for { ...; if n == 0 { break } }):
//     then the accumulator updates have uses in their own block, which Go's scheduler places
//     right after each product. With a separate header they have none and Go computed all
//     products of the last step first and spilled accumulators to memory every iteration.
//   - One k step of a 2x4 block per iteration (6 loads, 8 multiply-adds): V8 hoists every load
//     of a block above the arithmetic, so with k unrolled by 2, or with 3x4, 4x4 or 2x8 blocks,
//     the loaded values plus the accumulators outgrew x86-64's registers and V8 spilled.
//   - A Go call costs about as much as ten k steps (a wrapper, raw loop and store took ~20 ns
//     at kc = 1), so a tile is 2x16: four passes of rawN or rawT over 2x4 column blocks of the
//     same rows of A, one tile call instead of four (engine step +10%). Two loops in one raw
//     function ran at half speed; 2x32 and 4x16 tiles were within 3% of 2x16 (and 2x32 makes a
//     40 KB panel of B at kc = 320, more than many CPUs' L1).
//
// ConvWeightGrad does not use a segmented kernel here (tileS is nil): convWeightRowsCopied
// copies 16 rows of A of one image into a panel and runs tileT over it for every column panel,
// since a nested segment loop in rawT's style kept too many integers live for V8 and ran 30%
// slower.
var best = wasmPlain

var wasmPlain = kernel{name: "wasm-plain", mr: 2, nr: plainNR, tileT: tileWasmPlainT, tileN: tileWasmPlainN}

// plainNR is the width of wasmPlain's tiles, made of 2x4 blocks.
const plainNR = 16

// kernels lists every kernel this build can run, best first (tests run them all).
func kernels() []kernel {
	return []kernel{wasmPlain, generic}
}

// tileWasmPlainN reads A(r,p) at a[r*lda+p].
func tileWasmPlainN(kc int, a []float32, lda int, b, c []float32, ldc int, add bool) {
	var pa, pb unsafe.Pointer // pointers are made only into what is checked here
	if kc > 0 {
		a = a[:uint(lda)+uint(kc)] // both rows; uint rejects a negative lda
		b = b[:plainNR*kc]
		pa, pb = unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	}
	lda4 := uintptr(lda) * 4
	for j := 0; j < plainNR; j += 4 {
		c00, c01, c02, c03, c10, c11, c12, c13 := rawN(kc, pa, lda4, pb, uintptr(4*j))
		r0, r1 := c[j:j+4:j+4], c[ldc+j:ldc+j+4:ldc+j+4] // stored here: a call per block costs
		if add {
			c00, c01, c02, c03 = r0[0]+c00, r0[1]+c01, r0[2]+c02, r0[3]+c03
			c10, c11, c12, c13 = r1[0]+c10, r1[1]+c11, r1[2]+c12, r1[3]+c13
		}
		r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
		r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
	}
}

// tileWasmPlainT reads A(r,p) at a[p*lda+r].
func tileWasmPlainT(kc int, a []float32, lda int, b, c []float32, ldc int, add bool) {
	var pa, pb unsafe.Pointer // pointers are made only into what is checked here
	if kc > 0 {
		a = a[:uint(kc-1)*uint(lda)+2]
		b = b[:plainNR*kc]
		pa, pb = unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	}
	lda4 := uintptr(lda) * 4
	for j := 0; j < plainNR; j += 4 {
		c00, c01, c02, c03, c10, c11, c12, c13 := rawT(kc, pa, lda4, pb, uintptr(4*j))
		r0, r1 := c[j:j+4:j+4], c[ldc+j:ldc+j+4:ldc+j+4] // stored here: a call per block costs
		if add {
			c00, c01, c02, c03 = r0[0]+c00, r0[1]+c01, r0[2]+c02, r0[3]+c03
			c10, c11, c12, c13 = r1[0]+c10, r1[1]+c11, r1[2]+c12, r1[3]+c13
		}
		r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
		r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
	}
}

// rawN returns the 2x4 block Σ_p A(r,p)·B(p,j) over p < n, in order from zero, with A(r,p) at
// a + r*lda4 + 4p and B(p,j) at b + ob + 4*plainNR*p + 4j (bytes): the column block at byte ob
// of a packed panel. The caller has checked that all of it is in bounds.
func rawN(n int, a unsafe.Pointer, lda4 uintptr, b unsafe.Pointer, ob uintptr) (c00, c01, c02, c03, c10, c11, c12, c13 float32) {
	if n <= 0 {
		return
	}
	var oa uintptr
	for {
		x0 := *(*float32)(unsafe.Add(a, oa))
		x1 := *(*float32)(unsafe.Add(a, oa+lda4))
		y := (*[4]float32)(unsafe.Add(b, ob))
		c00, c01, c02, c03 = c00+x0*y[0], c01+x0*y[1], c02+x0*y[2], c03+x0*y[3]
		c10, c11, c12, c13 = c10+x1*y[0], c11+x1*y[1], c12+x1*y[2], c13+x1*y[3]
		oa += 4
		ob += 4 * plainNR
		n--
		if n == 0 {
			break
		}
	}
	return
}

// rawT is rawN with A(r,p) at a + p*lda4 + 4r.
func rawT(n int, a unsafe.Pointer, lda4 uintptr, b unsafe.Pointer, ob uintptr) (c00, c01, c02, c03, c10, c11, c12, c13 float32) {
	if n <= 0 {
		return
	}
	var oa uintptr
	for {
		x := (*[2]float32)(unsafe.Add(a, oa))
		y := (*[4]float32)(unsafe.Add(b, ob))
		c00, c01, c02, c03 = c00+x[0]*y[0], c01+x[0]*y[1], c02+x[0]*y[2], c03+x[0]*y[3]
		c10, c11, c12, c13 = c10+x[1]*y[0], c11+x[1]*y[1], c12+x[1]*y[2], c13+x[1]*y[3]
		oa += lda4
		ob += 4 * plainNR
		n--
		if n == 0 {
			break
		}
	}
	return
}
