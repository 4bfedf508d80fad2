package replica

import (
	"math"
	"slices"
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/cifar/cifartest"
	"cifar10/nn/gemm"
	"cifar10/nn/shard"
	"cifar10/nn/shard/shardtest"
)

// randomSet makes n random CIFAR-10 images with random labels.
func randomSet(seed uint64, n int) *cifar.Set {
	return cifartest.Random(n, seed, 7)
}

// smallSpec is a fast model with every layer kind, on 12x12 crops.
func smallSpec() nn.Spec {
	return nn.Spec{
		Name: "small", Input: [3]int{12, 12, 3}, Classes: 10,
		Layers: []nn.LayerSpec{
			{Kind: nn.KindConv, Name: "conv1", Size: 3, Out: 8, ReLU: true, Stddev: 0.1},
			{Kind: nn.KindMaxPool, Name: "pool1", Size: 3, Stride: 2},
			{Kind: nn.KindLRN, Name: "norm1", Radius: 2, Bias: 1, Alpha: 0.001, Beta: 0.75},
			{Kind: nn.KindDense, Name: "local3", Out: 16, ReLU: true, Stddev: 0.05, BiasInit: 0.1, WeightDecay: 0.004},
			{Kind: nn.KindDense, Name: "softmax_linear", Out: 10, Stddev: 0.1, WeightDecay: 0.004},
		},
		Optimizer: nn.DefaultAdam(),
	}
}

// group is workers replicas of one run, trained in one process the way the browser's workers
// train: each computes its shards, the published sums are exchanged, each applies.
type group struct {
	replicas []*Replica
	samplers []*cifar.Sampler
	batch    int
	losses   []float32 // every step's loss
}

