package gemm

import (
	"runtime"
	"sync"
)

// pool is the state behind a Context: the kernel, the scratch, and the worker goroutines.
// Workers hold a pointer to the pool, never to the Context, so that a dropped Context is
// collected and its cleanup stops the workers.
type pool struct {
	threads int
	kern    kernel
	packedB []float32
	swapC   []float32 // Cᵀ of a swapped Mul
	p       problem
	workers []*worker // workers[0] is the calling goroutine's own scratch
	wg      sync.WaitGroup
}

// worker is the per-goroutine scratch: one zero-padded panel of A and one tile of C, for the
// edges of the matrices, and the rows of A that ConvWeightGrad copies for a kernel without
// tileS.
type worker struct {
	panel []float32
	edge  []float32
	segs  []float32
	tasks chan task
}

// task is one goroutine's share of a phase: units [lo, hi) of the given kind.
type task struct {
	kind   taskKind
	lo, hi int
}

type taskKind uint8

const (
	packPanels     taskKind = iota // column panels of B
	mulRows                        // row tiles of C (Mul)
	convImages                     // whole images (Conv)
	convWeightRows                 // row tiles of the weight gradient (ConvWeightGrad)
)

func newWithKernel(threads int, kern kernel) *Context {
	if threads < 1 {
		threads = 1
	}
	g := &pool{threads: threads, kern: kern, workers: make([]*worker, threads)}
	for t := range g.workers {
		w := &worker{edge: make([]float32, kern.mr*kern.nr)}
		if t > 0 {
			w.tasks = make(chan task)
			go g.serve(w)
		}
		g.workers[t] = w
	}
	ctx := &Context{g}
	if threads > 1 {
		runtime.AddCleanup(ctx, (*pool).stop, g)
	}
	return ctx
}

// stop ends the worker goroutines once their Context is unreachable.
func (g *pool) stop() {
	for _, w := range g.workers[1:] {
		close(w.tasks)
	}
}

func (g *pool) serve(w *worker) {
	for t := range w.tasks {
		g.do(w, t)
		g.wg.Done()
	}
}

// run computes one product: pack B (split by panels), then C split into units of the given
// kind (bands of row tiles for Mul, images for Conv). p.flops decides whether to use workers.
func (g *pool) run(p problem, kind taskKind, units int) {
	nr := g.kern.nr
	panels := (p.n + nr - 1) / nr
	g.p = p
	g.packedB = grow(g.packedB, p.k*panels*nr)
	nw := min(g.threads, units)
	if p.flops < minParallelFlops {
		nw = 1
	}
	g.parallel(nw, packPanels, panels)
	g.parallel(nw, kind, units)
	g.p = problem{} // keep no reference to the caller's matrices
}

// parallel splits units into nw contiguous ranges, hands all but the first to workers and
// does the first itself.
func (g *pool) parallel(nw int, kind taskKind, units int) {
	g.wg.Add(nw - 1)
	for t := 1; t < nw; t++ {
		g.workers[t].tasks <- task{kind, units * t / nw, units * (t + 1) / nw}
	}
	g.do(g.workers[0], task{kind, 0, units / nw})
	g.wg.Wait()
}

func (g *pool) do(w *worker, t task) {
	switch t.kind {
	case packPanels:
		g.packBPanels(t.lo, t.hi)
	case mulRows:
		mr := g.kern.mr
		g.computeRows(w, t.lo*mr, min(t.hi*mr, g.p.m))
	case convImages:
		g.convImages(w, t.lo, t.hi)
	case convWeightRows:
		g.convWeightRows(w, t.lo, t.hi)
	}
}

// packBPanels packs column panels [lo, hi) of op(B) for every k block of p.kb rows. The block
// starting at row p0 begins at p0*panels*nr in packedB; within it, panel jp begins at jp*kc*nr.
func (g *pool) packBPanels(lo, hi int) {
	p, nr := &g.p, g.kern.nr
	panels := (p.n + nr - 1) / nr
	for p0 := 0; p0 < p.k; p0 += p.kb {
		kc := min(p.kb, p.k-p0)
		block := g.packedB[p0*panels*nr:]
		for jp := lo; jp < hi; jp++ {
			j := jp * nr
			dst := block[jp*kc*nr : (jp+1)*kc*nr]
			packB(dst, nr, p.transB, p.b, p.ldb, j, min(nr, p.n-j), p0, kc)
		}
	}
}

