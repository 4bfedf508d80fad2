//go:build js && wasm

package wasm

import (
	"errors"
	"fmt"
	"syscall/js"

	"cifar10/wasm/protocol"
)

// SendShared posts m with a SharedArrayBuffer: the receiver gets the same memory (Inbound.Shared),
// not a copy, which is how the dataset and a run's board reach every worker.
func (p *Port) SendShared(m protocol.Message, shared any) error {
	return p.postShared(m, "shared memory", shared, false)
}

// postShared posts m with a JavaScript value (what names it in errors) that the receiver gets
// as Inbound.Shared; with transfer it is moved rather than cloned (a MessagePort must be).
func (p *Port) postShared(m protocol.Message, what string, v any, transfer bool) error {
	jv, ok := v.(js.Value)
	if !ok {
		return fmt.Errorf("%s message: the %s is a %T, not a JavaScript value", m.Kind(), what, v)
	}
	b, err := protocol.Encode(m)
	if err != nil {
		return err
	}
	env := map[string]any{"json": string(b), "buffers": []any{}, "shared": jv}
	if transfer {
		p.target.Call("postMessage", env, []any{jv})
	} else {
		p.target.Call("postMessage", env)
	}
	return nil
}

// SharedMemory reports whether this context may make SharedArrayBuffers: the page must be
// cross-origin isolated (the server's COOP and COEP headers).
func SharedMemory() bool {
	g := js.Global()
	return g.Get("crossOriginIsolated").Truthy() && g.Get("SharedArrayBuffer").Type() == js.TypeFunction
}

// NewShared makes a zeroed SharedArrayBuffer of n bytes.
func NewShared(n int) (js.Value, error) {
	if !SharedMemory() {
		return js.Undefined(), errors.New("this page is not cross-origin isolated, so it has no shared memory")
	}
	return js.Global().Get("SharedArrayBuffer").New(n), nil
}
