//go:build js && wasm

package wasm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall/js"

	"cifar10/wasm/protocol"
)

// CheckpointDB is the checkpoints kept in IndexedDB (layout and atomicity: checkpoints.go).
// The worker saves, loads and stores uploads; the page lists, downloads and deletes. Each
// method is one transaction that it waits for.
type CheckpointDB struct {
	db    *DB
	saver *saverPort // where saves go, when the page gave this worker a saver (saver_js.go)
}

// OpenCheckpointDB opens the app's database (creating it on a first visit).
func OpenCheckpointDB() (*CheckpointDB, error) {
	db, err := OpenDB(DBName, DBVersion, StoreDataset, StoreCheckpoints)
	if err != nil {
		return nil, err
	}
	return &CheckpointDB{db: db}, nil
}

// List returns the stored checkpoints newest first. It reads only the list entries (never the
// files), and an entry exists only together with its file, so each one listed is complete.
// An entry that does not decode (written by hand or by another program) is left out.
func (c *CheckpointDB) List() (list []protocol.CheckpointInfo, err error) {
	err = catch(func() error {
		tx := c.db.db.Call("transaction", StoreCheckpoints, "readonly")
		keys := js.Global().Get("IDBKeyRange").Call("bound", metaPrefix, metaPrefix+"\uffff")
		v, err := wait(tx.Call("objectStore", StoreCheckpoints).Call("getAll", keys))
		if err != nil {
			return err
		}
		for i := 0; i < v.Length(); i++ {
			if info, ok := decodeInfo(v.Index(i)); ok {
				list = append(list, info)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the checkpoints in IndexedDB: %w", err)
	}
	SortCheckpoints(list)
	return list, nil
}

func decodeInfo(v js.Value) (protocol.CheckpointInfo, bool) {
	var info protocol.CheckpointInfo
	if v.Type() != js.TypeString || json.Unmarshal([]byte(v.String()), &info) != nil || info.Validate() != nil {
		return protocol.CheckpointInfo{}, false
	}
	return info, true
}

// Save stores a checkpoint file (an ArrayBuffer) and its entry, and deletes the checkpoints
// in remove, in one transaction, and returns once it has committed. If it does not commit
// (a full quota, the worker killed by a reload) none of it happened. A full quota is
// ErrStorageFull.
func (c *CheckpointDB) Save(info protocol.CheckpointInfo, file js.Value, remove []string) error {
	_, err := c.StartSave(info, file, remove)(true)
	return err
}

// StartSave is Save returning as soon as the transaction is under way, with its outcome:
// done is false while it runs, and with wait the call blocks until it has ended. With a saver
// (UseSaver) the file, an ArrayBuffer whose first info.Size bytes are stored (Buffer), is
// transferred to it and unusable here afterwards; without one it is cloned into the
// transaction at once.
func (c *CheckpointDB) StartSave(info protocol.CheckpointInfo, file js.Value, remove []string) func(wait bool) (done bool, err error) {
	var outcome func(bool) (bool, error)
	meta, err := json.Marshal(info)
	switch {
	case err == nil && c.saver != nil:
		var deletes []string
		for _, id := range remove {
			deletes = append(deletes, MetaKey(id), FileKey(id))
		}
		puts := [][3]any{{FileKey(info.ID), file, info.Size}, {MetaKey(info.ID), string(meta), -1}}
		var transfer []any
		if file.InstanceOf(js.Global().Get("ArrayBuffer")) {
			transfer = append(transfer, file)
		}
		outcome = c.saver.write(StoreCheckpoints, puts, deletes, transfer)
	case err == nil:
		err = catch(func() error {
			tx := c.db.write(StoreCheckpoints)
			store := tx.Call("objectStore", StoreCheckpoints)
			store.Call("put", file, FileKey(info.ID))
			store.Call("put", string(meta), MetaKey(info.ID))
			for _, id := range remove {
				store.Call("delete", MetaKey(id))
				store.Call("delete", FileKey(id))
			}
			outcome = committing(tx)
			return nil
		})
	}
	return func(wait bool) (bool, error) {
		err := err
		if outcome != nil {
			var done bool
			if done, err = outcome(wait); !done {
				return false, nil
			}
		}
		return true, saveError(info, err)
	}
}

// saveError says why a save failed (ErrStorageFull for a full quota), or is nil.
func saveError(info protocol.CheckpointInfo, err error) error {
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), "QuotaExceeded"):
		return fmt.Errorf("%w (%v)", ErrStorageFull, err)
	}
	return fmt.Errorf("storing %s in IndexedDB: %w", info.Name(), err)
}

