// Package replica is data-parallel training of one nn model by several workers that each hold
// a full copy of it (a replica): every step, each worker computes the gradients of its shards
// of the batch, the shards' sums are exchanged, and every worker applies the same update, so
// the copies never drift apart. How the batch is cut and how the sums are grouped is fixed by
// package shard, so the weights after any step have the same bits for any number of workers,
// and for the native trainer, which is one replica doing every shard.
//
// The exchange itself (shared memory in the browser, maps in tests) is the caller's: a
// Replica hands out the sums it publishes and takes the others' through a shard.Source.
package replica

import (
	"fmt"

	"cifar10/nn"
	"cifar10/nn/shard"
)

// Fill writes examples first..first+count-1 of the current batch (positions within the batch)
// into images and labels.
type Fill func(first, count int, images []float32, labels []uint8)

// Replica is worker Index of Workers: a model, its optimizer and a trainer sized for one
// shard, plus the vectors its part of the summation tree needs. Its memory does not depend on
// the step; a step allocates nothing.
type Replica struct {
	model           *nn.Model
	tr              *nn.Trainer
	batch, shards   int
	lo, hi          int          // the shards this replica computes
	nodes           []shard.Node // the tree nodes it publishes
	sums            [][]float32  // sums[i] is the sum of nodes[i] after Compute, unless whole
	losses          []float32    // losses[j-lo]: shard j's cross-entropy sum / batch
	scratch         [][]float32
	whole           bool // its one node is the root: Compute sums the batch into the model
	images          []float32
	labels          []uint8
	fill            Fill
	leafSrc, allSrc shard.Source
	others          shard.Source
}

// New makes replica index of workers for batches of batch examples, training m with opt
// (m and opt belong to the replica from then on) with threads threads (1 in the browser).
func New(m *nn.Model, opt nn.Optimizer, batch, workers, index, threads int) (*Replica, error) {
	if batch < 1 || workers < 1 || index < 0 || index >= workers {
		return nil, fmt.Errorf("replica: worker %d of %d for batches of %d", index, workers, batch)
	}
	s := shard.Count(batch)
	tr, err := nn.NewTrainer(m, opt, shard.Largest(batch, s), threads)
	if err != nil {
		return nil, err
	}
	r := &Replica{model: m, tr: tr, batch: batch, shards: s}
	if err := r.SetWorkers(workers, index); err != nil {
		return nil, err
	}
	for range shard.Depth(shard.Root(s)) {
		r.scratch = append(r.scratch, make([]float32, m.NumParams()))
	}
	largest := shard.Largest(batch, s)
	r.images = make([]float32, largest*m.InputSize())
	r.labels = make([]uint8, largest)
	r.leafSrc, r.allSrc = r.leaf, r.all
	return r, nil
}

// SetWorkers makes the replica worker index of workers, keeping its model, optimizer and
// trainer: only which shards it computes and publishes change.
func (r *Replica) SetWorkers(workers, index int) error {
	if workers < 1 || index < 0 || index >= workers {
		return fmt.Errorf("replica: worker %d of %d", index, workers)
	}
	r.lo, r.hi = shard.Range(r.shards, workers, index)
	r.nodes = shard.Nodes(r.lo, r.hi, r.shards)
	size := r.model.NumParams()
	for len(r.sums) < len(r.nodes) {
		r.sums = append(r.sums, make([]float32, size))
	}
	r.sums = r.sums[:len(r.nodes)]
	r.whole = len(r.nodes) == 1 && r.nodes[0] == shard.Root(r.shards)
	r.losses = make([]float32, r.hi-r.lo)
	return nil
}

// Close stops the trainer's threads.
func (r *Replica) Close() { r.tr.Close() }

// Model is the replica's model.
func (r *Replica) Model() *nn.Model { return r.model }

// Trainer is the replica's trainer (sized for one shard), e.g. for weight decay or Logits.
func (r *Replica) Trainer() *nn.Trainer { return r.tr }

// Shards is the number of shards of every batch; Range is the replica's own, lo..hi-1.
func (r *Replica) Shards() int         { return r.shards }
func (r *Replica) Range() (lo, hi int) { return r.lo, r.hi }
func (r *Replica) Nodes() []shard.Node { return r.nodes }

