//go:build !js

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/wasm/protocol"

	"github.com/chromedp/chromedp"
)

// Helpers of the training-page tests: selectors of the page's stable ids, waiting on page
// conditions, and the native reference computation.

// sel turns an element id into a CSS selector.
func sel(id string) string { return "#" + id }

// OpenTrainer opens the page with the given query (e.g. "steps=20&batch=16") and waits until
// the dataset is loaded.
func OpenTrainer(tb testing.TB, ctx context.Context, srv *Server, query string) {
	tb.Helper()
	Open(tb, ctx, srv.URL+"/?"+query)
	WaitJS(tb, ctx, datasetReady, 30*time.Second)
}

// datasetReady is true once the dataset panel says the dataset is loaded.
var datasetReady = fmt.Sprintf(`document.querySelector('#%s')?.dataset.phase === 'ready'`, ui.DatasetStatusID)

// WaitJS waits until a JavaScript boolean expression is true, failing the test with the
// expression and a screenshot when limit passes first. The page itself looks at the expression
// every 20 ms for a quarter of a second per round trip, so waiting costs the browser a few
// protocol messages a second: a 20 ms round-trip poll took a tenth of a core from the training
// workers in the browser benchmark.
func WaitJS(tb testing.TB, ctx context.Context, cond string, limit time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, err := pollJS(ctx, cond, 250*time.Millisecond)
		if err != nil && !navigating(err) {
			tb.Fatalf("e2e: evaluating %s: %v", cond, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("e2e: still false after %v: %s\nnotices: %s", limit, cond, notices(ctx))
		}
		if err != nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// pollJS evaluates cond in the page every 20 ms until it is true or d has passed, and returns
// its last value.
func pollJS(ctx context.Context, cond string, d time.Duration) (bool, error) {
	script := fmt.Sprintf(`new Promise((resolve, reject) => {
		const end = Date.now() + %d;
		const look = () => {
			let ok;
			try { ok = !!(%s); } catch (err) { reject(err); return; }
			if (ok || Date.now() >= end) resolve(ok); else setTimeout(look, 20);
		};
		look();
	})`, d.Milliseconds(), cond)
	var ok bool
	err := chromedp.Run(ctx, chromedp.Evaluate(script, &ok, awaitPromise))
	return ok, err
}

// navigating reports whether err is the page going away under an evaluation (a reload or a
// navigation the test started), after which the new page is looked at again.
func navigating(err error) bool {
	s := err.Error()
	return strings.Contains(s, "context was destroyed") || strings.Contains(s, "Cannot find context") ||
		strings.Contains(s, "Inspected target navigated or closed")
}

// notices returns the page's messages to the user, for failure reports.
func notices(ctx context.Context) string {
	var s string
	chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('#`+ui.NoticesID+`')?.innerText || ''`, &s))
	return s
}

// Data reads a data attribute of the element with the given id ("" when absent).
func Data(tb testing.TB, ctx context.Context, id, name string) string {
	tb.Helper()
	return Eval[string](tb, ctx, fmt.Sprintf(`document.getElementById(%q)?.getAttribute(%q) ?? ""`, id, "data-"+name))
}

// DataInt reads an integer data attribute.
func DataInt(tb testing.TB, ctx context.Context, id, name string) int {
	tb.Helper()
	v := Data(tb, ctx, id, name)
	n, err := strconv.Atoi(v)
	if err != nil {
		tb.Fatalf("e2e: #%s data-%s is %q, not a number", id, name, v)
	}
	return n
}

// Click clicks the element with the given id as a user would (mouse events), after waiting for
// it to be enabled. It first scrolls the element to the middle of the window: chromedp clicks
// the point where the element was, and one at the window's edge could be missed by a click
// after a small change of the layout above it (a notice rewritten by a late report).
func Click(tb testing.TB, ctx context.Context, id string) {
	tb.Helper()
	WaitJS(tb, ctx, fmt.Sprintf(`document.getElementById(%q) && !document.getElementById(%q).disabled`, id, id), 10*time.Second)
	Eval[bool](tb, ctx, fmt.Sprintf(`(document.getElementById(%q).scrollIntoView({block: 'center'}), true)`, id))
	if err := chromedp.Run(ctx, chromedp.Click(sel(id), chromedp.ByQuery)); err != nil {
		tb.Fatalf("e2e: clicking #%s: %v", id, err)
	}
}

// StartRun clicks Start and waits until the page shows the new run, so that what is read next
// (step, loss) belongs to it and not to the previous run.
func StartRun(tb testing.TB, ctx context.Context) {
	tb.Helper()
	run := DataInt(tb, ctx, ui.StatusPhaseID, "run")
	Click(tb, ctx, ui.TrainStartID)
	WaitJS(tb, ctx, fmt.Sprintf(`+document.getElementById(%q)?.dataset.run === %d`, ui.StatusPhaseID, run+1), 10*time.Second)
}

// Phase is the current run's phase ("" before the first run).
func Phase(tb testing.TB, ctx context.Context) protocol.Phase {
	tb.Helper()
	return protocol.Phase(Data(tb, ctx, ui.StatusPhaseID, "phase"))
}

// WaitPhase waits until the run's phase is one of phases.
func WaitPhase(tb testing.TB, ctx context.Context, limit time.Duration, phases ...protocol.Phase) {
	tb.Helper()
	list, _ := json.Marshal(phases)
	WaitJS(tb, ctx, fmt.Sprintf(`%s.includes(document.getElementById(%q)?.dataset.phase)`, list, ui.StatusPhaseID), limit)
}

// Step is the number of steps done in the current run.
func Step(tb testing.TB, ctx context.Context) int {
	tb.Helper()
	return DataInt(tb, ctx, ui.StatusStepID, "step")
}

// WaitStep waits until at least n steps are done.
func WaitStep(tb testing.TB, ctx context.Context, n int, limit time.Duration) {
	tb.Helper()
	WaitJS(tb, ctx, fmt.Sprintf(`+document.getElementById(%q)?.dataset.step >= %d`, ui.StatusStepID, n), limit)
}

// LogLines returns the lines of the log panel.
func LogLines(tb testing.TB, ctx context.Context) []string {
	tb.Helper()
	return Eval[[]string](tb, ctx, `[...document.querySelectorAll('#`+ui.LogID+` .log-line')].map(e => e.textContent)`)
}

// PageLosses returns the exact losses the chart exposes (the first ui.ChartDataLosses).
func PageLosses(tb testing.TB, ctx context.Context) []float32 {
	tb.Helper()
	raw := Data(tb, ctx, ui.LossChartID, "losses")
	if raw == "" {
		return nil
	}
	var out []float32
	for _, f := range strings.Split(raw, ",") {
		v, err := strconv.ParseFloat(f, 32)
		if err != nil {
			tb.Fatalf("e2e: data-losses holds %q", f)
		}
		out = append(out, float32(v))
	}
	return out
}

// nativeResult is e2e/testdata/nativeref's output.
type nativeResult struct {
	Losses    []uint32 `json:"losses"`
	Correct   int      `json:"correct"`
	Total     int      `json:"total"`
	Precision float64  `json:"precision"`
	Log       []string `json:"log"`
}

// Loss returns step i's loss.
func (r nativeResult) Loss(i int) float32 { return math.Float32frombits(r.Losses[i]) }

var nativeRef = &plainBuild{pkg: "./e2e/testdata/nativeref", name: "nativeref"}

// NativeReference trains and evaluates natively on the synthetic dataset exactly as the native
// trainer does (see e2e/testdata/nativeref for why it is a separate build without
// GOEXPERIMENT=simd) and returns every loss and the precision.
func NativeReference(tb testing.TB, args ...string) nativeResult {
	tb.Helper()
	nativeBin := nativeRef.binary(tb)
	out, err := exec.Command(nativeBin, append([]string{"-data", DataDir(tb)}, args...)...).Output()
	if err != nil {
		tb.Fatalf("e2e: nativeref %v: %v", args, err)
	}
	var r nativeResult
	if err := json.Unmarshal(out, &r); err != nil {
		tb.Fatalf("e2e: nativeref output %s: %v", out, err)
	}
	return r
}

// SetField types text into a setting's field and commits it (a change event), as a user
// does.
func SetField(tb testing.TB, ctx context.Context, key, text string) {
	tb.Helper()
	id := ui.SettingIDPrefix + key
	err := chromedp.Run(ctx,
		chromedp.SetValue(sel(id), text, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`document.getElementById(%q).dispatchEvent(new Event('change', {bubbles: true}))`, id), nil),
	)
	if err != nil {
		tb.Fatalf("e2e: setting #%s to %q: %v", id, text, err)
	}
}
