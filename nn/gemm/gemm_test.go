package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

// shape is one product of the table; pad widens each leading dimension beyond its minimum.
type shape struct{ m, n, k, pad int }

var shapes = []shape{
	{1, 1, 1, 0}, {1, 1, 1, 3}, {1, 7, 1, 0}, {5, 1, 3, 2}, {3, 5, 1, 1},
	{7, 9, 13, 0}, {7, 9, 13, 5}, {4, 32, 8, 0}, {8, 64, 2, 0}, {33, 65, 17, 3},
	{5, 37, 300, 1}, {130, 20, 3, 0}, {131, 33, 257, 2}, {75, 64, 600, 0},
	{18, 1600 / 8, 64, 4}, {129, 97, 530, 0}, {2, 3, 1029, 7},
}

// sentinel fills memory a correct Mul never writes (C) or never reads (A and B padding).
var sentinel = float32(math.NaN())

type operands struct {
	a, b, c0            []float32
	lda, ldb, ldc       int
	transA, transB, acc bool
}

func newOperands(rng *rand.Rand, s shape, transA, transB, acc bool) operands {
	o := operands{transA: transA, transB: transB, acc: acc}
	ar, ac := s.m, s.k
	if transA {
		ar, ac = s.k, s.m
	}
	br, bc := s.k, s.n
	if transB {
		br, bc = s.n, s.k
	}
	o.lda, o.ldb, o.ldc = ac+s.pad, bc+s.pad, s.n+s.pad
	o.a = randMatrix(rng, ar, ac, o.lda)
	o.b = randMatrix(rng, br, bc, o.ldb)
	o.c0 = randMatrix(rng, s.m, s.n, o.ldc)
	if s.pad > 0 {
		o.c0 = append(o.c0, sentinel, sentinel) // tail past the last row must stay untouched too
	}
	return o
}

// randMatrix returns rows×cols values in [-1, 1) with the padding of each row set to sentinel.
func randMatrix(rng *rand.Rand, rows, cols, ld int) []float32 {
	x := make([]float32, (rows-1)*ld+cols)
	for i := range x {
		if i%ld < cols {
			x[i] = 2*rng.Float32() - 1
		} else {
			x[i] = sentinel
		}
	}
	return x
}

func (o operands) opA(i, p int) float64 {
	if o.transA {
		return float64(o.a[p*o.lda+i])
	}
	return float64(o.a[i*o.lda+p])
}

func (o operands) opB(p, j int) float64 {
	if o.transB {
		return float64(o.b[j*o.ldb+p])
	}
	return float64(o.b[p*o.ldb+j])
}

func (o operands) run(g *Context, s shape) []float32 {
	c := append([]float32(nil), o.c0...)
	g.Mul(o.transA, o.transB, s.m, s.n, s.k, o.a, o.lda, o.b, o.ldb, c, o.ldc, o.acc)
	return c
}

// check compares c with a float64 reference; the tolerance grows with k and with Σ|a·b|.
func (o operands) check(t *testing.T, s shape, c []float32) {
	t.Helper()
	bad := 0
	for idx := range c {
		i, j := idx/o.ldc, idx%o.ldc
		if i >= s.m || j >= s.n {
			if !same(c[idx], o.c0[idx]) {
				t.Fatalf("element %d outside the %dx%d window changed: %v -> %v", idx, s.m, s.n, o.c0[idx], c[idx])
			}
			continue
		}
		var want, mag float64
		for p := 0; p < s.k; p++ {
			x := o.opA(i, p) * o.opB(p, j)
			want += x
			mag += math.Abs(x)
		}
		if o.acc {
			want += float64(o.c0[idx])
			mag += math.Abs(float64(o.c0[idx]))
		}
		tol := 2e-7*float64(s.k+2)*mag + 1e-30
		if d := math.Abs(float64(c[idx]) - want); !(d <= tol) {
			if bad++; bad < 5 {
				t.Errorf("C[%d][%d] = %v, want %v (diff %g > tol %g)", i, j, c[idx], want, d, tol)
			}
		}
	}
}

func same(x, y float32) bool {
	return math.Float32bits(x) == math.Float32bits(y)
}

func TestMul(t *testing.T) {
	for _, kern := range kernels() {
		g := newWithKernel(1, kern)
		for _, s := range shapes {
			for mode := 0; mode < 8; mode++ {
				transA, transB, acc := mode&1 != 0, mode&2 != 0, mode&4 != 0
				name := fmt.Sprintf("%s/%dx%dx%d+%d/tA=%v,tB=%v,acc=%v", kern.name, s.m, s.n, s.k, s.pad, transA, transB, acc)
				t.Run(name, func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(s.m*1000+s.n), uint64(s.k*8+mode)))
					o := newOperands(rng, s, transA, transB, acc)
					o.check(t, s, o.run(g, s))
				})
			}
		}
	}
}

