package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Every backward pass is checked against central finite differences of the float64 reference
// forward (ref64_test.go): for a random output gradient dy, d/dθ of sum(dy · ref(θ)) must equal
// the engine's float32 gradient.

func randSlice(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

func randParam(r *rand.Rand, name string, shape []int, scale float64) *Param {
	p := newParam(name, shape, 0, true)
	copy(p.Data(), randSlice(r, p.Size(), scale))
	return p
}

// fdCheck compares got with central differences of f with respect to each entry of v.
func fdCheck(t *testing.T, what string, v []float64, f func() float64, got []float32) {
	t.Helper()
	const h = 1e-6
	fd := make([]float64, len(v))
	scale := 0.0
	for i := range v {
		old := v[i]
		v[i] = old + h
		fp := f()
		v[i] = old - h
		fm := f()
		v[i] = old
		fd[i] = (fp - fm) / (2 * h)
		scale = max(scale, math.Abs(fd[i]))
	}
	for i := range v {
		if d := math.Abs(float64(got[i]) - fd[i]); d > 1e-5*scale+1e-4*math.Abs(fd[i])+1e-7 {
			t.Errorf("%s[%d] = %.7g, finite differences %.7g (|Δ| %.2g, largest |g| %.3g)", what, i, got[i], fd[i], d, scale)
			return
		}
	}
}

func TestConvGradients(t *testing.T) {
	cases := []struct {
		h, w, c, o, k, n, chunk int
		relu                    bool
		winograd                bool
	}{
		{5, 4, 3, 4, 3, 2, 0, false, false},
		{5, 4, 3, 4, 3, 2, 0, true, false},
		{4, 6, 2, 3, 5, 3, 1, true, false}, // kernel wider than half the image; one example per im2col block
		{3, 3, 4, 2, 5, 2, 0, false, false},
		{4, 5, 16, 3, 3, 2, 0, true, false}, // 16 input channels: the implicit (gemm.Conv) path
		{3, 4, 16, 2, 5, 2, 1, false, false},
		{4, 8, 16, 8, 5, 2, 0, true, false}, // 5×5, output in 4×4 tiles: Winograd forward and input gradient
		{4, 6, 16, 5, 3, 2, 0, true, true},  // 3×3 asked to use Winograd, output in 2×2 tiles: F(2×2, 3×3)
		{6, 4, 17, 20, 3, 3, 0, false, true},
		{5, 4, 16, 5, 3, 2, 0, true, true}, // odd height: the implicit GEMM after all
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%dx%dx%d-k%d-o%d-relu%v-chunk%d-winograd%v", tc.h, tc.w, tc.c, tc.k, tc.o, tc.relu, tc.chunk, tc.winograd), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.k*100+tc.h)))
			w := randParam(rng, "c/weights", []int{tc.k, tc.k, tc.c, tc.o}, 0.5)
			b := randParam(rng, "c/biases", []int{tc.o}, 0.5)
			r := newRunner(1)
			cv := newConvLayer(LayerSpec{Kind: KindConv, Name: "c", Size: tc.k, Out: tc.o, Winograd: tc.winograd}, [3]int{tc.h, tc.w, tc.c}, w, b, tc.n, r, tc.relu, true)
			if want := tc.winograd && tc.h%2 == 0; want != (cv.wfwd != nil && tc.k == 3) {
				t.Fatalf("F(2×2, 3×3) used %v, want %v", cv.wfwd != nil, want)
			}
			if tc.chunk > 0 {
				cv.chunk = tc.chunk
			}
			x := randSlice(rng, tc.n*tc.h*tc.w*tc.c, 1)
			y := make([]float32, tc.n*tc.h*tc.w*tc.o)
			cv.forward(x, y, tc.n)
			x64, w64, b64 := to64(x), to64(w.Data()), to64(b.Data())
			ref := func() []float64 { return conv64(x64, tc.n, tc.h, tc.w, tc.c, w64, b64, tc.k, tc.o, tc.relu) }
			want, tol := ref(), 1e-5
			if cv.wfwd != nil {
				tol = 1e-5 * maxAbs64(want) // Winograd rounds more than the direct sum (winograd.go)
			}
			checkClose(t, "forward", y, toF32(want), tol, 1e-5)
			dy := randSlice(rng, len(y), 1)
			f := func() float64 { return dot64(ref(), dy) }
			dx := make([]float32, len(x))
			cv.backward(x, y, append([]float32(nil), dy...), dx, tc.n)
			fdCheck(t, "dx", x64, f, dx)
			fdCheck(t, "dW", w64, f, w.GradData())
			fdCheck(t, "db", b64, f, b.GradData())
		})
	}
}

