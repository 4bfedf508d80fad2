package coord

import (
	"fmt"
	"slices"

	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// evalParts collects the parts of an evaluation split across the workers of a run.
type evalParts struct {
	run     int
	done    []int
	results []*protocol.EvalResult
}

// Send sends a command: a run's start or restore to every worker holding the dataset, with
// the run's board; everything else to the leader. Without workers it does nothing.
func (g *Group) Send(m protocol.Message) error {
	if len(g.workers) == 0 {
		return nil
	}
	switch m.Kind() {
	case protocol.KindStart, protocol.KindCheckpointRestore:
		return g.startRun(m)
	case protocol.KindEval:
		n := max(len(g.run), 1)
		g.eval = evalParts{run: m.Run, done: make([]int, n), results: make([]*protocol.EvalResult, n)}
	}
	return g.workers[0].port.Send(m)
}

// startRun sends a run's first message to its workers: those holding the dataset if the
// leader does, each with its index, the run's size and one board; the leader alone when
// there is one such worker or no board.
func (g *Group) startRun(m protocol.Message) error {
	var run []*worker
	for _, w := range g.workers {
		if w.data {
			run = append(run, w)
		}
	}
	if len(run) == 0 || run[0] != g.workers[0] {
		run = g.workers[:1]
	}
	board := g.board(m, len(run))
	if board == nil {
		run = run[:1]
	}
	g.run = run
	g.view.Run = len(run)
	g.page.GroupChanged(g.view)
	if board == nil {
		return run[0].port.Send(m)
	}
	g.boards[m.Run] = board
	for i, w := range run {
		mm := m
		mm.Worker, mm.Workers = i, len(run)
		if err := w.port.SendShared(mm, board.Buffer()); err != nil {
			return err
		}
	}
	return nil
}

// board makes the board of the run m begins on workers workers, or returns nil when the run
// has one worker (or the board cannot be made: it trains with one, and the page says why).
func (g *Group) board(m protocol.Message, workers int) Board {
	batch, params := g.page.RunShape(m)
	if workers < 2 || params <= 0 {
		return nil
	}
	b, err := g.env.NewBoard(wasm.NewBoardLayout(batch, workers, params))
	if err != nil {
		g.page.Notify(protocol.WhereProtocol, fmt.Sprintf("training with one worker: %v", err))
		return nil
	}
	return b
}

// evalPart folds one worker's evaluation progress or result into the evaluation split across
// the run's workers, and passes the sum to the page. It reports whether m was such a part.
func (g *Group) evalPart(w *worker, m protocol.Message) bool {
	i := slices.Index(g.run, w)
	e := &g.eval
	if len(g.run) < 2 || i < 0 || m.Run != e.run || i >= len(e.done) {
		return false
	}
	switch p := m.Payload.(type) {
	case protocol.EvalProgress:
		e.done[i] = p.Done
	case protocol.EvalResult:
		e.results[i], e.done[i] = &p, p.Total
	}
	sum, complete := mergeEval(e.results)
	if complete {
		g.page.Receive(wasm.Inbound{Msg: protocol.Message{Run: e.run, Payload: sum}})
		e.run = -1
		return true
	}
	done := 0
	for _, d := range e.done {
		done += d
	}
	g.page.Receive(wasm.Inbound{Msg: protocol.Message{Run: e.run,
		Payload: protocol.EvalProgress{Done: done, Total: g.info.Test}}})
	return true
}

// mergeEval adds up the parts of an evaluation once every part is in.
func mergeEval(parts []*protocol.EvalResult) (protocol.EvalResult, bool) {
	var sum protocol.EvalResult
	for _, p := range parts {
		if p == nil {
			return sum, false
		}
		sum.Step = p.Step
		sum.Correct += p.Correct
		sum.Total += p.Total
		sum.Seconds = max(sum.Seconds, p.Seconds)
		if sum.Confusion == nil {
			sum.Confusion = make([][]int, len(p.Confusion))
			for i := range sum.Confusion {
				sum.Confusion[i] = make([]int, len(p.Confusion[i]))
			}
		}
		for i, row := range p.Confusion {
			for j, n := range row {
				sum.Confusion[i][j] += n
			}
		}
	}
	if sum.Total > 0 {
		sum.Precision = float64(sum.Correct) / float64(sum.Total)
	}
	return sum, true
}
