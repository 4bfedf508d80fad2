//go:build js && wasm

package wasm

import (
	"syscall/js"
)

// A worker can vanish without a word: Worker.terminate() (or the browser killing it) fires no
// event at the page. So every worker takes a Web Lock named after itself before its Go code
// starts (assets/worker.js) and holds it for life; once the worker has said it is ready, the
// page asks for the same lock, which the browser grants only when the worker is gone.

// OnExit calls f (from the JavaScript event loop: f must not block) when the worker is gone.
// Call it once the worker is ready, so its lock is held. Without Web Locks it does nothing.
func (p *Port) OnExit(name string, f func()) {
	locks := js.Global().Get("navigator").Get("locks")
	if !locks.Truthy() {
		return
	}
	var cb js.Func
	cb = js.FuncOf(func(this js.Value, args []js.Value) any {
		cb.Release()
		f()
		return nil
	})
	locks.Call("request", name, cb)
}

// ExposeWorkers sets window.trainingWorkers to the Worker objects, in group order, for the
// console and for tests (which terminate one to check how the page copes).
func ExposeWorkers(ports []*Port) {
	list := make([]any, len(ports))
	for i, p := range ports {
		list[i] = p.target
	}
	js.Global().Set("trainingWorkers", list)
}

// Cores is navigator.hardwareConcurrency (1 when the browser does not say).
func Cores() int {
	n := js.Global().Get("navigator").Get("hardwareConcurrency")
	if n.Type() != js.TypeNumber || n.Int() < 1 {
		return 1
	}
	return n.Int()
}