// distinct returns n values with no ties, far apart compared with the finite-difference step,
// about half of them negative.
func distinct(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i, p := range rng.Perm(n) {
		x[i] = float32(p-n/2)*0.01 + 0.003
	}
	return x
}

func TestPoolGradients(t *testing.T) {
	cases := []struct {
		h, w, c, k, s int
		relu          bool
	}{
		{6, 6, 3, 3, 2, false}, // SAME: one padded row and column at the end
		{6, 6, 3, 3, 2, true},
		{5, 5, 2, 3, 2, false}, // odd size: one padded row and column on each side
		{7, 8, 2, 3, 2, true},  // rows padded on both sides, columns at the end
		{4, 4, 3, 2, 2, true},  // cs231n's 2x2/2: no padding
		{5, 3, 1, 2, 2, false}, // 2x2/2 on odd sizes: padding at the end
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%dx%dx%d-%dx%d/%d-relu%v", tc.h, tc.w, tc.c, tc.k, tc.k, tc.s, tc.relu), func(t *testing.T) {
			const n = 2
			rng := rand.New(rand.NewPCG(2, uint64(tc.h*10+tc.w)))
			spec := LayerSpec{Kind: KindMaxPool, Name: "p", Size: tc.k, Stride: tc.s}
			in := [3]int{tc.h, tc.w, tc.c}
			out, err := spec.outShape(in)
			if err != nil {
				t.Fatal(err)
			}
			p := newPoolLayer(spec, in, out, newRunner(1), tc.relu)
			x := distinct(rng, n*tc.h*tc.w*tc.c)
			y := make([]float32, n*out[0]*out[1]*out[2])
			p.forward(x, y, n)
			x64 := to64(x)
			ref := func() []float64 { return pool64(x64, n, tc.h, tc.w, tc.c, tc.k, tc.s, tc.relu) }
			checkClose(t, "forward", y, toF32(ref()), 0, 0)
			dy := randSlice(rng, len(y), 1)
			dx := make([]float32, len(x))
			p.backward(x, y, dy, dx, n)
			fdCheck(t, "dx", x64, func() float64 { return dot64(ref(), dy) }, dx)
		})
	}
}

func TestLRNGradients(t *testing.T) {
	cases := []struct {
		c, r                     int
		bias, alpha, beta, scale float64
	}{
		{7, 2, 1, 0.1, 0.75, 2},
		{7, 5, 2, 0.05, 0.75, 3}, // window wider than the channels
		{9, 4, 1, 0.001 / 9, 0.75, 5},
		{6, 1, 1.5, 0.2, 0.5, 1}, // another beta: the pow path
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("c%d-r%d-beta%g", tc.c, tc.r, tc.beta), func(t *testing.T) {
			const n, pix = 2, 3
			rng := rand.New(rand.NewPCG(3, uint64(tc.c*10+tc.r)))
			spec := LayerSpec{Kind: KindLRN, Name: "n", Radius: tc.r, Bias: tc.bias, Alpha: tc.alpha, Beta: tc.beta}
			l := newLRNLayer(spec, [3]int{1, pix, tc.c}, n, newRunner(1))
			x := randSlice(rng, n*pix*tc.c, tc.scale)
			y := make([]float32, len(x))
			l.forward(x, y, n)
			x64 := to64(x)
			ref := func() []float64 { return lrn64(x64, tc.c, tc.r, tc.bias, tc.alpha, tc.beta) }
			checkClose(t, "forward", y, toF32(ref()), 1e-6, 1e-6)
			dy := randSlice(rng, len(y), 1)
			dx := make([]float32, len(x))
			l.backward(x, y, dy, dx, n)
			fdCheck(t, "dx", x64, func() float64 { return dot64(ref(), dy) }, dx)
		})
	}
}

