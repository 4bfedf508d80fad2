package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// newTestBatchNorm builds a batch normalization of c channels over pix pixels for up to batch
// examples, its parameters random (gamma near 1, running statistics plausible).
func newTestBatchNorm(rng *rand.Rand, l LayerSpec, pix, c, batch int) (*batchNorm, []*Param, *pass) {
	shapes := batchNormParams(l, [3]int{1, pix, c})
	ps := make([]*Param, len(shapes))
	for i, s := range shapes {
		ps[i] = newParam(s.name, s.shape, 0, true)
		ps[i].Use = s.use
		for j := range ps[i].Data() {
			ps[i].Data()[j] = float32(0.5 + rng.Float64())
		}
	}
	p := &pass{}
	bn := newBatchNorm(l, layerConfig{in: [3]int{1, pix, c}, out: [3]int{1, pix, c}, params: ps, batch: batch, r: newRunner(2), pass: p})
	return bn, ps, p
}

func TestBatchNormGradients(t *testing.T) {
	cases := []struct {
		n, pix, c int
		scale     bool
	}{
		{3, 4, 5, true},
		{2, 3, 2, false},
		{40, 2, 3, true}, // two groups of 20 (nn/shard's shards of 40)
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("n%d-pix%d-c%d-scale%v", tc.n, tc.pix, tc.c, tc.scale), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(tc.n)))
			l := LayerSpec{Kind: KindBatchNorm, Name: "bn", Momentum: 0.3, Epsilon: 1e-3, Scale: tc.scale}
			bn, _, p := newTestBatchNorm(rng, l, tc.pix, tc.c, tc.n)
			*p = pass{train: true, scale: 0.25}
			x := randSlice(rng, tc.n*tc.pix*tc.c, 2)
			for i := range x {
				x[i] += float32(i%tc.c) - 1 // channels of different means
			}
			y := make([]float32, len(x))
			bn.forward(x, y, tc.n)
			x64, beta64 := to64(x), to64(bn.beta.Data())
			var gamma64 []float64
			if tc.scale {
				gamma64 = to64(bn.gamma.Data())
			}
			ref := func() []float64 {
				y, _, _ := batchNorm64(x64, tc.n, tc.pix, tc.c, gamma64, beta64, l.Epsilon)
				return y
			}
			checkClose(t, "forward", y, toF32(ref()), 1e-5, 1e-5)
			dy := randSlice(rng, len(y), 1)
			dx := make([]float32, len(x))
			bn.backward(x, y, dy, dx, tc.n)
			f := func() float64 { return dot64(ref(), dy) }
			fdCheck(t, "dx", x64, f, dx)
			fdCheck(t, "dbeta", beta64, f, bn.beta.GradData())
			if tc.scale {
				fdCheck(t, "dgamma", gamma64, f, bn.gamma.GradData())
			}
			// The statistics' slots hold the batch's mean and unbiased variance (mean over the
			// groups) times n times the pass's scale; fold moves the running values towards them.
			_, mean, variance := batchNorm64(x64, tc.n, tc.pix, tc.c, gamma64, beta64, l.Epsilon)
			k := float64(tc.n) * 0.25
			for j := range tc.c {
				mean[j] *= k
				variance[j] *= k
			}
			checkClose(t, "moving_mean slot", bn.mean.GradData(), toF32(mean), 1e-6, 1e-6)
			checkClose(t, "moving_variance slot", bn.variance.GradData(), toF32(variance), 1e-6, 1e-6)
			old := to64(bn.mean.Data())
			bn.fold()
			for j, v := range bn.mean.Data() {
				if want := 0.7*old[j] + 0.3*mean[j]; math.Abs(float64(v)-want) > 1e-6*math.Abs(want)+1e-7 {
					t.Errorf("folded moving_mean[%d] = %g, want %g", j, v, want)
				}
			}
		})
	}
}

