//go:build !js

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/nn/cifar"
	"cifar10/wasm/protocol"
)

// The browser benchmark trains the tutorial model at the script's batch size with 1 and with
// 2 workers, each in a browser of its own, and compares their speeds.
//
// The development machines' speed drifts by tens of percent within minutes, more than the
// difference being measured, so the two are not timed one after the other: both browsers stay
// open with a run each, and take turns training in short bursts (resumed, a few seconds of
// steps, paused) while the other one's run is paused. Each burst of 2 workers is compared with
// the bursts of 1 worker just before and after it, so a drift of the machine cancels out to
// first order, and the ratio reported is the median over the rounds.
const benchBatch = 128

// benchWorkers are the worker counts compared, the first being the reference.
var benchWorkers = []int{1, 2}

// benchBurst is the steps of one burst per worker count: about the same few seconds each.
// benchWarmup is the steps a run trains before the bursts start: with every core training,
// V8's optimizing compiler takes longer, and the first 10 to 20 steps of 2 workers are slower.
var benchBurst, benchWarmup = map[int]int{1: 8, 2: 16}, map[int]int{1: 8, 2: 20}

// benchRunSteps is the steps setting of the interleaved runs: more than they ever reach.
const benchRunSteps = 100_000

// benchRounds is the number of bursts of each worker count (BENCH_ROUNDS, default 10).
func benchRounds() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 10
}

// benchWholeSteps is BENCH_STEPS: when set (at least 30), whole runs of that many steps, one
// per worker count in a fresh browser, are also timed by the clock, checkpoints and warm-up
// included (BENCH_STEPS=1000 is the seed's run).
func benchWholeSteps() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_STEPS")); err == nil && n >= 30 {
		return n
	}
	return 0
}

// BenchmarkBrowserTrain (make bench-browser) opens the page in a fresh headless Chromium, loads
// the dataset, visits again (the dataset now comes from IndexedDB), then compares 1 and 2
// workers in interleaved bursts (benchInterleaved): examples/s of each, their ratio, the tabs'
// memory while training and an evaluation in each. With BENCH_STEPS it also times whole runs.
// It serves the repository's web/ folder when `make build` has made its brotli twins (what
// users get), and the real dataset when $CIFAR10_DATA (default /tmp/cifar10_data) holds it.
// With BENCH_NODE=1 it also runs what one worker computes, replica's BenchmarkStep (a batch
// as 8 shards of 16), as wasm under Node, and prints the ratio.
func BenchmarkBrowserTrain(b *testing.B) {
	// go test keeps only the first lines of a benchmark's b.Log output, so the findings are
	// printed to stdout in one block at the end.
	var report []string
	logf := func(format string, args ...any) { report = append(report, fmt.Sprintf(format, args...)) }
	defer func() { fmt.Println("bench-browser:\n  " + strings.Join(report, "\n  ")) }()
	profile := NewProfile(b)
	srv := benchServer(b, logf)
	benchVisits(b, srv, profile, logf)

	tabs := benchInterleaved(b, srv, profile, logf)
	for i, t := range tabs {
		b.ReportMetric(median(t.leader()), fmt.Sprintf("examples/s-%dw", benchWorkers[i]))
		b.ReportMetric(float64(t.live.Page)/1e6, fmt.Sprintf("tab-MB-%dw", benchWorkers[i]))
	}
	ratios := burstRatios(tabs[0].leader(), tabs[len(tabs)-1].leader())
	b.ReportMetric(median(tabs[len(tabs)-1].leader()), "examples/s")
	b.ReportMetric(median(ratios), "speedup")

	if steps := benchWholeSteps(); steps > 0 {
		var whole []benchResult
		for _, n := range benchWorkers {
			ctx := NewBrowser(b, Timeout(time.Duration(steps)*3*time.Second+5*time.Minute), Profile(profile))
			whole = append(whole, benchRun(b, ctx, srv, n, steps, logf))
			CloseBrowser(ctx)
		}
		first, last := whole[0], whole[len(whole)-1]
		logf("whole runs of %d steps: %d workers / 1 worker %.2fx by the clock (%.1f vs %.1f s); with %d the run took %.1f min",
			steps, last.workers, first.runSec/last.runSec, last.runSec, first.runSec, last.workers, last.runSec/60)
	}
	if os.Getenv("BENCH_NODE") == "1" {
		node := nodeStep(b, repoRoot(b))
		logf("one worker's sharded step under Node: %.1f examples/s; one browser worker/Node = %.0f%%", node, 100*median(tabs[0].leader())/node)
	}
}

