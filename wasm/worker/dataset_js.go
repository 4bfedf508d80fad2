//go:build js && wasm

package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"time"

	"cifar10/nn/cifar"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// The dataset is kept in IndexedDB, database DBName, store "dataset": one Uint8Array per file
// under its name, and a manifest written last, so an interrupted download never leaves a copy
// that looks complete. IndexedDB rather than the Cache API because go-app's service worker
// deletes every cache but its own when a new version of the app activates.
const (
	DBName           = wasm.DBName
	dbVersion        = wasm.DBVersion
	storeDataset     = wasm.StoreDataset
	storeCheckpoints = wasm.StoreCheckpoints // checkpoint files (wasm/checkpoints.go)
	manifestKey      = "manifest"
)

// manifest describes the kept copy.
type manifest struct {
	Sizes map[string]int `json:"sizes"` // bytes per .bin file
	Meta  bool           `json:"meta"`  // batches.meta.txt was kept too
}

// files are the dataset's files as JavaScript byte arrays, before they are checked.
type files struct {
	bins map[string]js.Value // Uint8Array per .bin file
	meta js.Value            // batches.meta.txt, or undefined when the server has none
}

// loadDataset is the worker's LoadFunc: the kept copy when there is a good one, else the
// server's files, kept for the next visit.
func loadDataset(reload bool, progress func(protocol.DatasetProgress)) (*cifar.Data, protocol.DatasetInfo, error) {
	return loadWith(assemble, reload, progress)
}

// loadWith is loadDataset with build making the dataset from the files: into Go memory
// (assemble), or into memory shared with other workers (shared_js.go).
func loadWith(build func(files) (*cifar.Data, protocol.DatasetInfo, error), reload bool, progress func(protocol.DatasetProgress)) (*cifar.Data, protocol.DatasetInfo, error) {
	start := time.Now()
	var warnings []string
	db, err := wasm.OpenDB(DBName, dbVersion, storeDataset, storeCheckpoints)
	if err != nil {
		warnings = append(warnings, fmt.Sprintf("the dataset cannot be kept in this browser (%v)", err))
		db = nil
	}
	if db != nil && reload {
		if err := db.Clear(storeDataset); err != nil {
			warnings = append(warnings, err.Error())
		}
	}
	if db != nil && !reload {
		if f, ok := readKept(db, progress); ok {
			data, info, err := build(f)
			if err == nil {
				info.FromCache = true
				info.Seconds = time.Since(start).Seconds()
				return data, info, nil
			}
			warnings = append(warnings, fmt.Sprintf("the copy kept in this browser was damaged (%v) and was downloaded again", err))
			db.Clear(storeDataset)
		}
	}
	f, err := download(progress)
	if err != nil {
		return nil, protocol.DatasetInfo{}, err
	}
	data, info, err := build(f)
	if err != nil {
		return nil, protocol.DatasetInfo{}, err
	}
	if db != nil {
		if err := keep(db, f); err != nil {
			warnings = append(warnings, fmt.Sprintf("the browser did not keep the dataset (%v): the next visit downloads it again", err))
		}
	}
	info.Seconds = time.Since(start).Seconds()
	for i, w := range warnings {
		if i > 0 {
			info.Warning += "; "
		}
		info.Warning += w
	}
	return data, info, nil
}

// readKept reads the kept copy; ok is false when there is none or it is incomplete.
func readKept(db *wasm.DB, progress func(protocol.DatasetProgress)) (files, bool) {
	v, err := db.Get(storeDataset, manifestKey)
	if err != nil || v.Type() != js.TypeString {
		return files{}, false
	}
	var m manifest
	if json.Unmarshal([]byte(v.String()), &m) != nil {
		return files{}, false
	}
	var total int64
	for _, n := range m.Sizes {
		total += int64(n)
	}
	f := files{bins: map[string]js.Value{}, meta: js.Undefined()}
	p := protocol.DatasetProgress{Total: total, Files: len(BinFiles()), FromCache: true}
	for _, name := range BinFiles() {
		b, err := db.Get(storeDataset, name)
		if err != nil || b.Type() != js.TypeObject || b.Get("byteLength").Int() != m.Sizes[name] {
			return files{}, false
		}
		f.bins[name] = b
		p.File, p.Loaded, p.FilesDone = name, p.Loaded+int64(m.Sizes[name]), p.FilesDone+1
		progress(p)
	}
	if m.Meta {
		b, err := db.Get(storeDataset, cifar.MetaFile)
		if err != nil || b.Type() != js.TypeObject {
			return files{}, false
		}
		f.meta = b
	}
	return f, true
}