// TestMulZeroK: with k = 0 the product is empty, so C becomes zero, or stays as is when
// accumulating.
func TestMulZeroK(t *testing.T) {
	g := New(1)
	c := []float32{1, 2, 3, 4, 5}
	g.Mul(false, false, 2, 2, 0, nil, 1, nil, 2, c, 3, true)
	if fmt.Sprint(c) != "[1 2 3 4 5]" {
		t.Fatalf("accumulate with k=0 changed C: %v", c)
	}
	g.Mul(false, false, 2, 2, 0, nil, 1, nil, 2, c, 3, false)
	if fmt.Sprint(c) != "[0 0 3 0 0]" {
		t.Fatalf("k=0 gave %v, want [0 0 3 0 0]", c)
	}
}

// TestThreadsBitIdentical: the engine's results must not depend on the number of threads.
func TestThreadsBitIdentical(t *testing.T) {
	defer func(v float64) { minParallelFlops = v }(minParallelFlops)
	minParallelFlops = 0
	big := []shape{{75, 64, 1500, 0}, {300, 70, 100, 3}, {9, 50, 700, 1}, {1, 5, 3, 0}, {130, 1600 / 4, 64, 0}}
	for _, kern := range kernels() {
		ctx := []*Context{newWithKernel(1, kern), newWithKernel(2, kern), newWithKernel(3, kern)}
		for _, s := range append(shapes, big...) {
			for mode := 0; mode < 8; mode++ {
				transA, transB, acc := mode&1 != 0, mode&2 != 0, mode&4 != 0
				rng := rand.New(rand.NewPCG(uint64(s.m), uint64(s.k)))
				o := newOperands(rng, s, transA, transB, acc)
				want := o.run(ctx[0], s)
				for _, g := range ctx[1:] {
					got := o.run(g, s)
					for i := range want {
						if !same(got[i], want[i]) {
							t.Fatalf("%s %v mode %d threads %d: C[%d] = %v, 1 thread gave %v", kern.name, s, mode, g.threads, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestNoAllocs: after the first call has grown the scratch, Mul allocates nothing.
func TestNoAllocs(t *testing.T) {
	for _, threads := range []int{1, 2} {
		for _, s := range []shape{{200, 64, 300, 0}, {64, 200, 300, 1}} {
			g := New(threads)
			for mode := 0; mode < 4; mode++ {
				transA, transB := mode&1 != 0, mode&2 != 0
				o := newOperands(rand.New(rand.NewPCG(1, 2)), s, transA, transB, true)
				c := append([]float32(nil), o.c0...)
				mul := func() { g.Mul(transA, transB, s.m, s.n, s.k, o.a, o.lda, o.b, o.ldb, c, o.ldc, true) }
				mul()
				if n := testing.AllocsPerRun(5, mul); n != 0 {
					t.Errorf("threads %d %v mode %d: %v allocations per call", threads, s, mode, n)
				}
			}
		}
	}
}

// TestBadArgs: a matrix too short for its shape panics with a message, not an index error.
func TestBadArgs(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || fmt.Sprint(r)[:6] != "gemm: " {
			t.Fatalf("recover() = %v, want a gemm panic", r)
		}
	}()
	New(1).Mul(false, false, 2, 2, 2, make([]float32, 3), 2, make([]float32, 4), 2, make([]float32, 4), 2, false)
}

// TestWorkersStop: the worker goroutines of a dropped Context end, so short-lived Contexts
// do not leak goroutines.
func TestWorkersStop(t *testing.T) {
	waitNoWorkers(t) // those of Contexts that earlier tests dropped
	useAndDrop()
	waitNoWorkers(t)
}

func waitNoWorkers(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		runtime.GC()
		if workers() == 0 {
			return
		}
	}
	t.Fatalf("%d workers left after dropping their Contexts", workers())
}

// useAndDrop makes a Context with workers and uses it; a separate function so that no stack
// slot of the test keeps the Context alive.
//
//go:noinline
func useAndDrop() {
	g := New(4)
	g.Mul(false, false, 1, 1, 1, []float32{2}, 1, []float32{3}, 1, make([]float32, 1), 1, false)
	if n := workers(); n != 3 {
		panic(fmt.Sprintf("New(4) started %d workers, want 3", n))
	}
}

// workers counts the worker goroutines of all Contexts.
func workers() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "created by cifar10/nn/gemm.newWithKernel")
}

// TestKernelsAgree: every kernel without fused multiply-add performs generic's operations in
// generic's order, so its Mul, Conv and ConvWeightGrad are bit-identical to generic's (the
// browser's wasm results must match a native plain build bit for bit). It also covers the
// ConvWeightGrad path for kernels without tileS, with generic itself stripped of it.
func TestKernelsAgree(t *testing.T) {
	noS := generic
	noS.name, noS.tileS = "generic-without-tileS", nil
	ref := newWithKernel(1, generic)
	for _, kern := range append(kernels(), noS) {
		if strings.HasPrefix(kern.name, "avx") { // fused multiply-add rounds differently
			continue
		}
		kernelsAgree(t, kern.name, newWithKernel(1, kern), ref)
	}
}

// kernelsAgree checks that g's Mul, Conv and ConvWeightGrad give ref's bits on every shape of
// the tables; name says which kernel g runs in the messages.
func kernelsAgree(t *testing.T, name string, g, ref *Context) {
	t.Helper()
	for _, s := range shapes {
		for mode := 0; mode < 8; mode++ {
			transA, transB, acc := mode&1 != 0, mode&2 != 0, mode&4 != 0
			o := newOperands(rand.New(rand.NewPCG(uint64(s.m), uint64(s.k*8+mode))), s, transA, transB, acc)
			agree(t, fmt.Sprintf("%s Mul %v mode %d", name, s, mode), o.run(g, s), o.run(ref, s))
		}
	}
	for i, s := range convShapes {
		in, w, out0 := convOperands(s, uint64(i))
		for _, acc := range []bool{false, true} {
			got, want := append([]float32(nil), out0...), append([]float32(nil), out0...)
			g.Conv(s, in, w, got, acc)
			ref.Conv(s, in, w, want, acc)
			agree(t, fmt.Sprintf("%s Conv %+v acc %v", name, s, acc), got, want)
			got, want = append([]float32(nil), w...), append([]float32(nil), w...)
			g.ConvWeightGrad(s, in, out0, got, acc)
			ref.ConvWeightGrad(s, in, out0, want, acc)
			agree(t, fmt.Sprintf("%s ConvWeightGrad %+v acc %v", name, s, acc), got, want)
		}
	}
}

func agree(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if !same(got[i], want[i]) {
			t.Fatalf("%s: [%d] = %v, the reference kernel gives %v", what, i, got[i], want[i])
		}
	}
}

// TestTileZeroK: with kc = 0 a tile is empty: C becomes zero, or stays as is with add.
func TestTileZeroK(t *testing.T) {
	for _, kern := range kernels() {
		for _, f := range []tileFunc{kern.tileT, kern.tileN} {
			for _, add := range []bool{false, true} {
				c := make([]float32, kern.mr*kern.nr)
				for i := range c {
					c[i] = float32(i + 1)
				}
				f(0, make([]float32, kern.mr), 1, nil, c, kern.nr, add) // mr rows of no elements
				for i, v := range c {
					if want := map[bool]float32{false: 0, true: float32(i + 1)}[add]; v != want {
						t.Fatalf("%s add=%v: c[%d] = %v, want %v", kern.name, add, i, v, want)
					}
				}
			}
		}
	}
}

// TestSwapBitIdentical: a product Mul computes through its transpose (swapPays) gives the same
// bits as computed directly, for every kernel, layout and accumulation, also across several
// k blocks and with padded leading dimensions.
func TestSwapBitIdentical(t *testing.T) {
	swapped := []shape{{16, 384, 600, 0}, {16, 2304 / 4, 384, 3}, {32, 64, 257, 1}, {35, 77, 20, 2}}
	for _, kern := range kernels() {
		g := newWithKernel(1, kern)
		for _, s := range swapped {
			if !swapPays(s.m, s.n, kern.nr) {
				continue
			}
			for mode := 0; mode < 8; mode++ {
				transA, transB, acc := mode&1 != 0, mode&2 != 0, mode&4 != 0
				o := newOperands(rand.New(rand.NewPCG(uint64(s.m), uint64(s.n+mode))), s, transA, transB, acc)
				got := o.run(g, s)
				want := append([]float32(nil), o.c0...)
				g.mul(transA, transB, s.m, s.n, s.k, o.a, o.lda, o.b, o.ldb, want, o.ldc, acc)
				for i := range want {
					if !same(got[i], want[i]) {
						t.Fatalf("%s %v mode %d: C[%d] = %v swapped, %v direct", kern.name, s, mode, i, got[i], want[i])
					}
				}
				o.check(t, s, got)
			}
		}
	}
}