// benchServer starts the server on the build users get and the real dataset, when present.
func benchServer(b *testing.B, logf func(string, ...any)) *Server {
	var flags []string
	web := filepath.Join(repoRoot(b), "web")
	if fileExists(filepath.Join(web, "app.wasm.br")) && fileExists(filepath.Join(web, "worker.wasm.br")) {
		flags = append(flags, "-web", web)
		logf("serving %s (brotli twins from make build)", web)
	} else {
		logf("serving the harness build (gzip twins only); run make build for brotli")
	}
	data := os.Getenv("CIFAR10_DATA")
	if data == "" {
		data = "/tmp/cifar10_data"
	}
	if fileExists(filepath.Join(data, cifar.DirName, cifar.TestFile)) {
		flags = append(flags, "-data", data)
		logf("dataset: %s", data)
	} else {
		logf("dataset: the synthetic set (no %s)", filepath.Join(data, cifar.DirName))
	}
	return StartServer(b, flags...)
}

// benchVisits times the first visit (app and dataset downloaded) and the second (the dataset
// from IndexedDB), leaving the dataset in profile.
func benchVisits(b *testing.B, srv *Server, profile string, logf func(string, ...any)) {
	ctx := NewBrowser(b, Timeout(15*time.Minute), Profile(profile))
	start := time.Now()
	Open(b, ctx, fmt.Sprintf("%s/?batch=%d&preset=cifar10", srv.URL, benchBatch))
	interactive := time.Since(start)
	WaitJS(b, ctx, `document.getElementById('`+ui.WorkerStatusID+`')?.dataset.ready === 'true'`, time.Minute)
	workerReady := time.Since(start)
	WaitJS(b, ctx, datasetReady, 10*time.Minute)
	dataReady := time.Since(start)
	Eval[bool](b, ctx, `navigator.serviceWorker.ready.then(() => true)`)
	time.Sleep(time.Second) // let go-app's service worker finish caching
	var appBytes, dataBytes int64
	for _, r := range srv.Log() {
		if strings.HasPrefix(r.Path, "/data/") {
			dataBytes += r.Bytes
		} else {
			appBytes += r.Bytes
		}
	}
	logf("first visit: %.2f MB of app (page, wasm, scripts, service worker cache) + %.1f MB of dataset", float64(appBytes)/1e6, float64(dataBytes)/1e6)
	logf("page interactive after %v, workers ready after %v, dataset loaded after %v", interactive.Round(time.Millisecond), workerReady.Round(time.Millisecond), dataReady.Round(time.Millisecond))
	b.ReportMetric(float64(appBytes+dataBytes)/1e6, "first-visit-MB")
	b.ReportMetric(float64(appBytes)/1e6, "app-MB")
	b.ReportMetric(float64(interactive.Milliseconds()), "interactive-ms")
	CloseBrowser(ctx)

	ctx = NewBrowser(b, Timeout(5*time.Minute), Profile(profile))
	before := srv.Requests("/data/")
	start = time.Now()
	Open(b, ctx, srv.URL+"/")
	WaitJS(b, ctx, datasetReady, 5*time.Minute)
	logf("second visit: interactive and dataset loaded from IndexedDB after %v, %d dataset requests (%s)",
		time.Since(start).Round(time.Millisecond), srv.Requests("/data/")-before, Text(b, ctx, sel(ui.DatasetStatusID)))
	CloseBrowser(ctx)
}

