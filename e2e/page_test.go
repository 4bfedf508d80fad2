//go:build !js

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/wasm/protocol"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// TestRendersFromWasm checks the page is drawn by the client, not only the server's prerender:
// the worker status marker exists only in the browser, and the model table, which needs the
// worker's preset list, shows the tutorial model's 1,068,298 parameters.
func TestRendersFromWasm(t *testing.T) {
	ctx := NewBrowser(t)
	srv := StartServer(t)
	Open(t, ctx, srv.URL+"/")
	WaitJS(t, ctx, `document.getElementById('`+ui.WorkerStatusID+`')?.dataset.ready === 'true'`, 30*time.Second)
	if got := Data(t, ctx, ui.ModelParamsID, "params"); got != "1068298" {
		t.Errorf("model parameters %q, want 1068298", got)
	}
	if got := Text(t, ctx, sel(ui.ModelParamsID)); !strings.HasPrefix(got, "1,068,298 parameters") {
		t.Errorf("model panel says %q", got)
	}
	if n := Eval[int](t, ctx, `document.querySelectorAll('#`+ui.ModelTableID+` tbody tr').length`); n != 10 {
		t.Errorf("the model table has %d rows, want the input and 9 layers", n)
	}
	WaitJS(t, ctx, datasetReady, 30*time.Second)
	classes := Text(t, ctx, sel(ui.DatasetClassesID))
	if !strings.HasPrefix(classes, SyntheticClassNames[0]+", ") {
		t.Errorf("classes %q do not come from the dataset's batches.meta.txt", classes)
	}
}

// TestSecondVisitNoDownload loads the page twice with the same browser profile: the first
// visit downloads the six files (and the class names), the second reads them from IndexedDB
// and sends no dataset request at all.
func TestSecondVisitNoDownload(t *testing.T) {
	profile := NewProfile(t)
	ctx := NewBrowser(t, Profile(profile))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "")
	if Data(t, ctx, ui.DatasetStatusID, "from-cache") != "false" {
		t.Error("the first visit claims the dataset came from the browser's copy")
	}
	first := srv.Requests("/data/")
	if first != 7 {
		t.Errorf("the first visit made %d dataset requests, want 6 files and batches.meta.txt: %+v", first, srv.Log())
	}
	CloseBrowser(ctx)

	ctx2 := NewBrowser(t, Profile(profile))
	OpenTrainer(t, ctx2, srv, "steps=3&batch=8")
	if Data(t, ctx2, ui.DatasetStatusID, "from-cache") != "true" {
		t.Errorf("the second visit did not use the kept copy: %s", Text(t, ctx2, sel(ui.DatasetStatusID)))
	}
	if n := srv.Requests("/data/"); n != first {
		t.Errorf("the second visit made %d more dataset requests", n-first)
	}
	if got := Text(t, ctx2, sel(ui.DatasetTestID)); got != fmt.Sprint(SyntheticTest) {
		t.Errorf("test images %q", got)
	}
	// The kept copy is usable: a short run trains on it.
	StartRun(t, ctx2)
	WaitPhase(t, ctx2, 60*time.Second, protocol.PhaseFinished)
}

// TestDamagedCopyDownloadedAgain spoils the copy kept in IndexedDB: the next visit notices,
// says so, and downloads the dataset again instead of training on garbage.
func TestDamagedCopyDownloadedAgain(t *testing.T) {
	profile := NewProfile(t)
	ctx := NewBrowser(t, Profile(profile))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "")
	// A bad label in a file of the right size: the manifest's sizes still match, so only
	// checking the content (cifar.Parse) finds it.
	Eval[bool](t, ctx, `new Promise((resolve, reject) => {
		const open = indexedDB.open('cifar10');
		open.onsuccess = () => {
			// Strict durability and waiting for the commit (not the request): the browser is
			// closed next, and a relaxed or pending write could be lost with it.
			const tx = open.result.transaction('dataset', 'readwrite', {durability: 'strict'});
			const store = tx.objectStore('dataset');
			const get = store.get('test_batch.bin');
			get.onsuccess = () => {
				const bytes = new Uint8Array(get.result);
				bytes[0] = 200; // a label must be 0..9
				store.put(bytes, 'test_batch.bin');
			};
			tx.oncomplete = () => { open.result.close(); resolve(true); };
			tx.onabort = () => reject(tx.error);
		};
		open.onerror = () => reject(open.error);
	})`)
	CloseBrowser(ctx)
	before := srv.Requests("/data/")

	ctx2 := NewBrowser(t, Profile(profile))
	OpenTrainer(t, ctx2, srv, "")
	if n := srv.Requests("/data/") - before; n != 7 {
		t.Errorf("%d dataset requests after finding the copy damaged, want a full download (7)", n)
	}
	WaitJS(t, ctx2, `document.querySelector('.notice[data-where="dataset"]')?.textContent.includes('damaged')`, 5*time.Second)
	if !strings.Contains(notices(ctx2), "test_batch.bin") {
		t.Errorf("the notice does not name the damaged file: %s", notices(ctx2))
	}
}

