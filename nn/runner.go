package nn

import (
	"sync"

	"cifar10/nn/gemm"
)

// runner is what every layer computes with: one GEMM context and a small pool of goroutines for
// the elementwise work. Work is always split over whole examples (or whole columns), and every
// sum runs in a fixed order inside one part, so results do not depend on the number of threads.
// A runner is used by one goroutine at a time (its Trainer's).
type runner struct {
	gemm    *gemm.Context
	threads int
	work    chan span
	wg      sync.WaitGroup
	once    sync.Once
}

// span is one part of a parallel loop: f(part, lo, hi).
type span struct {
	f            func(part, lo, hi int)
	part, lo, hi int
}

func newRunner(threads int) *runner {
	if threads < 1 {
		threads = 1
	}
	r := &runner{gemm: gemm.New(threads), threads: threads}
	if threads > 1 {
		r.work = make(chan span)
		for i := 1; i < threads; i++ {
			go r.worker()
		}
	}
	return r
}

func (r *runner) worker() {
	for s := range r.work {
		s.f(s.part, s.lo, s.hi)
		r.wg.Done()
	}
}

// parallel runs f over [0, n) split into at most threads contiguous parts; part numbers run
// from 0 and index per-part scratch. With one thread (always in the browser) it is a plain call.
// f must be a value made once (a method value stored in a field), so nothing is allocated here.
func (r *runner) parallel(n int, f func(part, lo, hi int)) {
	parts := min(r.threads, n)
	if parts <= 1 {
		f(0, 0, n)
		return
	}
	size := ceilDiv(n, parts)
	r.wg.Add(parts - 1)
	for p := 1; p < parts; p++ {
		lo, hi := p*size, min(n, (p+1)*size)
		if lo >= hi {
			r.wg.Done()
			continue
		}
		r.work <- span{f: f, part: p, lo: lo, hi: hi}
	}
	f(0, 0, min(n, size))
	r.wg.Wait()
}

// close stops the worker goroutines; calling it again does nothing.
func (r *runner) close() {
	r.once.Do(func() {
		if r.work != nil {
			close(r.work)
		}
	})
}