func newGroup(t testing.TB, spec nn.Spec, set *cifar.Set, seed uint64, batch, workers int) *group {
	g := &group{batch: batch}
	for w := range workers {
		m, err := nn.NewModel(spec, seed)
		if err != nil {
			t.Fatal(err)
		}
		opt, err := nn.NewOptimizer(spec.Optimizer, m.Params())
		if err != nil {
			t.Fatal(err)
		}
		// Made alone, then joined to the group, as the browser's workers do.
		r, err := New(m, opt, batch, 1, 0, 1)
		if err == nil {
			err = r.SetWorkers(workers, w)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		g.replicas = append(g.replicas, r)
		g.samplers = append(g.samplers, cifar.NewSampler(set, seed, spec.Input[0]))
	}
	return g
}

func (g *group) step(t testing.TB, step int) {
	published := map[shard.Node][]float32{}
	var losses []float32
	for w, r := range g.replicas {
		sp := g.samplers[w]
		r.Compute(func(first, count int, images []float32, labels []uint8) {
			sp.Fill(int64(step*g.batch+first), count, images, labels)
		})
		for i, n := range r.Nodes() {
			published[n] = r.NodeSum(i)
		}
		losses = append(losses, r.Losses()...)
	}
	others := shardtest.Board(published).Source()
	var loss float32
	for w, r := range g.replicas {
		l := r.Apply(others, losses)
		if w > 0 && math.Float32bits(l) != math.Float32bits(loss) {
			t.Fatalf("step %d: worker %d has loss %v, worker 0 %v", step, w, l, loss)
		}
		loss = l
	}
	g.losses = append(g.losses, loss)
}

// state is every weight and optimizer slot of replica w, as bits.
func (g *group) state(w int, opt bool) []float32 {
	m := g.replicas[w].Model()
	out := slices.Clone(m.Values())
	if opt {
		for _, s := range g.replicas[w].Trainer().Optimizer().Slots() {
			out = append(out, s.Data()...)
		}
	}
	return out
}

func sameBits(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return 0, true
}

// TestWorkersDoNotChangeResults is the property the browser's workers rely on: with the same
// seed, the tutorial model trained 10 steps at batch 128 by 1, 2, 3 or 4 workers ends with
// bit-identical weights and optimizer state in every worker, and the same loss at every step.
// Builds with the slow portable kernels (and -short) train 3 steps instead of 10.
func TestWorkersDoNotChangeResults(t *testing.T) {
	steps := 10
	if k := gemm.KernelName(); testing.Short() || k == "generic" || k == "wasm-plain" {
		steps = 3
	}
	spec, err := nn.Preset("cifar10")
	if err != nil {
		t.Fatal(err)
	}
	set := randomSet(1, 300) // 10 steps of 128 cross four epochs
	var want []float32
	var wantLosses []float32
	for workers := 1; workers <= 4; workers++ {
		g := newGroup(t, spec, set, 5, 128, workers)
		for s := range steps {
			g.step(t, s)
		}
		for w := range workers {
			got := g.state(w, true)
			if want == nil {
				want, wantLosses = got, g.losses
				continue
			}
			if i, ok := sameBits(got, want); !ok {
				t.Fatalf("%d workers: worker %d's state differs from one worker's at %d: %v vs %v", workers, w, i, got[i], want[i])
			}
		}
		if i, ok := sameBits(g.losses, wantLosses); !ok {
			t.Fatalf("%d workers: loss of step %d is %v, one worker's %v", workers, i, g.losses[i], wantLosses[i])
		}
	}
	t.Logf("losses: %v", wantLosses)
}

// TestUnevenShards: a batch of 100 (6 shards of 16 or 17) on up to 8 workers, some with no
// shard at all, still gives one worker's bits.
func TestUnevenShards(t *testing.T) {
	sameBitsForAnyWorkers(t, smallSpec(), randomSet(2, 90), 3, 100, 4, 1, 4, 5, 8)
}

// normSpec is a small model with batch normalization (with and without scale), GELU, a
// whitening first layer and global max pooling, on 12x12 crops.
func normSpec() nn.Spec {
	return nn.Spec{
		Name: "norm", Input: [3]int{12, 12, 3}, Classes: 10,
		Layers: []nn.LayerSpec{
			{Kind: nn.KindWhiten, Name: "whiten", Size: 2, Epsilon: 5e-4},
			{Kind: nn.KindGELU, Name: "gelu0"},
			{Kind: nn.KindConv, Name: "conv1", Size: 3, Out: 8, Stddev: 0.1},
			{Kind: nn.KindMaxPool, Name: "pool1", Size: 2, Stride: 2},
			{Kind: nn.KindBatchNorm, Name: "bn1", Momentum: 0.6, Epsilon: 1e-5, Scale: true},
			{Kind: nn.KindGELU, Name: "gelu1"},
			{Kind: nn.KindConv, Name: "conv2", Size: 3, Out: 8, Stddev: 0.1},
			{Kind: nn.KindBatchNorm, Name: "bn2", Momentum: 0.6, Epsilon: 1e-5},
			{Kind: nn.KindGELU, Name: "gelu2"},
			{Kind: nn.KindGlobalMaxPool, Name: "pool2"},
			{Kind: nn.KindDense, Name: "softmax_linear", Out: 10, Stddev: 0.1},
		},
		Optimizer: nn.DefaultMomentum(),
	}
}

// TestBatchNormStatisticsForAnyWorkers: batch normalization's running statistics travel in
// the gradient slab through the fixed tree, so with them every weight, slot and running
// statistic has one worker's bits for 1, 2, 3 and 4 workers (a batch of 100: 6 uneven
// shards), and the statistics did move.
func TestBatchNormStatisticsForAnyWorkers(t *testing.T) {
	spec := normSpec()
	sameBitsForAnyWorkers(t, spec, randomSet(8, 120), 4, 100, 3, 1, 2, 3, 4)
	g := newGroup(t, spec, randomSet(8, 120), 4, 100, 2)
	g.step(t, 0)
	if v := g.replicas[1].Model().Param("bn2/moving_variance").Data()[0]; v == 1 || !(v > 0) {
		t.Errorf("bn2/moving_variance[0] = %g after a step", v)
	}
	// The whole-batch trainer normalizes over the same shards: its step lands within
	// rounding of the sharded one, running statistics included.
	m, _ := nn.NewModel(spec, 4)
	opt, _ := nn.NewOptimizer(spec.Optimizer, m.Params())
	tr, _ := nn.NewTrainer(m, opt, 100, 2)
	defer tr.Close()
	images, labels := make([]float32, 100*m.InputSize()), make([]uint8, 100)
	cifar.NewSampler(randomSet(8, 120), 4, 12).Fill(0, 100, images, labels)
	whole := tr.Step(images, labels)
	if math.Abs(float64(whole-g.losses[0])) > 1e-5*float64(whole) {
		t.Errorf("sharded loss %v, whole batch %v", g.losses[0], whole)
	}
	got, want := g.state(0, false), m.Values()
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("value %d: sharded %v, whole batch %v", i, got[i], want[i])
		}
	}
}

