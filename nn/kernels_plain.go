//go:build !goexperiment.simd || !(amd64 || wasm)

package nn

// Without GOEXPERIMENT=simd the portable kernels are the kernels.

func biasReLU(y, b []float32, relu bool) { biasReLUGo(y, b, relu) }
func reluMask(dy, y []float32)           { reluMaskGo(dy, y) }
func addRows(acc, x []float32)           { addRowsGo(acc, x) }
func poolRoute(dx, x, y, g []float32)    { poolRouteGo(dx, x, y, g) }

func unfoldRun(dst, src []float32, n, w, c, k int) { unfoldRunGo(dst, src, n, w, c, k) }
func addScaled(dst, x []float32, a float32)        { addScaledGo(dst, x, a) }

func poolMax(dst, x []float32, cells []int, relu bool) { poolMaxGo(dst, x, cells, relu) }

func poolMax3Row(y, x []float32, n, s, w, c int, relu bool) { poolMax3RowGo(y, x, n, s, w, c, relu) }

func poolRoute3Row(dx, x, y, dy, g []float32, n, s, w, c int, relu bool) {
	poolRoute3RowGo(dx, x, y, dy, g, n, s, w, c, relu)
}

func lrnForward(x, y, s, pad []float32, c, r int, bias, alpha, beta float32) {
	lrnForwardGo(x, y, s, pad, c, r, bias, alpha, beta)
}

func lrnBackward(x, y, s, dy, dx, pad []float32, c, r int, k, beta float32) {
	lrnBackwardGo(x, y, s, dy, dx, pad, c, r, k, beta)
}

func adamUpdate(w, g, m, v []float32, alpha, c1, c2, eps float32) {
	adamUpdateGo(w, g, m, v, alpha, c1, c2, eps)
}

func momentumUpdate(w, g, acc []float32, lr, mom float32) { momentumUpdateGo(w, g, acc, lr, mom) }

func winoInput(v []float32, vs int, in []float32, pw, c, th, tw int) {
	winoInputGo(v, vs, in, pw, c, th, tw)
}

func winoWeights(u []float32, us int, g []float32, c, o int) { winoWeightsGo(u, us, g, c, o) }

func winoOutput(out []float32, w, o int, m []float32, ms, th, tw int) {
	winoOutputGo(out, w, o, m, ms, th, tw)
}

func winoDy(m []float32, ms int, dy []float32, w, o, th, tw int) { winoDyGo(m, ms, dy, w, o, th, tw) }

func winoWeightGrad(dw, dm []float32, us, c, o int) { winoWeightGradGo(dw, dm, us, c, o) }
