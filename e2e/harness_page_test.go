//go:build !js

package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	ui "cifar10/app"
)

// WaitClientReady waits until the page's wasm runs: the server prerenders the page, so
// buttons exist before any Go code runs in the browser, but only the client renders
// #client-ready (app.ClientReadyID).
func WaitClientReady(ctx context.Context) error {
	return chromedp.Run(ctx, chromedp.WaitReady("#"+ui.ClientReadyID, chromedp.ByQuery))
}

// Open navigates to url and waits for WaitClientReady, failing the test with what it was
// doing if either fails (the console is logged by NewBrowser's cleanup).
func Open(tb testing.TB, ctx context.Context, url string) {
	tb.Helper()
	if err := chromedp.Run(ctx, chromedp.Navigate(url)); err != nil {
		tb.Fatalf("e2e: navigating to %s: %v", url, err)
	}
	if err := WaitClientReady(ctx); err != nil {
		tb.Fatalf("e2e: waiting for #%s on %s: %v", ui.ClientReadyID, url, err)
	}
}

// Eval evaluates a JavaScript expression in the page and decodes its JSON value into T. A
// promise is awaited, so `fetch(...).then(r => r.status)` works. Errors and exceptions fail
// the test.
func Eval[T any](tb testing.TB, ctx context.Context, js string) T {
	tb.Helper()
	var v T
	if err := chromedp.Run(ctx, chromedp.Evaluate(js, &v, awaitPromise)); err != nil {
		tb.Fatalf("e2e: evaluating %s: %v", js, err)
	}
	return v
}

func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams {
	return p.WithAwaitPromise(true)
}

// Text returns the textContent of the first element matching the CSS selector, waiting until
// such an element exists (up to the browser's deadline).
func Text(tb testing.TB, ctx context.Context, selector string) string {
	tb.Helper()
	var s string
	if err := chromedp.Run(ctx, chromedp.TextContent(selector, &s, chromedp.ByQuery)); err != nil {
		tb.Fatalf("e2e: reading the text of %s: %v", selector, err)
	}
	return s
}

// Screenshot saves the visible part of the page as <repo>/artifacts/<name>.png and returns
// the path, for a person (or a reviewer) to look at what a test saw.
func Screenshot(tb testing.TB, ctx context.Context, name string) string {
	tb.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err != nil {
		tb.Fatalf("e2e: screenshot %s: %v", name, err)
	}
	p := ArtifactPath(tb, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.Fatalf("e2e: screenshot: %v", err)
	}
	tb.Logf("e2e: screenshot %s", p)
	return p
}

// WaitConsole waits until a message collected by Console (page or worker) contains want, and
// fails the test with every message collected if none does within limit.
func WaitConsole(tb testing.TB, ctx context.Context, want string, limit time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		for _, m := range Console(ctx) {
			if strings.Contains(m, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("e2e: no console message containing %q within %v; got:\n%s", want, limit, strings.Join(Console(ctx), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