// computeRows computes rows [i0, i1) of C; i0 is a multiple of the kernel's mr.
// A is read in place (tileN for a row-major A, tileT for a transposed one); only a last,
// partial panel of fewer than mr rows is copied, zero-padded, into w.panel.
func (g *pool) computeRows(w *worker, i0, i1 int) {
	mc := mcBlock / g.kern.mr * g.kern.mr
	for ic := i0; ic < i1; ic += mc {
		rows := min(mc, i1-ic)
		for p0 := 0; p0 < g.p.k; p0 += g.p.kb {
			g.block(w, ic, rows, p0, min(g.p.kb, g.p.k-p0))
		}
	}
}

// block runs the micro-kernel over rows [ic, ic+rows) of C and every column panel, for the k
// block [p0, p0+kc).
func (g *pool) block(w *worker, ic, rows, p0, kc int) {
	p, mr, nr := &g.p, g.kern.mr, g.kern.nr
	panels := (p.n + nr - 1) / nr
	add := p.accumulate || p0 > 0
	bBlock := g.packedB[p0*panels*nr:]
	for jp := 0; jp < panels; jp++ {
		bp := bBlock[jp*kc*nr : (jp+1)*kc*nr]
		j := jp * nr
		cols := min(nr, p.n-j)
		for r := 0; r < rows; r += mr {
			i := ic + r
			var a []float32
			if p.transA {
				a = p.a[p0*p.lda+i:]
			} else {
				a = p.a[i*p.lda+p0:]
			}
			g.tile(w, kc, a, p.lda, p.transA, bp, p.c[i*p.ldc+j:], p.ldc, min(mr, rows-r), cols, add)
		}
	}
}

// tile computes one h×cols tile of C (at most mr×nr) from kc steps of A (A(r,p) at a[p*lda+r]
// when trans, else at a[r*lda+p]) and a packed panel of B. A partial tile goes through the
// worker's edge tile. Its missing rows of A are read anyway when a is long enough (their
// results are dropped, and each row of the tile is computed independently of the others, so
// even NaNs there change nothing); only at the very end of a is the partial panel copied,
// zero-padded, into w.panel.
func (g *pool) tile(w *worker, kc int, a []float32, lda int, trans bool, bp, c []float32, ldc, h, cols int, add bool) {
	kern := g.kern
	mr, nr := kern.mr, kern.nr
	if h == mr && cols == nr {
		if trans {
			kern.tileT(kc, a, lda, bp, c, ldc, add)
		} else {
			kern.tileN(kc, a, lda, bp, c, ldc, add)
		}
		return
	}
	switch {
	case trans && len(a) >= (kc-1)*lda+mr:
		kern.tileT(kc, a, lda, bp, w.edge, nr, false)
	case !trans && len(a) >= (mr-1)*lda+kc:
		kern.tileN(kc, a, lda, bp, w.edge, nr, false)
	default:
		panel := grow(w.panel, kc*mr)
		w.panel = panel
		packSlow(panel, mr, h, trans, a, lda, 0, 0, kc)
		kern.tileT(kc, panel, mr, bp, w.edge, nr, false)
	}
	merge(c, ldc, w.edge, nr, h, cols, add)
}

// merge stores (or adds) the top-left h×w corner of an edge tile into C.
func merge(c []float32, ldc int, tile []float32, nr, h, w int, add bool) {
	for r := 0; r < h; r++ {
		dst := c[r*ldc : r*ldc+w : r*ldc+w]
		src := tile[r*nr : r*nr+w : r*nr+w]
		if !add {
			copy(dst, src)
			continue
		}
		for j := range dst {
			dst[j] += src[j]
		}
	}
}

// grow returns s resized to n elements, reallocating only when its capacity is too small, so
// scratch grows to the largest product seen and then stays.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
