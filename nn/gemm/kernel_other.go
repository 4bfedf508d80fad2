//go:build !wasm && (!goexperiment.simd || !amd64)

package gemm

// best is the kernel New uses: without GOEXPERIMENT=simd (or on an architecture without a SIMD
// kernel here) that is the plain-Go one. WebAssembly has its own files either way:
// kernel_wasm.go with GOEXPERIMENT=simd, kernel_wasm_plain.go without.
var best = generic

// kernels lists every kernel this build can run on this CPU, best first (tests run them all).
func kernels() []kernel {
	return []kernel{generic}
}
