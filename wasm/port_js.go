//go:build js && wasm

package wasm

import (
	"errors"
	"fmt"
	"syscall/js"

	"cifar10/wasm/protocol"
)

// Port is one end of the page <-> worker channel: on the page a Worker object, in the worker
// its global scope. Messages arrive in order on Inbox.
type Port struct {
	target js.Value
	q      *queue
	funcs  []js.Func
}

// NewNamedWorker starts a dedicated Web Worker from scriptURL (assets/worker.js, which runs
// web/worker.wasm) and returns the page's end of the channel to it. The worker's name is also
// the Web Lock it holds for its whole life (workers_js.go).
func NewNamedWorker(scriptURL, name string) (*Port, error) {
	ctor := js.Global().Get("Worker")
	if ctor.IsUndefined() {
		return nil, errors.New("this browser has no Web Workers")
	}
	w := ctor.New(scriptURL, map[string]any{"name": name})
	p := &Port{target: w, q: newQueue()}
	p.listen(w)
	p.on(w, "error", func(ev js.Value) {
		ev.Call("preventDefault")
		msg := ev.Get("message")
		text := "the training worker failed to start or crashed"
		if msg.Type() == js.TypeString && msg.String() != "" {
			text += ": " + msg.String()
		}
		p.q.add(Inbound{Err: errors.New(text), Fatal: true})
	})
	return p, nil
}

// Self is the worker's end of the channel, its global scope. Messages the page sent before the
// Go program ran were queued by worker.js in self.earlyMessages; they are delivered first.
func Self() *Port {
	self := js.Global()
	p := &Port{target: self, q: newQueue()}
	p.listen(self)
	if early := self.Get("earlyMessages"); early.Type() == js.TypeObject {
		for i := 0; i < early.Length(); i++ {
			p.q.add(readEnvelope(early.Index(i).Get("data")))
		}
		self.Delete("earlyMessages")
	}
	return p
}

func (p *Port) listen(target js.Value) {
	p.on(target, "message", func(ev js.Value) { p.q.add(readEnvelope(ev.Get("data"))) })
	p.on(target, "messageerror", func(js.Value) {
		p.q.add(Inbound{Err: errors.New("a message could not be deserialized")})
	})
}

func (p *Port) on(target js.Value, event string, f func(js.Value)) {
	fn := js.FuncOf(func(this js.Value, args []js.Value) any {
		f(arg0(args))
		return nil
	})
	p.funcs = append(p.funcs, fn)
	target.Call("addEventListener", event, fn)
}

// Inbox delivers received messages in order.
func (p *Port) Inbox() <-chan Inbound { return p.q.out }

// Send posts m with files attached as transferred ArrayBuffers (no copy on the JavaScript side).
func (p *Port) Send(m protocol.Message, files ...[]byte) error {
	if len(files) != len(m.Files) {
		return fmt.Errorf("%s message: %d files attached, %d named", m.Kind(), len(files), len(m.Files))
	}
	b, err := protocol.Encode(m)
	if err != nil {
		return err
	}
	bufs := make([]any, len(files))
	for i, f := range files {
		bufs[i] = BytesToJS(f)
	}
	env := map[string]any{"json": string(b), "buffers": bufs}
	p.target.Call("postMessage", env, bufs)
	return nil
}

// Close terminates the worker (page side) and releases the listeners.
func (p *Port) Close() {
	if !p.target.Get("terminate").IsUndefined() {
		p.target.Call("terminate")
	}
	for _, f := range p.funcs {
		f.Release()
	}
	p.funcs = nil
}

// readEnvelope decodes {json, buffers}.
func readEnvelope(data js.Value) Inbound {
	if data.Type() != js.TypeObject || data.Get("json").Type() != js.TypeString {
		return Inbound{Err: errors.New("received a message that is not an envelope")}
	}
	m, err := protocol.Decode([]byte(data.Get("json").String()))
	if err != nil {
		return Inbound{Err: err}
	}
	in := Inbound{Msg: m}
	if sh := data.Get("shared"); sh.Type() == js.TypeObject {
		in.Shared = sh
	}
	bufs := data.Get("buffers")
	n := 0
	if bufs.Type() == js.TypeObject {
		n = bufs.Length()
	}
	if n != len(m.Files) {
		return Inbound{Err: fmt.Errorf("%s message: %d buffers for %d files", m.Kind(), n, len(m.Files))}
	}
	for i := 0; i < n; i++ {
		in.Files = append(in.Files, BytesFromJS(nil, bufs.Index(i)))
	}
	return in
}