// TestOneShardIsTrainerStep: below 32 examples a batch is one shard, and a replica's step is
// exactly nn's Trainer.Step (so small-batch runs did not change when sharding came).
func TestOneShardIsTrainerStep(t *testing.T) {
	spec := smallSpec()
	set := randomSet(3, 50)
	for _, batch := range []int{1, 16, 31} {
		g := newGroup(t, spec, set, 4, batch, 1)
		m, _ := nn.NewModel(spec, 4)
		opt, _ := nn.NewOptimizer(spec.Optimizer, m.Params())
		tr, _ := nn.NewTrainer(m, opt, batch, 1)
		sp := cifar.NewSampler(set, 4, 12)
		images, labels := make([]float32, batch*m.InputSize()), make([]uint8, batch)
		for s := range 5 {
			g.step(t, s)
			sp.Fill(int64(s*batch), batch, images, labels)
			if l := tr.Step(images, labels); math.Float32bits(l) != math.Float32bits(g.losses[s]) {
				t.Fatalf("batch %d step %d: Trainer.Step loss %v, replica %v", batch, s, l, g.losses[s])
			}
		}
		if i, ok := sameBits(g.state(0, false), slices.Clone(m.Values())); !ok {
			t.Fatalf("batch %d: weights differ at %d", batch, i)
		}
	}
}

// TestShardedStepIsTheBatchStep: sharding regroups additions only, so a sharded step of 128
// lands within rounding of nn's whole-batch step (same loss, same update).
func TestShardedStepIsTheBatchStep(t *testing.T) {
	spec := smallSpec()
	set := randomSet(4, 200)
	g := newGroup(t, spec, set, 6, 128, 2)
	m, _ := nn.NewModel(spec, 6)
	opt, _ := nn.NewOptimizer(spec.Optimizer, m.Params())
	tr, _ := nn.NewTrainer(m, opt, 128, 1)
	images, labels := make([]float32, 128*m.InputSize()), make([]uint8, 128)
	cifar.NewSampler(set, 6, 12).Fill(0, 128, images, labels)
	whole := tr.Step(images, labels)
	g.step(t, 0)
	if math.Abs(float64(whole-g.losses[0])) > 1e-5*float64(whole) {
		t.Errorf("sharded loss %v, whole batch %v", g.losses[0], whole)
	}
	got, want := g.state(0, false), slices.Clone(m.Values())
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-6 {
			t.Fatalf("weight %d: sharded %v, whole batch %v", i, got[i], want[i])
		}
	}
}

