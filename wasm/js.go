//go:build js && wasm

package wasm

import (
	"errors"
	"syscall/js"
)

// Await blocks the calling goroutine until the promise settles and returns its value, or its
// rejection as an error. Blocking here is what lets the JavaScript event loop run: Go's wasm
// returns to it when every goroutine is blocked.
func Await(promise js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	done := make(chan result, 1)
	onOK := js.FuncOf(func(this js.Value, args []js.Value) any {
		done <- result{v: arg0(args)}
		return nil
	})
	onErr := js.FuncOf(func(this js.Value, args []js.Value) any {
		done <- result{err: JSError(arg0(args))}
		return nil
	})
	defer onOK.Release()
	defer onErr.Release()
	promise.Call("then", onOK, onErr)
	r := <-done
	return r.v, r.err
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// JSError turns a thrown JavaScript value (an Error, a DOMException, a string) into a Go
// error with its name and message.
func JSError(v js.Value) error {
	switch v.Type() {
	case js.TypeObject:
		msg := v.Get("message")
		name := v.Get("name")
		if msg.Type() == js.TypeString {
			if name.Type() == js.TypeString && name.String() != "" && name.String() != "Error" {
				return errors.New(name.String() + ": " + msg.String())
			}
			return errors.New(msg.String())
		}
		return errors.New(js.Global().Get("String").Invoke(v).String())
	case js.TypeString:
		return errors.New(v.String())
	default:
		return errors.New("JavaScript error: " + js.Global().Get("String").Invoke(v).String())
	}
}

// BytesToJS copies b into a new ArrayBuffer, ready to be transferred.
func BytesToJS(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u.Get("buffer")
}

// BytesFromJS copies an ArrayBuffer or a typed array view into dst (grown when too small) and
// returns the filled slice; passing the previous result back reuses its memory.
func BytesFromJS(dst []byte, v js.Value) []byte {
	u := v
	if !v.InstanceOf(js.Global().Get("Uint8Array")) {
		if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
			u = js.Global().Get("Uint8Array").New(v)
		} else {
			u = js.Global().Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
		}
	}
	n := u.Get("byteLength").Int()
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	js.CopyBytesToGo(dst, u)
	return dst
}
