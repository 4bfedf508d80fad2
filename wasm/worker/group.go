package worker

import (
	"time"

	"cifar10/nn/cifar"
	"cifar10/nn/replica"
	"cifar10/nn/shard"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// Data-parallel training: several workers, a group, train one run, each computing its shards of
// every batch (nn/replica), and meet on the run's board (wasm/board.go) to sum the shards and
// apply the same update. Worker 0, the leader, is the one the page commands and listens to: it
// reports the run, saves its checkpoints and writes pause, resume, stop and evaluation
// requests on the board; the others (followers) read them there at the same step, so every
// worker pauses, stops and evaluates with the same weights. This file is the board's side of
// it (group); follow.go is the run's.

// Board is a run's shared memory (wasm/board.go): a SharedArrayBuffer in the browser
// (wasm/board_js.go), Go memory in tests.
type Board interface {
	Load(word int) int32
	// Store and Add change a word and ring the bell (WordBell), waking waiters.
	Store(word int, v int32)
	Add(word int, delta int32)
	// Wait blocks while word holds old, at most d. Only workers may block.
	Wait(word int, old int32, d time.Duration)
	// ReadFloats copies (or, with add, adds) the floats at off into dst.
	ReadFloats(off int, dst []float32, add bool)
	WriteFloats(off int, src []float32)
}

// Pixels gives images of a dataset whose pixels live outside Go memory (one copy shared by
// every worker): image i's 3,072 bytes, copied into buf.
type Pixels interface {
	Train(i int, buf []byte) []byte
	Test(i int, buf []byte) []byte
}

// SharedMemory opens what the page shares with the worker: in the browser SharedArrayBuffers
// (shared_js.go), in tests Go values.
type SharedMemory struct {
	// Board opens the board sent with a start or restore message, checking it fits l.
	Board func(v any, l wasm.BoardLayout) (Board, error)
	// Data opens a dataset another worker loaded (a shareDataset message).
	Data func(v any, info protocol.DatasetInfo) (*cifar.Data, Pixels, error)
}

// waitSlice bounds one blocking wait on the board, so conditions are looked at again even if
// a notification were lost.
const waitSlice = 100 * time.Millisecond

// group is one worker's place in a group of workers and its reads and writes on their board.
// It knows steps only as the numbers its run gives it.
type group struct {
	board          Board
	layout         wasm.BoardLayout
	index, workers int
	base           int  // the run's step when the group started: the board counts from there
	published      bool // this worker's sums for the run's current step are on the board
	evalSeq        int32
	aborted        bool      // the group ended: this worker failed, or saw another fail
	losses         []float32 // every shard's loss of the step being applied
	source         shard.Source
	buf            int // the board buffer being read by source
}

// newGroup makes worker index of workers on board b, whose run is at step.
func newGroup(b Board, l wasm.BoardLayout, index, workers, step int) *group {
	g := &group{board: b, layout: l, index: index, workers: workers, base: step, losses: make([]float32, l.Shards)}
	g.source = g.read
	return g
}

// leads reports whether this worker is the group's leader, the one that reports to the page.
func (g *group) leads() bool { return g.index == 0 }

// follows reports whether this worker takes its run's commands from the board: a follower of
// a group that has not ended. It is false for no group (nil).
func (g *group) follows() bool { return g != nil && g.index > 0 && !g.aborted }

// bufOf is the board buffer of step: the buffers alternate, so a worker can publish the next
// step while a slow one still reads this one.
func (g *group) bufOf(step int) int { return (step - g.base) % 2 }

// publish writes this worker's node sums and shard losses of step into the board and counts
// the worker as arrived.
func (g *group) publish(rep *replica.Replica, step int) {
	buf := g.bufOf(step)
	for i, n := range rep.Nodes() {
		slot, _ := g.layout.Slot(n)
		g.board.WriteFloats(g.layout.Node(buf, slot), rep.NodeSum(i))
	}
	lo, _ := rep.Range()
	g.board.WriteFloats(g.layout.Loss(buf, lo), rep.Losses())
	g.board.Add(wasm.WordArrived, 1)
	g.published = true
}

// collect returns what every worker published for step, once all have: the others' sums (read
// from the board as the update needs them) and every shard's loss.
func (g *group) collect(step int) (shard.Source, []float32) {
	g.published = false
	g.buf = g.bufOf(step)
	g.board.ReadFloats(g.layout.Loss(g.buf, 0), g.losses, false)
	return g.source, g.losses
}

// read is the others' published sums, from the board.
func (g *group) read(n shard.Node, dst []float32, add bool) bool {
	slot, ok := g.layout.Slot(n)
	if ok {
		g.board.ReadFloats(g.layout.Node(g.buf, slot), dst, add)
	}
	return ok
}

// A request is what the leader asks of its followers on the board at a step: an evaluation of
// that step's weights, or else a phase (running, paused, stopped).
type request struct {
	eval  bool
	phase protocol.Phase
}

// end is why a wait for the other workers ended.
type end int

const (
	allArrived end = iota // every worker published the step
	abortSeen             // a worker failed or died (the board's abort word is set)
	obeyed                // a follower took the leader's pause or stop
)

// await waits until every worker has published step. A follower meanwhile takes the leader's
// requests with obey, which says whether it did something: after an evaluation it waits on,
// after a phase it stops waiting (obeyed). The leader passes nil.
func (g *group) await(step int, obey func(request) bool) end {
	target := int32(g.workers * (step - g.base + 1))
	for {
		bell := g.board.Load(wasm.WordBell)
		switch {
		case g.board.Load(wasm.WordArrived) >= target:
			return allArrived
		case g.abortCode() != 0:
			return abortSeen
		case g.index > 0:
			if req, ok := g.next(step); ok && obey(req) {
				if req.eval {
					continue
				}
				return obeyed
			}
		}
		g.board.Wait(wasm.WordBell, bell, waitSlice)
	}
}

// boardPhases are the phases the leader writes on the board, by their code.
var boardPhases = map[int]protocol.Phase{
	wasm.BoardRunning: protocol.PhaseRunning,
	wasm.BoardPaused:  protocol.PhasePaused,
	wasm.BoardStopped: protocol.PhaseStopped,
}

// next is the leader's request for step, if any: an evaluation this worker has not done yet
// (it is then counted as taken), else the phase the leader set at step.
func (g *group) next(step int) (request, bool) {
	seq := g.board.Load(wasm.WordEvalSeq)
	if seq != g.evalSeq && int(g.board.Load(wasm.WordEvalAt)) == step {
		g.evalSeq = seq
		return request{eval: true}, true
	}
	code, at := wasm.SplitControl(g.board.Load(wasm.WordControl))
	phase, ok := boardPhases[code]
	return request{phase: phase}, ok && at == step
}

// announce writes the leader's new phase at step for the followers; phases they do not take
// (finished, failed) are not written.
func (g *group) announce(phase protocol.Phase, step int) {
	for code, p := range boardPhases {
		if p == phase {
			g.board.Store(wasm.WordControl, wasm.Control(code, step))
		}
	}
}

// askEval is the leader asking the followers to evaluate their parts of the test set at step.
func (g *group) askEval(step int) {
	g.board.Store(wasm.WordEvalAt, int32(step))
	g.board.Add(wasm.WordEvalSeq, 1)
	g.evalSeq = g.board.Load(wasm.WordEvalSeq)
}

// part is the range lo..hi-1 of total test images this worker evaluates.
func (g *group) part(total int) (lo, hi int) {
	return g.index * total / g.workers, (g.index + 1) * total / g.workers
}

// bell is the board's bell word, to wait on after looking at the board.
func (g *group) bell() int32 { return g.board.Load(wasm.WordBell) }

// wait blocks until the bell rings past bell, or for one wait slice.
func (g *group) wait(bell int32) { g.board.Wait(wasm.WordBell, bell, waitSlice) }

// abortCode is the board's abort word: 0 while the group trains, wasm.AbortPage when the page
// saw a worker die, or 1 + the index of the worker that failed.
func (g *group) abortCode() int32 { return g.board.Load(wasm.WordAbort) }

// abort tells the other workers that this one failed, once, and ends the group for it.
func (g *group) abort() {
	if g != nil && !g.aborted {
		g.aborted = true
		g.board.Store(wasm.WordAbort, int32(g.index+1))
	}
}