func TestDenseGradients(t *testing.T) {
	for _, relu := range []bool{false, true} {
		t.Run(fmt.Sprint("relu", relu), func(t *testing.T) {
			const n, in, out = 3, 7, 5
			rng := rand.New(rand.NewPCG(4, 0))
			w := randParam(rng, "d/weights", []int{in, out}, 0.5)
			b := randParam(rng, "d/biases", []int{out}, 0.5)
			d := newDenseLayer(LayerSpec{Kind: KindDense, Name: "d", Out: out, ReLU: relu}, [3]int{1, 1, in}, w, b, newRunner(1))
			x := randSlice(rng, n*in, 1)
			y := make([]float32, n*out)
			d.forward(x, y, n)
			x64, w64, b64 := to64(x), to64(w.Data()), to64(b.Data())
			ref := func() []float64 { return dense64(x64, n, in, w64, b64, out, relu) }
			checkClose(t, "forward", y, toF32(ref()), 1e-6, 1e-6)
			dy := randSlice(rng, len(y), 1)
			f := func() float64 { return dot64(ref(), dy) }
			dx := make([]float32, len(x))
			d.backward(x, y, append([]float32(nil), dy...), dx, n)
			fdCheck(t, "dx", x64, f, dx)
			fdCheck(t, "dW", w64, f, w.GradData())
			fdCheck(t, "db", b64, f, b.GradData())
		})
	}
}

func TestSoftmaxXentGradients(t *testing.T) {
	const n, c, scale = 3, 4, 0.25
	for _, eps := range []float64{0, 0.2, 1} {
		rng := rand.New(rand.NewPCG(5, 0))
		z := randSlice(rng, n*c, 3)
		labels := []uint8{2, 0, 3}
		l := newSoftmaxXent(c, n, eps)
		got := l.forward(z, labels)
		z64 := to64(z)
		if want := smoothXent64(z64, labels, c, eps); math.Abs(got-want) > 1e-12*want {
			t.Errorf("smoothing %v: cross-entropy sum %.15g, want %.15g", eps, got, want)
		}
		dz := make([]float32, len(z))
		l.backward(dz, labels, scale)
		fdCheck(t, fmt.Sprintf("dlogits (smoothing %v)", eps), z64, func() float64 { return scale * smoothXent64(z64, labels, c, eps) }, dz)
	}
}

// smoothXent64 is -sum_j t_j log softmax(z)_j with t = (1-eps)*onehot + eps/C, written from the
// definition (log-probabilities, then the weighted sum), unlike the engine's shifted form.
func smoothXent64(z []float64, labels []uint8, classes int, eps float64) float64 {
	total := 0.0
	for e, lab := range labels {
		row := z[e*classes : (e+1)*classes]
		s := 0.0
		for _, v := range row {
			s += math.Exp(v)
		}
		for j, v := range row {
			t := eps / float64(classes)
			if j == int(lab) {
				t += 1 - eps
			}
			total -= t * (v - math.Log(s))
		}
	}
	return total
}

// TestSmoothingZeroKeepsBits: a spec without label smoothing computes the loss and gradient
// of plain cross-entropy bit for bit (the tutorial's results do not change).
func TestSmoothingZeroKeepsBits(t *testing.T) {
	const n, c = 5, 10
	rng := rand.New(rand.NewPCG(9, 0))
	z := randSlice(rng, n*c, 4)
	labels := []uint8{1, 9, 0, 4, 4}
	l := newSoftmaxXent(c, n, 0)
	got := l.forward(z, labels)
	dz := make([]float32, len(z))
	l.backward(dz, labels, 0.125)
	want := 0.0
	for i, lab := range labels {
		row := z[i*c : (i+1)*c]
		m := slices.Max(row)
		sum := 0.0
		for _, v := range row {
			sum += math.Exp(float64(v) - float64(m))
		}
		want += math.Log(sum) - (float64(row[lab]) - float64(m))
		for j := range row {
			g := l.prob[i*c+j] * 0.125
			if j == int(lab) {
				g = (l.prob[i*c+j] - 1) * 0.125
			}
			if math.Float32bits(dz[i*c+j]) != math.Float32bits(g) {
				t.Fatalf("dz[%d] = %v, plain cross-entropy gives %v", i*c+j, dz[i*c+j], g)
			}
		}
	}
	if got != want {
		t.Errorf("loss %v, plain cross-entropy %v", got, want)
	}
}

