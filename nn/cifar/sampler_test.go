package cifar

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// fill returns examples k0..k0+count-1 from a sampler.
func fill(sp *Sampler, k0 int64, count int) ([]float32, []uint8) {
	images := make([]float32, count*sp.crop*sp.crop*3)
	labels := make([]uint8, count)
	sp.Fill(k0, count, images, labels)
	return images, labels
}

func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

func TestSamplerDeterministic(t *testing.T) {
	s := syntheticSet(t, 10)
	for _, crop := range []int{24, 32} {
		a, la := fill(NewSampler(s, 7, crop), 0, 25)
		b, lb := fill(NewSampler(s, 7, crop), 0, 25)
		if !sameBits(a, b) || !slices.Equal(la, lb) {
			t.Fatalf("crop %d: same seed, different batches", crop)
		}
		c, _ := fill(NewSampler(s, 8, crop), 0, 25)
		if sameBits(a, c) {
			t.Fatalf("crop %d: seeds 7 and 8 give the same batches", crop)
		}
	}
}

func TestSamplerShards(t *testing.T) {
	// A batch filled whole equals the same batch filled in shards, in any order and by other
	// samplers, including batches that straddle an epoch boundary (N = 10).
	s := syntheticSet(t, 10)
	const crop, n = 24, 24 * 24 * 3
	tests := []struct {
		name   string
		k0     int64
		shards []int
	}{
		{"8 as 4+4", 0, []int{4, 4}},
		{"8 as 4+4 across epochs", 6, []int{4, 4}},
		{"12 as 5+1+6 far away", 1_000_003, []int{5, 1, 6}},
		{"25 as 3x8+1 over three epochs", 7, []int{8, 8, 8, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total := 0
			for _, c := range tt.shards {
				total += c
			}
			whole, wl := fill(NewSampler(s, 3, crop), tt.k0, total)
			reused := NewSampler(s, 3, crop)
			k := tt.k0
			for i := len(tt.shards) - 1; i >= 0; i-- { // last shard first, one sampler
				k = tt.k0
				for _, c := range tt.shards[:i] {
					k += int64(c)
				}
				part, pl := fill(reused, k, tt.shards[i])
				fresh, _ := fill(NewSampler(s, 3, crop), k, tt.shards[i])
				off := int(k - tt.k0)
				if !sameBits(part, whole[off*n:(off+tt.shards[i])*n]) || !sameBits(part, fresh) ||
					!slices.Equal(pl, wl[off:off+tt.shards[i]]) {
					t.Fatalf("shard at %d (%d examples) differs", k, tt.shards[i])
				}
			}
		})
	}
}

func TestSamplerEpochs(t *testing.T) {
	const N = 37
	s := syntheticSet(t, N)
	sp := NewSampler(s, 11, 24)
	var perms [][]int
	for e := range int64(4) {
		perm := make([]int, N)
		for j := range int64(N) {
			perm[j] = sp.Index(e*N + j)
		}
		if sp.Epoch(e*N) != e || sp.Epoch(e*N+N-1) != e {
			t.Fatalf("Epoch(%d) = %d", e*N, sp.Epoch(e*N))
		}
		sorted := slices.Sorted(slices.Values(perm))
		for i, v := range sorted {
			if v != i {
				t.Fatalf("epoch %d is not a permutation: %v", e, perm)
			}
		}
		perms = append(perms, perm)
	}
	if slices.Equal(perms[0], perms[1]) || slices.Equal(perms[1], perms[2]) {
		t.Fatal("consecutive epochs have the same order")
	}
	identity := true
	for i, v := range perms[0] {
		identity = identity && v == i
	}
	if identity {
		t.Fatal("epoch 0 is not shuffled")
	}
	// Labels follow the images.
	_, labels := fill(sp, 2*N+5, 4)
	for j, l := range labels {
		if l != s.Labels[sp.Index(2*N+5+int64(j))] {
			t.Fatalf("label %d does not match its image", j)
		}
	}
}

func TestSamplerNoAllocs(t *testing.T) {
	s := syntheticSet(t, 1000)
	sp := NewSampler(s, 1, 24)
	images, labels := fill(sp, 0, 128)
	k := int64(128)
	allocs := testing.AllocsPerRun(5, func() {
		sp.Fill(k, 128, images, labels) // stays within epoch 0
		k += 128
	})
	if allocs != 0 {
		t.Fatalf("Fill allocates %v times per call", allocs)
	}
	allocs = testing.AllocsPerRun(2, func() { sp.Fill(k, 128, images, labels); k += 500 })
	if allocs != 0 {
		t.Fatalf("Fill across epochs allocates %v times per call", allocs)
	}
}