// benchTab is one browser of the interleaved comparison, with its run.
type benchTab struct {
	workers   int
	ctx       context.Context
	bursts    []burst
	live      Memory // the tab's memory while training, garbage collected
	goMem     []int  // each worker's Go memory (MB)
	evalSec   float64
	evalLines []string
}

// burst is the speed of one burst, in examples/s: by the leader's own timing (sampling, step
// and waiting for the other workers, as the seed script timed a step) and by the clock (the
// page's step counter, checkpoint saves included); and the share of the leader's time spent
// waiting for the other workers.
type burst struct{ leader, wall, wait float64 }

func (t *benchTab) leader() []float64 {
	var v []float64
	for _, b := range t.bursts {
		v = append(v, b.leader)
	}
	return v
}

func (t *benchTab) wall() []float64 {
	var v []float64
	for _, b := range t.bursts {
		v = append(v, b.wall)
	}
	return v
}

// benchInterleaved opens one browser per worker count (copies of profile, which holds the
// dataset), starts a run in each and warms it up, then runs benchRounds() rounds of one burst
// per browser, and a last burst of the first browser so that every burst of the others has a
// reference burst on each side. Then it measures each tab's memory during one more burst and
// evaluates the test set in each.
func benchInterleaved(b *testing.B, srv *Server, profile string, logf func(string, ...any)) []*benchTab {
	var tabs []*benchTab
	for i, n := range benchWorkers {
		dir := profile
		if i > 0 {
			dir = filepath.Join(b.TempDir(), "profile")
			if err := copyTree(dir, profile); err != nil {
				b.Fatalf("copying the browser profile: %v", err)
			}
		}
		t := &benchTab{workers: n, ctx: NewBrowser(b, Timeout(60*time.Minute), Profile(dir))}
		OpenWorkers(b, t.ctx, srv, fmt.Sprintf("steps=%d&batch=%d&preset=cifar10&workers=%d&eval_every=0", benchRunSteps, benchBatch, n), n)
		Eval[bool](b, t.ctx, stepRecorder)
		StartRun(b, t.ctx)
		WaitStep(b, t.ctx, benchWarmup[n], 5*time.Minute)
		pauseRun(b, t.ctx)
		tabs = append(tabs, t)
	}
	rounds := benchRounds()
	for range rounds {
		for _, t := range tabs {
			t.bursts = append(t.bursts, runBurst(b, t))
		}
	}
	tabs[0].bursts = append(tabs[0].bursts, runBurst(b, tabs[0]))
	ref := tabs[0]
	for i := range rounds {
		line := fmt.Sprintf("round %d: 1 worker %.1f and %.1f examples/s", i+1, ref.bursts[i].leader, ref.bursts[i+1].leader)
		for _, t := range tabs[1:] {
			x := t.bursts[i]
			line += fmt.Sprintf("; %d workers %.1f (%.0f%% waiting): %.2fx (by the clock %.1f: %.2fx)", t.workers, x.leader, 100*x.wait,
				x.leader/mean(ref.bursts[i].leader, ref.bursts[i+1].leader), x.wall, x.wall/mean(ref.bursts[i].wall, ref.bursts[i+1].wall))
		}
		logf("%s", line)
	}
	for _, t := range tabs {
		t.measure(b)
	}
	for i, t := range tabs {
		var waits []float64
		for _, x := range t.bursts {
			waits = append(waits, 100*x.wait)
		}
		logf("%d worker(s): median %.1f examples/s by the leader's timing (bursts %.0f), %.1f by the clock, the leader waiting for the others %.0f%% of its time (%s)",
			t.workers, median(t.leader()), t.leader(), median(t.wall()), median(waits), Data(b, t.ctx, ui.WorkerStatusID, "kernel"))
		logf("  tab memory while training, garbage collected: %v; Go memory of the workers %v MB", t.live, t.goMem)
		logf("  evaluation: %s in %.1f s", strings.Join(t.evalLines, ""), t.evalSec)
		if i == 0 {
			continue
		}
		lr, wr := burstRatios(ref.leader(), t.leader()), burstRatios(ref.wall(), t.wall())
		slices.Sort(lr)
		slices.Sort(wr)
		logf("%d workers / 1 worker over %d rounds: median %.2fx (%.2f), by the clock %.2fx (%.2f); the seed's 1000 steps would take %.1f min with %d (%.1f by the clock)",
			t.workers, rounds, median(lr), lr, median(wr), wr, 1000*benchBatch/median(t.leader())/60, t.workers, 1000*benchBatch/median(t.wall())/60)
	}
	for _, t := range tabs {
		CloseBrowser(t.ctx)
	}
	return tabs
}

