//go:build !(js && wasm)

package wasm

import "cifar10/wasm/protocol"

// CheckpointDB is the checkpoints kept in IndexedDB, which exists only in a browser: outside
// one, OpenCheckpointDB fails with ErrNotInBrowser and the methods do nothing, so the server
// still compiles (and prerenders) the page.
type CheckpointDB struct{}

// OpenCheckpointDB fails outside a browser.
func OpenCheckpointDB() (*CheckpointDB, error) { return nil, ErrNotInBrowser }

// List fails outside a browser.
func (c *CheckpointDB) List() ([]protocol.CheckpointInfo, error) { return nil, ErrNotInBrowser }

// Delete fails outside a browser.
func (c *CheckpointDB) Delete(ids ...string) error { return ErrNotInBrowser }

// Download fails outside a browser.
func (c *CheckpointDB) Download(id string) error { return ErrNotInBrowser }

// StorageEstimate fails outside a browser.
func StorageEstimate() (Storage, error) { return Storage{}, ErrNotInBrowser }

// PersistStorage fails outside a browser.
func PersistStorage() (bool, error) { return false, ErrNotInBrowser }

// UploadFromInput fails outside a browser.
func (p *Port) UploadFromInput(inputID, preset string) (string, error) { return "", ErrNotInBrowser }