// NodeSum is the sum of Nodes()[i] after Compute, to publish before Apply. A replica whose one
// node is the root already has it in the model's gradient slab, where Apply reads it.
func (r *Replica) NodeSum(i int) []float32 {
	if r.whole {
		return r.model.Grads()
	}
	return r.sums[i]
}

// Losses are the replica's shard losses of the last Compute (shard lo first): each shard's
// summed cross-entropy divided by the batch size, so all shards' add up to the batch mean.
func (r *Replica) Losses() []float32 { return r.losses }

// Compute runs forward and backward over the replica's shards of the current batch, one
// shard at a time, and sums them into its published nodes. The model's gradient slab is the
// replica's from Compute to Apply: a replica summing the whole batch leaves the sum there
// (its leaves use the slab until the last, so the partial sums wait in sums[0]).
func (r *Replica) Compute(fill Fill) {
	r.fill = fill
	if r.whole {
		shard.SumLast(r.nodes[0], r.shards, r.model.Grads(), r.sums[0], r.scratch, r.leafSrc)
	} else {
		for i, n := range r.nodes {
			shard.Sum(n, r.shards, r.sums[i], r.scratch, r.leafSrc)
		}
	}
	r.fill = nil
}

// leaf computes shard n's gradient into (or onto) dst. The trainer leaves it in the model's
// gradient slab, which is the flat vector the tree sums; asked for it there (SumLast's last
// shard), leaf has nothing to copy.
func (r *Replica) leaf(n shard.Node, dst []float32, add bool) bool {
	j := n.Lo
	if n.Size != 1 || j < r.lo || j >= r.hi {
		return false
	}
	lo, hi := shard.Bounds(r.batch, r.shards, j)
	count := hi - lo
	size := r.model.InputSize()
	r.fill(lo, count, r.images[:count*size], r.labels[:count])
	r.losses[j-r.lo] = r.tr.Gradients(r.images[:count*size], r.labels[:count], 1/float32(r.batch))
	switch g := r.model.Grads(); {
	case add:
		shard.AddTo(dst, g)
	case len(dst) == 0 || &dst[0] != &g[0]:
		copy(dst, g)
	}
	return true
}

// all gives the replica's own published nodes, else asks the others.
func (r *Replica) all(n shard.Node, dst []float32, add bool) bool {
	for i, own := range r.nodes {
		if own == n {
			if add {
				shard.AddTo(dst, r.sums[i])
			} else {
				copy(dst, r.sums[i])
			}
			return true
		}
	}
	return r.others != nil && r.others(n, dst, add)
}

// Apply finishes the summation tree from the replica's nodes and the others' (which others
// must provide: every published node not this replica's) straight into the model's gradient
// slab, where a replica summing the whole batch has it from Compute, adds the weight decay
// once, and updates the weights. losses are every shard's loss, in shard order. It returns the
// step's total loss (mean cross-entropy + weight decay), the same for every replica.
func (r *Replica) Apply(others shard.Source, losses []float32) float32 {
	if len(losses) != r.shards {
		panic(fmt.Sprintf("replica: %d shard losses for %d shards", len(losses), r.shards))
	}
	if !r.whole {
		r.others = others
		shard.Sum(shard.Root(r.shards), r.shards, r.model.Grads(), r.scratch, r.allSrc)
		r.others = nil
	}
	xent := 0.0
	for _, l := range losses {
		xent += float64(l)
	}
	decay := r.tr.WeightDecay()
	r.tr.Apply()
	return float32(xent) + decay
}

// Step is a whole training step for a replica that is the only worker: it computes every
// shard of the batch (images, labels: batch examples) and applies the update. It returns the
// total loss, the figure the tutorial logs.
func (r *Replica) Step(images []float32, labels []uint8) float32 {
	size := r.model.InputSize()
	r.Compute(func(first, count int, im []float32, lab []uint8) {
		copy(im, images[first*size:(first+count)*size])
		copy(lab, labels[first:first+count])
	})
	return r.Apply(nil, r.losses)
}
