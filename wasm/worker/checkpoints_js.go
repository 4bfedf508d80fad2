//go:build js && wasm

package worker

import (
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// idbStore is the worker's CheckpointStore: the checkpoints in IndexedDB.
type idbStore struct {
	db *wasm.CheckpointDB
}

// openCheckpoints opens the store, or returns nil (runs then train without saving, and say
// so) when the browser gives the worker no IndexedDB.
func openCheckpoints() CheckpointStore {
	db, err := wasm.OpenCheckpointDB()
	if err != nil {
		return nil
	}
	return idbStore{db: db}
}

func (s idbStore) List() ([]protocol.CheckpointInfo, error) { return s.db.List() }

// UseSaver sends the saves through the page's checkpoint saver from now on.
func (s idbStore) UseSaver(port any) error { return s.db.UseSaver(port) }

// Save copies the file into JavaScript memory once; IndexedDB keeps that copy.
func (s idbStore) Save(info protocol.CheckpointInfo, file []byte, remove []string) error {
	return s.db.Save(info, wasm.BytesToJS(file), remove)
}

// StartSave copies the file into JavaScript memory (the last save's, when the saver gave it
// back) and lets IndexedDB commit it while training goes on.
func (s idbStore) StartSave(info protocol.CheckpointInfo, file []byte, remove []string) func(wait bool) (done bool, err error) {
	return s.db.StartSave(info, s.db.Buffer(file), remove)
}

func (s idbStore) Load(id string) (protocol.CheckpointInfo, []byte, error) {
	info, file, err := s.db.Load(id)
	if err != nil {
		return protocol.CheckpointInfo{}, nil, err
	}
	return info, wasm.BytesFromJS(nil, file), nil
}
