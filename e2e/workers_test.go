//go:build !js

package e2e

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/wasm/protocol"
)

// OpenWorkers opens the page with the query and waits until n workers hold the dataset.
func OpenWorkers(tb testing.TB, ctx context.Context, srv *Server, query string, n int) {
	tb.Helper()
	OpenTrainer(tb, ctx, srv, query)
	WaitJS(tb, ctx, fmt.Sprintf(`+document.getElementById(%q)?.dataset.workersReady === %d && +document.getElementById(%q)?.dataset.workers === %d`,
		ui.WorkerStatusID, n, ui.WorkerStatusID, n), 30*time.Second)
}

// sameLosses compares the page's losses with a reference, bit for bit.
func sameLosses(tb testing.TB, what string, got []float32, want []uint32) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: %d losses, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != want[i] {
			tb.Errorf("%s: step %d loss %v (%08x), native %08x", what, i, got[i], math.Float32bits(got[i]), want[i])
		}
	}
}

// TestWorkersMatchNative trains 12 steps of batch 64 (4 shards) with 2 workers, then with 3
// (shards split 1, 1, 2), then with 1: every run gives the native trainer's losses bit for bit,
// reports how many workers shared it, and its evaluation (split between the workers) counts
// what native evaluation counts.
func TestWorkersMatchNative(t *testing.T) {
	ctx := NewBrowser(t, Timeout(180*time.Second))
	srv := StartServer(t)
	ref := NativeReference(t, "-steps", "12", "-batch", "64", "-seed", "42")
	for _, n := range []int{2, 3, 1} {
		OpenWorkers(t, ctx, srv, fmt.Sprintf("steps=12&batch=64&seed=42&workers=%d", n), n)
		StartRun(t, ctx)
		WaitPhase(t, ctx, 90*time.Second, protocol.PhaseFinished, protocol.PhaseFailed)
		if p := Phase(t, ctx); p != protocol.PhaseFinished {
			t.Fatalf("%d workers: the run ended %s: %s", n, p, notices(ctx))
		}
		if got := DataInt(t, ctx, ui.WorkerStatusID, "run-workers"); got != n {
			t.Errorf("the run was shared by %d workers, want %d", got, n)
		}
		sameLosses(t, fmt.Sprintf("%d workers", n), PageLosses(t, ctx), ref.Losses)
		Click(t, ctx, ui.EvalStartID)
		WaitJS(t, ctx, `document.getElementById('`+ui.EvalPrecisionID+`')`, 60*time.Second)
		checkPrecision(t, ctx, 12, ref)
	}
}

// TestWorkersCheckpointsResumeAlone trains 10 steps of batch 64 with 2 workers, saving every
// 5: the losses are the native trainer's, and the checkpoints are listed. Then, with the
// workers setting at 1, the run resumes from step 5 on one worker: it repeats steps 5..9 with
// the same losses, bit for bit, and saves a step-10 checkpoint with the same tensors as the
// 2-worker run's.
func TestWorkersCheckpointsResumeAlone(t *testing.T) {
	ctx := NewBrowser(t, Timeout(180*time.Second))
	srv := StartServer(t)
	AllowDownloads(t, ctx)
	OpenWorkers(t, ctx, srv, "steps=10&batch=64&seed=4&save_every=5&workers=2", 2)
	StartRun(t, ctx)
	WaitPhase(t, ctx, 90*time.Second, protocol.PhaseFinished, protocol.PhaseFailed)
	two := PageLosses(t, ctx)
	sameLosses(t, "2 workers", two, NativeReference(t, "-steps", "10", "-batch", "64", "-seed", "4").Losses)
	rows := WaitCkptNames(t, ctx, 10*time.Second, "cifar10.ckpt-10", "cifar10.ckpt-5")
	_, twoFile := Download(t, ctx, rows[0])

	SetField(t, ctx, ui.QueryWorkers, "1")
	WaitJS(t, ctx, fmt.Sprintf(`+document.getElementById(%q).dataset.workers === 1`, ui.WorkerStatusID), 10*time.Second)
	run := DataInt(t, ctx, ui.StatusPhaseID, "run")
	ClickRow(t, ctx, rows[1].ID, "resume")
	WaitJS(t, ctx, fmt.Sprintf(`+document.getElementById(%q)?.dataset.run === %d`, ui.StatusPhaseID, run+1), 10*time.Second)
	WaitPhase(t, ctx, 90*time.Second, protocol.PhaseFinished, protocol.PhaseFailed)
	if got := DataInt(t, ctx, ui.WorkerStatusID, "run-workers"); got != 1 {
		t.Errorf("the resumed run was shared by %d workers, want 1", got)
	}
	one := PageLosses(t, ctx)
	want := make([]uint32, 0, 5)
	for _, l := range two[5:] {
		want = append(want, math.Float32bits(l))
	}
	sameLosses(t, "resumed on 1 worker", one, want)
	newest := WaitNewest(t, ctx, 10)
	if newest.Run == rows[0].Run {
		t.Fatalf("the resumed run's checkpoint is in the first run's group %s", newest.Run)
	}
	_, oneFile := Download(t, ctx, newest)
	SameTensors(t, "step 10 after 2 workers, and after resuming step 5 on 1 worker", twoFile, oneFile)
}

