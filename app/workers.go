package app

import (
	"fmt"
	"slices"
	"time"

	"cifar10/wasm"
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The page trains with several Web Workers, one core each (Go's wasm runs on one thread).
// Worker 0 leads: it loads the dataset into shared memory, which the page hands to the others
// (shareDataset), and it is the one the page commands and listens to during a run. A run
// starts (or is restored) on every worker holding the dataset, with one board (shared memory,
// wasm/board.go) made for it; the followers take pause, resume, stop and evaluation requests
// from the leader through the board, and each evaluates its part of the test set, which the
// page adds up. How many workers share a run never changes its results (nn/shard).
//
// A worker that dies (an uncaught error, or terminated: each holds a Web Lock for life, which
// the page is granted once it is gone) stops the run: the page aborts the board, the others
// stop at once, the checkpoints already stored stay as they were, and the run resumes from the
// latest one with the workers left.

// TeamView is the page's workers, for the status line.
type TeamView struct {
	Size  int // live workers
	Ready int // live workers holding the dataset
	Run   int // workers sharing the current run
	Lost  int // workers that stopped since the page opened
}

// member is one worker.
type member struct {
	port  *wasm.Port
	name  string // also the Web Lock it holds for life (assets/worker.js)
	ready bool   // said ready
	data  bool   // holds the dataset
	gone  bool
}

// team is the page's workers and what they share.
type team struct {
	members []*member
	names   string // prefix of the workers' names, unique to this page
	serial  int
	dataset any // the dataset's SharedArrayBuffer, once the leader has loaded it
	info    protocol.DatasetInfo
	run     []*member                 // the current run's workers, in group order
	boards  map[int]*wasm.SharedBoard // by run
	eval    evalParts
	saver   *wasm.Saver // the checkpoint saver (assets/saver.js), nil if it could not start
	saving  bool        // the saver runs: workers are connected to it as they start
}

// evalParts collects the parts of an evaluation split across the workers of a run.
type evalParts struct {
	run     int
	done    []int
	results []*protocol.EvalResult
}

// WantWorkers is how many workers the settings ask for: Workers, or one per core (at most
// MaxWorkers); one without shared memory, which several workers need.
func WantWorkers(s protocol.Settings, cores int, shared bool) int {
	switch {
	case !shared:
		return 1
	case s.Workers > 0:
		return s.Workers
	}
	return max(1, min(cores, protocol.MaxWorkers))
}

// startTeam starts the workers the settings ask for, and the checkpoint saver they store
// their checkpoints through (wasm/saver_js.go).
func (h *Home) startTeam(ctx app.Context) {
	t := &team{names: fmt.Sprintf("cifar10-worker-%d", time.Now().UnixMilli()), boards: map[int]*wasm.SharedBoard{}}
	h.team = t
	t.saver, _ = wasm.StartSaver(SaverScript, func() {
		ctx.Dispatch(func(ctx app.Context) { t.startSaving() })
	})
	h.resizeTeam(ctx)
}

// startSaving connects every worker to the saver, which has started.
func (t *team) startSaving() {
	t.saving = true
	for _, w := range t.members {
		t.connectSaver(w)
	}
}

// connectSaver gives worker w a channel to the saver, if it runs. Without one the worker
// stores its checkpoints itself, which works the same, only slower.
func (t *team) connectSaver(w *member) {
	if t.saving && !w.gone {
		_ = w.port.SendPort(protocol.Message{Payload: protocol.SaverPort{}}, t.saver.Connect())
	}
}

// resizeTeam starts or ends workers to match the settings (never during a run; the leader
// stays).
func (h *Home) resizeTeam(ctx app.Context) {
	t := h.team
	if t == nil || h.store.Run.Active() {
		return
	}
	want := WantWorkers(h.store.Settings, wasm.Cores(), h.isolated)
	for len(t.members) > max(want, 1) {
		w := t.members[len(t.members)-1]
		w.gone = true
		w.port.Close()
		t.members = t.members[:len(t.members)-1]
	}
	for len(t.members) < want {
		t.serial++
		w := &member{name: fmt.Sprintf("%s-%d", t.names, t.serial)}
		port, err := wasm.NewNamedWorker(WorkerScript, w.name)
		if err != nil {
			h.store.failure(protocol.Failure{Where: protocol.WhereWorker, Message: err.Error()})
			break
		}
		w.port = port
		t.members = append(t.members, w)
		t.connectSaver(w)
		ctx.Async(func() {
			for in := range port.Inbox() {
				ctx.Dispatch(func(ctx app.Context) { h.receiveFrom(ctx, w, in) })
			}
		})
	}
	h.teamChanged()
}

// teamChanged updates what follows from the list of workers.
func (h *Home) teamChanged() {
	t := h.team
	h.port = nil
	ports := make([]*wasm.Port, len(t.members))
	v := TeamView{Size: len(t.members), Run: h.store.Team.Run, Lost: h.store.Team.Lost}
	for i, w := range t.members {
		ports[i] = w.port
		if w.data {
			v.Ready++
		}
	}
	if len(ports) > 0 {
		h.port = ports[0]
	}
	h.store.Team = v
	wasm.ExposeWorkers(ports)
}

// receiveFrom handles a message from worker w: the leader's go to the store; of the others',
// only errors, dataset confirmations and evaluation parts matter.
func (h *Home) receiveFrom(ctx app.Context, w *member, in wasm.Inbound) {
	t := h.team
	if w.gone {
		return
	}
	m := in.Msg
	switch {
	case in.Err != nil && in.Fatal:
		h.lose(ctx, w, in.Err.Error())
		return
	case in.Err == nil && m.Kind() == protocol.KindError && m.Payload.(protocol.Failure).Where == protocol.WhereWorker:
		h.lose(ctx, w, m.Payload.(protocol.Failure).Message)
		return
	}
	leader := len(t.members) > 0 && t.members[0] == w
	if in.Err == nil {
		switch m.Kind() {
		case protocol.KindReady:
			w.ready = true
			if lock := m.Payload.(protocol.Ready).Lock; lock != "" {
				w.port.OnExit(lock, func() {
					ctx.Dispatch(func(ctx app.Context) { h.lose(ctx, w, "it was terminated or crashed") })
				})
			}
			if !leader {
				h.share(w)
				return
			}
		case protocol.KindDataset:
			w.data = true
			if leader {
				t.dataset, t.info = in.Shared, m.Payload.(protocol.DatasetInfo)
				for _, f := range t.members[1:] {
					h.share(f)
				}
			}
			h.teamChanged()
		case protocol.KindEvalProgress, protocol.KindEvalResult:
			if h.evalPart(w, m) {
				return
			}
		case protocol.KindError:
			if !leader {
				// A follower that cannot join or go on leaves its run's board waiting: abort it.
				if b, ok := t.boards[m.Run]; ok && m.Run != 0 {
					b.Store(wasm.WordAbort, int32(slices.Index(t.members, w)+1))
				}
				h.store.notify(m.Payload.(protocol.Failure).Where, fmt.Sprintf("worker %d: %s", slices.Index(t.members, w)+1, m.Payload.(protocol.Failure).Message))
				return
			}
		}
	}
	if leader {
		h.receive(in)
		h.afterReceive(ctx, in)
	}
}

// share hands the leader's dataset to follower w once both are ready.
func (h *Home) share(w *member) {
	t := h.team
	if !w.ready || t.dataset == nil {
		return
	}
	w.data = false
	info := t.info
	if err := w.port.SendShared(protocol.Message{Payload: protocol.ShareDataset{Dataset: info}}, t.dataset); err != nil {
		h.store.notify(protocol.WhereProtocol, err.Error())
	}
}

// dispatch sends a command: a run's start or restore to every worker holding the dataset,
// with the run's board; everything else to the leader.
func (h *Home) dispatch(m protocol.Message) error {
	t := h.team
	if t == nil || len(t.members) == 0 {
		return nil
	}
	switch m.Kind() {
	case protocol.KindStart, protocol.KindCheckpointRestore:
		return h.startGroup(m)
	case protocol.KindEval:
		t.eval = evalParts{run: m.Run, done: make([]int, max(len(t.run), 1)), results: make([]*protocol.EvalResult, max(len(t.run), 1))}
	}
	return t.members[0].port.Send(m)
}

// startGroup sends a run's first message to its workers.
func (h *Home) startGroup(m protocol.Message) error {
	t := h.team
	var group []*member
	for _, w := range t.members {
		if w.data {
			group = append(group, w)
		}
	}
	if len(group) == 0 || group[0] != t.members[0] {
		group = t.members[:1]
	}
	batch, params := h.runShape(m)
	var board *wasm.SharedBoard
	if len(group) > 1 && params > 0 {
		b, err := wasm.NewBoard(wasm.NewBoardLayout(batch, len(group), params))
		if err == nil {
			board = b
		} else {
			h.store.notify(protocol.WhereProtocol, fmt.Sprintf("training with one worker: %v", err))
		}
	}
	if board == nil {
		group = group[:1]
	}
	t.run = group
	h.store.Team.Run = len(group)
	if board == nil {
		return group[0].port.Send(m)
	}
	t.boards[m.Run] = board
	for i, w := range group {
		mm := m
		mm.Worker, mm.Workers = i, len(group)
		if err := w.port.SendShared(mm, board.Buffer()); err != nil {
			return err
		}
	}
	return nil
}

// runShape is the batch size and model size a start or restore message's run will have: a
// resumable checkpoint keeps its own batch and preset.
func (h *Home) runShape(m protocol.Message) (batch, params int) {
	s := h.store
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

// evalPart folds one worker's evaluation progress or result into the evaluation split across
// the run's workers, and passes the sum to the store. It reports whether m was such a part.
func (h *Home) evalPart(w *member, m protocol.Message) bool {
	t := h.team
	i := slices.Index(t.run, w)
	e := &t.eval
	if len(t.run) < 2 || i < 0 || m.Run != e.run || i >= len(e.done) {
		return false
	}
	switch m.Kind() {
	case protocol.KindEvalProgress:
		e.done[i] = m.Payload.(protocol.EvalProgress).Done
	case protocol.KindEvalResult:
		r := m.Payload.(protocol.EvalResult)
		e.results[i], e.done[i] = &r, r.Total
	}
	sum, complete := mergeEval(e.results)
	if complete {
		h.receive(wasm.Inbound{Msg: protocol.Message{Run: e.run, Payload: sum}})
		e.run = -1
		return true
	}
	done := 0
	for _, d := range e.done {
		done += d
	}
	h.receive(wasm.Inbound{Msg: protocol.Message{Run: e.run,
		Payload: protocol.EvalProgress{Done: done, Total: h.store.Dataset.Info.Test}}})
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

// lose handles a worker that is gone: its run stops (the others are told through the board),
// and the page goes on with the workers left.
func (h *Home) lose(ctx app.Context, w *member, why string) {
	t := h.team
	if w.gone {
		return
	}
	w.gone = true
	w.port.Close()
	number, of := slices.Index(t.run, w)+1, len(t.run)
	if number == 0 {
		number, of = slices.Index(t.members, w)+1, len(t.members)
	}
	t.members = slices.DeleteFunc(t.members, func(x *member) bool { return x == w })
	for id, b := range t.boards {
		b.Store(wasm.WordAbort, wasm.AbortPage)
		delete(t.boards, id)
	}
	t.run = t.members[:min(1, len(t.members))] // what is left of the run evaluates alone
	h.store.Team.Lost++
	h.teamChanged()
	if len(t.members) == 0 {
		h.store.failure(protocol.Failure{Where: protocol.WhereWorker, Message: why})
		return
	}
	h.store.WorkerLost(number, of, why)
	ctx.Update()
}

// WorkerLost records that worker number (1-based) of a group of of stopped: a run it shared
// fails, and the user learns what is left and how to go on.
func (s *Store) WorkerLost(number, of int, why string) {
	s.Eval.Running = false
	if !s.Run.Active() {
		s.notify(protocol.WhereWorker, fmt.Sprintf("training worker %d of %d stopped (%s); %s left", number, of, why, plural(s.Team.Size, "worker")))
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
	l.reason = fmt.Sprintf("worker %d of %d stopped at step %d", l.number, l.of, l.step)
	text := fmt.Sprintf("training worker %d of %d stopped (%s), so training stopped at step %d.", l.number, l.of, l.why, l.step)
	if c, ok := s.Checkpoints.Latest(); ok {
		return text + fmt.Sprintf(" The checkpoints are intact: Resume latest goes on from %s with the %s left", c.Name(), plural(s.Team.Size, "worker"))
	}
	return text + fmt.Sprintf(" Start again with the %s left", plural(s.Team.Size, "worker"))
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

// plural is "1 worker" or "n workers".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// String says how many workers there are, for the status line.
func (v TeamView) String() string {
	s := plural(v.Size, "training worker") + " ready"
	if v.Ready < v.Size {
		s = plural(v.Size, "training worker") + fmt.Sprintf(" (%d with the dataset)", v.Ready)
	}
	if v.Run > 0 {
		s += fmt.Sprintf(", %d sharing the current run", v.Run)
	}
	return s
}