// keep stores the files, then the manifest that makes them count.
func keep(db *wasm.DB, f files) error {
	m := manifest{Sizes: map[string]int{}, Meta: !f.meta.IsUndefined()}
	for name, b := range f.bins {
		if err := db.Put(storeDataset, name, b); err != nil {
			db.Clear(storeDataset)
			return err
		}
		m.Sizes[name] = b.Get("byteLength").Int()
	}
	if m.Meta {
		if err := db.Put(storeDataset, cifar.MetaFile, f.meta); err != nil {
			db.Clear(storeDataset)
			return err
		}
	}
	b, _ := json.Marshal(m)
	return db.Put(storeDataset, manifestKey, string(b))
}

// download fetches the class names, then the six files at once, reporting progress at most
// every 100 ms and whenever a file completes.
func download(progress func(protocol.DatasetProgress)) (files, error) {
	f := files{bins: map[string]js.Value{}, meta: js.Undefined()}
	meta, err := wasm.Fetch(DataURL+cifar.MetaFile, func(int64) {}, func(int) {})
	var herr *wasm.HTTPError
	switch {
	case err == nil:
		f.meta = meta
	case errors.As(err, &herr) && herr.Status == 404:
		// No class names on the server: the official ones apply.
	default:
		return files{}, err
	}

	names := BinFiles()
	var (
		mu      sync.Mutex
		sizes   = map[string]int64{}
		p       = protocol.DatasetProgress{Files: len(names)}
		last    time.Time
		errs    = make([]error, len(names))
		results = make([]js.Value, len(names))
		wg      sync.WaitGroup
	)
	update := func(name string, size int64, n int, done bool) {
		mu.Lock()
		defer mu.Unlock()
		if size != 0 {
			sizes[name] = size
			p.Total = 0
			if len(sizes) == len(names) {
				for _, s := range sizes {
					if s < 0 {
						p.Total = 0
						break
					}
					p.Total += s
				}
			}
		}
		p.File, p.Loaded = name, p.Loaded+int64(n)
		if done {
			p.FilesDone++
		}
		if done || time.Since(last) >= 100*time.Millisecond {
			last = time.Now()
			progress(p)
		}
	}
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = wasm.Fetch(DataURL+name,
				func(total int64) { update(name, total, 0, false) },
				func(n int) { update(name, 0, n, false) })
			if errs[i] == nil {
				update(name, 0, 0, true)
			}
		}()
	}
	wg.Wait()
	for i, name := range names {
		if errs[i] != nil {
			return files{}, errs[i]
		}
		f.bins[name] = results[i]
	}
	return f, nil
}

// assemble checks every file with cifar.Parse and builds the dataset, copying one file at a
// time into Go memory through one reused buffer.
func assemble(f files) (*cifar.Data, protocol.DatasetInfo, error) {
	var trainBytes, all int64
	for _, name := range BinFiles() {
		n := int64(f.bins[name].Get("byteLength").Int())
		all += n
		if name != cifar.TestFile {
			trainBytes += n
		}
	}
	b := newBuilder(trainBytes)
	var buf []byte
	for _, name := range BinFiles() {
		buf = wasm.BytesFromJS(buf, f.bins[name])
		if err := b.add(name, buf); err != nil {
			return nil, protocol.DatasetInfo{}, err
		}
	}
	var meta []byte
	if !f.meta.IsUndefined() {
		meta = wasm.BytesFromJS(nil, f.meta)
	}
	if err := b.meta(meta); err != nil {
		return nil, protocol.DatasetInfo{}, err
	}
	data, err := b.data()
	if err != nil {
		return nil, protocol.DatasetInfo{}, err
	}
	return data, protocol.DatasetInfo{Train: data.Train.Len(), Test: data.Test.Len(), ClassNames: data.ClassNames, Bytes: all}, nil
}