// stepRecorder makes the page note the time of every change of the step counter, so that a
// burst is timed by the clock from its first reported step to its last.
const stepRecorder = `(() => {
	window.benchSteps = [];
	const note = () => {
		const el = document.getElementById('` + ui.StatusStepID + `');
		if (!el) return;
		const s = +el.dataset.step, a = window.benchSteps;
		if (!a.length || a[a.length - 1][1] !== s) a.push([performance.now(), s]);
	};
	new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-step']});
	return true;
})()`

// runBurst resumes tab t's run for benchBurst steps and pauses it again.
func runBurst(b *testing.B, t *benchTab) burst {
	ctx := t.ctx
	ex0, sec0, wait0 := trainedSoFar(b, ctx)
	from := Step(b, ctx)
	Eval[bool](b, ctx, `(window.benchSteps = [], true)`)
	Click(b, ctx, ui.TrainResumeID)
	WaitStep(b, ctx, from+benchBurst[t.workers], 5*time.Minute)
	pauseRun(b, ctx)
	ex1, sec1, wait1 := trainedSoFar(b, ctx)
	// By the clock: from the first step reported after the resume to the last of the burst.
	marks := Eval[[][2]float64](b, ctx, `window.benchSteps`)
	var wall float64
	if len(marks) >= 2 {
		first, last := marks[0], marks[len(marks)-1]
		wall = (last[1] - first[1]) * benchBatch / ((last[0] - first[0]) / 1000)
	}
	return burst{leader: (ex1 - ex0) / (sec1 - sec0), wall: wall, wait: (wait1 - wait0) / (sec1 - sec0)}
}

// trainedSoFar is the run's examples, seconds spent in steps and, of those, seconds spent
// waiting for the other workers, as the leader reports them.
func trainedSoFar(b *testing.B, ctx context.Context) (examples, seconds, wait float64) {
	examples, _ = strconv.ParseFloat(Data(b, ctx, ui.StatusSpeedID, "examples"), 64)
	seconds, _ = strconv.ParseFloat(Data(b, ctx, ui.StatusSpeedID, "seconds"), 64)
	wait, _ = strconv.ParseFloat(Data(b, ctx, ui.StatusSpeedID, "wait"), 64)
	return examples, seconds, wait
}

// pauseRun clicks Pause and waits until the run (every worker of it) has paused.
func pauseRun(b *testing.B, ctx context.Context) {
	Click(b, ctx, ui.TrainPauseID)
	WaitPhase(b, ctx, 2*time.Minute, protocol.PhasePaused)
}

// measure reads the tab's memory in the middle of one more burst (after collecting garbage),
// then evaluates the test set with the paused run's weights.
func (t *benchTab) measure(b *testing.B) {
	ctx := t.ctx
	from := Step(b, ctx)
	Click(b, ctx, ui.TrainResumeID)
	WaitStep(b, ctx, from+benchBurst[t.workers]/2, 5*time.Minute)
	CollectGarbage(b, ctx)
	t.live = TabMemory(b, ctx)
	for _, w := range WorkerContexts(b, ctx) {
		t.goMem = append(t.goMem, Eval[int](b, w, `goMemory.buffer.byteLength`)>>20)
	}
	pauseRun(b, ctx)
	start := time.Now()
	Click(b, ctx, ui.EvalStartID)
	WaitJS(b, ctx, `document.getElementById('`+ui.EvalPrecisionID+`')`, 10*time.Minute)
	t.evalSec = time.Since(start).Seconds()
	t.evalLines = []string{Text(b, ctx, sel(ui.EvalPrecisionID)), " (", strings.TrimSpace(Eval[string](b, ctx, `document.querySelector('.result .muted').textContent`)), ")"}
}

