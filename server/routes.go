package main

import (
	"net/http"
	"strings"

	"cifar10/nn/cifar"
)

// URL prefixes and the folders behind them. The URL space is fixed; the folders come from
// flags, so the same page works whatever the folders are called on disk.
const (
	webPrefix    = "/web/"                        // -web: the build output (app.wasm, worker.wasm, twins)
	assetsPrefix = "/assets/"                     // -assets: styles, icons, worker bootstrap script
	dataPrefix   = "/data/" + cifar.DirName + "/" // -data + /cifar-10-batches-bin: the dataset
)

// goappProxied are paths go-app would fetch over HTTP from its /web/ folder (robots.txt and
// friends). We have none of them, and the fetch would fail, so they are plain 404s.
var goappProxied = map[string]bool{"/robots.txt": true, "/sitemap.xml": true, "/ads.txt": true}

// router sends each request to the one place allowed to answer it.
type router struct {
	web, assets, data staticDir
	app               http.Handler // go-app: pages, app.js, wasm_exec.js, app-worker.js, manifest, app.css
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		fail(w, http.StatusMethodNotAllowed)
		return
	}
	p, err := cleanPath(r)
	if err != nil {
		fail(w, http.StatusBadRequest)
		return
	}
	switch {
	case strings.HasPrefix(p, webPrefix):
		rt.web.serve(w, r, strings.TrimPrefix(p, webPrefix))
	case strings.HasPrefix(p, assetsPrefix):
		rt.assets.serve(w, r, strings.TrimPrefix(p, assetsPrefix))
	case strings.HasPrefix(p, dataPrefix):
		rt.data.serve(w, r, strings.TrimPrefix(p, dataPrefix))
	case p == "/web" || p == "/assets" || p == "/data" || strings.HasPrefix(p, "/data/"),
		goappProxied[p]:
		fail(w, http.StatusNotFound)
	default:
		// go-app answers its own fixed files and the routed pages, and 404s anything else.
		rt.app.ServeHTTP(w, r)
	}
}
