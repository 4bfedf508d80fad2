// Package worker is the training Web Worker's Go side (web/worker.wasm, via cmd/worker): it
// owns the dataset and the engine, trains and evaluates, and talks to the page only through
// the messages of wasm/protocol.
//
// Engine, in this file, is the worker's logic without the browser: it takes commands, does one
// unit of work at a time (a training step, an evaluation, loading the dataset) and posts
// reports through a function. It builds natively and is unit-tested with a synthetic dataset.
// run_js.go connects it to postMessage, fetch and IndexedDB. It is a package of its own,
// not part of wasm, so that the page, which imports wasm and wasm/protocol, never links
// the engine.
package worker

import (
	"errors"
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
	// offers none, and then runs train without saving (checkpoint.go).
	Checkpoints CheckpointStore

	data     *cifar.Data
	run      *run
	loadReq  *protocol.Load     // pending load
	evalReq  bool               // pending evaluation of the current run
	busy     string             // the unit of work in progress ("", "eval", "load")
	deferred []protocol.Message // commands received during an evaluation, handled after it
	// deferredPredict are prediction requests received during an evaluation or a load.
	deferredPredict []wasm.Inbound
	// PostFiles posts a report with attached buffers (the test images' pixels). The bytes are
	// copied before it returns, so the engine reuses them. NewEngine's default drops the
	// bytes and posts the message alone; the browser loop and tests replace it.
	PostFiles func(m protocol.Message, files ...[]byte)
	par       parallel // training in a group of workers (parallel.go)
}

// NewEngine returns an engine that reports through post and loads the dataset with load.
func NewEngine(post func(protocol.Message), load LoadFunc) *Engine {
	return &Engine{post: post, load: load, Now: time.Now, PostFiles: func(m protocol.Message, _ ...[]byte) { post(m) }}
}

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
	e.post(protocol.Message{Payload: protocol.Ready{Presets: presets, Kernel: gemm.KernelName()}})
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

// Receive handles one received message (or the error that replaced it).
func (e *Engine) Receive(in wasm.Inbound) {
	if in.Err != nil {
		e.fail(0, protocol.WhereProtocol, in.Err)
		return
	}
	if in.Msg.Kind() == protocol.KindCheckpointUpload {
		e.upload(in.Msg, in.Files) // checked on a model of its own: the run is not touched
		return
	}
	if in.Msg.Kind() == protocol.KindTestImages || in.Msg.Kind() == protocol.KindClassify {
		e.receivePredict(in) // predict.go
		return
	}
	if in.Msg.Kind() == protocol.KindSaver {
		e.useSaver(in.Shared) // checkpoint.go
		return
	}
	e.receiveShared(in)
	e.Handle(in.Msg)
}

// Handle applies a command. Commands that would replace the model or the data while an
// evaluation reads them are deferred until it ends. A checkpoint still committing in the
// background is settled first, so every command sees the run's saves done and reported.
func (e *Engine) Handle(m protocol.Message) {
	e.settleSave(true)
	if e.busy != "" && (m.Kind() == protocol.KindStart || m.Kind() == protocol.KindEval || m.Kind() == protocol.KindLoad || m.Kind() == protocol.KindCheckpointRestore || m.Kind() == protocol.KindShareDataset) {
		e.deferred = append(e.deferred, m)
		return
	}
	switch m.Kind() {
	case protocol.KindLoad:
		req := m.Payload.(protocol.Load)
		e.loadReq = &req
	case protocol.KindStart:
		e.start(m.Run, m.Payload.(protocol.Start).Settings)
	case protocol.KindPause, protocol.KindResume, protocol.KindStop:
		e.control(m)
	case protocol.KindEval:
		if e.run == nil {
			e.fail(m.Run, protocol.WhereEval, errors.New("there are no weights to evaluate yet: start a run first"))
			return
		}
		e.evalReq = true
	case protocol.KindCheckpointRestore:
		e.restore(m)
	case protocol.KindShareDataset:
		e.shareData(m)
	default:
		e.fail(m.Run, protocol.WhereProtocol, fmt.Errorf("the worker does not take %s messages", m.Kind()))
	}
}

// Busy reports whether there is work to do without waiting for a message.
func (e *Engine) Busy() bool {
	return e.loadReq != nil || e.evalReq || (e.run != nil && e.run.phase == protocol.PhaseRunning) || e.following()
}

// Work does one unit of work: loading the dataset, a whole evaluation, or one training step.
func (e *Engine) Work() {
	switch {
	case e.loadReq != nil:
		req := *e.loadReq
		e.loadReq = nil
		e.busy = "load"
		e.loadData(req)
	case e.evalReq:
		e.evalReq = false
		e.busy = "eval"
		e.evaluate()
	case e.following():
		e.follow() // a follower takes its commands from the board, not from the page
	case e.run != nil && e.run.phase == protocol.PhaseRunning:
		e.step()
	}
	e.busy = ""
	if e.run != nil && e.run.phase != protocol.PhaseRunning {
		e.settleSave(true) // the run stopped training (finished, failed): report its last save
	}
	deferred := e.deferred
	e.deferred = nil
	for _, m := range deferred {
		e.Handle(m)
	}
	predict := e.deferredPredict
	e.deferredPredict = nil
	for _, in := range predict {
		e.receivePredict(in)
	}
}

// Abort ends the current unit of work after a panic: the run fails with the panic's message,
// and the worker carries on with the next message.
func (e *Engine) Abort(v any) {
	if e.busy == "predict" { // a failed prediction leaves the run as it was
		e.busy = ""
		id := 0
		if e.run != nil {
			id = e.run.id
		}
		e.fail(id, protocol.WherePredict, fmt.Errorf("internal error: %v", v))
		return
	}
	where := protocol.WhereTrain
	switch e.busy {
	case "eval":
		where = protocol.WhereEval
	case "load":
		where = protocol.WhereDataset
	}
	e.busy = ""
	e.abortGroup() // the other workers of the run stop too
	id := 0
	if e.run != nil {
		id = e.run.id
		if e.run.phase == protocol.PhaseRunning || e.run.phase == protocol.PhasePaused {
			e.setPhase(protocol.PhaseFailed, fmt.Sprintf("internal error: %v", v))
		}
	}
	e.fail(id, where, fmt.Errorf("internal error: %v", v))
}

func (e *Engine) loadData(req protocol.Load) {
	if e.run != nil && e.run.phase == protocol.PhaseRunning {
		e.fail(0, protocol.WhereDataset, errors.New("stop the run before reloading the dataset"))
		return
	}
	progress := func(p protocol.DatasetProgress) {
		e.post(protocol.Message{Payload: p})
	}
	data, info, err := e.load(req.Reload, progress)
	if err != nil {
		e.fail(0, protocol.WhereDataset, err)
		return
	}
	e.data = data
	e.post(protocol.Message{Payload: info})
}

// fail posts an error report.
func (e *Engine) fail(run int, where protocol.Where, err error) {
	e.post(protocol.Message{Run: run, Payload: protocol.Failure{Where: where, Message: err.Error()}})
}

// finite reports whether a loss can be trained on (and encoded in JSON).
func finite(x float32) bool {
	return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
}
