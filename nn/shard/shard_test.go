package shard

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCount(t *testing.T) {
	for batch, want := range map[int]int{1: 1, 16: 1, 31: 1, 32: 2, 100: 6, 128: 8, 256: 16, 1024: 16} {
		if got := Count(batch); got != want {
			t.Errorf("Count(%d) = %d, want %d", batch, got, want)
		}
	}
	if lo, hi := Bounds(128, 8, 3); lo != 48 || hi != 64 {
		t.Errorf("shard 3 of 128/8 is %d..%d", lo, hi)
	}
	if n := Largest(100, 6); n != 17 {
		t.Errorf("Largest(100, 6) = %d, want 17", n)
	}
}

// TestNodes: each worker's nodes cover exactly its shards, once, and all workers' nodes
// cover every shard once; no worker publishes more nodes than it has shards.
func TestNodes(t *testing.T) {
	for shards := 1; shards <= MaxShards; shards++ {
		for workers := 1; workers <= 20; workers++ {
			seen := make([]int, shards)
			next := 0
			for w := range workers {
				lo, hi := Range(shards, workers, w)
				if lo != next || hi < lo {
					t.Fatalf("S=%d n=%d: worker %d has shards %d..%d after %d", shards, workers, w, lo, hi, next)
				}
				next = hi
				nodes := Nodes(lo, hi, shards)
				if len(nodes) > hi-lo {
					t.Errorf("S=%d n=%d: worker %d publishes %d nodes for %d shards", shards, workers, w, len(nodes), hi-lo)
				}
				for _, n := range nodes {
					if n.Size&(n.Size-1) != 0 || n.Lo%n.Size != 0 {
						t.Fatalf("%v is not a tree node", n)
					}
					for j := n.Lo; j < min(n.Lo+n.Size, shards); j++ {
						if j < lo || j >= hi {
							t.Errorf("S=%d n=%d: worker %d publishes shard %d outside %d..%d", shards, workers, w, j, lo, hi-1)
						}
						seen[j]++
					}
				}
			}
			if next != shards {
				t.Errorf("S=%d n=%d: workers cover %d shards", shards, workers, next)
			}
			for j, c := range seen {
				if c != 1 {
					t.Errorf("S=%d n=%d: shard %d published %d times", shards, workers, j, c)
				}
			}
			if got := len(Published(shards, workers)); got > shards {
				t.Errorf("S=%d n=%d: %d published nodes", shards, workers, got)
			}
		}
	}
	if got := Nodes(2, 5, 8); !slices.Equal(got, []Node{{2, 2}, {4, 1}}) {
		t.Errorf("Nodes(2, 5, 8) = %v", got)
	}
}

// leaves makes one random vector per shard with magnitudes spread over many binades, so that
// any change in the order of additions shows in the bits.
func leaves(r *rand.Rand, shards, size int) [][]float32 {
	out := make([][]float32, shards)
	for j := range out {
		out[j] = make([]float32, size)
		for i := range out[j] {
			out[j][i] = float32(r.NormFloat64() * math.Exp2(float64(r.IntN(40)-20)))
		}
	}
	return out
}

// reduce sums leaves as workers of a group would: each worker sums its nodes from its own
// leaves, then the tree is finished from the published nodes.
func reduce(shards, workers int, leaf [][]float32) []float32 {
	size := len(leaf[0])
	scratch := make([][]float32, Depth(Root(shards)))
	for i := range scratch {
		scratch[i] = make([]float32, size)
	}
	published := map[Node][]float32{}
	for w := range workers {
		lo, hi := Range(shards, workers, w)
		own := func(n Node, dst []float32, add bool) bool {
			if n.Size != 1 || n.Lo < lo || n.Lo >= hi {
				return false
			}
			put(dst, leaf[n.Lo], add)
			return true
		}
		for _, n := range Nodes(lo, hi, shards) {
			published[n] = make([]float32, size)
			Sum(n, shards, published[n], scratch, own)
		}
	}
	total := make([]float32, size)
	Sum(Root(shards), shards, total, scratch, func(n Node, dst []float32, add bool) bool {
		v, ok := published[n]
		if ok {
			put(dst, v, add)
		}
		return ok
	})
	return total
}