// TestDivergenceShown trains with a learning rate that makes the loss blow up: the page says
// so in a message, marks the run failed, and stays usable (a new run can start).
func TestDivergenceShown(t *testing.T) {
	ctx := NewBrowser(t, Timeout(120*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "preset=cs231n&lr=10&batch=2&steps=200")
	StartRun(t, ctx)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFailed)
	WaitJS(t, ctx, `document.querySelector('.notice[data-where="train"]')?.textContent.includes('diverged')`, 5*time.Second)
	t.Logf("notice: %s", notices(ctx))
	Screenshot(t, ctx, "divergence")
	SetField(t, ctx, ui.QueryLR, "0.01")
	SetField(t, ctx, ui.QuerySteps, "3")
	StartRun(t, ctx)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)
}

// TestResponsiveDuringTraining measures the page while the worker trains: the main thread's
// timers are never late by 100 ms or more, and an input (the chart's smoothing slider) is
// answered on screen within 100 ms.
func TestResponsiveDuringTraining(t *testing.T) {
	ctx := NewBrowser(t, Timeout(120*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "steps=100000&batch=16")
	StartRun(t, ctx)
	WaitStep(t, ctx, 2, 30*time.Second)
	Eval[bool](t, ctx, `(() => {
		window.lag = {max: 0, ticks: 0};
		let last = performance.now();
		window.lagTimer = setInterval(() => {
			const now = performance.now();
			lag.max = Math.max(lag.max, now - last - 10);
			lag.ticks++;
			last = now;
		}, 10);
		return true;
	})()`)
	var worst float64
	for _, v := range []string{"30", "50", "70", "20", "85"} {
		ms := Eval[float64](t, ctx, `new Promise(resolve => {
			const el = document.getElementById('`+ui.SmoothingID+`');
			const label = el.nextElementSibling;
			const want = ' ' + (`+v+` / 100).toFixed(2);
			const t0 = performance.now();
			const obs = new MutationObserver(() => {
				if (label.textContent === want) { obs.disconnect(); resolve(performance.now() - t0); }
			});
			obs.observe(label, {childList: true, characterData: true, subtree: true});
			el.value = '`+v+`';
			el.dispatchEvent(new Event('input', {bubbles: true}));
			setTimeout(() => resolve(1e9), 5000);
		})`)
		worst = max(worst, ms)
		time.Sleep(300 * time.Millisecond)
	}
	lag := Eval[map[string]float64](t, ctx, `(clearInterval(lagTimer), lag)`)
	steps := Step(t, ctx)
	t.Logf("input answered in at most %.1f ms; worst timer delay %.1f ms over %v ticks; %d steps trained meanwhile", worst, lag["max"], lag["ticks"], steps)
	if worst >= 100 {
		t.Errorf("an input took %.0f ms to show", worst)
	}
	if lag["max"] >= 100 {
		t.Errorf("the page's main thread was blocked for %.0f ms", lag["max"])
	}
	if Phase(t, ctx) != protocol.PhaseRunning {
		t.Errorf("the run is %s", Phase(t, ctx))
	}
}

// TestTrainingViewScreenshot writes artifacts/training-view.png: a finished 30-step run with
// its log, loss chart and evaluation, the view a reviewer looks at.
func TestTrainingViewScreenshot(t *testing.T) {
	ctx := NewBrowser(t, WindowSize(1280, 1640), Timeout(120*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "steps=30&batch=16&seed=1")
	StartRun(t, ctx)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)
	Click(t, ctx, ui.EvalStartID)
	WaitJS(t, ctx, `document.getElementById('`+ui.EvalPrecisionID+`')`, 60*time.Second)
	Screenshot(t, ctx, "training-view")
	if n := len(LogLines(t, ctx)); n != 3 {
		t.Errorf("%d log lines, want 3", n)
	}
}

// TestWorkerErrorShown makes the only training worker throw an uncaught exception (as a crash
// would): the page shows it as a message, stops offering Start, and stays responsive. (With
// several workers the others carry on: see TestKillWorker.)
func TestWorkerErrorShown(t *testing.T) {
	ctx := NewBrowser(t)
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "steps=5&batch=4&workers=1")
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var worker *target.Info
	for _, ti := range targets {
		if ti.Type == "worker" && strings.HasSuffix(ti.URL, ui.WorkerScript) {
			worker = ti
		}
	}
	if worker == nil {
		t.Fatalf("no dedicated worker among %d targets", len(targets))
	}
	wctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(worker.TargetID))
	defer cancel()
	if err := chromedp.Run(wctx, chromedp.Evaluate(`setTimeout(() => { throw new Error("simulated crash") }), true`, nil)); err != nil {
		t.Fatal(err)
	}
	WaitJS(t, ctx, `document.querySelector('.notice[data-where="worker"]')?.textContent.includes('simulated crash')`, 10*time.Second)
	WaitJS(t, ctx, `document.getElementById('`+ui.WorkerStatusID+`').dataset.failed === 'true'`, 5*time.Second)
	if !Eval[bool](t, ctx, `document.getElementById('`+ui.TrainStartID+`').disabled`) {
		t.Error("Start is still offered with a dead worker")
	}
	// The page still answers: dismissing the message works.
	Eval[bool](t, ctx, `(document.querySelector('.notice-dismiss').click(), true)`)
	WaitJS(t, ctx, `!document.querySelector('.notice')`, 5*time.Second)
}
