//go:build !goexperiment.simd || !(amd64 || wasm)

package nn

func geluForward(x, y []float32)       { geluForwardGo(x, y) }
func geluBackward(x, dy, dx []float32) { geluBackwardGo(x, dy, dx) }