// burstRatios compares each burst of other with the mean of the reference bursts on either
// side of it (ref has one more burst than other).
func burstRatios(ref, other []float64) []float64 {
	var r []float64
	for i, x := range other {
		if i+1 < len(ref) {
			r = append(r, x/mean(ref[i], ref[i+1]))
		}
	}
	return r
}

func mean(a, b float64) float64 { return (a + b) / 2 }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// copyTree copies the regular files and folders of src into dst (a closed browser profile:
// its lock files, symbolic links, are gone).
func copyTree(dst, src string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
}

// benchResult is one whole run, by the clock.
type benchResult struct {
	workers int
	runSec  float64 // from the click on Start to the end of the run
}

// benchRun trains a whole run of steps steps with n workers in a fresh page and times it by
// the clock, from the click on Start to the run's end.
func benchRun(b *testing.B, ctx context.Context, srv *Server, n, steps int, logf func(string, ...any)) benchResult {
	OpenWorkers(b, ctx, srv, fmt.Sprintf("steps=%d&batch=%d&preset=cifar10&workers=%d&eval_every=0", steps, benchBatch, n), n)
	start := time.Now()
	StartRun(b, ctx)
	WaitPhase(b, ctx, time.Duration(steps)*3*time.Second, protocol.PhaseFinished, protocol.PhaseFailed, protocol.PhaseStopped)
	r := benchResult{workers: n, runSec: time.Since(start).Seconds()}
	if p := Phase(b, ctx); p != protocol.PhaseFinished {
		b.Fatalf("%d workers: the run ended %s: %s", n, p, notices(ctx))
	}
	if got := DataInt(b, ctx, ui.WorkerStatusID, "run-workers"); got != n {
		b.Fatalf("the run was shared by %d workers, want %d", got, n)
	}
	examples, seconds, _ := trainedSoFar(b, ctx)
	logf("whole run, %d worker(s): %d steps in %.1f s by the clock (%.1f examples/s; %.1f by the leader's timing)",
		n, steps, r.runSec, float64(steps*benchBatch)/r.runSec, examples/seconds)
	return r
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// nodeStep runs nn/replica's BenchmarkStep (batch 128 of the cifar10 preset in 8 shards, as a
// browser worker training alone computes it) as wasm with SIMD under Node and returns its
// examples/s.
func nodeStep(b *testing.B, root string) float64 {
	bin := filepath.Join(workDir, "bin", "replica-wasm.test")
	build := exec.Command("go", "test", "-c", "-o", bin, "./nn/replica")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOEXPERIMENT=simd")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building nn for wasm: %v\n%s", err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Fatalf("go env GOROOT: %v", err)
	}
	exe := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "go_js_wasm_exec")
	run := exec.Command(exe, bin, "-test.run", "^$", "-test.bench", "BenchmarkStep$", "-test.benchtime", "10x")
	run.Dir = filepath.Join(root, "nn", "replica")
	out, err := run.CombinedOutput()
	if err != nil {
		b.Fatalf("nn under Node: %v\n%s", err, out)
	}
	re := regexp.MustCompile(`([0-9.]+) examples/s`)
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			return v
		}
	}
	b.Fatalf("no examples/s in:\n%s", out)
	return 0
}

