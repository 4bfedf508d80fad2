package wasm

import "cifar10/nn/shard"

// A group of workers training one run shares a board: one SharedArrayBuffer that the page
// makes for the run and sends to every worker with the start (or restore) message. It holds a
// few int32 control words, then float32 data: every shard's loss and every published gradient
// sum (see nn/shard), twice, for even and odd steps, so a worker can publish step s+1 while a
// slower one still reads step s. Workers block on it with Atomics.wait (workers may; the page
// never does), and the page only stores and notifies (to abort).
//
// The words, by index in an Int32Array over the board:
const (
	// WordBell counts changes of the other words: whoever changes one adds 1 here and
	// notifies, so a worker waits on this one word for anything to happen.
	WordBell = iota
	// WordArrived counts workers that have published their sums, over the run: step s (the
	// s-th since the group started) is complete when it reaches Workers*(s+1).
	WordArrived
	// WordAbort is 0, AbortPage (the page saw a worker die) or 1 + the index of a worker that
	// failed: every worker stops the run.
	WordAbort
	// WordControl is the leader's (worker 0's) command, Control(phase, step): BoardRunning,
	// BoardPaused or BoardStopped, taking effect when a worker has done step steps. One word,
	// so a worker never reads a phase with another command's step.
	WordControl
	// WordEvalSeq counts evaluations the leader asked for; WordEvalAt is the step (steps
	// done) of the last one: each worker evaluates its part of the test set there.
	WordEvalSeq
	WordEvalAt

	// BoardWords is the size of the control block; data start after it.
	BoardWords = 16
)

// Values of WordPhase.
const (
	BoardRunning = 0
	BoardPaused  = 1
	BoardStopped = 2
)

// Control packs a phase and a step into WordControl.
func Control(phase, step int) int32 { return int32(step<<2 | phase) }

// SplitControl unpacks WordControl.
func SplitControl(w int32) (phase, step int) { return int(w & 3), int(w >> 2) }

// AbortPage in WordAbort means the page stopped the run because a worker died.
const AbortPage = -1

// BoardLayout places a run's data on its board. Offsets count float32s from the end of the
// control block.
type BoardLayout struct {
	Shards, Workers, Params int
	// Slots lists the published tree nodes, worker 0's first (shard.Published).
	Slots []shard.Node
}

// NewBoardLayout is the layout of a run with batches of batch examples, trained by workers
// workers on a model of params parameters.
func NewBoardLayout(batch, workers, params int) BoardLayout {
	s := shard.Count(batch)
	return BoardLayout{Shards: s, Workers: workers, Params: params, Slots: shard.Published(s, workers)}
}

// Floats is the number of float32s after the control block.
func (l BoardLayout) Floats() int { return 2*l.Shards + 2*len(l.Slots)*l.Params }

// Bytes is the size of the SharedArrayBuffer.
func (l BoardLayout) Bytes() int { return 4*BoardWords + 4*l.Floats() }

// Loss is the offset of shard j's loss in buffer buf (0 or 1).
func (l BoardLayout) Loss(buf, j int) int { return buf*l.Shards + j }

// Node is the offset of slot's gradient sum in buffer buf.
func (l BoardLayout) Node(buf, slot int) int {
	return 2*l.Shards + (buf*len(l.Slots)+slot)*l.Params
}

// Slot is the slot of a published node.
func (l BoardLayout) Slot(n shard.Node) (int, bool) {
	for i, s := range l.Slots {
		if s == n {
			return i, true
		}
	}
	return 0, false
}
