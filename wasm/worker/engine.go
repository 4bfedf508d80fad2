// Package worker is the training Web Worker's Go side (web/worker.wasm, via cmd/worker): it
// owns the dataset and the engine, trains and evaluates, and talks to the page only through
// the messages of wasm/protocol.
//
// Engine, in this file, is the worker's logic without the browser: one inbox that dispatches
// each message by its kind (commands.go), one unit of work at a time (loading the dataset, an
// evaluation, a training step), and reports posted through a function. The training run is
// nn/training's, wrapped with its phase and progress (run.go); its checkpoints are stored by a
// checkpointer (checkpointer.go, saves.go) and shared by a group of workers through a board
// (group.go, follow.go). It builds natively and is unit-tested with a synthetic dataset.
// loop_js.go connects it to postMessage, fetch and IndexedDB. It is a package of its own, not
// part of wasm, so that the page, which imports wasm and wasm/protocol, never links the
// engine.
package worker

import (
	"fmt"
	"math"
	"time"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/gemm"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// EvalBatch is the batch size of evaluations. Precision does not depend on it (every example's
// logits are computed alone); it bounds the evaluator's memory, which every worker holds: at
// 128 its activations took about 100 MB a worker, at 16 about 14 MB, for 8% less speed.
const EvalBatch = 16

// recentSteps is how many steps the status line's speed and ETA average over.
const recentSteps = 20

// LoadFunc fetches the dataset (from the browser's copy when kept, unless reload), reporting
// progress, and returns it checked.
type LoadFunc func(reload bool, progress func(protocol.DatasetProgress)) (*cifar.Data, protocol.DatasetInfo, error)

// work is the unit of work in progress. It says where a panic during it is reported (Abort)
// and whether a message that replaces the model or the data must wait for it to end.
type work int

const (
	idle       work = iota
	loading         // the dataset
	evaluating      // the test set, yielding between batches
	predicting      // test images or a picture, for the evaluation view
)

// where is the place of a failure during w; a training step is no work of its own (the run's
// phase says it trains).
func (w work) where() protocol.Where {
	switch w {
	case loading:
		return protocol.WhereDataset
	case evaluating:
		return protocol.WhereEval
	case predicting:
		return protocol.WherePredict
	}
	return protocol.WhereTrain
}

// Engine is the worker's state: the dataset, the current run and pending work. It is used by
// one goroutine (the worker's loop).
type Engine struct {
	post func(protocol.Message)
	load LoadFunc
	// Yield is called between evaluation batches. The browser loop sleeps a millisecond there
	// and hands received messages back to Receive, so pause and stop get through during a long
	// evaluation. Nil in tests.
	Yield func()
	// Now is the clock (tests replace it).
	Now func() time.Time
	// Checkpoints keeps checkpoint files (IndexedDB in the browser); nil when the browser
	// offers none, and then runs train without saving.
	Checkpoints CheckpointStore
	// PostFiles posts a report with attached buffers (the test images' pixels). The bytes are
	// copied before it returns, so the engine reuses them. NewEngine's default drops the
	// bytes and posts the message alone; the browser loop and tests replace it.
	PostFiles func(m protocol.Message, files ...[]byte)

	shared  SharedMemory
	data    *cifar.Data
	pixels  Pixels // the dataset's pixels when shared with other workers, else nil (in data)
	run     *run
	loadReq *protocol.Load // pending load
	evalReq bool           // pending evaluation of the current run
	doing   work           // the unit of work in progress (idle between units)
	inbox   []wasm.Inbound // messages received during a unit of work that wait for its end
}

// NewEngine returns an engine that reports through post and loads the dataset with load.
func NewEngine(post func(protocol.Message), load LoadFunc) *Engine {
	return &Engine{post: post, load: load, Now: time.Now, PostFiles: func(m protocol.Message, _ ...[]byte) { post(m) }}
}

// SetSharedMemory lets the engine join groups of workers and use a dataset other workers
// share; without it, it trains alone.
func (e *Engine) SetSharedMemory(s SharedMemory) { e.shared = s }

// Ready posts the worker's first message: the presets it can train.
func (e *Engine) Ready() {
	var presets []protocol.PresetInfo
	for _, name := range nn.PresetNames() {
		info, err := describe(name)
		if err != nil {
			e.fail(0, protocol.WhereTrain, err)
			continue
		}
		presets = append(presets, info)
	}
	e.post(protocol.Message{Payload: protocol.Ready{Presets: presets, Kernel: gemm.KernelName(), Build: protocol.Build}})
}

// describe builds a preset's model once to report its layers and size.
func describe(name string) (protocol.PresetInfo, error) {
	spec, err := nn.Preset(name)
	if err != nil {
		return protocol.PresetInfo{}, err
	}
	m, err := nn.NewModel(spec, 0)
	if err != nil {
		return protocol.PresetInfo{}, err
	}
	return protocol.PresetInfo{Name: name, Input: spec.Input, Layers: m.Summary(), NumParams: m.NumParams(),
		Optimizer: spec.Optimizer.Kind, LR: spec.Optimizer.LR}, nil
}

// Receive handles one received message (or the error that replaced it) with its kind's
// handler (commands.go). A message whose handler waits is kept in the inbox while work is in
// progress and handled when it ends; a checkpoint still committing in the background is
// settled before a command to the run, so every command sees the run's saves done and
// reported.
func (e *Engine) Receive(in wasm.Inbound) {
	if in.Err != nil {
		e.fail(0, protocol.WhereProtocol, in.Err)
		return
	}
	h, ok := handlers[in.Msg.Kind()]
	if !ok {
		h = handler{do: (*Engine).refuse, settles: true}
	}
	if h.settles && e.run != nil {
		e.run.settle(true)
	}
	if h.waits && e.doing != idle {
		e.inbox = append(e.inbox, in)
		return
	}
	h.do(e, in)
}

// Busy reports whether there is work to do without waiting for a message.
func (e *Engine) Busy() bool {
	return e.loadReq != nil || e.evalReq || (e.run != nil && e.run.phase == protocol.PhaseRunning) || e.run.following()
}

// Work does one unit of work: loading the dataset, a whole evaluation, or one training step
// (a follower's: one step, or what the leader asked, or a moment's wait for it); then it
// handles the messages that waited for it.
func (e *Engine) Work() {
	switch {
	case e.loadReq != nil:
		req := *e.loadReq
		e.loadReq = nil
		e.doing = loading
		e.loadData(req)
	case e.evalReq:
		e.evalReq = false
		e.evaluate()
	case e.run.following():
		e.run.follow(e.obey) // a follower takes its commands from the board, not from the page
	case e.run != nil && e.run.phase == protocol.PhaseRunning:
		e.run.train()
		if e.run.evalSliceDue() {
			e.doing = evaluating
			e.run.evalSlice(e.data.Test, e.pixels)
		}
	}
	e.doing = idle
	if e.run != nil && e.run.phase != protocol.PhaseRunning {
		e.run.settle(true) // the run stopped training (finished, failed): report its last save
	}
	inbox := e.inbox
	e.inbox = nil
	for _, in := range inbox {
		e.Receive(in)
	}
}

// evaluate evaluates the current run on the test set.
func (e *Engine) evaluate() {
	outer := e.doing
	e.doing = evaluating
	e.run.evaluate(e.data.Test, e.pixels, e.Yield)
	e.doing = outer
}

// obey carries out the leader's request on a follower: an evaluation, or a phase. It reports
// whether it did something.
func (e *Engine) obey(req request) bool {
	if req.eval {
		e.evaluate()
		return true
	}
	return e.run.obey(req.phase)
}

// Abort ends the current unit of work after a panic: the run fails with the panic's message
// (a failed prediction leaves it as it was), the other workers of its group stop too, and the
// worker carries on with the next message.
func (e *Engine) Abort(v any) {
	err := fmt.Errorf("internal error: %v", v)
	w := e.doing
	e.doing = idle
	id := 0
	if r := e.run; r != nil {
		id = r.id
		if w != predicting {
			r.group.abort()
			if r.phase == protocol.PhaseRunning || r.phase == protocol.PhasePaused {
				r.setPhase(protocol.PhaseFailed, err.Error())
			}
		}
	}
	e.fail(id, w.where(), err)
}

// fail posts an error report.
func (e *Engine) fail(run int, where protocol.Where, err error) {
	e.post(protocol.Message{Run: run, Payload: protocol.Failure{Where: where, Message: err.Error()}})
}

// out is where a new run reports: the engine's outbox and clock.
func (e *Engine) out() outbox { return outbox{post: e.post, now: e.Now} }

// finite reports whether a loss can be trained on (and encoded in JSON).
func finite(x float32) bool {
	return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
}