// BenchmarkBrowserInside (make bench-browser) measures what the views inside the network cost
// training: one tab trains the tutorial model with 2 workers (precision over time off) in
// bursts alternately with the views closed and open (filters and activations of a test image
// pulled once a second from the leader), each open burst compared with the closed bursts on
// either side of it, by the clock (the leader answers between steps, and the page draws, so
// only the clock sees the whole cost) and by the leader's step timing.
func BenchmarkBrowserInside(b *testing.B) {
	var report []string
	logf := func(format string, args ...any) { report = append(report, fmt.Sprintf(format, args...)) }
	defer func() { fmt.Println("bench-browser (views inside the network):\n  " + strings.Join(report, "\n  ")) }()
	srv := benchServer(b, logf)
	const n = 2
	profile := NewProfile(b)
	first := NewBrowser(b, Timeout(15*time.Minute), Profile(profile))
	Open(b, first, srv.URL+"/") // the dataset, kept in the profile's IndexedDB
	WaitJS(b, first, datasetReady, 10*time.Minute)
	CloseBrowser(first)
	t := &benchTab{workers: n, ctx: NewBrowser(b, Timeout(60*time.Minute), Profile(profile))}
	ctx := t.ctx
	OpenWorkers(b, ctx, srv, fmt.Sprintf("steps=%d&batch=%d&preset=cifar10&workers=%d&eval_every=0", benchRunSteps, benchBatch, n), n)
	Eval[bool](b, ctx, stepRecorder)
	Eval[bool](b, ctx, insideRecorder)
	StartRun(b, ctx)
	WaitStep(b, ctx, benchWarmup[n], 5*time.Minute)
	pauseRun(b, ctx)
	var closed, open []burst
	var looks []int
	for range benchRounds() {
		closed = append(closed, runBurst(b, t))
		showInside(b, ctx, true)
		Eval[bool](b, ctx, `(window.benchLooks = 0, true)`)
		open = append(open, runBurst(b, t))
		looks = append(looks, Eval[int](b, ctx, `window.benchLooks`))
		showInside(b, ctx, false)
	}
	closed = append(closed, runBurst(b, t))
	lead := func(v []burst) (out []float64) {
		for _, x := range v {
			out = append(out, x.leader)
		}
		return out
	}
	wall := func(v []burst) (out []float64) {
		for _, x := range v {
			out = append(out, x.wall)
		}
		return out
	}
	wr, lr := burstRatios(wall(closed), wall(open)), burstRatios(lead(closed), lead(open))
	for i := range open {
		logf("round %d: closed %.1f and %.1f examples/s by the clock, open %.1f (%d looks inside): %.3fx (leader's timing %.3fx)",
			i+1, closed[i].wall, closed[i+1].wall, open[i].wall, looks[i], wr[i], lr[i])
	}
	sw, sl := slices.Sorted(slices.Values(wr)), slices.Sorted(slices.Values(lr))
	logf("views open / closed, %d workers, batch %d, over %d rounds: median %.3fx by the clock (%.3f), %.3fx by the leader's timing (%.3f)",
		n, benchBatch, len(open), median(wr), sw, median(lr), sl)
	b.ReportMetric(median(wr), "open/closed")
	b.ReportMetric(median(wall(closed)), "examples/s-closed")
	b.ReportMetric(median(wall(open)), "examples/s-open")
	CloseBrowser(ctx)
}

// insideRecorder counts the activations view's redraws (window.benchLooks).
const insideRecorder = `(() => {
	window.benchLooks = 0;
	let last = '';
	new MutationObserver(() => {
		const el = document.getElementById('` + ui.ActivationsID + `');
		const s = el ? el.dataset.step + '/' + el.querySelector('.act-layer')?.dataset.digest : '';
		if (el && s !== last) { window.benchLooks++; last = s; }
	}).observe(document.body, {subtree: true, childList: true, attributes: true});
	return true;
})()`

// showInside opens or closes the views inside the network and waits until they are drawn or
// gone.
func showInside(b *testing.B, ctx context.Context, open bool) {
	Click(b, ctx, ui.InsideToggleID)
	if open {
		WaitJS(b, ctx, `document.querySelectorAll('#`+ui.FiltersID+` .filter-tile').length > 0 && document.getElementById('`+ui.ActivationsID+`')?.dataset.step`, time.Minute)
		return
	}
	WaitJS(b, ctx, `!document.getElementById('`+ui.FiltersID+`')`, time.Minute)
}
