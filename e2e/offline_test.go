//go:build !js

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/wasm/protocol"

	"github.com/chromedp/chromedp"
)

// secondBuild is the build id of the update TestOffline serves after its offline part.
const secondBuild = "e2e-second"

// TestOffline visits the page once with the server up, stops the server and reloads: the page
// comes from the service worker's cache and the dataset from IndexedDB, says it runs offline
// and from which build, trains 20 steps, saves checkpoints, downloads one and uploads it again,
// and evaluates.
// Then the server comes back, on the same address, with a new build: the next load runs it,
// page and worker alike, online again.
func TestOffline(t *testing.T) {
	web2 := BuildWeb(t, secondBuild)
	ctx := NewBrowser(t, Timeout(5*time.Minute))
	srv := StartServer(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	OpenTrainer(t, ctx, srv, "steps=20&batch=16&seed=5&save_every=10&workers=1")
	waitController(t, ctx)
	checkBuild(t, ctx, FirstBuild, false)

	srv.stop(t)
	reload(t, ctx)
	WaitJS(t, ctx, datasetReady, 30*time.Second)
	if Data(t, ctx, ui.DatasetStatusID, "from-cache") != "true" {
		t.Error("offline, the dataset did not come from the browser's copy")
	}
	checkBuild(t, ctx, FirstBuild, true)
	if text := Text(t, ctx, sel(ui.BuildID)); !strings.Contains(text, "offline") || !strings.Contains(text, FirstBuild) {
		t.Errorf("the build line says %q offline", text)
	}
	Screenshot(t, ctx, "offline-en")
	StartRun(t, ctx)
	WaitPhase(t, ctx, 2*time.Minute, protocol.PhaseFinished)
	if n := Step(t, ctx); n != 20 {
		t.Fatalf("offline run ended at step %d, want 20", n)
	}
	row := WaitNewest(t, ctx, 20)
	path, data := Download(t, ctx, row)
	if len(data) != row.Size {
		t.Errorf("offline download: %d bytes, want %d", len(data), row.Size)
	}
	Upload(t, ctx, path)
	WaitJS(t, ctx, `[...document.querySelectorAll('#`+ui.CkptListID+` .ckpt-row')].some(r => r.dataset.run.startsWith('u'))`, 30*time.Second)
	if correct, text := Evaluate(t, ctx, 20); !strings.HasPrefix(text, "precision: ") || correct <= 0 {
		t.Errorf("offline evaluation: %q, %d correct", text, correct)
	}

	srv2 := StartServer(t, "-addr", addr, "-web", web2)
	reload(t, ctx)
	WaitJS(t, ctx, datasetReady, 30*time.Second)
	checkBuild(t, ctx, secondBuild, false)
	if n := srv2.Requests("/web/worker.wasm"); n == 0 {
		t.Error("the new build's worker.wasm was not fetched from the new server")
	}
}

// waitController waits until the service worker controls the page and holds the build's
// files, so that a reload without the server can be served from its cache.
func waitController(tb testing.TB, ctx context.Context) {
	tb.Helper()
	WaitJS(tb, ctx, `!!navigator.serviceWorker.controller`, 60*time.Second)
	ok := Eval[bool](tb, ctx, `navigator.serviceWorker.ready.then(async () => {
		const keys = await caches.keys();
		if (keys.length !== 1) return false;
		const cache = await caches.open(keys[0]);
		for (const f of ["/", "/web/app.wasm", "/web/worker.wasm", "/assets/worker.js", "/assets/saver.js", "/wasm_exec.js", "/app.js"]) {
			if (!(await cache.match(f))) return false;
		}
		return true;
	})`)
	if !ok {
		tb.Fatalf("e2e: the service worker's cache lacks a file of the build: %v", Eval[[]string](tb, ctx, `caches.keys()`))
	}
}

// checkBuild waits until the page and its worker say they run build id, offline or not.
func checkBuild(tb testing.TB, ctx context.Context, id string, offline bool) {
	tb.Helper()
	WaitJS(tb, ctx, fmt.Sprintf(`(e => e && e.dataset.checked === 'true' && e.dataset.workerBuild !== '')(document.getElementById(%q))`, ui.BuildID), 30*time.Second)
	page, worker, off := Data(tb, ctx, ui.BuildID, "build"), Data(tb, ctx, ui.BuildID, "worker-build"), Data(tb, ctx, ui.BuildID, "offline")
	if page != id || worker != id || off != fmt.Sprint(offline) {
		tb.Fatalf("e2e: page build %q, worker build %q, offline %s; want %q, %q, %v", page, worker, off, id, id, offline)
	}
}

// reload reloads the page and waits until its wasm runs.
func reload(tb testing.TB, ctx context.Context) {
	tb.Helper()
	if err := chromedp.Run(ctx, chromedp.Reload()); err != nil {
		tb.Fatalf("e2e: reload: %v", err)
	}
	if err := WaitClientReady(ctx); err != nil {
		tb.Fatalf("e2e: after the reload: %v", err)
	}
}

// TestMixedBuild serves the page's wasm from one build and the worker's from another, as a
// half-updated cache would: the page refuses the worker and says so in one sentence, and
// Start stays off.
func TestMixedBuild(t *testing.T) {
	web2 := BuildWeb(t, secondBuild)
	mixed := t.TempDir()
	for _, f := range []string{"app.wasm", "app.wasm.gz"} {
		copyFile(t, filepath.Join(Built(t).Web, f), filepath.Join(mixed, f))
	}
	for _, f := range []string{"worker.wasm", "worker.wasm.gz"} {
		copyFile(t, filepath.Join(web2, f), filepath.Join(mixed, f))
	}
	ctx := NewBrowser(t, Timeout(2*time.Minute))
	srv := StartServer(t, "-web", mixed)
	Open(t, ctx, srv.URL+"/?workers=1")
	WaitJS(t, ctx, `document.getElementById('`+ui.WorkerStatusID+`')?.dataset.failed === 'true'`, 60*time.Second)
	text := Eval[string](t, ctx, `[...document.querySelectorAll('.notice[data-where="worker"] .notice-text')].map(e => e.textContent).join('\n')`)
	if !strings.Contains(text, "build "+FirstBuild) || !strings.Contains(text, "build "+secondBuild) || !strings.Contains(text, "different versions") {
		t.Errorf("the worker notice reads %q", text)
	}
	if !Eval[bool](t, ctx, `document.getElementById('`+ui.TrainStartID+`').disabled`) {
		t.Error("Start is enabled with a worker from another build")
	}
}

// copyFile copies src to dst keeping its modification time (the server prefers a twin only
// when it is not older than its source).
func copyFile(tb testing.TB, src, dst string) {
	tb.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	st, _ := os.Stat(src)
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	os.Chtimes(dst, st.ModTime(), st.ModTime())
}
