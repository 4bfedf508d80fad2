//go:build js && wasm

package wasm

import (
	"errors"
	"fmt"
	"syscall/js"

	"cifar10/wasm/protocol"
)

// StorageEstimate asks the browser how much the page stores (IndexedDB, caches) and may store
// (navigator.storage.estimate), and whether its storage is persistent (not evicted under
// pressure).
func StorageEstimate() (Storage, error) {
	sm := js.Global().Get("navigator").Get("storage")
	if sm.IsUndefined() {
		return Storage{}, errors.New("this browser does not report its storage")
	}
	est, err := Await(sm.Call("estimate"))
	if err != nil {
		return Storage{}, err
	}
	s := Storage{Usage: int64(est.Get("usage").Float()), Quota: int64(est.Get("quota").Float())}
	if p, err := Await(sm.Call("persisted")); err == nil {
		s.Persistent = p.Truthy()
	}
	return s, nil
}

// PersistStorage asks the browser to keep the page's storage (the dataset and the
// checkpoints) under storage pressure (navigator.storage.persist); browsers may say no.
func PersistStorage() (bool, error) {
	sm := js.Global().Get("navigator").Get("storage")
	if sm.IsUndefined() || sm.Get("persist").IsUndefined() {
		return false, errors.New("this browser cannot make storage persistent")
	}
	v, err := Await(sm.Call("persist"))
	if err != nil {
		return false, err
	}
	return v.Truthy(), nil
}

// UploadFromInput reads the file chosen in the <input type=file> with id inputID and sends it
// to the worker as a checkpoint upload for preset. The bytes go from the file to the worker
// without passing through the page's Go memory (the buffer is transferred). The input is
// cleared, so choosing the same file again uploads it again.
func (p *Port) UploadFromInput(inputID, preset string) (name string, err error) {
	file, name, size, err := chosenFile(inputID)
	if err != nil {
		return "", err
	}
	if size > MaxUpload {
		return name, fmt.Errorf("the file %s was not stored: it is %d bytes, more than any checkpoint of these models (%d at most)", name, size, MaxUpload)
	}
	buf, err := fileBuffer(file, name)
	if err != nil {
		return name, err
	}
	m := protocol.Message{Payload: protocol.UploadRequest{Name: name, Preset: preset},
		Files: []protocol.FileRef{{Name: name, Size: buf.Get("byteLength").Int()}}}
	return name, p.SendBuffers(m, buf)
}

// SendBuffers posts m with ArrayBuffers that already live in JavaScript attached and
// transferred, without a copy through Go's memory.
func (p *Port) SendBuffers(m protocol.Message, bufs ...js.Value) error {
	if len(bufs) != len(m.Files) {
		return fmt.Errorf("%s message: %d buffers attached, %d named", m.Kind(), len(bufs), len(m.Files))
	}
	b, err := protocol.Encode(m)
	if err != nil {
		return err
	}
	list := make([]any, len(bufs))
	for i, v := range bufs {
		list[i] = v
	}
	return catch(func() error {
		p.target.Call("postMessage", map[string]any{"json": string(b), "buffers": list}, list)
		return nil
	})
}