// TestStepMatchesGroup: Step, the native trainer's call, is one worker computing every shard.
func TestStepMatchesGroup(t *testing.T) {
	spec := smallSpec()
	set := randomSet(5, 100)
	g := newGroup(t, spec, set, 8, 64, 3)
	m, _ := nn.NewModel(spec, 8)
	opt, _ := nn.NewOptimizer(spec.Optimizer, m.Params())
	r, err := New(m, opt, 64, 1, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sp := cifar.NewSampler(set, 8, 12)
	images, labels := make([]float32, 64*m.InputSize()), make([]uint8, 64)
	for s := range 3 {
		g.step(t, s)
		sp.Fill(int64(s*64), 64, images, labels)
		if l := r.Step(images, labels); math.Float32bits(l) != math.Float32bits(g.losses[s]) {
			t.Fatalf("step %d: Step loss %v, group %v", s, l, g.losses[s])
		}
	}
	if i, ok := sameBits(g.state(0, true), append(slices.Clone(m.Values()), slots(r)...)); !ok {
		t.Fatalf("state differs at %d", i)
	}
}

func slots(r *Replica) []float32 {
	var out []float32
	for _, s := range r.Trainer().Optimizer().Slots() {
		out = append(out, s.Data()...)
	}
	return out
}

func TestNewRejects(t *testing.T) {
	m, _ := nn.NewModel(smallSpec(), 1)
	for _, c := range [][3]int{{0, 1, 0}, {16, 0, 0}, {16, 2, 2}, {16, 2, -1}} {
		if _, err := New(m, nil, c[0], c[1], c[2], 1); err == nil {
			t.Errorf("New(batch %d, worker %d of %d) accepted", c[0], c[2], c[1])
		}
	}
}

// TestApplySumsIntoTheModel: Apply leaves the batch's gradient (the finished tree plus the
// weight decay) in each model's gradient slab, the vector the update read, bit for bit the one
// a replica computing every shard alone leaves there; and Compute and Apply allocate nothing.
func TestApplySumsIntoTheModel(t *testing.T) {
	spec, set := smallSpec(), randomSet(5, 200)
	const batch = 64
	g := newGroup(t, spec, set, 3, batch, 3)
	g.step(t, 0)
	m, _ := nn.NewModel(spec, 3)
	opt, _ := nn.NewOptimizer(spec.Optimizer, m.Params())
	r, err := New(m, opt, batch, 1, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	images, labels := make([]float32, batch*m.InputSize()), make([]uint8, batch)
	cifar.NewSampler(set, 3, spec.Input[0]).Fill(0, batch, images, labels)
	r.Step(images, labels)
	for w, wr := range g.replicas {
		if i, ok := sameBits(wr.Model().Grads(), m.Grads()); !ok {
			t.Errorf("worker %d's gradient slab differs from the single replica's at %d", w, i)
		}
	}
	fill := func(first, count int, im []float32, lab []uint8) {}
	if n := testing.AllocsPerRun(2, func() { r.Compute(fill); r.Apply(nil, r.Losses()) }); n != 0 {
		t.Errorf("%v allocations per Compute and Apply", n)
	}
}

// TestLoneComputeSumsIntoTheModel: a replica computing every shard alone sums them during
// Compute straight into the model's gradient slab (Apply has nothing to copy), bit for bit the
// tree a group finishes from its published sums, and publishes its sum from there.
func TestLoneComputeSumsIntoTheModel(t *testing.T) {
	spec, set := smallSpec(), randomSet(6, 200)
	sp := cifar.NewSampler(set, 3, spec.Input[0])
	fill := func(first, count int, images []float32, labels []uint8) {
		sp.Fill(int64(first), count, images, labels)
	}
	for _, batch := range []int{16, 48, 80, 128} { // 1, 3, 5 and 8 shards
		g := newGroup(t, spec, set, 3, batch, 2)
		published := map[shard.Node][]float32{}
		for _, r := range g.replicas {
			r.Compute(fill)
			for i, n := range r.Nodes() {
				published[n] = r.NodeSum(i)
			}
		}
		s := shard.Count(batch)
		want := make([]float32, g.replicas[0].Model().NumParams())
		scratch := make([][]float32, shard.Depth(shard.Root(s)))
		for i := range scratch {
			scratch[i] = make([]float32, len(want))
		}
		shard.Sum(shard.Root(s), s, want, scratch, shardtest.Board(published).Source())

		lone := newGroup(t, spec, set, 3, batch, 1).replicas[0]
		lone.Compute(fill)
		grads := lone.Model().Grads()
		if i, ok := sameBits(grads, want); !ok {
			t.Errorf("batch %d: after Compute the slab differs from the group's sum at %d: %v vs %v", batch, i, grads[i], want[i])
		}
		if sum := lone.NodeSum(0); &sum[0] != &grads[0] {
			t.Errorf("batch %d: a lone replica publishes a copy of its sum, not the slab", batch)
		}
	}
}

// TestOneShardSharedByWorkers: a batch of one shard shared by 2 or 3 workers is computed by the
// last one alone, which publishes its sum from its gradient slab; every worker still ends with
// one worker's bits.
func TestOneShardSharedByWorkers(t *testing.T) {
	sameBitsForAnyWorkers(t, smallSpec(), randomSet(7, 60), 2, 16, 3, 1, 2, 3)
}

// sameBitsForAnyWorkers trains steps steps of batch on set from seed with each number of
// workers in turn, and fails unless every worker of every group ends with the same state
// (weights, optimizer slots) as the first.
func sameBitsForAnyWorkers(t *testing.T, spec nn.Spec, set *cifar.Set, seed uint64, batch, steps int, workers ...int) {
	t.Helper()
	var want []float32
	for _, n := range workers {
		g := newGroup(t, spec, set, seed, batch, n)
		for s := range steps {
			g.step(t, s)
		}
		for w := range n {
			got := g.state(w, true)
			if want == nil {
				want = got
			} else if i, ok := sameBits(got, want); !ok {
				t.Fatalf("%d workers: worker %d differs at %d", n, w, i)
			}
		}
	}
}
