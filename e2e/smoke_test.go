//go:build !js

package e2e

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestSmoke loads the app in a fresh browser: the page must come alive from wasm, be
// cross-origin isolated (what the training workers' SharedArrayBuffer needs), have been
// served with COOP/COEP, and have loaded app.wasm compressed.
func TestSmoke(t *testing.T) {
	ctx := NewBrowser(t)
	srv := StartServer(t)

	var mu sync.Mutex
	var docHeaders network.Headers
	chromedp.ListenTarget(ctx, func(ev any) {
		if r, ok := ev.(*network.EventResponseReceived); ok && r.Type == network.ResourceTypeDocument {
			mu.Lock()
			docHeaders = r.Response.Headers
			mu.Unlock()
		}
	})

	Open(t, ctx, srv.URL+"/")
	Screenshot(t, ctx, "smoke")

	if !Eval[bool](t, ctx, "window.crossOriginIsolated") {
		t.Error("window.crossOriginIsolated is false")
	}
	if got := Text(t, ctx, "#client-ready"); !strings.Contains(got, "cross-origin isolated") {
		t.Errorf("#client-ready says %q", got)
	}
	mu.Lock()
	h := http.Header{}
	for k, v := range docHeaders {
		h.Set(k, strings.TrimSpace(strings.Split(toString(v), "\n")[0]))
	}
	mu.Unlock()
	for k, want := range map[string]string{
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Embedder-Policy": "require-corp",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("response header %s of / is %q, want %q (headers %v)", k, got, want, h)
		}
	}

	var wasm *Request
	for _, r := range srv.Log() {
		if r.Path == "/web/app.wasm" && r.Status == http.StatusOK {
			wasm = &r
		}
	}
	if wasm == nil {
		t.Errorf("the server logged no 200 for /web/app.wasm; log: %+v", srv.Log())
	} else if wasm.Encoding != "gzip" && wasm.Encoding != "br" {
		t.Errorf("app.wasm was sent with encoding %q, want gzip or br", wasm.Encoding)
	}
	for _, m := range Console(ctx) {
		if strings.HasPrefix(m, "exception:") || strings.HasPrefix(m, "console.error:") {
			t.Errorf("browser reported: %s", m)
		}
	}
}

// toString renders a CDP header value, which arrives as a JSON string.
func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
