package app

import (
	"slices"

	"cifar10/wasm"
	"cifar10/wasm/coord"
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The page's workers are a coord.Group (wasm/coord): which worker gets which message, the
// boards, the evaluation split across a run's workers and a lost worker are decided there, in
// plain Go. Home wires it to the browser (package wasm) and to go-app, and the store draws what
// it reports.

// startGroup starts the workers the settings ask for, and the checkpoint saver they store
// their checkpoints through (wasm/saver_js.go).
func (h *Home) startGroup(ctx app.Context) {
	dispatch := func(f func()) { ctx.Dispatch(func(app.Context) { f() }) }
	h.group = coord.NewGroup(coord.Env{
		Start:    startWorker,
		NewBoard: newBoard,
		Dispatch: dispatch,
		Go:       ctx.Async,
	}, groupPage{h: h, ctx: ctx})
	var saver *wasm.Saver
	saver, _ = wasm.StartSaver(SaverScript, func() {
		dispatch(func() { h.group.SaverReady(saver) })
	})
	h.resizeGroup()
}

// startWorker starts a training worker (assets/worker.js).
func startWorker(name string) (coord.Port, error) {
	p, err := wasm.NewNamedWorker(WorkerScript, name)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// newBoard makes a run's board in shared memory.
func newBoard(l wasm.BoardLayout) (coord.Board, error) {
	b, err := wasm.NewBoard(l)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// resizeGroup starts or ends workers to match the settings (never during a run).
func (h *Home) resizeGroup() {
	if h.group == nil || h.store.Run.Active() {
		return
	}
	h.group.Resize(coord.Want(h.store.Settings, wasm.Cores(), h.isolated))
}

// dispatch sends a command to the group's workers.
func (h *Home) dispatch(m protocol.Message) error {
	if h.group == nil {
		return nil
	}
	return h.group.Send(m)
}

// groupPage is the page as the group sees it: the store, and go-app's context for what a
// report calls for beyond it.
type groupPage struct {
	h   *Home
	ctx app.Context
}

// Receive applies a report of the leader (or a merged evaluation).
func (p groupPage) Receive(in wasm.Inbound) {
	p.h.receive(in)
	p.h.afterReceive(p.ctx, in)
}

// GroupChanged keeps the group's view for the status line, and the leader's port for the
// messages with files (uploads, pictures), which go to it directly.
func (p groupPage) GroupChanged(v coord.GroupView) {
	p.h.store.Group = v
	ports := make([]*wasm.Port, 0, v.Size)
	for _, port := range p.h.group.Ports() {
		ports = append(ports, port.(*wasm.Port))
	}
	p.h.port, _ = p.h.group.Leader().(*wasm.Port)
	wasm.ExposeWorkers(ports)
}

// WorkerLost records a lost worker in the store.
func (p groupPage) WorkerLost(number, of int, why string) { p.h.store.WorkerLost(number, of, why) }

// Failure records that the workers cannot go on.
func (p groupPage) Failure(f protocol.Failure) { p.h.store.failure(f) }

// Notify shows a message.
func (p groupPage) Notify(where protocol.Where, text string) { p.h.store.notify(where, text) }

// RunShape is the store's idea of the run a message begins.
func (p groupPage) RunShape(m protocol.Message) (batch, params int) { return p.h.store.runShape(m) }

// runShape is the batch size and model size a start or restore message's run will have: a
// resumable checkpoint keeps its own batch and preset.
func (s *Store) runShape(m protocol.Message) (batch, params int) {
	batch, preset := s.Settings.Batch, s.Settings.Preset
	switch p := m.Payload.(type) {
	case protocol.Start:
		batch, preset = p.Settings.Batch, p.Settings.Preset
	case protocol.RestoreRequest:
		batch, preset = p.Settings.Batch, p.Settings.Preset
		if c, ok := s.Checkpoints.Find(p.ID); ok {
			preset = c.Preset
			if c.Resumable && c.Batch > 0 {
				batch = c.Batch
			}
		}
	}
	p, ok := s.Preset(preset)
	if !ok {
		return batch, 0
	}
	return batch, p.NumParams
}

// WorkerLost records that worker number (1-based) of a group of of stopped: a run it shared
// fails, and the user learns what is left and how to go on.
func (s *Store) WorkerLost(number, of int, why string) {
	s.Eval.Running = false
	if !s.Run.Active() {
		s.notify(protocol.WhereWorker, T(msgWorkerLost, number, of, why, workers(s.Group.Size)))
		return
	}
	s.Run.Phase = protocol.PhaseFailed
	s.lost = &lostWorker{run: s.Run.ID, number: number, of: of, why: why}
	s.lost.text = s.lostText()
	s.Run.Reason = s.lost.reason
	s.notify(protocol.WhereWorker, s.lost.text)
}

// lostWorker is the worker whose loss stopped the current run. The page learns of the loss
// before the leader's last reports, which may carry a step or two it had finished: the run
// stopped there, so the notice and the reason are written again as those arrive (lostStep).
type lostWorker struct {
	run, number, of int
	why             string
	step            int    // the step the text says
	text, reason    string // the notice and the run's reason, as last written
}

// lostText writes the lost worker's notice (and reason) for the run's current step.
func (s *Store) lostText() string {
	l := s.lost
	l.step = s.Run.Step
	l.reason = T(msgWorkerLostReason, l.number, l.of, l.step)
	text := T(msgWorkerLostRun, l.number, l.of, l.why, l.step)
	if c, ok := s.Checkpoints.Latest(); ok {
		return text + T(msgWorkerLostResume, c.Name(), workers(s.Group.Size))
	}
	return text + T(msgWorkerLostStart, workers(s.Group.Size))
}

// lostStep rewrites the lost worker's notice when the leader's late reports moved the step.
func (s *Store) lostStep() {
	l := s.lost
	if l == nil || l.run != s.Run.ID || s.Run.Phase != protocol.PhaseFailed {
		s.lost = nil
		return
	}
	if s.Run.Step == l.step {
		s.Run.Reason = l.reason
		return
	}
	old := l.text
	l.text = s.lostText()
	s.Run.Reason = l.reason
	s.Messages = slices.Clone(s.Messages) // a new slice, so that the notices panel sees a change
	for i := range s.Messages {
		if s.Messages[i].Where == protocol.WhereWorker && s.Messages[i].Text == old {
			s.Messages[i].Text = l.text
		}
	}
}

// plural is key one's text for n == 1, else key many's with n ("1 worker", "3 workers").
func plural(n int, one, many Key) string {
	if n == 1 {
		return T(one)
	}
	return T(many, n)
}

// workers is "1 worker" or "n workers".
func workers(n int) string { return plural(n, msgWorkerOne, msgWorkerMany) }

// groupText says how many workers there are, for the status line.
func groupText(v coord.GroupView) string {
	s := T(msgGroupReady, plural(v.Size, msgTrainingWorkerOne, msgTrainingWorkerMany))
	if v.Ready < v.Size {
		s = T(msgGroupLoading, plural(v.Size, msgTrainingWorkerOne, msgTrainingWorkerMany), v.Ready)
	}
	if v.Run > 0 {
		s += T(msgGroupRun, v.Run)
	}
	return s
}