// tinySpec exercises every layer kind and the conv→pool ReLU hand-over on a small input.
func tinySpec() Spec {
	return Spec{
		Name: "tiny", Input: [3]int{6, 6, 2}, Classes: 4,
		Layers: []LayerSpec{
			{Kind: KindConv, Name: "conv1", Size: 3, Out: 4, ReLU: true, Stddev: 0.5, BiasInit: 0.05},
			{Kind: KindConv, Name: "conv2", Size: 3, Out: 4, ReLU: true, Stddev: 0.4, BiasInit: 0.05},
			{Kind: KindMaxPool, Name: "pool1", Size: 2, Stride: 2},
			{Kind: KindLRN, Name: "norm1", Radius: 1, Bias: 1, Alpha: 0.1, Beta: 0.75},
			{Kind: KindConv, Name: "conv3", Size: 5, Out: 3, ReLU: true, Stddev: 0.3, BiasInit: 0.1, WeightDecay: 0.01},
			{Kind: KindMaxPool, Name: "pool2", Size: 3, Stride: 2},
			{Kind: KindDense, Name: "local3", Out: 5, ReLU: true, Stddev: 0.5, BiasInit: 0.1, WeightDecay: 0.02},
			{Kind: KindDense, Name: "softmax_linear", Out: 4, Stddev: 0.5, WeightDecay: 0.03},
		},
		Optimizer: DefaultAdam(),
	}
}

func randBatch(rng *rand.Rand, spec Spec, n int) ([]float32, []uint8) {
	images := randSlice(rng, n*spec.Input[0]*spec.Input[1]*spec.Input[2], 1)
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(rng.IntN(spec.Classes))
	}
	return images, labels
}

// tinyFastSpec exercises the fast preset's kinds (whitening, GELU, batch normalization with
// and without scale, global max pooling) on a small input.
func tinyFastSpec() Spec {
	return Spec{
		Name: "tinyfast", Input: [3]int{6, 6, 2}, Classes: 4,
		Layers: []LayerSpec{
			{Kind: KindWhiten, Name: "whiten", Size: 2, Epsilon: 1e-3, BiasInit: 0.1},
			{Kind: KindGELU, Name: "gelu0"},
			{Kind: KindConv, Name: "conv1", Size: 3, Out: 4, Stddev: 0.3, BiasInit: 0.05},
			{Kind: KindBatchNorm, Name: "bn1", Momentum: 0.5, Epsilon: 1e-3, Scale: true},
			{Kind: KindGELU, Name: "gelu1"},
			{Kind: KindMaxPool, Name: "pool1", Size: 2, Stride: 2},
			{Kind: KindBatchNorm, Name: "bn2", Momentum: 0.5, Epsilon: 1e-3, BiasInit: 0.2},
			{Kind: KindGELU, Name: "gelu2"},
			{Kind: KindGlobalMaxPool, Name: "pool2"},
			{Kind: KindDense, Name: "softmax_linear", Out: 4, Stddev: 0.5, WeightDecay: 0.03, Mul: 0.7},
		},
		Optimizer: DefaultMomentum(),
	}
}

// TestModelGradients checks whole networks, weight decay included, against finite differences
// of the float64 reference model: every Trained parameter (Fixed weights and Statistics have
// no gradient to check).
func TestModelGradients(t *testing.T) {
	for _, spec := range []Spec{tinySpec(), tinyFastSpec()} {
		t.Run(spec.Name, func(t *testing.T) { modelGradients(t, spec) })
	}
}

func modelGradients(t *testing.T, spec Spec) {
	m, err := NewModel(spec, 7)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, nil, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	rng := rand.New(rand.NewPCG(6, 0))
	images, labels := randBatch(rng, spec, 3)
	loss := tr.Gradients(images, labels, 1/3.0) + tr.WeightDecay()
	params := map[string][]float64{}
	for _, p := range m.Params() {
		params[p.Name] = to64(p.Data())
	}
	x64 := to64(images)
	f := func() float64 { return model64(spec, params, x64, labels) }
	if want := f(); math.Abs(float64(loss)-want) > 1e-6*want {
		t.Errorf("loss %.8g, want %.8g", loss, want)
	}
	for _, p := range Trainable(m.Params()) {
		fdCheck(t, p.Name, params[p.Name], f, p.GradData())
	}
}

func toF32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}
