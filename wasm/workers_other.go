//go:build !(js && wasm)

package wasm

import (
	"runtime"

	"cifar10/wasm/protocol"
)

// Outside a browser (the server prerendering the page) there are no workers and no shared
// memory: these stand-ins let the page compile.

// NewNamedWorker fails outside a browser.
func NewNamedWorker(scriptURL, name string) (*Port, error) { return nil, ErrNotInBrowser }

// SendShared fails outside a browser.
func (p *Port) SendShared(m protocol.Message, shared any) error { return ErrNotInBrowser }

// OnExit does nothing outside a browser.
func (p *Port) OnExit(name string, f func()) {}

// ExposeWorkers does nothing outside a browser.
func ExposeWorkers(ports []*Port) {}

// Cores is the machine's CPU count.
func Cores() int { return runtime.NumCPU() }

// SharedMemory is false outside a browser.
func SharedMemory() bool { return false }

// SharedBoard cannot be made outside a browser.
type SharedBoard struct{}

// NewBoard fails outside a browser.
func NewBoard(l BoardLayout) (*SharedBoard, error) { return nil, ErrNotInBrowser }

// Buffer is nil outside a browser.
func (b *SharedBoard) Buffer() any { return nil }

// Store does nothing outside a browser.
func (b *SharedBoard) Store(word int, v int32) {}

// Saver is the checkpoint saver, which exists only in a browser.
type Saver struct{}

// StartSaver fails outside a browser.
func StartSaver(scriptURL string, ready func()) (*Saver, error) { return nil, ErrNotInBrowser }

// Connect has nothing to connect to outside a browser.
func (s *Saver) Connect() any { return nil }

// SendPort fails outside a browser.
func (p *Port) SendPort(m protocol.Message, port any) error { return ErrNotInBrowser }
