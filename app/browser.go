package app

import (
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Features are what the page needs of the browser, checked once at start so that a missing
// one is named in one sentence up front instead of failing later in a worker.
type Features struct {
	SIMD      bool // WebAssembly SIMD: the training worker's engine is built with it
	Workers   bool // Web Workers: training runs in them
	IndexedDB bool // keeps the dataset and the checkpoints between visits
	Isolated  bool // crossOriginIsolated: SharedArrayBuffer, for several workers
}

// CanTrain reports whether the training workers can run at all.
func (f Features) CanTrain() bool { return f.SIMD && f.Workers }

// Problems are one sentence per missing feature: what is missing and what still works.
func (f Features) Problems() []string {
	var out []string
	switch {
	case !f.Workers:
		out = append(out, T(msgNoWorkers))
	case !f.SIMD:
		out = append(out, T(msgNoSIMD))
	}
	if !f.IndexedDB {
		out = append(out, T(msgNoIndexedDB))
	}
	if f.CanTrain() && !f.Isolated {
		out = append(out, T(msgNotIsolated))
	}
	return out
}

// whereBrowser places a notice about the browser's features.
const whereBrowser protocol.Where = "browser"

// simdProbe is the smallest module using a SIMD instruction (v128.const, i8x16.popcnt... in
// a function returning v128): WebAssembly.validate accepts it only where SIMD is supported.
var simdProbe = []byte{0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11}

// detectFeatures asks the browser.
func detectFeatures() Features {
	w := app.Window()
	f := Features{
		Workers:   w.Get("Worker").Truthy(),
		IndexedDB: w.Get("indexedDB").Truthy(),
		Isolated:  w.Get("crossOriginIsolated").Truthy() && w.Get("SharedArrayBuffer").Truthy(),
	}
	if wa := w.Get("WebAssembly"); wa.Truthy() {
		probe := w.Get("Uint8Array").New(len(simdProbe))
		app.CopyBytesToJS(probe, simdProbe)
		f.SIMD = wa.Call("validate", probe).Bool()
	}
	return f
}

// probeOffline asks for a file the service worker keeps; it answers from its cache, marked
// with OfflineHeader, only when the server cannot be reached. found gets the cache's name,
// or "" when the page is online.
func probeOffline(found func(cache string)) {
	opts := map[string]any{"cache": "no-store"}
	app.Window().Call("fetch", IconSVG, opts).Then(func(resp app.Value) {
		if resp == nil || !resp.Truthy() {
			return
		}
		cache := resp.Get("headers").Call("get", OfflineHeader)
		if cache.Truthy() {
			found(cache.String())
			return
		}
		found("")
	})
}

// BuildView says which build the page runs and whether it runs from the browser's copy.
type BuildView struct {
	Page    string // the page's protocol.Build
	Offline bool   // the server could not be reached: the page runs from the offline cache
	Checked bool   // the offline probe has answered
}
