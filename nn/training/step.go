package training

import (
	"errors"

	"cifar10/nn/replica"
	"cifar10/nn/shard"
)

// Step trains one batch, the next Batch examples of the stream, and returns the step's loss
// (mean cross-entropy plus weight decay, the figure the seed script logs). A NaN or infinite
// loss means the run diverged: the caller stops it (Encode refuses to save it). The training
// set must have been given.
func (r *Run) Step() float32 {
	if r.rep == nil {
		r.freeze()
		r.sampler.Fill(r.examples, r.cfg.Batch, r.images, r.labels)
		return r.advance(r.tr.Step(r.images, r.labels))
	}
	r.Compute(nil)
	return r.Apply(nil, r.rep.Losses())
}

// Compute is the first half of a sharded step: forward and backward over this worker's shards
// of the next batch, summed into the nodes it publishes (Replica().Nodes, NodeSum) with its
// shard losses (Replica().Losses). fill writes the examples of a shard (positions within the
// batch, which starts at example Examples()); nil draws them from the run's sampler. A worker
// that keeps the pixels elsewhere passes its own, built on Sampler().Index and Example.
func (r *Run) Compute(fill replica.Fill) {
	if fill == nil {
		fill = r.fill
	}
	r.freeze()
	r.rep.Compute(fill)
}

// Apply is the second half of a sharded step: it finishes the sum of the batch's gradient from
// this worker's nodes and the others' (others must give every published node that is not this
// worker's; nil when it computes every shard), updates the weights, and moves the run to the
// next step and batch. losses are all shards' losses in shard order (Replica().Losses() for a
// worker alone). It returns the step's loss, the same on every worker.
func (r *Run) Apply(others shard.Source, losses []float32) float32 {
	return r.advance(r.rep.Apply(others, losses))
}

// advance records the loss of the step just applied and moves the data position past its
// batch (the optimizer has counted the step).
func (r *Run) advance(loss float32) float32 {
	r.examples += int64(r.cfg.Batch)
	r.loss, r.measured = loss, true
	return loss
}

// fillFromSampler writes examples first..first+count-1 of the next batch from the sampler.
func (r *Run) fillFromSampler(first, count int, images []float32, labels []uint8) {
	r.sampler.Fill(r.examples+int64(first), count, images, labels)
}

// Join makes this run worker index of a group of workers that train it together: it then
// computes only its contiguous shards of each batch, and Apply takes the others' sums. The
// weights stay those of one worker alone (nn/shard). A run with WholeBatch cannot be shared.
func (r *Run) Join(workers, index int) error {
	if r.rep == nil {
		return errors.New("training: a run that trains whole batches cannot be shared by workers")
	}
	return r.rep.SetWorkers(workers, index)
}
