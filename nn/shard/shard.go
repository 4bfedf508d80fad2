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
//     child's (or the left alone when the right one lies past the last shard). Only this
//     grouping is fixed: float32 addition commutes, so which vector a sum is written into is
//     free, and a worker summing every shard alone finishes the tree in the vector its engine
//     computes each shard into (SumLast), with no copy.
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
// per tree level below n that may need one (Depth(n) of them); it is used only when a right
// child is itself an inner node that src does not hold. Partial sums are kept in dst.
func Sum(n Node, shards int, dst []float32, scratch [][]float32, src Source) {
	sum(n, shards, dst, nil, dst, scratch, src)
}

// SumLast is Sum for a dst that src needs as its own scratch until its last shard: a replica's
// gradient slab, into which every shard's gradient is computed. The partial sums wait in work
// (a vector of len(dst)) and scratch, and dst is written only after src has been asked for
// every other node: by src itself, asked for the last one with add false, then by each
// addition on the way from that node up to n (left part + dst). So the sum ends in dst with
// no copy, by Sum's additions in Sum's order (some with their operands swapped, see AddTo),
// with Sum's bits; and a src that computes its shards in dst has nothing to copy for the last
// one. scratch is Sum's.
func SumLast(n Node, shards int, dst, work []float32, scratch [][]float32, src Source) {
	sum(n, shards, dst, nil, work, scratch, src)
}

// sum writes acc + (the sum of node n) into dst, or the sum alone when acc is nil. acc is dst
// or, on SumLast's way, a vector apart: then dst is written only once src has been asked for
// every node before n's last. work is where the left half of n waits while acc is nil: dst
// itself, or a vector apart on SumLast's way.
func sum(n Node, shards int, dst, acc, work []float32, scratch [][]float32, src Source) {
	if get(n, dst, acc, src) {
		return
	}
	if n.Size == 1 {
		panic(fmt.Sprintf("shard: no gradient for shard %d", n.Lo))
	}
	l, r := n.Children()
	if r.Empty(shards) {
		sum(l, shards, dst, acc, work, scratch, src)
		return
	}
	if acc != nil {
		// acc + left + right must round as acc + (left + right): sum the node apart first, in
		// dst itself when acc is apart from it (its left half waiting in tmp).
		tmp := scratch[0][:len(dst)]
		if same(acc, dst) {
			sum(n, shards, tmp, nil, tmp, scratch[1:], src)
			AddTo(dst, tmp)
		} else {
			sum(n, shards, dst, nil, tmp, scratch[1:], src)
			AddTo(dst, acc)
		}
		return
	}
	sum(l, shards, work, nil, work, scratch, src)
	sum(r, shards, dst, work, dst, scratch, src)
}

// get asks src for node n, to be written into dst as sum does (acc + the node's sum, or the
// sum alone when acc is nil). When acc is apart from dst, a src holding n is asked with add
// false, and acc is added after.
func get(n Node, dst, acc []float32, src Source) bool {
	switch {
	case acc == nil:
		return src(n, dst, false)
	case same(acc, dst):
		return src(n, dst, true)
	case src(n, dst, false):
		AddTo(dst, acc)
		return true
	}
	return false
}

// same reports whether a and b are the same vector.
func same(a, b []float32) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
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
//
// IEEE 754 addition also commutes (x + y has the bits of y + x; only which NaN comes out of
// two NaNs may differ, and a NaN gradient ends a run), so the tree adds acc + dst as AddTo(dst,
// acc): SumLast's right-hand sums then finish in dst without a kernel of their own.
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
