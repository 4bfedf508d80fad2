package worker

import (
	"errors"
	"fmt"
	"time"

	"cifar10/nn/cifar"
	"cifar10/nn/replica"
	"cifar10/nn/shard"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// Data-parallel training: several workers train one run, each computing its shards of every
// batch (nn/replica), and meet on the run's board (wasm/board.go) to sum the shards and apply
// the same update. Worker 0, the leader, is the one the page commands and listens to: it
// reports the run, saves its checkpoints and writes pause, resume, stop and evaluation
// requests on the board; the others (followers) read them there at the same step, so every
// worker pauses, stops and evaluates with the same weights.

// Board is a run's shared memory (wasm/board.go): a SharedArrayBuffer in the browser
// (board_js.go), Go memory in tests.
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

// parallel is the engine's data-parallel state.
type parallel struct {
	shared SharedMemory
	pixels Pixels // the dataset's pixels when shared, else nil (they are in e.data)
	joins  map[int]join
	data   any // the shared dataset of a pending shareDataset message
}

// join is a run's place in its group, from its start or restore message.
type join struct {
	index, workers int
	board          any
}

// waitSlice bounds one blocking wait on the board, so conditions are looked at again even if
// a notification were lost.
const waitSlice = 100 * time.Millisecond

// group is a run's membership in a group of workers.
type group struct {
	board          Board
	layout         wasm.BoardLayout
	index, workers int
	base           int  // the run's step when the group started: the board counts from there
	published      bool // this worker's sums for the run's current step are on the board
	evalSeq        int32
	aborted        bool
	losses         []float32 // every shard's loss of the step being applied
	source         shard.Source
	buf            int // the board buffer being read by source
}

// SetSharedMemory lets the engine join groups of workers and use a dataset other workers
// share; without it, it trains alone.
func (e *Engine) SetSharedMemory(s SharedMemory) { e.par.shared = s }

// receiveShared keeps the shared memory that came with a message for its handler, which may run
// later (Handle defers some commands during an evaluation).
func (e *Engine) receiveShared(in wasm.Inbound) {
	m := in.Msg
	switch m.Kind() {
	case protocol.KindShareDataset:
		e.par.data = in.Shared
	case protocol.KindStart, protocol.KindCheckpointRestore:
		if e.par.joins == nil {
			e.par.joins = map[int]join{}
		}
		e.par.joins[m.Run] = join{index: m.Worker, workers: max(m.Workers, 1), board: in.Shared}
	}
}

// shareData takes the dataset another worker loaded and answers with dataset.
func (e *Engine) shareData(m protocol.Message) {
	v := e.par.data
	e.par.data = nil
	if e.par.shared.Data == nil || v == nil {
		e.fail(0, protocol.WhereDataset, errors.New("the shared dataset did not arrive"))
		return
	}
	if e.run != nil && e.run.phase == protocol.PhaseRunning {
		e.fail(0, protocol.WhereDataset, errors.New("stop the run before replacing the dataset"))
		return
	}
	data, pixels, err := e.par.shared.Data(v, m.Payload.(protocol.ShareDataset).Dataset)
	if err != nil {
		e.fail(0, protocol.WhereDataset, err)
		return
	}
	e.data, e.par.pixels = data, pixels
	info := m.Payload.(protocol.ShareDataset).Dataset
	info.Warning = ""
	e.post(protocol.Message{Payload: info})
}

// joinGroup readies a new run r for its group (from its start or restore message) and for the
// dataset's pixels; alone when the message named no group.
func (e *Engine) joinGroup(r *run) error {
	j, ok := e.par.joins[r.id]
	for id := range e.par.joins {
		if id <= r.id {
			delete(e.par.joins, id)
		}
	}
	r.pixels = e.par.pixels
	r.trainLabels = e.data.Train.Labels
	r.fill = r.fillShard
	if !ok || j.workers == 1 {
		return nil
	}
	if e.par.shared.Board == nil || j.board == nil {
		return fmt.Errorf("%d workers need shared memory, which this page does not have", j.workers)
	}
	l := wasm.NewBoardLayout(r.settings.Batch, j.workers, r.model.NumParams())
	b, err := e.par.shared.Board(j.board, l)
	if err != nil {
		return err
	}
	if err := r.replica.SetWorkers(j.workers, j.index); err != nil {
		return err
	}
	g := &group{board: b, layout: l, index: j.index, workers: j.workers, base: r.step,
		losses: make([]float32, l.Shards)}
	g.source = g.read
	r.group = g
	return nil
}

// leads reports whether the engine reports its run to the page: alone, or worker 0.
func (e *Engine) leads() bool {
	return e.run == nil || e.run.group == nil || e.run.group.index == 0
}

// following reports whether the engine takes its run's commands from the board.
func (e *Engine) following() bool {
	return e.run != nil && e.run.group != nil && e.run.group.index > 0 && !e.run.group.aborted
}

// fillShard writes examples first..first+count-1 of the run's current batch.
func (r *run) fillShard(first, count int, images []float32, labels []uint8) {
	k0 := int64(r.step)*int64(r.settings.Batch) + int64(first)
	if r.pixels == nil {
		r.sampler.Fill(k0, count, images, labels)
		return
	}
	n := r.model.InputSize()
	for j := range count {
		k := k0 + int64(j)
		i := r.sampler.Index(k)
		r.img = r.pixels.Train(i, r.img)
		r.sampler.Example(images[j*n:(j+1)*n], r.img, k)
		labels[j] = r.trainLabels[i]
	}
}

// trainStep computes this worker's shards of the run's next batch and, in a group, publishes
// them, waits for the others' and sums them all; then it applies the update. It returns the
// step's loss, or ok false when the wait ended without a step (paused, stopped, or the group
// failed, which fails the run).
func (e *Engine) trainStep() (loss float32, ok bool) {
	r := e.run
	rep := r.replica
	g := r.group
	if g == nil {
		rep.Compute(r.fill)
		return rep.Apply(nil, rep.Losses()), true
	}
	buf := (r.step - g.base) % 2
	if !g.published {
		rep.Compute(r.fill)
		g.publish(rep, buf)
		g.published = true
	}
	t0 := e.Now()
	ok = e.await()
	r.waitSeconds += e.Now().Sub(t0).Seconds()
	if !ok {
		return 0, false
	}
	g.published = false
	g.board.ReadFloats(g.layout.Loss(buf, 0), g.losses, false)
	g.buf = buf
	return rep.Apply(g.source, g.losses), true
}

// publish writes this worker's node sums and shard losses into board buffer buf and counts
// the worker as arrived.
func (g *group) publish(rep *replica.Replica, buf int) {
	for i, n := range rep.Nodes() {
		slot, _ := g.layout.Slot(n)
		g.board.WriteFloats(g.layout.Node(buf, slot), rep.NodeSum(i))
	}
	lo, _ := rep.Range()
	g.board.WriteFloats(g.layout.Loss(buf, lo), rep.Losses())
	g.board.Add(wasm.WordArrived, 1)
}

// read is the others' published sums, from the board.
func (g *group) read(n shard.Node, dst []float32, add bool) bool {
	slot, ok := g.layout.Slot(n)
	if ok {
		g.board.ReadFloats(g.layout.Node(g.buf, slot), dst, add)
	}
	return ok
}

// await waits until every worker has published the run's current step. A follower also
// evaluates and obeys the leader's commands meanwhile; it returns false when one ends the wait.
func (e *Engine) await() bool {
	r := e.run
	g := r.group
	target := int32(g.workers * (r.step - g.base + 1))
	for {
		bell := g.board.Load(wasm.WordBell)
		switch {
		case g.board.Load(wasm.WordArrived) >= target:
			return true
		case g.board.Load(wasm.WordAbort) != 0:
			e.groupAborted()
			return false
		case g.index > 0 && e.followEval():
			continue
		case g.index > 0 && e.followControl():
			return false
		}
		g.board.Wait(wasm.WordBell, bell, waitSlice)
	}
}

// follow is a follower's unit of work: a step, an evaluation, or obeying the leader, or else
// waiting a moment for one of them.
func (e *Engine) follow() {
	r := e.run
	g := r.group
	bell := g.board.Load(wasm.WordBell)
	switch {
	case g.board.Load(wasm.WordAbort) != 0:
		e.groupAborted()
	case e.followEval(), e.followControl():
	case r.phase == protocol.PhaseRunning:
		e.followStep()
	default:
		g.board.Wait(wasm.WordBell, bell, waitSlice)
	}
}

// followStep is a follower's training step: the leader's without the reports.
func (e *Engine) followStep() {
	r := e.run
	loss, ok := e.trainStep()
	if !ok {
		return
	}
	switch {
	case !finite(loss):
		r.phase = protocol.PhaseFailed // the leader reports the divergence
	default:
		r.step++
		if r.step == r.settings.Steps {
			r.phase = protocol.PhaseFinished
		}
	}
}

// followControl applies the leader's pause, resume or stop when it is for this step.
func (e *Engine) followControl() bool {
	r := e.run
	phase, step := wasm.SplitControl(r.group.board.Load(wasm.WordControl))
	if step != r.step {
		return false
	}
	switch {
	case phase == wasm.BoardPaused && r.phase == protocol.PhaseRunning:
		r.phase = protocol.PhasePaused
	case phase == wasm.BoardRunning && r.phase == protocol.PhasePaused:
		r.phase = protocol.PhaseRunning
	case phase == wasm.BoardStopped && (r.phase == protocol.PhaseRunning || r.phase == protocol.PhasePaused):
		r.phase = protocol.PhaseStopped
	default:
		return false
	}
	return true
}

// followEval evaluates this worker's part of the test set when the leader asked for an
// evaluation at this step.
func (e *Engine) followEval() bool {
	r := e.run
	g := r.group
	seq := g.board.Load(wasm.WordEvalSeq)
	if seq == g.evalSeq || int(g.board.Load(wasm.WordEvalAt)) != r.step {
		return false
	}
	g.evalSeq = seq
	busy := e.busy
	e.busy = "eval"
	e.evaluate()
	e.busy = busy
	return true
}

// announcePhase writes the leader's new phase on the board for the followers.
func (e *Engine) announcePhase(phase protocol.Phase) {
	r := e.run
	if r == nil || r.group == nil || r.group.index != 0 {
		return
	}
	code := map[protocol.Phase]int{protocol.PhaseRunning: wasm.BoardRunning, protocol.PhasePaused: wasm.BoardPaused,
		protocol.PhaseStopped: wasm.BoardStopped}
	if c, ok := code[phase]; ok {
		r.group.board.Store(wasm.WordControl, wasm.Control(c, r.step))
	}
}

// evalPart returns the test images lo..hi-1 this worker evaluates. The leader first asks the
// followers, on the board, to evaluate theirs at this step.
func (e *Engine) evalPart(total int) (lo, hi int) {
	r := e.run
	g := r.group
	if g == nil || g.aborted {
		return 0, total // alone, or what is left of a group
	}
	if g.index == 0 {
		g.board.Store(wasm.WordEvalAt, int32(r.step))
		g.board.Add(wasm.WordEvalSeq, 1)
		g.evalSeq = g.board.Load(wasm.WordEvalSeq)
	}
	return g.index * total / g.workers, (g.index + 1) * total / g.workers
}

// fillEval writes test images i0.. of the dataset, whether its pixels are shared or in Go.
func (e *Engine) fillEval(i0 int, images []float32, labels []uint8) {
	r := e.run
	test := e.data.Test
	if e.par.pixels == nil {
		cifar.EvalBatch(test, i0, len(labels), r.crop, images, labels)
		return
	}
	n := r.model.InputSize()
	for j := range labels {
		r.img = e.par.pixels.Test(i0+j, r.img)
		cifar.EvalPixels(images[j*n:(j+1)*n], r.img, r.crop)
		labels[j] = test.Labels[i0+j]
	}
}

// groupAborted ends the run because a worker of the group failed or died. The leader says so;
// the page knows which worker it was and names it.
func (e *Engine) groupAborted() {
	r := e.run
	g := r.group
	g.aborted = true
	if r.phase != protocol.PhaseRunning && r.phase != protocol.PhasePaused {
		return
	}
	code := g.board.Load(wasm.WordAbort)
	reason := "another worker of the group stopped"
	if code > 0 {
		reason = fmt.Sprintf("worker %d of %d failed", code, g.workers)
	}
	reason += fmt.Sprintf(": training stopped at step %d", r.step)
	if g.index == 0 {
		e.setPhase(protocol.PhaseFailed, reason)
		return
	}
	r.phase = protocol.PhaseFailed
}

// abortGroup tells the other workers of the run that this one failed.
func (e *Engine) abortGroup() {
	if e.run != nil && e.run.group != nil && !e.run.group.aborted {
		e.run.group.aborted = true
		e.run.group.board.Store(wasm.WordAbort, int32(e.run.group.index+1))
	}
}
