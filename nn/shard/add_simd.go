//go:build goexperiment.simd && (amd64 || wasm)

package shard

import (
	"runtime"

	"simd/archsimd"
)

// useSIMD is false on an amd64 CPU without AVX (archsimd's 128-bit operations are AVX ones).
var useSIMD = runtime.GOARCH == "wasm" || archsimd.X86.AVX()

// addTo adds x to dst sixteen floats per step, as four Float32x4 additions from one bounds
// check: a step's sums add millions of floats, and Go's wasm backend checks every index of
// the scalar loop (1.07 M floats: 1.07 ms scalar, 0.18 ms so under Node, as fast as a copy).
func addTo(dst, x []float32) {
	if !useSIMD {
		addToGo(dst, x)
		return
	}
	i := 0
	for ; i+16 <= len(dst); i += 16 {
		d, s := dst[i:i+16:i+16], x[i:i+16:i+16]
		archsimd.LoadFloat32x4(d[0:4]).Add(archsimd.LoadFloat32x4(s[0:4])).Store(d[0:4])
		archsimd.LoadFloat32x4(d[4:8]).Add(archsimd.LoadFloat32x4(s[4:8])).Store(d[4:8])
		archsimd.LoadFloat32x4(d[8:12]).Add(archsimd.LoadFloat32x4(s[8:12])).Store(d[8:12])
		archsimd.LoadFloat32x4(d[12:16]).Add(archsimd.LoadFloat32x4(s[12:16])).Store(d[12:16])
	}
	addToGo(dst[i:], x[i:])
}