func TestDrawDistortion(t *testing.T) {
	var r rand.PCG
	const draws = 20000
	var flips int
	var sumDelta, sumFactor float64
	seenY, seenX := map[int]bool{}, map[int]bool{}
	for k := range uint64(draws) {
		r.Seed(streamSeeds(5, tagAugment, k))
		d := drawDistortion(&r, 24)
		if d.oy < 0 || d.oy > 8 || d.ox < 0 || d.ox > 8 || d.delta < -63 || d.delta >= 63 || d.factor < 0.2 || d.factor >= 1.8 {
			t.Fatalf("draw %d out of range: %+v", k, d)
		}
		seenY[d.oy], seenX[d.ox] = true, true
		if d.flip {
			flips++
		}
		sumDelta += float64(d.delta)
		sumFactor += float64(d.factor)
	}
	if len(seenY) != 9 || len(seenX) != 9 {
		t.Fatalf("offsets seen: y %v x %v, want all of 0..8", seenY, seenX)
	}
	// Loose bounds (many standard errors wide): catch a wrong range or a stuck draw.
	if f := float64(flips) / draws; math.Abs(f-0.5) > 0.02 {
		t.Fatalf("flip rate %v", f)
	}
	if m := sumDelta / draws; math.Abs(m) > 1.5 {
		t.Fatalf("mean brightness delta %v, want about 0", m)
	}
	if m := sumFactor / draws; math.Abs(m-1) > 0.02 {
		t.Fatalf("mean contrast factor %v, want about 1", m)
	}
	r.Seed(1, 2)
	if d := drawDistortion(&r, 32); d.oy != 0 || d.ox != 0 {
		t.Fatalf("crop 32 offset %d,%d", d.oy, d.ox)
	}
}

func TestSamplerDistorts(t *testing.T) {
	// One image, 255 at (15, 10) in every channel. Contrast factors are positive and channels
	// are equal, so the brightest output pixel shows where the crop and flip put it:
	// unflipped at x = 10-ox (2..10), flipped at x = 23-(10-ox) (13..21).
	s, err := Parse("dot", record(4, func(c, y, x int) byte {
		if y == 15 && x == 10 {
			return 255
		}
		return 0
	}))
	if err != nil {
		t.Fatal(err)
	}
	const crop, n, count = 24, 24 * 24 * 3, 2000
	images, labels := fill(NewSampler(s, 9, crop), 0, count)
	ys, xs := map[int]int{}, map[int]int{}
	flips := 0
	for j := range count {
		img := images[j*n : (j+1)*n]
		if m, sd := meanStd(img); math.Abs(m) > 1e-5 || math.Abs(sd-1) > 1e-4 {
			t.Fatalf("example %d: mean %v stddev %v after standardization", j, m, sd)
		}
		best := 0
		for i, v := range img {
			if v > img[best] {
				best = i
			}
		}
		y, x := best/3/crop, best/3%crop
		ys[y]++
		xs[x]++
		if x >= 13 {
			flips++
		}
		if labels[j] != 4 {
			t.Fatalf("label %d", labels[j])
		}
	}
	for y := 7; y <= 15; y++ {
		if ys[y] == 0 {
			t.Errorf("no crop put the dot on row %d (rows seen %v)", y, ys)
		}
	}
	if len(ys) != 9 || len(xs) != 18 {
		t.Errorf("rows %v, columns %v: want 9 rows (7..15) and 18 columns (2..10, 13..21)", ys, xs)
	}
	if flips < count*4/10 || flips > count*6/10 {
		t.Errorf("%d of %d flipped", flips, count)
	}
}

func TestSamplerGolden(t *testing.T) {
	// Pins the stream: checkpoints store only (seed, examples consumed), so a change here
	// breaks exact resume of existing runs and between native and browser training. The hash
	// must be the same on every platform (this test runs natively and as js/wasm).
	sp := NewSampler(syntheticSet(t, 50), 42, 24)
	images, labels := fill(sp, 45, 16)
	h := fnv.New64a()
	for _, v := range images {
		b := math.Float32bits(v)
		h.Write([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24)})
	}
	h.Write(labels)
	order := []int{sp.Index(0), sp.Index(1), sp.Index(2), sp.Index(49), sp.Index(50), sp.Index(99)}
	const wantHash = 0x2d1373592009d7a1
	wantOrder := []int{12, 31, 1, 13, 30, 24}
	if got := h.Sum64(); got != wantHash || !slices.Equal(order, wantOrder) {
		t.Fatalf("stream changed: hash %#x order %v, want %#x %v", got, order, uint64(wantHash), wantOrder)
	}
}

func BenchmarkFill(b *testing.B) {
	const batch, crop = 128, 24
	sp := NewSampler(syntheticSet(b, 10000), 1, crop)
	images := make([]float32, batch*crop*crop*3)
	labels := make([]uint8, batch)
	sp.Fill(0, batch, images, labels) // build epoch 0's permutation outside the timing
	b.ReportAllocs()
	k := int64(0)
	for b.Loop() {
		sp.Fill(k%9000, batch, images, labels)
		k += batch
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "examples/s")
}
