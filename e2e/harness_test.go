//go:build !js

package e2e

import (
	"testing"
	"time"
)

// TestParseRequestLine pins the server's log format (server/headers.go withLog), which
// Server.Log parses.
func TestParseRequestLine(t *testing.T) {
	r, ok := parseRequestLine(`2025/01/02 15:04:05 127.0.0.1:5555 GET "/web/app.wasm?x=\"1\"" 200 3456789B gzip 1.234ms`)
	want := Request{Method: "GET", Path: `/web/app.wasm?x="1"`, Status: 200, Bytes: 3456789, Encoding: "gzip"}
	if !ok || r != want {
		t.Errorf("got %+v, %v; want %+v", r, ok, want)
	}
	for _, line := range []string{
		"dataset: /tmp/x/cifar-10-batches-bin, 1500 images in 6 files",
		`dataset: warning: "quoted" but not a request`,
		"",
	} {
		if r, ok := parseRequestLine(line); ok {
			t.Errorf("%q parsed as a request: %+v", line, r)
		}
	}
}

// TestWorkerConsole checks that messages logged in a Web Worker reach Console.
func TestWorkerConsole(t *testing.T) {
	ctx := NewBrowser(t)
	srv := StartServer(t)
	Open(t, ctx, srv.URL+"/")
	Eval[any](t, ctx, `void new Worker(URL.createObjectURL(new Blob(["console.log('hello from', 'a worker')"], {type: "text/javascript"})))`)
	WaitConsole(t, ctx, "console.log: hello from a worker", 10*time.Second)
}

// TestProfileReuse checks the "second visit" recipe: what a page stores survives closing the
// browser and opening another one on the same profile, and the second visit is served the
// app again by the same server.
func TestProfileReuse(t *testing.T) {
	profile := NewProfile(t)
	first := NewBrowser(t, Profile(profile))
	srv := StartServer(t)
	Open(t, first, srv.URL+"/")
	Eval[any](t, first, `localStorage.setItem("e2e", "kept")`)
	CloseBrowser(first)

	second := NewBrowser(t, Profile(profile))
	Open(t, second, srv.URL+"/")
	if got := Eval[string](t, second, `localStorage.getItem("e2e")`); got != "kept" {
		t.Errorf("localStorage after reopening the profile: %q, want %q", got, "kept")
	}
}