// TestBatchNormEvaluates: an evaluation pass normalizes by the running statistics, example by
// example, whatever the other examples of the call.
func TestBatchNormEvaluates(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n, pix, c = 5, 3, 4
	l := LayerSpec{Kind: KindBatchNorm, Name: "bn", Momentum: 0.1, Epsilon: 1e-5, Scale: true}
	bn, _, _ := newTestBatchNorm(rng, l, pix, c, n)
	x := randSlice(rng, n*pix*c, 1)
	y := make([]float32, len(x))
	bn.forward(x, y, n)
	g, b, m, v := bn.gamma.Data(), bn.beta.Data(), bn.mean.Data(), bn.variance.Data()
	want := make([]float32, len(x))
	for i, t := range x {
		j := i % c
		want[i] = float32((float64(t)-float64(m[j]))/math.Sqrt(float64(v[j])+l.Epsilon)*float64(g[j]) + float64(b[j]))
	}
	checkClose(t, "evaluation", y, want, 1e-6, 1e-6)
	one := make([]float32, pix*c)
	bn.forward(x[2*pix*c:3*pix*c], one, 1)
	if i, ok := sameBits32(one, y[2*pix*c:3*pix*c]); !ok {
		t.Errorf("example 2 alone differs at %d", i)
	}
}

func sameBits32(a, b []float32) (int, bool) {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return 0, len(a) == len(b)
}

func TestBatchNormSpecErrors(t *testing.T) {
	for _, l := range []LayerSpec{
		{Kind: KindBatchNorm, Name: "bn", Momentum: 0, Epsilon: 1e-5},
		{Kind: KindBatchNorm, Name: "bn", Momentum: 1.5, Epsilon: 1e-5},
		{Kind: KindBatchNorm, Name: "bn", Momentum: 0.1},
	} {
		if _, err := l.outShape([3]int{4, 4, 3}); err == nil {
			t.Errorf("%+v accepted", l)
		}
	}
}

// TestStatisticsAreNotTrained: the optimizer has no slots for Fixed parameters and
// Statistics, an update leaves the whitening weights alone, and the running statistics move
// only by the fold.
func TestStatisticsAreNotTrained(t *testing.T) {
	spec := tinyFastSpec()
	m := mustModel(t, spec, 2)
	tr := mustTrainer(t, m, 4, 1)
	for _, s := range tr.Optimizer().Slots() {
		if s.Name == "whiten/weights/Momentum" || s.Name == "bn1/moving_mean/Momentum" {
			t.Errorf("optimizer slot %s", s.Name)
		}
	}
	white := append([]float32(nil), m.Param("whiten/weights").Data()...)
	images, labels := randBatch(rand.New(rand.NewPCG(2, 2)), spec, 4)
	tr.Step(images, labels)
	if i, ok := sameBits32(m.Param("whiten/weights").Data(), white); !ok {
		t.Errorf("whiten/weights changed at %d", i)
	}
	mm := m.Param("bn2/moving_mean")
	want := make([]float32, mm.Size())
	for j, g := range mm.GradData() {
		want[j] = 0.5*0 + 0.5*g // from 0, momentum 0.5
	}
	if i, ok := sameBits32(mm.Data(), want); !ok {
		t.Errorf("bn2/moving_mean[%d] = %g after one step, want %g", i, mm.Data()[i], want[i])
	}
	if tr.first != 0 {
		t.Errorf("backward stops at layer %d; whiten's bias is trained", tr.first)
	}
}

// TestFrozenWhitening: once the whitening bias is Fixed, the backward pass starts at the
// first convolution, the bias gets no gradient, and every other gradient is unchanged.
func TestFrozenWhitening(t *testing.T) {
	spec := tinyFastSpec()
	m := mustModel(t, spec, 3)
	tr := mustTrainer(t, m, 4, 1)
	images, labels := randBatch(rand.New(rand.NewPCG(3, 3)), spec, 4)
	tr.Gradients(images, labels, 0.25)
	want := append([]float32(nil), m.Grads()...)
	bias := m.Param("whiten/biases")
	if tr.first != 0 || !(math.Abs(float64(bias.GradData()[0])) > 0) {
		t.Fatalf("trained bias: backward from layer %d, gradient %g", tr.first, bias.GradData()[0])
	}
	bias.Use = Fixed
	tr.Gradients(images, labels, 0.25)
	if tr.first != 2 {
		t.Errorf("frozen bias: backward from layer %d, want 2 (conv1)", tr.first)
	}
	off := 0
	for _, p := range m.Params() {
		n := p.Size()
		g, w := p.GradData(), want[off:off+n]
		if p == bias {
			w = make([]float32, n)
		}
		if i, ok := sameBits32(g, w); !ok {
			t.Errorf("%s gradient [%d] = %g, want %g", p.Name, i, g[i], w[i])
		}
		off += n
	}
}
