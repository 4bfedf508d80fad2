// Package coord is the page's side of training with several Web Workers: the group of
// workers, the boards of their runs, the evaluation split across them, and what happens when
// one is lost. It is plain Go over small interfaces (Port, Board, Saver, Page), so it is
// tested natively with fake workers; the page (package app) wires it to the browser
// (package wasm) and to go-app, and the workers' side of the same conversation is
// wasm/worker.
//
// The page trains with several workers, one core each (Go's wasm runs on one thread). Worker
// 0 leads: it loads the dataset into shared memory, which the group hands to the others
// (ShareDataset), and it is the one the page commands and listens to during a run. A run
// starts (or is restored) on every worker holding the dataset, with one board (shared memory,
// wasm/board.go) made for it; the followers take pause, resume, stop and evaluation requests
// from the leader through the board, and each evaluates its part of the test set, which the
// group adds up. How many workers share a run never changes its results (nn/shard).
//
// A worker that dies (an uncaught error, or terminated: each holds a Web Lock for life, which
// the page is granted once it is gone) stops the run: the group aborts the board, the others
// stop at once, the checkpoints already stored stay as they were, and the run resumes from the
// latest one with the workers left.
package coord

import (
	"fmt"
	"slices"
	"time"

	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// Port is the page's end of the channel to one worker: a *wasm.Port in the browser, a fake in
// tests.
type Port interface {
	// Send posts m with files transferred (m.Files names them).
	Send(m protocol.Message, files ...[]byte) error
	// SendShared posts m with shared memory (the dataset, a run's board): the worker gets the
	// same memory as Inbound.Shared.
	SendShared(m protocol.Message, shared any) error
	// SendPort posts m with a channel (a MessagePort to the saver), transferred.
	SendPort(m protocol.Message, port any) error
	// Inbox delivers the worker's messages in order.
	Inbox() <-chan wasm.Inbound
	// OnExit calls f, from outside the page's goroutine, once the worker holding the Web
	// Lock named lock is gone.
	OnExit(lock string, f func())
	// Close ends the worker.
	Close()
}

// Board is a run's board as the page uses it: its shared memory goes to the run's workers
// with their first message, and the page only ever stores a word to abort the run.
type Board interface {
	Buffer() any
	Store(word int, v int32)
}

// Saver is the checkpoint saver (assets/saver.js): Connect opens a channel to it for one
// worker.
type Saver interface {
	Connect() any
}

// Env is what the group needs of the browser.
type Env struct {
	// Start starts a worker named name, which is also the Web Lock it holds for life.
	Start func(name string) (Port, error)
	// NewBoard makes the shared memory of a run with layout l.
	NewBoard func(l wasm.BoardLayout) (Board, error)
	// Dispatch runs f on the page's goroutine, where every method of Group must run.
	Dispatch func(f func())
	// Go runs f on a goroutine of its own: f reads a worker's inbox, blocking.
	Go func(f func())
}

// Page is what the group tells the page, and the one thing it asks it.
type Page interface {
	// Receive takes a report of the leader, or an evaluation the group merged from the parts
	// of a run's workers.
	Receive(in wasm.Inbound)
	// GroupChanged gives the group's view, for the status line, whenever it changes.
	GroupChanged(v GroupView)
	// WorkerLost says that worker number (1-based) of a group of of stopped, and why; some
	// workers are left.
	WorkerLost(number, of int, why string)
	// Failure reports what the page cannot go on from: no worker could start, or the last
	// one is lost.
	Failure(f protocol.Failure)
	// Notify shows a message to the user.
	Notify(where protocol.Where, text string)
	// RunShape is the batch size and model size (parameters) of the run a start or restore
	// message begins; params is 0 when unknown.
	RunShape(m protocol.Message) (batch, params int)
}

// GroupView is the page's workers, for the status line.
type GroupView struct {
	Size  int // live workers
	Ready int // live workers holding the dataset
	Run   int // workers sharing the current run
	Lost  int // workers that stopped since the page opened
}

// worker is one worker of the group.
type worker struct {
	port  Port
	name  string // also the Web Lock it holds for life (assets/worker.js)
	ready bool   // said ready
	data  bool   // holds the dataset
	gone  bool
}

// Group is the page's workers and what they share. Its methods run on the page's goroutine
// (Env.Dispatch).
type Group struct {
	env     Env
	page    Page
	workers []*worker
	names   string // prefix of the workers' names, unique to this page
	serial  int
	dataset any // the dataset's SharedArrayBuffer, once the leader has loaded it
	info    protocol.DatasetInfo
	run     []*worker     // the current run's workers, in group order
	boards  map[int]Board // by run
	eval    evalParts
	saver   Saver // the checkpoint saver, once it runs: workers are connected to it as they start
	view    GroupView
}

// NewGroup is a group with no workers yet (Resize starts them).
func NewGroup(env Env, page Page) *Group {
	return &Group{env: env, page: page, names: fmt.Sprintf("cifar10-worker-%d", time.Now().UnixMilli()),
		boards: map[int]Board{}}
}

// Want is how many workers the settings ask for: Workers, or one per core (at most
// MaxWorkers); one without shared memory, which several workers need.
func Want(s protocol.Settings, cores int, shared bool) int {
	switch {
	case !shared:
		return 1
	case s.Workers > 0:
		return s.Workers
	}
	return max(1, min(cores, protocol.MaxWorkers))
}

// Resize starts or ends workers to have want (at least one: the leader stays). The page
// calls it between runs only.
func (g *Group) Resize(want int) {
	for len(g.workers) > max(want, 1) {
		w := g.workers[len(g.workers)-1]
		w.gone = true
		w.port.Close()
		g.workers = g.workers[:len(g.workers)-1]
	}
	for len(g.workers) < want {
		g.serial++
		w := &worker{name: fmt.Sprintf("%s-%d", g.names, g.serial)}
		port, err := g.env.Start(w.name)
		if err != nil {
			g.page.Failure(protocol.Failure{Where: protocol.WhereWorker, Message: err.Error()})
			break
		}
		w.port = port
		g.workers = append(g.workers, w)
		g.connectSaver(w)
		g.env.Go(func() {
			for in := range port.Inbox() {
				g.env.Dispatch(func() { g.receive(w, in) })
			}
		})
	}
	g.changed()
}

// Close ends every worker (the page is going away).
func (g *Group) Close() {
	for _, w := range g.workers {
		w.gone = true
		w.port.Close()
	}
	g.workers = nil
}

// Leader is worker 0's port, or nil when there is no worker.
func (g *Group) Leader() Port {
	if len(g.workers) == 0 {
		return nil
	}
	return g.workers[0].port
}

// Ports are the workers' ports, in group order.
func (g *Group) Ports() []Port {
	ports := make([]Port, len(g.workers))
	for i, w := range g.workers {
		ports[i] = w.port
	}
	return ports
}

// changed tells the page the group's view after a change of its workers.
func (g *Group) changed() {
	g.view.Size, g.view.Ready = len(g.workers), 0
	for _, w := range g.workers {
		if w.data {
			g.view.Ready++
		}
	}
	g.page.GroupChanged(g.view)
}

// SaverReady connects every worker, and from now on every worker started, to the checkpoint
// saver, which runs.
func (g *Group) SaverReady(s Saver) {
	g.saver = s
	for _, w := range g.workers {
		g.connectSaver(w)
	}
}

// connectSaver gives worker w a channel to the saver, if it runs. Without one the worker
// stores its checkpoints itself, which works the same, only slower.
func (g *Group) connectSaver(w *worker) {
	if g.saver != nil && !w.gone {
		_ = w.port.SendPort(protocol.Message{Payload: protocol.SaverPort{}}, g.saver.Connect())
	}
}

// receive handles a message from worker w: the leader's go to the page; of the others', only
// errors, dataset confirmations and evaluation parts matter.
func (g *Group) receive(w *worker, in wasm.Inbound) {
	if w.gone {
		return
	}
	m := in.Msg
	switch {
	case in.Err != nil && in.Fatal:
		g.lose(w, in.Err.Error())
		return
	case in.Err == nil && m.Kind() == protocol.KindError && m.Payload.(protocol.Failure).Where == protocol.WhereWorker:
		g.lose(w, m.Payload.(protocol.Failure).Message)
		return
	}
	leader := len(g.workers) > 0 && g.workers[0] == w
	if in.Err == nil && !g.receiveKind(w, leader, in) {
		return
	}
	if leader {
		g.page.Receive(in)
	}
}

// receiveKind does what a message of its kind from worker w calls for in the group, and
// reports whether the message goes on to the page (if w leads).
func (g *Group) receiveKind(w *worker, leader bool, in wasm.Inbound) bool {
	m := in.Msg
	switch m.Kind() {
	case protocol.KindReady:
		w.ready = true
		if lock := m.Payload.(protocol.Ready).Lock; lock != "" {
			w.port.OnExit(lock, func() {
				g.env.Dispatch(func() { g.lose(w, "it was terminated or crashed") })
			})
		}
		if !leader {
			g.share(w)
			return false
		}
	case protocol.KindDataset:
		w.data = true
		if leader {
			g.dataset, g.info = in.Shared, m.Payload.(protocol.DatasetInfo)
			for _, f := range g.workers[1:] {
				g.share(f)
			}
		}
		g.changed()
	case protocol.KindEvalProgress, protocol.KindEvalResult:
		if g.evalPart(w, m) {
			return false
		}
	case protocol.KindError:
		if !leader {
			g.followerFailed(w, m)
			return false
		}
	}
	return true
}

// followerFailed handles an error from a worker that does not lead. A follower that cannot
// join or go on leaves its run's board waiting: the group aborts it.
func (g *Group) followerFailed(w *worker, m protocol.Message) {
	number := slices.Index(g.workers, w) + 1
	if b, ok := g.boards[m.Run]; ok && m.Run != 0 {
		b.Store(wasm.WordAbort, int32(number))
	}
	f := m.Payload.(protocol.Failure)
	g.page.Notify(f.Where, fmt.Sprintf("worker %d: %s", number, f.Message))
}

// share hands the leader's dataset to follower w once both are ready.
func (g *Group) share(w *worker) {
	if !w.ready || g.dataset == nil {
		return
	}
	w.data = false
	if err := w.port.SendShared(protocol.Message{Payload: protocol.ShareDataset{Dataset: g.info}}, g.dataset); err != nil {
		g.page.Notify(protocol.WhereProtocol, err.Error())
	}
}

// lose handles a worker that is gone: its run stops (the others are told through the board),
// and the page goes on with the workers left.
func (g *Group) lose(w *worker, why string) {
	if w.gone {
		return
	}
	w.gone = true
	w.port.Close()
	number, of := slices.Index(g.run, w)+1, len(g.run)
	if number == 0 {
		number, of = slices.Index(g.workers, w)+1, len(g.workers)
	}
	g.workers = slices.DeleteFunc(g.workers, func(x *worker) bool { return x == w })
	for id, b := range g.boards {
		b.Store(wasm.WordAbort, wasm.AbortPage)
		delete(g.boards, id)
	}
	g.run = g.workers[:min(1, len(g.workers))] // what is left of the run evaluates alone
	g.view.Lost++
	g.changed()
	if len(g.workers) == 0 {
		g.page.Failure(protocol.Failure{Where: protocol.WhereWorker, Message: why})
		return
	}
	g.page.WorkerLost(number, of, why)
}
