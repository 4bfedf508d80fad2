// Package app is the user interface of the CIFAR-10 trainer, written with go-app v10. The same
// code runs in two places: in the server, which prerenders pages and serves go-app's files
// (app.js, wasm_exec.js, the service worker, the manifest), and in the browser as web/app.wasm.
//
// Callers import it with an alias since it wraps go-app's package also named app:
//
//	import ui "cifar10/app"
package app

import (
	"strconv"

	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// URL paths of the local files the page uses. They live under /assets/ (the repository's
// assets/ folder) because go-app's default icons point at an outside host, which the
// Cross-Origin-Embedder-Policy the app needs would block, and which is unreachable offline.
const (
	IconPNG   = "/assets/icon-192.png"
	IconLarge = "/assets/icon-512.png"
	IconSVG   = "/assets/icon.svg"
	StylesCSS = "/assets/app.css"
	// WorkerWasm is the training worker's binary (cmd/worker), loaded by WorkerScript.
	WorkerWasm = "/web/worker.wasm"
)

// Config is what the server knows about the build it serves, passed to Handler.
type Config struct {
	// Version identifies the build. go-app's service worker serves the app cache-first from a
	// cache named after it, so it must change whenever the wasm or the assets change, or a
	// browser keeps running the old app after a rebuild.
	Version string
	// WasmSize is the uncompressed size of web/app.wasm in bytes, or 0 when unknown; the
	// loading bar then falls back to protocol.UncompressedLengthHeader.
	WasmSize int64
}

// Routes registers the pages. It must run in both the server (for prerendering) and the
// browser (cmd/page), before RunWhenOnBrowser or Handler's first request.
func Routes() {
	app.Route("/", func() app.Composer { return &Home{} })
}

// Handler returns go-app's handler for the page, go-app's scripts, the service worker and the
// manifest. Static files are not served by it: Resources only maps /web/... URLs to
// themselves, and the server serves /web/ (the build output) and /assets/ itself, with the
// compression and security headers go-app's file server lacks.
func Handler(c Config) *app.Handler {
	h := &app.Handler{
		Name:        "CIFAR-10 trainer",
		ShortName:   "CIFAR-10",
		Title:       "CIFAR-10 trainer",
		Description: "Train and evaluate a CIFAR-10 convolutional network in your browser tab.",
		Lang:        "en",
		Icon: app.Icon{
			Default:  IconPNG,
			Large:    IconLarge,
			Maskable: IconLarge,
			SVG:      IconSVG,
		},
		BackgroundColor: "#1e2228",
		ThemeColor:      "#1e2228",
		LoadingLabel:    "CIFAR-10 · {progress}%", // before the wasm runs: no language yet, so no words
		Styles:          []string{StylesCSS},
		// The worker's files join the offline cache (serviceworker.go), so a visit without
		// the server starts training too: the dataset is in IndexedDB.
		CacheableResources:      []string{WorkerScript, SaverScript, WorkerWasm, IconSVG},
		ServiceWorkerTemplate:   serviceWorkerJS,
		Resources:               webURLs{},
		Version:                 c.Version,
		WasmContentLengthHeader: protocol.UncompressedLengthHeader,
	}
	if c.WasmSize > 0 {
		h.WasmContentLength = strconv.FormatInt(c.WasmSize, 10)
	}
	return h
}

// webURLs resolves /web/... resources to the same URL path. Unlike go-app's LocalDir it is not
// an http.Handler, so go-app never serves files from disk itself and the server stays the
// only place that decides which files are reachable.
type webURLs struct{}

// Resolve implements app.ResourceResolver.
func (webURLs) Resolve(location string) string {
	if location == "" {
		return "/"
	}
	return location
}
