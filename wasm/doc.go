// Package wasm is the browser glue between the page and the training Web Workers: it moves
// the messages of package wasm/protocol over postMessage (port_js.go), with attached buffers
// transferred and shared memory (the dataset, a run's board) passed as it is, fetches files
// with progress and keeps them and the checkpoints in IndexedDB. The engine side of the
// worker lives in wasm/worker, so the page binary, which imports this package, never links
// the engine.
package wasm

import "errors"

// ErrNotInBrowser is returned by the parts of the package that need a browser when the
// program runs elsewhere (the server prerendering the page, native tests).
var ErrNotInBrowser = errors.New("wasm: only available in a browser (js/wasm)")
