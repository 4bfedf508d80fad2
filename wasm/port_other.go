//go:build !(js && wasm)

package wasm

import "cifar10/wasm/protocol"

// Port is the page <-> worker channel. Outside a browser it cannot be made: NewNamedWorker
// returns ErrNotInBrowser, so the server can still compile (and prerender) the page.
type Port struct{}

// Inbox is never ready outside a browser.
func (p *Port) Inbox() <-chan Inbound { return nil }

// Send fails outside a browser.
func (p *Port) Send(m protocol.Message, files ...[]byte) error { return ErrNotInBrowser }

// Close does nothing outside a browser.
func (p *Port) Close() {}
