package nn

import (
	"testing"
	"time"
)

// Small cases computed by hand: SAME padding, pooling windows and ties, LRN, and the two
// optimizers' updates.

func ones(n int) []float32 {
	x := make([]float32, n)
	fill(x, 1)
	return x
}

func TestConvSamePaddingByHand(t *testing.T) {
	// An all-ones kernel on an all-ones image counts the kernel cells inside the image.
	cases := []struct {
		h, w, k int
		want    []float32
	}{
		{3, 3, 3, []float32{4, 6, 4, 6, 9, 6, 4, 6, 4}},
		// 5x5 on 4x4, 2 padded rows/columns each side: rows in the window are 3, 4, 4, 3.
		{4, 4, 5, []float32{9, 12, 12, 9, 12, 16, 16, 12, 12, 16, 16, 12, 9, 12, 12, 9}},
	}
	for _, tc := range cases {
		w := newParam("c/weights", []int{tc.k, tc.k, 1, 1}, 0, true)
		fill(w.Data(), 1)
		b := newParam("c/biases", []int{1}, 0, true)
		cv := newConvLayer(LayerSpec{Kind: KindConv, Name: "c", Size: tc.k, Out: 1}, [3]int{tc.h, tc.w, 1}, w, b, 1, newRunner(1), false, true)
		y := make([]float32, tc.h*tc.w)
		cv.forward(ones(tc.h*tc.w), y, 1)
		checkClose(t, "conv SAME", y, tc.want, 0, 0)
	}
}

func TestPoolSamePaddingByHand(t *testing.T) {
	iota := func(n int, sign float32) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = sign * float32(i)
		}
		return x
	}
	cases := []struct {
		name       string
		h, w, k, s int
		x          []float32
		relu       bool
		want       []float32
	}{
		// 3x3/2 on 4x4: windows rows/cols {0,1,2} and {2,3} (the pad is at the end).
		{"3x3/2 on 4x4", 4, 4, 3, 2, iota(16, 1), false, []float32{10, 11, 14, 15}},
		// 3x3/2 on 5x5: one pad before and after: windows {0,1}, {1,2,3}, {3,4}.
		{"3x3/2 on 5x5", 5, 5, 3, 2, iota(25, 1), false, []float32{6, 8, 9, 16, 18, 19, 21, 23, 24}},
		{"2x2/2 on 4x4", 4, 4, 2, 2, iota(16, 1), false, []float32{5, 7, 13, 15}},
		// Negative values: padding (−∞) never wins, and the ReLU clamps afterwards.
		{"3x3/2 on 4x4 negative", 4, 4, 3, 2, iota(16, -1), false, []float32{0, -2, -8, -10}},
		{"3x3/2 on 4x4 negative relu", 4, 4, 3, 2, iota(16, -1), true, []float32{0, 0, 0, 0}},
	}
	for _, tc := range cases {
		spec := LayerSpec{Kind: KindMaxPool, Name: "p", Size: tc.k, Stride: tc.s}
		out, _ := spec.outShape([3]int{tc.h, tc.w, 1})
		p := newPoolLayer(spec, [3]int{tc.h, tc.w, 1}, out, newRunner(1), tc.relu)
		y := make([]float32, len(tc.want))
		p.forward(tc.x, y, 1)
		checkClose(t, tc.name, y, tc.want, 0, 0)
	}
}

func TestPoolTiesByHand(t *testing.T) {
	spec := LayerSpec{Kind: KindMaxPool, Name: "p", Size: 3, Stride: 2}
	p := newPoolLayer(spec, [3]int{4, 4, 1}, [3]int{2, 2, 1}, newRunner(1), false)
	dy := []float32{1, 2, 3, 4}
	y := make([]float32, 4)
	dx := make([]float32, 16)
	// All equal: each window's gradient goes to its first cell in row-major order (TF's rule).
	x := ones(16)
	p.forward(x, y, 1)
	p.backward(x, y, dy, dx, 1)
	checkClose(t, "ties", dx, []float32{1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0}, 0, 0)
	// One maximum shared by all four overlapping windows collects all their gradients.
	x = make([]float32, 16)
	x[2*4+2] = 5
	p.forward(x, y, 1)
	p.backward(x, y, dy, dx, 1)
	want := make([]float32, 16)
	want[10] = 10
	checkClose(t, "shared maximum", dx, want, 0, 0)
	// With the ReLU inside the pool, windows that are all negative pass no gradient.
	p = newPoolLayer(spec, [3]int{4, 4, 1}, [3]int{2, 2, 1}, newRunner(1), true)
	fill(x, -1)
	x[0] = 2
	p.forward(x, y, 1)
	p.backward(x, y, dy, dx, 1)
	want = make([]float32, 16)
	want[0] = 1
	checkClose(t, "relu in pool", dx, want, 0, 0)
}

