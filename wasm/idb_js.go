//go:build js && wasm

package wasm

import (
	"errors"
	"fmt"
	"syscall/js"
	"time"
)

// DB is a small key-value view of one IndexedDB database: named object stores with
// out-of-line string keys. It is what keeps the dataset (and later the checkpoints) in the
// browser across visits. Each call is its own transaction and waits for it to commit; writes
// ask for strict durability (flushed to disk before the commit is reported, where Chromium's
// default is relaxed), so a value is durable when Put returns, even if the machine dies next, and nothing else is awaited inside a transaction (they
// auto-commit when control returns to the event loop).
type DB struct {
	db js.Value
}

// OpenDB opens (creating or upgrading) the database name at version, with the given stores.
func OpenDB(name string, version int, stores ...string) (*DB, error) {
	idb := js.Global().Get("indexedDB")
	if idb.IsUndefined() || idb.IsNull() {
		return nil, errors.New("this browser context has no IndexedDB")
	}
	req := idb.Call("open", name, version)
	upgrade := js.FuncOf(func(this js.Value, args []js.Value) any {
		db := req.Get("result")
		for _, s := range stores {
			if !db.Get("objectStoreNames").Call("contains", s).Bool() {
				db.Call("createObjectStore", s)
			}
		}
		return nil
	})
	defer upgrade.Release()
	req.Set("onupgradeneeded", upgrade)
	blocked := js.FuncOf(func(this js.Value, args []js.Value) any { return nil })
	defer blocked.Release()
	req.Set("onblocked", blocked)
	v, err := wait(req)
	if err != nil {
		return nil, fmt.Errorf("opening IndexedDB %q: %w", name, err)
	}
	return &DB{db: v}, nil
}

// Get returns the value under key, or undefined when there is none.
func (d *DB) Get(store, key string) (js.Value, error) {
	tx := d.db.Call("transaction", store, "readonly")
	v, err := wait(tx.Call("objectStore", store).Call("get", key))
	if err != nil {
		return js.Undefined(), fmt.Errorf("reading %s/%s from IndexedDB: %w", store, key, err)
	}
	return v, nil
}

// Put stores v under key and returns once the transaction has committed. A full quota comes
// back as an error naming QuotaExceededError.
func (d *DB) Put(store, key string, v any) error {
	tx := d.write(store)
	tx.Call("objectStore", store).Call("put", v, key)
	if err := commit(tx); err != nil {
		return fmt.Errorf("writing %s/%s to IndexedDB: %w", store, key, err)
	}
	return nil
}

// Delete removes keys from store in one transaction.
func (d *DB) Delete(store string, keys ...string) error {
	tx := d.write(store)
	os := tx.Call("objectStore", store)
	for _, k := range keys {
		os.Call("delete", k)
	}
	if err := commit(tx); err != nil {
		return fmt.Errorf("deleting from IndexedDB %s: %w", store, err)
	}
	return nil
}

// Clear empties store.
func (d *DB) Clear(store string) error {
	tx := d.write(store)
	tx.Call("objectStore", store).Call("clear")
	if err := commit(tx); err != nil {
		return fmt.Errorf("clearing IndexedDB %s: %w", store, err)
	}
	return nil
}

// write starts a read-write transaction on store with strict durability.
func (d *DB) write(store string) js.Value {
	opts := js.Global().Get("Object").New()
	opts.Set("durability", "strict")
	return d.db.Call("transaction", store, "readwrite", opts)
}

// wait blocks until an IDBRequest succeeds or fails.
func wait(req js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	done := make(chan result, 1)
	ok := js.FuncOf(func(this js.Value, args []js.Value) any {
		done <- result{v: req.Get("result")}
		return nil
	})
	fail := js.FuncOf(func(this js.Value, args []js.Value) any {
		done <- result{err: JSError(req.Get("error"))}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	req.Set("onsuccess", ok)
	req.Set("onerror", fail)
	r := <-done
	return r.v, r.err
}

// commit blocks until a transaction completes or aborts. A failed request aborts its
// transaction, and the abort carries the reason (tx.error: a QuotaExceededError when the
// quota is full), so complete and abort are the only events waited for; the handlers are
// detached before they are released, so no later event calls a released function.
func commit(tx js.Value) error {
	_, err := committing(tx)(true)
	return err
}

// committing watches a transaction and returns its outcome: done is false while it runs, and
// with wait the call blocks until it has committed or aborted (Go's wasm lets the event loop
// run meanwhile, which is when the transaction's events arrive).
func committing(tx js.Value) func(wait bool) (done bool, err error) {
	done := make(chan error, 1)
	ok := js.FuncOf(func(this js.Value, args []js.Value) any {
		done <- nil
		return nil
	})
	fail := js.FuncOf(func(this js.Value, args []js.Value) any {
		e := tx.Get("error")
		if e.IsNull() || e.IsUndefined() {
			done <- errors.New("transaction aborted")
		} else {
			done <- JSError(e)
		}
		return nil
	})
	tx.Set("oncomplete", ok)
	tx.Set("onabort", fail)
	return pollOnce(done, 0, nil, func() {
		tx.Set("oncomplete", js.Null())
		tx.Set("onabort", js.Null())
		ok.Release()
		fail.Release()
	})
}

// pollOnce is the outcome of a write whose result arrives once on results: done is false
// while it has not, and with wait the call blocks until it has. With a positive timeout a wait
// gives up after it with timedOut's error. end, if not nil, runs once the outcome is known.
func pollOnce(results <-chan error, timeout time.Duration, timedOut func() error, end func()) func(wait bool) (done bool, err error) {
	var result error
	ended := false
	return func(wait bool) (bool, error) {
		if ended {
			return true, result
		}
		var expired <-chan time.Time // nil, never ready, without a timeout
		if wait && timeout > 0 {
			expired = time.After(timeout)
		}
		switch {
		case wait:
			select {
			case result = <-results:
			case <-expired:
				result = timedOut()
			}
		default:
			select {
			case result = <-results:
			default:
				return false, nil
			}
		}
		ended = true
		if end != nil {
			end()
		}
		return true, result
	}
}