// Load returns a checkpoint's entry and file (a Uint8Array or ArrayBuffer), read in one
// transaction.
func (c *CheckpointDB) Load(id string) (info protocol.CheckpointInfo, file js.Value, err error) {
	err = catch(func() error {
		store := c.db.db.Call("transaction", StoreCheckpoints, "readonly").Call("objectStore", StoreCheckpoints)
		metaReq := store.Call("get", MetaKey(id))
		fileReq := store.Call("get", FileKey(id))
		meta, err := wait(metaReq)
		if err != nil {
			return err
		}
		if file, err = wait(fileReq); err != nil {
			return err
		}
		var ok bool
		if info, ok = decodeInfo(meta); !ok || file.Type() != js.TypeObject {
			return errors.New("it is no longer stored (deleted in another tab?)")
		}
		return nil
	})
	if err != nil {
		return protocol.CheckpointInfo{}, js.Undefined(), fmt.Errorf("reading checkpoint %s from IndexedDB: %w", id, err)
	}
	return info, file, nil
}

// Delete removes checkpoints (entry and file) in one transaction.
func (c *CheckpointDB) Delete(ids ...string) error {
	err := catch(func() error {
		tx := c.db.write(StoreCheckpoints)
		store := tx.Call("objectStore", StoreCheckpoints)
		for _, id := range ids {
			store.Call("delete", MetaKey(id))
			store.Call("delete", FileKey(id))
		}
		return commit(tx)
	})
	if err != nil {
		return fmt.Errorf("deleting checkpoints from IndexedDB: %w", err)
	}
	return nil
}

// Download hands a stored checkpoint to the browser as a download named as the native
// trainer names its files (cifar10.ckpt-<step>.safetensors), byte for byte as stored.
func (c *CheckpointDB) Download(id string) error {
	info, file, err := c.Load(id)
	if err != nil {
		return err
	}
	return catch(func() error {
		DownloadBytes(info.FileName(), file)
		return nil
	})
}

// DownloadBytes saves data (an ArrayBuffer or typed array) as a file named name: a Blob, an
// object URL and a click on an <a download> link, which is how a page offers a file.
func DownloadBytes(name string, data js.Value) {
	doc := js.Global().Get("document")
	blob := js.Global().Get("Blob").New([]any{data}, map[string]any{"type": "application/octet-stream"})
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	a := doc.Call("createElement", "a")
	a.Set("href", url)
	a.Set("download", name)
	a.Get("style").Set("display", "none")
	doc.Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
	// The browser has started reading the URL when click returns; revoke it a little later.
	var revoke js.Func
	revoke = js.FuncOf(func(js.Value, []js.Value) any {
		js.Global().Get("URL").Call("revokeObjectURL", url)
		revoke.Release()
		return nil
	})
	js.Global().Call("setTimeout", revoke, 60_000)
}

// catch runs f and turns a JavaScript exception thrown by a call inside it (syscall/js panics
// with a js.Error) into an error, so one refused IndexedDB call does not crash the program.
func catch(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			jsErr, ok := v.(js.Error)
			if !ok {
				panic(v)
			}
			err = JSError(jsErr.Value)
		}
	}()
	return f()
}
