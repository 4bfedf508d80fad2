package nn

import "math"

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

// geluLayer is the GELU in its exact (erf) form, y = x·Φ(x) = x/2·(1 + erf(x/√2)), the
// default of PyTorch's nn.GELU that airbench trains with, rather than the tanh approximation:
// the same function as the recipes it follows, and in float64 the erf costs little more than
// the tanh. Each value is computed in float64 from its float32 input and rounded once, with
// Go's own math.Erf and math.Exp (pure Go on amd64 and wasm), so every build gives the same
// bits. The backward pass recomputes Φ from x: dx = dy·(Φ(x) + x·φ(x)).
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

const (
	invSqrt2   = 1 / math.Sqrt2
	invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
)

// geluForward sets y = x·Φ(x).
func geluForward(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		t := float64(v)
		y[i] = float32(0.5 * t * (1 + math.Erf(t*invSqrt2)))
	}
}

// geluBackward sets dx = dy·(Φ(x) + x·φ(x)).
func geluBackward(x, dy, dx []float32) {
	dy, dx = dy[:len(x)], dx[:len(x)]
	for i, v := range x {
		t := float64(v)
		d := 0.5*(1+math.Erf(t*invSqrt2)) + t*invSqrt2Pi*math.Exp(-0.5*t*t)
		dx[i] = float32(float64(dy[i]) * d)
	}
}
