//go:build js && wasm

package worker

import (
	"fmt"
	"runtime/debug"
	"syscall/js"
	"time"

	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// workerGCPercent is the worker's GOGC: the heap may grow 20% past what is live before a
// collection, instead of Go's default 100%.
const workerGCPercent = 20

// Run is the worker's main loop. Go's wasm gives the JavaScript event loop a turn only when
// every goroutine is blocked, so the loop yields after each unit of work (a training step, an
// evaluation batch): that is when the page's messages (pause, stop, eval) are delivered. With
// nothing to do it blocks on the next message.
func Run() {
	// A worker's memory never shrinks (Go's wasm heap only grows), and every worker of a tab
	// holds one: collect early (a step allocates nothing, so this costs no speed).
	debug.SetGCPercent(workerGCPercent)
	port := wasm.Self()
	// With shared memory the dataset lives once for all workers, and runs can be shared by
	// several of them (shared_js.go); without it this worker keeps the dataset and trains alone.
	shared := &sharedLoader{sab: js.Undefined()}
	load := loadDataset
	if wasm.SharedMemory() {
		load = shared.load
	}
	e := NewEngine(func(m protocol.Message) {
		if err := shared.send(port, m); err != nil {
			js.Global().Get("console").Call("error", "worker: "+err.Error())
		}
	}, load)
	shared.e = e
	e.PostFiles = func(m protocol.Message, files ...[]byte) {
		if err := port.Send(m, files...); err != nil {
			js.Global().Get("console").Call("error", "worker: "+err.Error())
		}
	}
	if wasm.SharedMemory() {
		e.SetSharedMemory(sharedMemory())
	}
	e.Checkpoints = openCheckpoints()
	yield := newYielder()
	e.Yield = func() {
		yield.yield()
		drain(port, e)
	}
	safely(e, e.Ready)
	for {
		drain(port, e)
		if e.Busy() {
			safely(e, e.Work)
			yield.yield()
			continue
		}
		in := <-port.Inbox()
		safely(e, func() { e.Receive(in) })
	}
}

// yielder gives the JavaScript event loop a turn and comes back at once: a message to itself
// on a MessageChannel is delivered after the events already waiting, with no delay, while
// time.Sleep's timer, nested in timers, is made to wait at least 4 ms by the browser (1.5% of
// a step shared by 2 workers).
type yielder struct {
	port js.Value
	back chan struct{}
	fn   js.Func
}

func newYielder() *yielder {
	ctor := js.Global().Get("MessageChannel")
	if ctor.Type() != js.TypeFunction {
		return nil
	}
	ch := ctor.New()
	y := &yielder{port: ch.Get("port2"), back: make(chan struct{}, 1)}
	y.fn = js.FuncOf(func(js.Value, []js.Value) any {
		y.back <- struct{}{}
		return nil
	})
	ch.Get("port1").Set("onmessage", y.fn)
	return y
}

// yield returns once the events that were waiting have been handled.
func (y *yielder) yield() {
	if y == nil {
		time.Sleep(time.Millisecond)
		return
	}
	y.port.Call("postMessage", js.Null())
	<-y.back
}

// drain handles every message already received, without waiting.
func drain(port *wasm.Port, e *Engine) {
	for {
		select {
		case in := <-port.Inbox():
			e.Receive(in)
		default:
			return
		}
	}
}

// safely runs f and turns a panic into an error report, so one bad step or message does not
// kill the worker (and with it the page's connection to the engine).
func safely(e *Engine, f func()) {
	defer func() {
		if v := recover(); v != nil {
			js.Global().Get("console").Call("error", "worker panic:", fmt.Sprint(v))
			e.Abort(v)
		}
	}()
	f()
}
