// Package gemm multiplies float32 matrices for the engine's convolutions and dense layers.
//
// Everything the engine computes heavily goes through Context.Mul (and Context.Conv, the same
// product for a stride-1 convolution without the im2col matrix), so this is the one place where
// speed is won: packed panels, register-blocked micro-kernels, and simd/archsimd versions
// (GOEXPERIMENT=simd) beside a plain-Go fallback chosen by build tag:
//
//   - kernel_generic.go: plain Go, 2x4 tile; every build has it and falls back to it.
//   - kernel_wasm_plain.go (plain, wasm): generic's arithmetic in 2x16 tiles of 2x4 passes, the
//     loops written for Go's wasm backend and V8 (bit-identical to generic, 1.2-1.6x faster in
//     Node).
//   - kernel_wasm.go (simd, wasm): Float32x4, 4x8 tile, Mul then Add (wasm has no FMA).
//   - kernel_amd64.go (simd, amd64): Float32x16 4x32 tile with FMA when the CPU has AVX-512,
//     else Float32x8 4x16 with FMA when it has AVX2 and FMA, chosen at start-up.
//
// How a product is computed: op(B) is packed once per call into column panels of the kernel's
// width; then each goroutine takes a band of rows of C and, block by block (mcBlock rows by
// kcBlock of k), runs the micro-kernel over every (row panel, column panel) pair, reading A in
// place: A's rows (or, transposed, its columns) already sit at a constant stride, so packing A
// would only copy it. Every element of C is the same sequence of floating-point operations
// (k blocks in order, each summed in order from zero, then stored or added to C) whatever the
// number of threads and wherever the element falls in a tile: results are bit-identical for any
// thread count.
package gemm

//go:generate go run gen_kernels.go

import "fmt"

// Blocking sizes. They hardly matter at the engine's shapes (PLATFORM.md); these keep a block of
// A (128x256 floats, 128 KB) in L2 and a panel of packed B (256x32, 32 KB) in L1.
const (
	kcBlock = 256
	mcBlock = 128
)

// minParallelFlops is the size below which a product runs on the calling goroutine only: waking
// workers costs a few microseconds, as much as a small dense product. Tests lower it.
var minParallelFlops = float64(1 << 21)

// Context owns the packing scratch of one caller, so that steady-state calls allocate nothing.
// A Context is not safe for concurrent use; give each goroutine its own.
type Context struct {
	*pool
}

// New returns a Context that splits large products over up to threads goroutines
// (1 in the browser, where Go runs on one thread). With threads > 1 it starts threads-1 worker
// goroutines that live as long as the Context.
func New(threads int) *Context {
	return newWithKernel(threads, best)
}

// KernelName names the micro-kernel Mul uses on this build and CPU: "avx512", "avx2",
// "wasm-simd128" or "generic", so that benchmarks and logs can say what they measured.
func KernelName() string {
	return best.name
}

// Mul computes C = op(A)·op(B), or C += op(A)·op(B) when accumulate is set.
// op(A) is m×k and op(B) is k×n; C is m×n. All matrices are row-major with the given leading
// dimensions. With transA, A is stored k×m (op(A)[i][p] = a[p*lda+i]); with transB, B is stored
// n×k (op(B)[p][j] = b[j*ldb+p]). Elements of c outside the m×n window are never touched.
// The result is bit-identical for any thread count.
func (g *Context) Mul(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	checkArgs(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !accumulate {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	if swapPays(m, n, g.kern.nr) {
		g.mulSwapped(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate)
		return
	}
	g.mul(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate)
}

// mul is Mul as stated: op(B) packed, A read in place.
func (g *Context) mul(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	mr := g.kern.mr
	g.run(problem{
		transA: transA, transB: transB, m: m, n: n, k: k, kb: kcBlock,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate,
		flops: 2 * float64(m) * float64(n) * float64(k),
	}, mulRows, (m+mr-1)/mr)
}

// swapPays says whether Mul computes the transposed product instead. Mul packs op(B), k×n
// floats, on every call; when C has few rows and many columns (a dense layer on a shard of 16
// examples: 16×384 from 16×2304 times 2304×384) that copy costs more than the product, and
// computing Cᵀ = op(B)ᵀ·op(A)ᵀ packs op(A) (k×m) instead. C must have at least nr rows so
// the transposed product's column panels are full.
func swapPays(m, n, nr int) bool {
	return m >= nr && n >= 2*m
}

// mulSwapped computes Mul's C through its transpose: Cᵀ = op(B)ᵀ·op(A)ᵀ into the pool's
// scratch (C copied in first when accumulating), then transposed into C. Every element is
// the same sequence of operations as in mul (products commute exactly, also fused), so the
// result is bit-identical to it.
func (g *Context) mulSwapped(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	ct := grow(g.swapC, n*m)
	g.swapC = ct
	if accumulate {
		transpose(ct, m, c, ldc, m, n)
	}
	g.mul(!transB, !transA, n, m, k, b, ldb, a, lda, ct, m, accumulate)
	transpose(c, ldc, ct, m, n, m)
}

// transpose writes the rows×cols matrix src (row stride lds) as dst = srcᵀ (row stride ldd).
func transpose(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	for i := 0; i < rows; i++ {
		row := src[i*lds : i*lds+cols : i*lds+cols]
		for j, v := range row {
			dst[j*ldd+i] = v
		}
	}
}

// checkArgs panics with a readable message when a matrix is too short for its shape, instead of
// an index error deep inside a kernel.
func checkArgs(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("a", ar, ac, la, lda)
	checkMatrix("b", br, bc, lb, ldb)
	checkMatrix("c", m, n, lc, ldc)
}

func checkMatrix(name string, rows, cols, length, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("gemm: %s: leading dimension %d < %d columns", name, ld, cols))
	}
	if need := (rows-1)*ld + cols; length < need {
		panic(fmt.Sprintf("gemm: %s: %d elements, %dx%d with leading dimension %d needs %d", name, length, rows, cols, ld, need))
	}
}

// problem is one call's arguments, shared read-only with the workers.
type problem struct {
	transA, transB bool
	m, n, k        int
	kb             int // k block: B is packed, and C updated, every kb steps of k
	a              []float32
	lda            int
	b              []float32
	ldb            int
	c              []float32
	ldc            int
	accumulate     bool
	flops          float64
	conv           ConvShape // for Conv only
}

// kernel is a register-blocked micro-kernel. The tile functions compute the mr×nr block
// acc[r][j] = Σ_p A(r,p)·b[p*nr+j] over p < kc, in order from zero, then store it into c (row
// stride ldc) or, with add, add it to c. They differ only in where A(r,p) is: tileT reads
// a[p*lda+r] (a transposed A in place, or a packed panel with lda = mr), tileN reads
// a[r*lda+p] (a row-major A in place), so A is never packed; tileS is tileT over segments
// (kc = nseg*kseg, segment s at a[s*sstride:]); a kernel may leave tileS nil, and
// ConvWeightGrad then copies the segments into a panel for tileT. All perform the same
// operations in the same order, so they give bit-identical results.
type kernel struct {
	name   string
	mr, nr int
	tileT  tileFunc
	tileN  tileFunc
	tileS  func(nseg, kseg int, a []float32, lda, sstride int, b, c []float32, ldc int, add bool)
}

type tileFunc func(kc int, a []float32, lda int, b, c []float32, ldc int, add bool)