func TestLRNByHand(t *testing.T) {
	cases := []struct {
		name              string
		x                 []float32
		r                 int
		bias, alpha, beta float64
		want              []float32
	}{
		// s = 1 + 0.5*(1+4) = 3.5, 1 + 0.5*(1+4+9) = 8, 1 + 0.5*(4+9) = 7.5 (alpha not divided by 3).
		{"beta 1", []float32{1, 2, 3}, 1, 1, 0.5, 1, []float32{1 / 3.5, 2.0 / 8, 3 / 7.5}},
		// s = 12 + 1*2² = 16 and 16^-0.75 = 1/8.
		{"beta 0.75", []float32{2}, 0, 12, 1, 0.75, []float32{0.25}},
		// Radius 5 over 3 channels: every window is all channels, s = 1 + 0.25*14 = 4.5.
		{"wide window", []float32{1, 2, 3}, 5, 1, 0.25, 1, []float32{1 / 4.5, 2 / 4.5, 3 / 4.5}},
	}
	for _, tc := range cases {
		spec := LayerSpec{Kind: KindLRN, Name: "n", Radius: tc.r, Bias: tc.bias, Alpha: tc.alpha, Beta: tc.beta}
		l := newLRNLayer(spec, [3]int{1, 1, len(tc.x)}, 1, newRunner(1))
		y := make([]float32, len(tc.x))
		l.forward(tc.x, y, 1)
		checkClose(t, "lrn "+tc.name, y, tc.want, 1e-7, 1e-7)
	}
}

// optimizerSteps applies g to a one-element parameter starting at w0 for len(g) steps.
func optimizerSteps(t *testing.T, cfg OptimizerConfig, w0 float32, g []float32) []float32 {
	p := newParam("w", []int{1}, 0, true)
	p.Data()[0] = w0
	opt, err := NewOptimizer(cfg, []*Param{p})
	if err != nil {
		t.Fatal(err)
	}
	var out []float32
	for _, gi := range g {
		p.GradData()[0] = gi
		opt.Apply()
		out = append(out, p.Data()[0])
	}
	return out
}

func TestAdamByHand(t *testing.T) {
	// Constant gradient: m̂/sqrt(v̂) = 1, so each step is lr (TF1 epsilon negligible here).
	got := optimizerSteps(t, OptimizerConfig{Kind: OptAdam, LR: 0.1, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8}, 1, []float32{0.5, 0.5})
	checkClose(t, "adam constant gradient", got, []float32{0.9, 0.8}, 1e-6, 0)
	// A large epsilon shows the TF1 form: step 1 is lr*sqrt(1-b2)/(1-b1) * m/(sqrt(v)+eps) with
	// m = 0.05, v = 0.00025: 0.1*0.0316228/0.1 * 0.05/(0.0158114+0.1) = 0.0136526.
	// (The textbook form would step 0.1*0.5/(0.5+0.1) = 0.0833.)
	got = optimizerSteps(t, OptimizerConfig{Kind: OptAdam, LR: 0.1, Beta1: 0.9, Beta2: 0.999, Epsilon: 0.1}, 0, []float32{0.5})
	checkClose(t, "adam TF1 epsilon", got, []float32{-0.0136526}, 1e-8, 1e-5)
}

func TestMomentumByHand(t *testing.T) {
	// accum = 1, 1.9, 1.9*0.9 - 1 = 0.71; w = -0.1, -0.29, -0.361.
	got := optimizerSteps(t, OptimizerConfig{Kind: OptMomentum, LR: 0.1, Momentum: 0.9}, 0, []float32{1, 1, -1})
	checkClose(t, "momentum", got, []float32{-0.1, -0.29, -0.361}, 1e-7, 0)
}

func TestAdamRestoredStepsMatchContinuous(t *testing.T) {
	cfg := DefaultAdam()
	a := newParam("w", []int{1}, 0, true)
	b := newParam("w", []int{1}, 0, true)
	oa, _ := NewOptimizer(cfg, []*Param{a})
	ob, _ := NewOptimizer(cfg, []*Param{b})
	grads := []float32{0.3, -0.2, 0.1, 0.05, -0.4}
	for i, g := range grads {
		a.GradData()[0] = g
		oa.Apply()
		if i == 2 { // "checkpoint": copy value and slots into a fresh optimizer, restore the step
			b.Data()[0] = a.Data()[0]
			for j, s := range oa.Slots() {
				copy(ob.Slots()[j].Data(), s.Data())
			}
			ob.SetSteps(oa.Steps())
		}
		if i > 2 {
			b.GradData()[0] = g
			ob.Apply()
		}
	}
	if a.Data()[0] != b.Data()[0] || oa.Steps() != ob.Steps() {
		t.Errorf("restored Adam: w %v step %d, continuous: w %v step %d", b.Data()[0], ob.Steps(), a.Data()[0], oa.Steps())
	}
	if names := []string{oa.Slots()[0].Name, oa.Slots()[1].Name}; names[0] != "w/Adam" || names[1] != "w/Adam_1" {
		t.Errorf("Adam slot names %v, want [w/Adam w/Adam_1]", names)
	}
	done := make(chan struct{})
	go func() { ob.SetSteps(1 << 50); close(done) }() // a huge step count must not replay forever
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("SetSteps(2^50) did not return")
	}
}
