//go:build js && wasm

package wasm

import (
	"errors"
	"fmt"
	"syscall/js"
	"time"

	"cifar10/wasm/protocol"
)

// The checkpoint saver (assets/saver.js) is a Web Worker that commits the training workers'
// checkpoint writes to IndexedDB for them: IndexedDB's put() of a 12.8 MB file blocks its
// thread for 85-150 ms, which the leading training worker paid every 10 steps while every
// other worker waited for it. The page starts one saver (StartSaver) and gives each training
// worker a MessagePort to it (Connect, then a saver message); the worker's CheckpointDB then
// sends each save there with the file transferred (UseSaver).

// Saver is the page's handle on the checkpoint saver worker.
type Saver struct {
	worker js.Value
	onMsg  js.Func
}

// StartSaver starts the saver worker from scriptURL (assets/saver.js); ready is called once
// it runs. Until then (and for good if its script does not load) the training workers are not
// connected to it and save by themselves, as they would without it.
func StartSaver(scriptURL string, ready func()) (*Saver, error) {
	ctor := js.Global().Get("Worker")
	if ctor.Type() != js.TypeFunction || js.Global().Get("MessageChannel").Type() != js.TypeFunction {
		return nil, errors.New("this browser has no Web Workers or message channels")
	}
	s := &Saver{worker: ctor.New(scriptURL, map[string]any{"name": "checkpoint-saver"})}
	s.onMsg = js.FuncOf(func(this js.Value, args []js.Value) any {
		if d := arg0(args).Get("data"); d.Type() == js.TypeObject && d.Get("ready").Truthy() {
			ready()
		}
		return nil
	})
	s.worker.Set("onmessage", s.onMsg)
	return s, nil
}

// Connect opens a channel to the saver and returns the training worker's end, to be sent to
// it with SendPort.
func (s *Saver) Connect() any {
	ch := js.Global().Get("MessageChannel").New()
	saverEnd := ch.Get("port1")
	s.worker.Call("postMessage", map[string]any{"port": saverEnd}, []any{saverEnd})
	return ch.Get("port2")
}

// SendPort posts m with a MessagePort, transferred: the receiver gets it as Inbound.Shared.
func (p *Port) SendPort(m protocol.Message, port any) error {
	return p.postShared(m, "port", port, true)
}

// saverTimeout bounds the wait for the saver's answer to one write. Committing 12.8 MB with
// strict durability takes a fraction of a second; a saver that has not answered in this time
// is gone (it runs as long as its page, so this should never happen), and the write is
// reported as failed.
const saverTimeout = time.Minute

// saverPort is a training worker's channel to the saver.
type saverPort struct {
	port    js.Value
	next    int
	answers map[int]chan error
	onMsg   js.Func
	spare   js.Value // the last file's ArrayBuffer, given back by the saver; undefined if none
}

// UseSaver makes the database send its checkpoint saves through port, a channel to the
// saver (Saver.Connect), from then on. Anything but a MessagePort is refused.
func (c *CheckpointDB) UseSaver(port any) error {
	p, ok := port.(js.Value)
	if !ok || !p.InstanceOf(js.Global().Get("MessagePort")) {
		return errors.New("the checkpoint saver's channel did not arrive")
	}
	s := &saverPort{port: p, answers: map[int]chan error{}, spare: js.Undefined()}
	s.onMsg = js.FuncOf(func(this js.Value, args []js.Value) any {
		s.answer(arg0(args).Get("data"))
		return nil
	})
	p.Set("onmessage", s.onMsg)
	c.saver = s
	return nil
}

// Buffer copies file into an ArrayBuffer for StartSave. With a saver that is the buffer it
// gave back after the last save, when that is large enough, else a new one with room to spare
// (the next checkpoint's header may be a few bytes longer): StartSave tells the saver the
// file's length, and the saver cuts the buffer to it when it is longer. Filling fresh 12.8 MB
// costs 40 ms of first-touch page faults, filling used memory 1 ms. Without a saver the buffer
// has the file's length.
func (c *CheckpointDB) Buffer(file []byte) js.Value {
	var buf js.Value
	s := c.saver
	switch {
	case s == nil:
		buf = js.Global().Get("ArrayBuffer").New(len(file))
	case s.spare.Type() == js.TypeObject && s.spare.Get("byteLength").Int() >= len(file):
		buf, s.spare = s.spare, js.Undefined()
	default:
		buf = js.Global().Get("ArrayBuffer").New(len(file) + fileSlack)
	}
	js.CopyBytesToJS(js.Global().Get("Uint8Array").New(buf, 0, len(file)), file)
	return buf
}

// fileSlack is the room Buffer leaves after a file: checkpoint headers of one run differ by a
// few bytes (the loss, the number of examples).
const fileSlack = 4096

// answer delivers the saver's answer to the write it is for.
func (s *saverPort) answer(d js.Value) {
	if d.Type() != js.TypeObject || d.Get("id").Type() != js.TypeNumber {
		return
	}
	id := d.Get("id").Int()
	ch, ok := s.answers[id]
	if !ok {
		return
	}
	delete(s.answers, id)
	if bufs := d.Get("buffers"); bufs.Type() == js.TypeObject && bufs.Length() > 0 {
		s.spare = bufs.Index(0)
	}
	var err error
	if e := d.Get("error"); e.Type() == js.TypeObject {
		err = JSError(e)
	}
	ch <- err
}

// write asks the saver to put values and delete keys in store, in one transaction,
// transferring the ArrayBuffers listed in transfer. A put is a key, a value and, for an
// ArrayBuffer, the length stored (-1: all of it). It returns the outcome, as committing does.
func (s *saverPort) write(store string, puts [][3]any, deletes []string, transfer []any) func(wait bool) (bool, error) {
	s.next++
	id := s.next
	ch := make(chan error, 1)
	s.answers[id] = ch
	pairs := make([]any, len(puts))
	for i, p := range puts {
		pairs[i] = []any{p[0], p[1], p[2]}
	}
	dels := make([]any, len(deletes))
	for i, k := range deletes {
		dels[i] = k
	}
	req := map[string]any{"id": id, "db": DBName, "version": DBVersion, "store": store, "puts": pairs, "deletes": dels}
	if err := catch(func() error { s.port.Call("postMessage", req, transfer); return nil }); err != nil {
		delete(s.answers, id)
		ch <- err
	}
	return pollOnce(ch, saverTimeout, func() error {
		delete(s.answers, id)
		return fmt.Errorf("the checkpoint saver did not answer in %v", saverTimeout)
	}, nil)
}
