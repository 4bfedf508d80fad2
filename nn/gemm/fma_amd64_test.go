//go:build goexperiment.simd && amd64

package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestFMAKernelsAgree: the AVX2 and AVX-512 kernels perform the same fused multiply-adds in the
// same order for every element of C (gen_kernels.go writes both from one pattern), so their Mul,
// Conv and ConvWeightGrad are bit-identical: a native run gives the same numbers on any x86 CPU
// with FMA. Skipped unless this CPU has AVX-512.
func TestFMAKernelsAgree(t *testing.T) {
	ks := kernels()
	if len(ks) < 3 || ks[0].name != "avx512" || ks[1].name != "avx2" {
		t.Skip("this CPU does not run both FMA kernels")
	}
	ref, g := newWithKernel(1, avx2), newWithKernel(1, avx512)
	for _, s := range shapes {
		for mode := 0; mode < 8; mode++ {
			transA, transB, acc := mode&1 != 0, mode&2 != 0, mode&4 != 0
			o := newOperands(rand.New(rand.NewPCG(uint64(s.m), uint64(s.k*8+mode))), s, transA, transB, acc)
			agree(t, fmt.Sprintf("avx512 Mul %v mode %d (vs avx2)", s, mode), o.run(g, s), o.run(ref, s))
		}
	}
	for i, s := range convShapes {
		in, w, out0 := convOperands(s, uint64(i))
		for _, acc := range []bool{false, true} {
			got, want := append([]float32(nil), out0...), append([]float32(nil), out0...)
			g.Conv(s, in, w, got, acc)
			ref.Conv(s, in, w, want, acc)
			agree(t, fmt.Sprintf("avx512 Conv %+v acc %v (vs avx2)", s, acc), got, want)
			got, want = append([]float32(nil), w...), append([]float32(nil), w...)
			g.ConvWeightGrad(s, in, out0, got, acc)
			ref.ConvWeightGrad(s, in, out0, want, acc)
			agree(t, fmt.Sprintf("avx512 ConvWeightGrad %+v acc %v (vs avx2)", s, acc), got, want)
		}
	}
}
