// Package shard fixes how a training batch is cut into shards and how the shards' gradients
// are summed, so that several workers training one model in data parallel end every step with
// the same bits as one worker does alone.
//
// Floating-point addition is not associative: summing per-example gradients in a different
// grouping changes the last bits, and after a few Adam steps the weights differ. So the
// grouping is fixed by the batch size alone, never by the number of workers:
//
//   - A batch of B examples is cut into S = Count(B) shards; shard j holds examples
//     Bounds(B, S, j). Each shard's gradient is computed on its own (one engine call), scaled
//     by 1/B so that the shards add up to the batch mean.
//   - The S shard gradients are summed by one fixed binary tree over shard indices: a Node
//     covers an aligned run of shards, and its sum is its left child's sum plus its right
//     child's (or the left alone when the right one lies past the last shard).
//   - Worker w of n computes the contiguous shards Range(S, n, w) and, locally, the sums of the
//     largest tree nodes inside them (Nodes). It publishes those; every worker then finishes
//     the tree from all published nodes in the same order, applies the same optimizer update,
//     and so keeps the same weights.
//
// One worker computing all S shards walks the same tree, so 1, 2, 3 or 16 workers give
// bit-identical weights. The package has no dependencies, so the page (which only sizes the
// shared memory) can import it without linking the engine.
package shard

import "fmt"

// MaxShards is the most shards a batch is cut into, and so the most workers that share the
// training steps of one run (more workers only share evaluations).
const MaxShards = 16

// MinExamples is the fewest examples a shard should hold: below it the engine's matrix
// products get too thin and a step costs more (8 examples a shard made a batch of 128 about
// 7% slower in the browser's engine than 16 did).
const MinExamples = 16

// Count is the number of shards of a batch of the given size: one per MinExamples examples,
// at least 1 and at most MaxShards. A batch of 128 has 8.
func Count(batch int) int {
	return min(MaxShards, max(1, batch/MinExamples))
}

// Bounds returns the examples lo..hi-1 of shard j of a batch cut into shards shards.
func Bounds(batch, shards, j int) (lo, hi int) {
	return j * batch / shards, (j + 1) * batch / shards
}

// Largest is the size of the largest shard of a batch cut into shards shards, what an engine
// computing one shard at a time must be sized for.
func Largest(batch, shards int) int {
	n := 0
	for j := range shards {
		lo, hi := Bounds(batch, shards, j)
		n = max(n, hi-lo)
	}
	return n
}

// Range returns the shards lo..hi-1 that worker w of workers computes: contiguous, in worker
// order, sizes differing by at most one. With more workers than shards some get none.
func Range(shards, workers, w int) (lo, hi int) {
	if workers < 1 || w < 0 || w >= workers {
		panic(fmt.Sprintf("shard: worker %d of %d", w, workers))
	}
	return w * shards / workers, (w + 1) * shards / workers
}

// Node is a node of the summation tree: the aligned shards Lo..Lo+Size-1 (Size a power of
// two, Lo a multiple of it), clipped to the batch's shards.
type Node struct {
	Lo, Size int
}

func (n Node) String() string { return fmt.Sprintf("shards %d..%d", n.Lo, n.Lo+n.Size-1) }

// Root is the node covering every shard.
func Root(shards int) Node {
	size := 1
	for size < shards {
		size *= 2
	}
	return Node{0, size}
}

// Children splits an inner node (Size > 1) in two halves.
func (n Node) Children() (left, right Node) {
	h := n.Size / 2
	return Node{n.Lo, h}, Node{n.Lo + h, h}
}

// Empty reports whether the node lies past the last shard.
func (n Node) Empty(shards int) bool { return n.Lo >= shards }

// within reports whether every real shard of n is in lo..hi-1.
func (n Node) within(lo, hi, shards int) bool {
	return n.Lo >= lo && min(n.Lo+n.Size, shards) <= hi
}

// Nodes returns the largest tree nodes that lie within shards lo..hi-1, in shard order: what a
// worker computing those shards sums locally and publishes. A worker with no shards has none.
func Nodes(lo, hi, shards int) []Node {
	var out []Node
	var walk func(n Node)
	walk = func(n Node) {
		switch {
		case n.Empty(shards) || n.Lo >= hi || n.Lo+n.Size <= lo:
		case n.within(lo, hi, shards):
			out = append(out, n)
		default:
			l, r := n.Children()
			walk(l)
			walk(r)
		}
	}
	if lo < hi {
		walk(Root(shards))
	}
	return out
}

// Published lists every worker's nodes, worker 0's first: slot i of the shared memory holds
// the sum of Published(...)[i]. Its length is at most shards.
func Published(shards, workers int) []Node {
	var out []Node
	for w := range workers {
		lo, hi := Range(shards, workers, w)
		out = append(out, Nodes(lo, hi, shards)...)
	}
	return out
}

// Source provides the sums the tree starts from. Get writes (or, with add, adds) the sum of
// node n into dst and reports true, or reports false when it does not hold n, in which case
// Sum computes n from its children.
type Source func(n Node, dst []float32, add bool) bool

// Sum writes the sum of node n into dst by the fixed tree. scratch holds one vector of len(dst)
// per tree level below n that may need one (Depth(n) - 1 of them); it is used only when a
// right child is itself an inner node that src does not hold.
func Sum(n Node, shards int, dst []float32, scratch [][]float32, src Source) {
	sum(n, shards, dst, false, scratch, src)
}

func sum(n Node, shards int, dst []float32, add bool, scratch [][]float32, src Source) {
	if src(n, dst, add) {
		return
	}
	if n.Size == 1 {
		panic(fmt.Sprintf("shard: no gradient for shard %d", n.Lo))
	}
	l, r := n.Children()
	if r.Empty(shards) {
		sum(l, shards, dst, add, scratch, src)
		return
	}
	if add {
		// dst += left + right must round as dst + (left + right): sum the node apart first.
		tmp := scratch[0][:len(dst)]
		sum(n, shards, tmp, false, scratch[1:], src)
		AddTo(dst, tmp)
		return
	}
	sum(l, shards, dst, false, scratch, src)
	sum(r, shards, dst, true, scratch, src)
}

// Depth is the number of scratch vectors Sum may need for node n.
func Depth(n Node) int {
	d := 0
	for s := n.Size; s > 2; s /= 2 {
		d++
	}
	return d
}

// AddTo sets dst[i] += x[i]. Elementwise float32 additions round the same in any order of i
// and in any vector width, so this is the one operation the tree applies, whoever computes it
// (add_simd.go adds four at a time where it can).
func AddTo(dst, x []float32) {
	x = x[:len(dst)]
	addTo(dst, x)
}

// addToGo is AddTo one element at a time.
func addToGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] += v
	}
}
