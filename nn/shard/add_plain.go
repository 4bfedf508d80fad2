//go:build !goexperiment.simd || !(amd64 || wasm)

package shard

// Without GOEXPERIMENT=simd AddTo adds one element at a time.
func addTo(dst, x []float32) { addToGo(dst, x) }
