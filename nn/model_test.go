package nn

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func mustModel(t testing.TB, spec Spec, seed uint64) *Model {
	t.Helper()
	m, err := NewModel(spec, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustTrainer(t testing.TB, m *Model, batch, threads int) *Trainer {
	t.Helper()
	opt, err := NewOptimizer(m.Spec().Optimizer, m.Params())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, opt, batch, threads)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

func TestPresets(t *testing.T) {
	cases := map[string]struct {
		params int
		names  []string
		shapes map[string][]int
	}{
		"cifar10": {1068298,
			[]string{"conv1/weights", "conv1/biases", "conv2/weights", "conv2/biases", "local3/weights", "local3/biases",
				"local4/weights", "local4/biases", "softmax_linear/weights", "softmax_linear/biases"},
			map[string][]int{"conv1/weights": {5, 5, 3, 64}, "conv2/weights": {5, 5, 64, 64}, "local3/weights": {2304, 384},
				"local4/weights": {384, 192}, "softmax_linear/weights": {192, 10}, "softmax_linear/biases": {10}}},
		"cs231n": {307498,
			[]string{"conv1/weights", "conv1/biases", "conv2/weights", "conv2/biases", "conv3/weights", "conv3/biases",
				"conv4/weights", "conv4/biases", "conv5/weights", "conv5/biases", "conv6/weights", "conv6/biases",
				"softmax_linear/weights", "softmax_linear/biases"},
			map[string][]int{"conv1/weights": {3, 3, 3, 32}, "conv6/weights": {3, 3, 128, 128}, "softmax_linear/weights": {2048, 10}}},
		// whiten 288+24; blocks of 32, 128, 128: convolutions 9·in·out+out, each batch
		// normalization beta, moving_mean and moving_variance; dense 128·10+10.
		"fast": {499266,
			[]string{"whiten/weights", "whiten/biases",
				"block1/conv1/weights", "block1/conv1/biases", "block1/norm1/beta", "block1/norm1/moving_mean", "block1/norm1/moving_variance",
				"block1/conv2/weights", "block1/conv2/biases", "block1/norm2/beta", "block1/norm2/moving_mean", "block1/norm2/moving_variance",
				"block2/conv1/weights", "block2/conv1/biases", "block2/norm1/beta", "block2/norm1/moving_mean", "block2/norm1/moving_variance",
				"block2/conv2/weights", "block2/conv2/biases", "block2/norm2/beta", "block2/norm2/moving_mean", "block2/norm2/moving_variance",
				"block3/conv1/weights", "block3/conv1/biases", "block3/norm1/beta", "block3/norm1/moving_mean", "block3/norm1/moving_variance",
				"block3/conv2/weights", "block3/conv2/biases", "block3/norm2/beta", "block3/norm2/moving_mean", "block3/norm2/moving_variance",
				"softmax_linear/weights", "softmax_linear/biases"},
			map[string][]int{"whiten/weights": {2, 2, 3, 24}, "block1/conv1/weights": {3, 3, 24, 32},
				"block3/conv2/weights": {3, 3, 128, 128}, "block2/norm1/moving_mean": {128}, "softmax_linear/weights": {128, 10}}},
	}
	if got := PresetNames(); !reflect.DeepEqual(got, []string{"cifar10", "cs231n", "fast"}) {
		t.Errorf("PresetNames() = %v", got)
	}
	for name, want := range cases {
		spec, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		m := mustModel(t, spec, 1)
		if n := m.NumParams(); n != want.params {
			t.Errorf("%s: %d parameters, want %d", name, n, want.params)
		}
		var names []string
		for _, p := range m.Params() {
			names = append(names, p.Name)
		}
		if !reflect.DeepEqual(names, want.names) {
			t.Errorf("%s: parameter names %v, want %v", name, names, want.names)
		}
		for pn, shape := range want.shapes {
			if got := m.Param(pn).Shape(); !reflect.DeepEqual(got, shape) {
				t.Errorf("%s: %s shape %v, want %v", name, pn, got, shape)
			}
		}
		// The spec survives JSON unchanged, so checkpoints can carry it.
		b, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		var back Spec
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, spec) {
			t.Errorf("%s: spec JSON round trip differs (%v): %s", name, err, b)
		}
		total := 0
		for _, li := range m.Summary() {
			total += li.Params
		}
		if total != want.params {
			t.Errorf("%s: Summary counts %d parameters, want %d", name, total, want.params)
		}
	}
	if _, err := Preset("vgg"); err == nil || !strings.Contains(err.Error(), "vgg") {
		t.Errorf("Preset(vgg) error = %v, want one naming it", err)
	}
}

func TestCifar10Summary(t *testing.T) {
	spec, _ := Preset("cifar10")
	got := mustModel(t, spec, 1).Summary()
	want := [][3]int{{24, 24, 64}, {12, 12, 64}, {12, 12, 64}, {12, 12, 64}, {12, 12, 64}, {6, 6, 64}, {1, 1, 384}, {1, 1, 192}, {1, 1, 10}}
	for i, li := range got {
		if li.Output != want[i] {
			t.Errorf("%s output %v, want %v", li.Name, li.Output, want[i])
		}
	}
}

func TestSpecErrors(t *testing.T) {
	base := tinySpec()
	cases := map[string]func(s *Spec){
		"unknown kind":      func(s *Spec) { s.Layers[0].Kind = "dropout" },
		"duplicate name":    func(s *Spec) { s.Layers[1].Name = "conv1" },
		"last not dense":    func(s *Spec) { s.Layers = s.Layers[:6] },
		"classes mismatch":  func(s *Spec) { s.Classes = 3 },
		"bad input":         func(s *Spec) { s.Input[2] = 0 },
		"conv without size": func(s *Spec) { s.Layers[0].Size = 0 },
		"bad lrn bias":      func(s *Spec) { s.Layers[3].Bias = 0 },
	}
	for name, mutate := range cases {
		s := base
		s.Layers = append([]LayerSpec(nil), base.Layers...)
		mutate(&s)
		if _, err := NewModel(s, 1); err == nil {
			t.Errorf("%s: NewModel accepted the spec", name)
		}
		if err := s.Validate(); err == nil {
			t.Errorf("%s: Validate accepted the spec", name)
		}
	}
	for _, name := range PresetNames() {
		if s, _ := Preset(name); s.Validate() != nil {
			t.Errorf("preset %s does not validate: %v", name, s.Validate())
		}
	}
	for _, cfg := range []OptimizerConfig{{Kind: "rmsprop", LR: 1}, {Kind: OptAdam, LR: 0}, {Kind: OptAdam, LR: 1, Beta1: 1, Epsilon: 1}, {Kind: OptMomentum, LR: 1, Momentum: -1}} {
		if _, err := NewOptimizer(cfg, nil); err == nil {
			t.Errorf("NewOptimizer(%+v) accepted it", cfg)
		}
	}
}

// paramHash fingerprints every parameter value bit for bit.
func paramHash(m *Model) uint64 {
	h := fnv.New64a()
	var b [4]byte
	for _, p := range m.Params() {
		h.Write([]byte(p.Name))
		for _, v := range p.Data() {
			u := math.Float32bits(v)
			b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
			h.Write(b[:])
		}
	}
	return h.Sum64()
}

// TestInitIsPortable pins the initial parameters of seed 1: the same value natively and in
// WebAssembly, with and without SIMD, shows that initialization is platform independent.
func TestInitIsPortable(t *testing.T) {
	spec, _ := Preset("cifar10")
	const want = 0x11ff67a7e7f70bed
	if got := paramHash(mustModel(t, spec, 1)); got != want {
		t.Errorf("cifar10 seed 1 parameter hash %#x, want %#x", got, want)
	}
	if paramHash(mustModel(t, spec, 1)) == paramHash(mustModel(t, spec, 2)) {
		t.Error("seeds 1 and 2 give the same parameters")
	}
}

func TestInitDistribution(t *testing.T) {
	spec, _ := Preset("cifar10")
	m := mustModel(t, spec, 3)
	for _, l := range spec.Layers {
		w := m.Param(l.Name + "/weights")
		if w == nil {
			continue
		}
		sum, sq, big := 0.0, 0.0, 0.0
		for _, v := range w.Data() {
			sum += float64(v)
			sq += float64(v) * float64(v)
			big = max(big, math.Abs(float64(v)))
		}
		n := float64(w.Size())
		mean, std := sum/n, math.Sqrt(sq/n)
		// A normal truncated at ±2σ has standard deviation 0.8796σ.
		// Sampling error of the estimated std is about std/sqrt(2n); allow four of those.
		if want := 0.8796 * l.Stddev; math.Abs(std-want) > 4/math.Sqrt(2*n)*want || math.Abs(mean) > 4*want/math.Sqrt(n) {
			t.Errorf("%s: mean %.3g std %.4g, want 0 and %.4g", w.Name, mean, std, want)
		}
		if big > 2*l.Stddev*(1+1e-6) {
			t.Errorf("%s: |w| reaches %g, beyond 2 stddev %g", w.Name, big, 2*l.Stddev)
		}
		b := m.Param(l.Name + "/biases").Data()
		for _, v := range b {
			if v != float32(l.BiasInit) {
				t.Fatalf("%s/biases: %g, want constant %g", l.Name, v, l.BiasInit)
			}
		}
	}
}

func TestPortableLog(t *testing.T) {
	for _, x := range []float64{1, 0.5, 1e-300, 0.123456789, 0.999999, 1e-30} {
		if got, want := portableLog(x), math.Log(x); math.Abs(got-want) > 1e-14*math.Max(1, math.Abs(want)) {
			t.Errorf("portableLog(%g) = %.17g, want %.17g", x, got, want)
		}
	}
}

// trainLosses runs steps training steps on fixed random batches and returns the losses and the
// final parameters' hash.
func trainLosses(t testing.TB, spec Spec, seed uint64, batch, threads, steps int) ([]float32, uint64) {
	m := mustModel(t, spec, seed)
	tr := mustTrainer(t, m, batch, threads)
	rng := rand.New(rand.NewPCG(seed, 99))
	var losses []float32
	for range steps {
		images, labels := randBatch(rng, spec, batch)
		losses = append(losses, tr.Step(images, labels))
	}
	return losses, paramHash(m)
}

func TestDeterminism(t *testing.T) {
	spec := tinySpec()
	a, ha := trainLosses(t, spec, 5, 8, 1, 4)
	b, hb := trainLosses(t, spec, 5, 8, 1, 4)
	c, hc := trainLosses(t, spec, 5, 8, 2, 4)
	if !reflect.DeepEqual(a, b) || ha != hb {
		t.Errorf("same seed, different runs: %v vs %v", a, b)
	}
	if !reflect.DeepEqual(a, c) || ha != hc {
		t.Errorf("1 thread %v vs 2 threads %v (parameter hashes %x %x)", a, c, ha, hc)
	}
}

func TestThreadsCifar10(t *testing.T) {
	if testing.Short() {
		t.Skip("cifar10-sized step")
	}
	spec, _ := Preset("cifar10")
	a, ha := trainLosses(t, spec, 1, 20, 1, 2)
	b, hb := trainLosses(t, spec, 1, 20, 3, 2)
	if !reflect.DeepEqual(a, b) || ha != hb {
		t.Errorf("cifar10: 1 thread %v vs 3 threads %v", a, b)
	}
}

// TestOverfit trains a small network on 8 fixed images until it knows them.
func TestOverfit(t *testing.T) {
	spec := tinySpec()
	spec.Optimizer.LR = 0.01
	m := mustModel(t, spec, 11)
	tr := mustTrainer(t, m, 8, 1)
	images, labels := randBatch(rand.New(rand.NewPCG(8, 8)), spec, 8)
	var xent float32
	for step := range 300 {
		xent = tr.Gradients(images, labels, 1/8.0)
		if xent < 0.01 {
			t.Logf("cross-entropy %.4g after %d steps", xent, step)
			return
		}
		tr.WeightDecay()
		tr.Apply()
	}
	t.Errorf("cross-entropy still %.4g after 300 steps on 8 images", xent)
}

func TestStepAllocatesNothing(t *testing.T) {
	cifar10, _ := Preset("cifar10")
	for _, spec := range []Spec{tinySpec(), cifar10, tinyFastSpec()} { // im2col and implicit convolutions; the fast preset's kinds
		for _, threads := range []int{1, 2} {
			m := mustModel(t, spec, 1)
			tr := mustTrainer(t, m, 4, threads)
			images, labels := randBatch(rand.New(rand.NewPCG(1, 1)), spec, 4)
			tr.Step(images, labels)
			if n := testing.AllocsPerRun(3, func() { tr.Step(images, labels) }); n != 0 {
				t.Errorf("%s, threads %d: %v allocations per Step", spec.Name, threads, n)
			}
			if n := testing.AllocsPerRun(3, func() { tr.Logits(images[:3*m.InputSize()]) }); n != 0 {
				t.Errorf("%s, threads %d: %v allocations per Logits", spec.Name, threads, n)
			}
		}
	}
}

// TestShardedGradients: shards with scale 1/B, summed, give the whole batch's gradient.
func TestShardedGradients(t *testing.T) {
	spec := tinySpec()
	m := mustModel(t, spec, 4)
	tr := mustTrainer(t, m, 8, 1)
	images, labels := randBatch(rand.New(rand.NewPCG(4, 4)), spec, 8)
	whole := tr.Gradients(images, labels, 1/8.0)
	want := slices.Clone(m.Grads())
	size := m.InputSize()
	sum := make([]float32, m.NumParams())
	var loss float32
	for _, s := range [][2]int{{0, 3}, {3, 8}} {
		loss += tr.Gradients(images[s[0]*size:s[1]*size], labels[s[0]:s[1]], 1/8.0)
		for i, g := range m.Grads() {
			sum[i] += g
		}
	}
	if math.Abs(float64(loss-whole)) > 1e-6*float64(whole) {
		t.Errorf("shard losses add to %g, whole batch %g", loss, whole)
	}
	checkClose(t, "summed shard gradients", sum, want, 1e-6, 1e-5)
}

func TestEvaluate(t *testing.T) {
	spec := tinySpec()
	m := mustModel(t, spec, 9)
	tr := mustTrainer(t, m, 8, 1)
	const total = 21 // batches of 8, 8 and 5
	all, labels := randBatch(rand.New(rand.NewPCG(9, 9)), spec, total)
	size := m.InputSize()
	var progress []int
	ev, err := tr.Evaluate(total, func(start int, images []float32, lab []uint8) error {
		copy(images, all[start*size:])
		copy(lab, labels[start:])
		return nil
	}, func(done, n int) { progress = append(progress, done) })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(progress, []int{8, 16, 21}) || ev.Total != total {
		t.Errorf("progress %v, total %d; want [8 16 21], %d", progress, ev.Total, total)
	}
	correct, cells := 0, 0
	for i := range total {
		z := append([]float32(nil), tr.Logits(all[i*size:(i+1)*size])...)
		if Argmax(z) == int(labels[i]) {
			correct++
		}
	}
	for i, row := range ev.Confusion {
		for _, v := range row {
			cells += v
		}
		_ = i
	}
	if ev.Correct != correct || cells != total {
		t.Errorf("Evaluate: %d correct, confusion sums to %d; recounted %d of %d", ev.Correct, cells, correct, total)
	}
	if p := ev.Precision(); p != float64(correct)/total {
		t.Errorf("Precision %g", p)
	}
	probs := tr.Probabilities(all[:2*size])
	for e := range 2 {
		s := float32(0)
		for _, v := range probs[e*4 : e*4+4] {
			s += v
		}
		if math.Abs(float64(s)-1) > 1e-6 {
			t.Errorf("probabilities of example %d sum to %g", e, s)
		}
	}
}

func TestCS231nTrains(t *testing.T) {
	spec, _ := Preset("cs231n")
	m := mustModel(t, spec, 1)
	tr := mustTrainer(t, m, 4, 2)
	images, labels := randBatch(rand.New(rand.NewPCG(2, 2)), spec, 4)
	first := tr.Step(images, labels)
	var last float32
	for range 5 {
		last = tr.Step(images, labels)
	}
	if math.IsNaN(float64(last)) || !(last < first) {
		t.Errorf("cs231n loss %g after 6 steps on one batch, started at %g", last, first)
	}
	if s := tr.Optimizer().Steps(); s != 6 || tr.Optimizer().Slots()[0].Name != "conv1/weights/Momentum" {
		t.Errorf("momentum: %d steps, first slot %q", s, tr.Optimizer().Slots()[0].Name)
	}
}

// TestFastTrains: the fast preset builds, whitens from data, and trains a few steps on one
// batch with the placeholder optimizer (momentum) and with Adam, its loss falling and finite.
func TestFastTrains(t *testing.T) {
	for _, opt := range []OptimizerConfig{DefaultMomentum(), DefaultAdam()} {
		t.Run(opt.Kind, func(t *testing.T) {
			spec := FastSpec(8)
			spec.Optimizer = opt
			m := mustModel(t, spec, 1)
			images, labels := randBatch(rand.New(rand.NewPCG(3, 3)), spec, 32)
			if err := m.InitWhitening(images); err != nil {
				t.Fatal(err)
			}
			tr := mustTrainer(t, m, 32, 2)
			first := tr.Step(images, labels)
			var last float32
			for range 5 {
				last = tr.Step(images, labels)
			}
			if math.IsNaN(float64(last)) || !(last < first) {
				t.Errorf("fast loss %g after 6 steps on one batch, started at %g", last, first)
			}
			for _, v := range m.Values() {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("a parameter is %g", v)
				}
			}
			if v := m.Param("block3/norm2/moving_variance").Data()[0]; v == 1 || !(v > 0) {
				t.Errorf("running variance %g after 6 steps", v)
			}
		})
	}
}
