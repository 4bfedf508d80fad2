package worker

import (
	"errors"
	"fmt"

	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// A handler applies one kind of message.
type handler struct {
	do func(e *Engine, in wasm.Inbound)
	// waits: the message replaces the model or the data, or uses the evaluation trainer, so
	// it waits in the inbox while an evaluation (or a load) is in progress.
	waits bool
	// settles: the message is a command to the run, taken once its background save is settled.
	settles bool
}

// handlers is the dispatch table: every message the worker takes, by kind. Other kinds are
// refused.
var handlers = map[protocol.Kind]handler{
	protocol.KindLoad:              {do: (*Engine).requestLoad, waits: true, settles: true},
	protocol.KindShareDataset:      {do: (*Engine).shareData, waits: true, settles: true},
	protocol.KindStart:             {do: (*Engine).start, waits: true, settles: true},
	protocol.KindCheckpointRestore: {do: (*Engine).restore, waits: true, settles: true},
	protocol.KindEval:              {do: (*Engine).requestEval, waits: true, settles: true},
	protocol.KindPause:             {do: (*Engine).control, settles: true},
	protocol.KindResume:            {do: (*Engine).control, settles: true},
	protocol.KindStop:              {do: (*Engine).control, settles: true},
	protocol.KindTestImages:        {do: (*Engine).predict, waits: true},
	protocol.KindClassify:          {do: (*Engine).predict, waits: true},
	protocol.KindInspect:           {do: (*Engine).inspect, waits: true},
	protocol.KindEvalCheckpoints:   {do: (*Engine).evalCheckpoints, waits: true},
	protocol.KindCheckpointUpload:  {do: (*Engine).upload}, // checked on a model of its own
	protocol.KindSaver:             {do: (*Engine).useSaver},
}

// refuse answers a message the worker does not take.
func (e *Engine) refuse(in wasm.Inbound) {
	e.fail(in.Msg.Run, protocol.WhereProtocol, fmt.Errorf("the worker does not take %s messages", in.Msg.Kind()))
}

// requestLoad asks for the dataset to be loaded, as the next unit of work.
func (e *Engine) requestLoad(in wasm.Inbound) {
	req := in.Msg.Payload.(protocol.Load)
	e.loadReq = &req
}

// loadData loads the dataset and reports it.
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

// shareData takes the dataset another worker loaded (the message's shared memory) and
// answers with dataset.
func (e *Engine) shareData(in wasm.Inbound) {
	if e.shared.Data == nil || in.Shared == nil {
		e.fail(0, protocol.WhereDataset, errors.New("the shared dataset did not arrive"))
		return
	}
	if e.run != nil && e.run.phase == protocol.PhaseRunning {
		e.fail(0, protocol.WhereDataset, errors.New("stop the run before replacing the dataset"))
		return
	}
	info := in.Msg.Payload.(protocol.ShareDataset).Dataset
	data, pixels, err := e.shared.Data(in.Shared, info)
	if err != nil {
		e.fail(0, protocol.WhereDataset, err)
		return
	}
	e.data, e.pixels = data, pixels
	info.Warning = ""
	e.post(protocol.Message{Payload: info})
}

// start replaces the current run with a new one from the message's settings, alone or in the
// group the message names.
func (e *Engine) start(in wasm.Inbound) {
	id := in.Msg.Run
	if e.data == nil {
		e.fail(id, protocol.WhereTrain, errors.New("the dataset is not loaded yet"))
		return
	}
	if e.run != nil {
		e.run.close()
		e.run = nil
	}
	r, err := newRun(id, in.Msg.Payload.(protocol.Start).Settings, e.data.Train, e.Checkpoints, e.out())
	if err == nil {
		err = e.join(r, in)
	}
	if err != nil {
		if r != nil {
			r.close()
		}
		e.fail(id, protocol.WhereTrain, err)
		return
	}
	e.run = r
	r.postState("")
}

// control applies pause, resume and stop to the run they name.
func (e *Engine) control(in wasm.Inbound) {
	m := in.Msg
	if e.run == nil || e.run.id != m.Run {
		e.fail(m.Run, protocol.WhereTrain, fmt.Errorf("run %d is not the worker's current run", m.Run))
		return
	}
	e.run.control(m.Kind())
}

// requestEval asks for an evaluation of the current weights, as the next unit of work.
func (e *Engine) requestEval(in wasm.Inbound) {
	if e.run == nil {
		e.fail(in.Msg.Run, protocol.WhereEval, errors.New("there are no weights to evaluate yet: start a run first"))
		return
	}
	e.evalReq = true
}