// settledStep waits until the leader's last reports are in (the step shown stays the same for
// a second, the notice saying that step) and returns the step.
func settledStep(t *testing.T, ctx context.Context) int {
	t.Helper()
	step := Step(t, ctx)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		now := Step(t, ctx)
		if now == step && strings.Contains(Text(t, ctx, `.notice[data-where="worker"] .notice-text`), fmt.Sprintf("training stopped at step %d.", now)) {
			return now
		}
		step = now
	}
	t.Fatalf("the step shown still changes after the run failed (now %d)", step)
	return 0
}

// TestKillWorker terminates one of two workers in the middle of a run, as the browser does to
// a crashed worker (without an event): the page says which worker stopped, at which step, and
// that the checkpoints are intact; the run fails and the other worker stays. Resume latest then
// trains on from the newest checkpoint with the one worker left, with the native trainer's
// losses bit for bit.
func TestKillWorker(t *testing.T) {
	ctx := NewBrowser(t, Timeout(240*time.Second))
	srv := StartServer(t)
	ref := NativeReference(t, "-steps", "60", "-batch", "32", "-seed", "9")
	OpenWorkers(t, ctx, srv, "steps=60&batch=32&seed=9&save_every=10&workers=2", 2)
	StartRun(t, ctx)
	WaitNewest(t, ctx, 10)
	if Phase(t, ctx) != protocol.PhaseRunning {
		t.Fatalf("the run is %s before the kill", Phase(t, ctx))
	}
	Eval[bool](t, ctx, `(trainingWorkers[1].terminate(), true)`)

	WaitPhase(t, ctx, 20*time.Second, protocol.PhaseFailed)
	// The page hears of the loss before the leader's last reports (a step or two it finished):
	// once they are in, the message says the step the status shows.
	WaitJS(t, ctx, fmt.Sprintf(`document.querySelector('.notice[data-where="worker"]')?.textContent.includes('Resume latest') &&
		document.querySelector('.notice[data-where="worker"]').textContent.includes('training stopped at step ' + document.getElementById(%q).dataset.step + '.')`,
		ui.StatusStepID), 10*time.Second)
	stopped := settledStep(t, ctx)
	text := Text(t, ctx, `.notice[data-where="worker"] .notice-text`)
	newest := CkptRows(t, ctx)[0]
	for _, want := range []string{"Training worker 2 of 2 stopped", fmt.Sprintf("training stopped at step %d", stopped),
		"checkpoints are intact", "Resume latest goes on from " + newest.Name, "1 worker left"} {
		if !strings.Contains(text, want) {
			t.Errorf("the message %q does not say %q", text, want)
		}
	}
	if got := DataInt(t, ctx, ui.WorkerStatusID, "workers"); got != 1 {
		t.Errorf("%d workers left, want 1", got)
	}
	if newest.Step > int64(stopped) || newest.Step < 10 {
		t.Fatalf("the newest checkpoint is at step %d, the run stopped at %d", newest.Step, stopped)
	}
	kept := IDBCheckpoints(t, ctx)
	t.Logf("killed at step %d; newest checkpoint %s; %s", stopped, newest.Name, text)

	run := DataInt(t, ctx, ui.StatusPhaseID, "run")
	Click(t, ctx, ui.ResumeLatestID)
	WaitJS(t, ctx, fmt.Sprintf(`+document.getElementById(%q)?.dataset.run === %d`, ui.StatusPhaseID, run+1), 10*time.Second)
	WaitPhase(t, ctx, 120*time.Second, protocol.PhaseFinished, protocol.PhaseFailed)
	if p := Phase(t, ctx); p != protocol.PhaseFinished {
		t.Fatalf("the resumed run ended %s: %s", p, notices(ctx))
	}
	sameLosses(t, "resumed with 1 worker", PageLosses(t, ctx), ref.Losses[newest.Step:])
	if got := DataInt(t, ctx, ui.WorkerStatusID, "run-workers"); got != 1 {
		t.Errorf("the resumed run was shared by %d workers, want 1", got)
	}
	after := IDBCheckpoints(t, ctx)
	if c, ok := after[newest.ID]; ok && c.SHA256 != kept[newest.ID].SHA256 {
		t.Errorf("%s changed after the worker died", newest.Name)
	}
}
