//go:build !goexperiment.simd || !(amd64 || wasm)

package nn

// Without GOEXPERIMENT=simd the portable kernels are the kernels.

func biasReLU(y, b []float32, relu bool) { biasReLUGo(y, b, relu) }
func reluMask(dy, y []float32)           { reluMaskGo(dy, y) }
func addRows(acc, x []float32)           { addRowsGo(acc, x) }
func poolRoute(dx, x, y, g []float32)    { poolRouteGo(dx, x, y, g) }

func poolMax(dst, x []float32, cells []int, relu bool) { poolMaxGo(dst, x, cells, relu) }

func lrnForward(x, y, s, pad []float32, r int, bias, alpha, beta float32) {
	lrnForwardGo(x, y, s, pad, r, bias, alpha, beta)
}

func lrnBackward(x, y, s, dy, dx, pad []float32, r int, k, beta float32) {
	lrnBackwardGo(x, y, s, dy, dx, pad, r, k, beta)
}

func adamUpdate(w, g, m, v []float32, alpha, c1, c2, eps float32) {
	adamUpdateGo(w, g, m, v, alpha, c1, c2, eps)
}

func momentumUpdate(w, g, acc []float32, lr, mom float32) { momentumUpdateGo(w, g, acc, lr, mom) }

func winoInput(v []float32, vs int, in []float32, pw, c, th, tw int) {
	winoInputGo(v, vs, in, pw, c, th, tw)
}

func winoWeights(u, g []float32, c, o int) { winoWeightsGo(u, g, c, o) }

func winoOutput(out []float32, w, o int, m []float32, ms, th, tw int) {
	winoOutputGo(out, w, o, m, ms, th, tw)
}

func winoDy(m []float32, ms int, dy []float32, w, o, th, tw int) { winoDyGo(m, ms, dy, w, o, th, tw) }

func winoWeightGrad(dw, dm []float32, c, o int) { winoWeightGradGo(dw, dm, c, o) }
