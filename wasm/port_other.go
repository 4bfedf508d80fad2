//go:build !(js && wasm)

package wasm

// Port is the page <-> worker channel. Outside a browser it cannot be made: NewWorker returns
// ErrNotInBrowser, so the server can still compile (and prerender) the page.
type Port struct{}

// NewWorker fails outside a browser.
func NewWorker(scriptURL string) (*Port, error) { return nil, ErrNotInBrowser }

// Inbox is never ready outside a browser.
func (p *Port) Inbox() <-chan Inbound { return nil }

// Send fails outside a browser.
func (p *Port) Send(m Message, files ...[]byte) error { return ErrNotInBrowser }

// Close does nothing outside a browser.
func (p *Port) Close() {}
