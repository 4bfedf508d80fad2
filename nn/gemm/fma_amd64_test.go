//go:build goexperiment.simd && amd64

package gemm

import "testing"

// TestFMAKernelsAgree: the AVX2 and AVX-512 kernels perform the same fused multiply-adds in the
// same order for every element of C (gen_kernels.go writes both from one pattern), so their Mul,
// Conv and ConvWeightGrad are bit-identical: a native run gives the same numbers on any x86 CPU
// with FMA. Skipped unless this CPU has AVX-512.
func TestFMAKernelsAgree(t *testing.T) {
	ks := kernels()
	if len(ks) < 3 || ks[0].name != "avx512" || ks[1].name != "avx2" {
		t.Skip("this CPU does not run both FMA kernels")
	}
	kernelsAgree(t, "avx512 (vs avx2)", newWithKernel(1, avx512), newWithKernel(1, avx2))
}
