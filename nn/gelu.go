package nn

// KindGELU is the Gaussian error linear unit, y = x·Φ(x), elementwise.
const KindGELU LayerKind = "gelu"

func init() {
	registerKind(KindGELU, kind{
		outShape: func(l LayerSpec, in [3]int) ([3]int, error) { return in, nil },
		build: func(l LayerSpec, c layerConfig) layer {
			return newGELULayer(c.in, c.r)
		},
	})
}

// geluLayer is the GELU in its exact (erf) form, y = x·Φ(x) = x/2·(1 + erf(x/√2)): the default
// of PyTorch's nn.GELU, which airbench trains with, rather than the tanh approximation. It is
// also the cheaper one here: erf has a float32 rational approximation (erf32, the odd/even
// polynomial ratio XLA and Eigen use, within 5e-7 of erf) made of multiplications, additions,
// one division and a clamp, all of which wasm SIMD has, where tanh needs an exponential whose
// usual 2^n scaling needs bit casts that Go's wasm SIMD lacks. (The float64 math.Erf and
// math.Exp it replaced took half of a fast-preset step; math.Exp is assembly on amd64 and
// pure Go in wasm, so it could not be trusted to give the browser's bits either.)
//
// The backward pass recomputes Φ from x and needs φ(x) = exp(-x²/2)/√(2π) for
// dx = dy·(Φ(x) + x·φ(x)): expNeg32 takes exp(-x²/128) by a degree-7 Taylor polynomial and
// squares it six times (relative error below 1e-5), x clamped to ±6 where x·φ(x) < 4e-8.
// geluForward and geluBackward have SIMD versions (gelu_simd.go) doing the same float32
// operations in the same order, lane by lane.
type geluLayer struct {
	r            *runner
	size         int // values per example
	x, y, dy, dx []float32
	fnFwd, fnBwd func(part, lo, hi int)
}

func newGELULayer(in [3]int, r *runner) *geluLayer {
	g := &geluLayer{r: r, size: in[0] * in[1] * in[2]}
	g.fnFwd, g.fnBwd = g.forwardRange, g.backwardRange
	return g
}

func (g *geluLayer) forward(x, y []float32, n int) {
	g.x, g.y = x, y
	g.r.parallel(n, g.fnFwd)
}

func (g *geluLayer) forwardRange(_, lo, hi int) {
	a, b := lo*g.size, hi*g.size
	geluForward(g.x[a:b], g.y[a:b])
}

func (g *geluLayer) backward(x, y, dy, dx []float32, n int) {
	if dx == nil {
		return
	}
	g.x, g.dy, g.dx = x, dy, dx
	g.r.parallel(n, g.fnBwd)
}

func (g *geluLayer) backwardRange(_, lo, hi int) {
	a, b := lo*g.size, hi*g.size
	geluBackward(g.x[a:b], g.dy[a:b], g.dx[a:b])
}

// Constants of erf32 and geluBackwardGo (float32, as the kernels use them).
const (
	invSqrt2f   float32 = 0.70710678118654752 // 1/√2
	invSqrt2Pif float32 = 0.3989422804014327  // 1/√(2π)
	erfClamp    float32 = 4                   // |erf(z)| rounds to 1 in float32 beyond
	phiClamp    float32 = 6                   // x·φ(x) < 4e-8 beyond
)

// erfNum and erfDen are the coefficients of erf32's numerator (odd: z·P(z²), highest first)
// and denominator (even: Q(z²), highest first).
var (
	erfNum = [7]float32{-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
		-5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02}
	erfDen = [5]float32{-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
		-7.37332916720468e-03, -1.42647390514189e-02}
)

// erf32 approximates erf(z) in float32: z clamped to ±4, then z·P(z²)/Q(z²) by Horner's rule,
// clamped to ±1.
func erf32(z float32) float32 {
	z = min(max(z, -erfClamp), erfClamp)
	z2 := z * z
	p := erfNum[0]
	for _, c := range erfNum[1:] {
		p = p*z2 + c
	}
	q := erfDen[0]
	for _, c := range erfDen[1:] {
		q = q*z2 + c
	}
	return min(max(z*p/q, -1), 1)
}

// expNeg32 approximates exp(-x²/2) for |x| <= 6: u = -x²/128 (exact scaling), e^u by its
// Taylor polynomial of degree 7, squared six times.
func expNeg32(x float32) float32 {
	u := x * x * (-1.0 / 128)
	e := 1 + u*(1+u*(1.0/2+u*(1.0/6+u*(1.0/24+u*(1.0/120+u*(1.0/720+u*(1.0/5040)))))))
	for range 6 {
		e *= e
	}
	return e
}

// geluForwardGo sets y = h + h·erf32(x/√2), h = x/2.
func geluForwardGo(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		h := v * 0.5
		y[i] = h + h*erf32(v*invSqrt2f)
	}
}

// geluBackwardGo sets dx = dy·(Φ(x) + x·φ(x)), Φ = 1/2 + erf32(x/√2)/2, with x clamped to ±6
// in the second term.
func geluBackwardGo(x, dy, dx []float32) {
	dy, dx = dy[:len(x)], dx[:len(x)]
	for i, v := range x {
		cdf := 0.5 + 0.5*erf32(v*invSqrt2f)
		xc := min(max(v, -phiClamp), phiClamp)
		dx[i] = dy[i] * (cdf + xc*invSqrt2Pif*expNeg32(xc))
	}
}