func put(dst, src []float32, add bool) {
	if add {
		AddTo(dst, src)
	} else {
		copy(dst, src)
	}
}

// TestSumDoesNotDependOnWorkers is the sharded reduction: for every shard count and 1..20
// workers the total has the same bits as one worker's, and it is the sum of the shards.
func TestSumDoesNotDependOnWorkers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for shards := 1; shards <= MaxShards; shards++ {
		leaf := leaves(r, shards, 257)
		want := reduce(shards, 1, leaf)
		for i := range want {
			exact, abs := 0.0, 0.0
			for j := range leaf {
				exact += float64(leaf[j][i])
				abs += math.Abs(float64(leaf[j][i]))
			}
			if d := math.Abs(float64(want[i]) - exact); d > 5e-7*abs {
				t.Fatalf("S=%d: element %d sums to %g, exactly %g", shards, i, want[i], exact)
			}
		}
		for workers := 2; workers <= 20; workers++ {
			got := reduce(shards, workers, leaf)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("S=%d: %d workers give %g at %d, one worker %g", shards, workers, got[i], i, want[i])
				}
			}
		}
	}
}

// TestSumLastEndsInTheSlab is a replica summing a whole batch alone: every shard's gradient is
// computed into one slab, which SumLast must use for the sum only after the last shard. For
// every shard count the slab ends with Sum's bits, the shards are asked for in order, once
// each, and the last one is asked for in the slab itself, so it is never copied.
func TestSumLastEndsInTheSlab(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for shards := 1; shards <= MaxShards; shards++ {
		const size = 257
		leaf := leaves(r, shards, size)
		want := reduce(shards, 1, leaf)
		slab, work := make([]float32, size), make([]float32, size)
		scratch := make([][]float32, Depth(Root(shards)))
		for i := range scratch {
			scratch[i] = make([]float32, size)
		}
		next, inSlab := 0, false
		SumLast(Root(shards), shards, slab, work, scratch, func(n Node, dst []float32, add bool) bool {
			if n.Size != 1 {
				return false
			}
			if n.Lo != next {
				t.Fatalf("S=%d: shard %d asked for after %d", shards, n.Lo, next-1)
			}
			next++
			copy(slab, leaf[n.Lo]) // the engine computes every shard into the slab
			inSlab = same(dst, slab)
			if inSlab && (add || n.Lo != shards-1) {
				t.Fatalf("S=%d: shard %d asked for in the slab (add %v), which holds partial sums", shards, n.Lo, add)
			}
			if !inSlab {
				put(dst, slab, add)
			}
			return true
		})
		if next != shards || !inSlab {
			t.Errorf("S=%d: %d shards asked for; the last in the slab: %v", shards, next, inSlab)
		}
		for i := range want {
			if math.Float32bits(slab[i]) != math.Float32bits(want[i]) {
				t.Fatalf("S=%d: SumLast gives %g at %d, Sum %g", shards, slab[i], i, want[i])
			}
		}
	}
}

// TestAddToMatchesScalar: AddTo (four lanes at a time with GOEXPERIMENT=simd) gives the bits of
// one float32 addition per element, for lengths around its 16-float steps, NaN and ±Inf
// included.
func TestAddToMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 100, 1000} {
		dst, x := make([]float32, n), make([]float32, n)
		for i := range dst {
			dst[i], x[i] = float32(r.NormFloat64()), float32(r.NormFloat64()*1e3)
		}
		if n > 2 {
			x[0], x[1], dst[2] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
		}
		want := make([]float32, n)
		for i := range want {
			want[i] = dst[i] + x[i]
		}
		AddTo(dst, x)
		for i := range want {
			if math.Float32bits(dst[i]) != math.Float32bits(want[i]) && !(dst[i] != dst[i] && want[i] != want[i]) {
				t.Fatalf("n=%d: element %d is %g, want %g", n, i, dst[i], want[i])
			}
		}
	}
}
