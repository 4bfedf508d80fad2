package nn

import (
	"math"
	"math/rand/v2"
)

// initRand draws the initial parameters. It uses PCG (exact integer arithmetic) and its own
// normal sampler built from +, *, / and sqrt only, which IEEE 754 rounds identically everywhere,
// so a seed gives bit-identical weights natively and in WebAssembly (math.Log has an assembly
// version on amd64 and a pure-Go one on wasm, and rand.NormFloat64 uses Log and Exp).
type initRand struct {
	r *rand.Rand
}

func newInitRand(seed uint64) *initRand {
	return &initRand{r: rand.New(rand.NewPCG(seed, 0x6369666172313030))} // "cifar100"
}

// normal returns a standard normal draw (Marsaglia's polar method).
func (g *initRand) normal() float64 {
	for {
		u := 2*g.r.Float64() - 1
		v := 2*g.r.Float64() - 1
		s := float64(u*u) + float64(v*v) // explicit rounding: no fused multiply-add
		if s > 0 && s < 1 {
			return u * math.Sqrt(-2*portableLog(s)/s)
		}
	}
}

// truncNormal fills w like tf.truncated_normal: normal draws scaled by std, redrawing any draw
// beyond two standard deviations.
func (g *initRand) truncNormal(w []float32, std float64) {
	for i := range w {
		z := g.normal()
		for z < -2 || z > 2 {
			z = g.normal()
		}
		w[i] = float32(z * std)
	}
}

// portableLog is the natural logarithm for x in (0, 1], written with basic arithmetic only so
// that it rounds the same on every platform. It reduces x = m·2^e with m in [sqrt(1/2), sqrt(2))
// and sums the atanh series of (m-1)/(m+1), which converges fast there; its error (a few ulp) is
// irrelevant for initialization, only its determinism matters.
func portableLog(x float64) float64 {
	m, e := math.Frexp(x) // x = m * 2^e, m in [0.5, 1)
	if m < math.Sqrt2/2 {
		m *= 2
		e--
	}
	t := (m - 1) / (m + 1)
	t2 := t * t
	sum, term := 0.0, t
	for k := 1; k < 40; k += 2 {
		sum += term / float64(k)
		term *= t2
	}
	return float64(float64(e)*math.Ln2) + 2*sum
}
