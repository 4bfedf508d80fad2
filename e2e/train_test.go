//go:build !js

package e2e

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/nn/training/seedlog"
	"cifar10/wasm/protocol"
)

// seedLine is the seed script's log line.
var seedLine = regexp.MustCompile(`^Step (\d+), loss = (\d+\.\d\d) \(\d+\.\d examples/sec; \d+\.\d\d\d sec/batch\)$`)

// TestTrainPauseResumeStop trains 20 steps at batch 16 with a pause in the middle: the log
// shows the seed's lines for steps 0 and 10, the step counter stops while paused and goes on
// after Resume; then a second, longer run is stopped, which ends it.
func TestTrainPauseResumeStop(t *testing.T) {
	ctx := NewBrowser(t, Timeout(120*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "steps=20&batch=16&seed=3")
	if got := Text(t, ctx, sel(ui.DatasetTrainID)); got != ui.Thousands(5*SyntheticTrainPerFile) {
		t.Errorf("the dataset panel shows %s training images", got)
	}

	StartRun(t, ctx)
	WaitStep(t, ctx, 2, 30*time.Second)
	Click(t, ctx, ui.TrainPauseID)
	WaitPhase(t, ctx, 10*time.Second, protocol.PhasePaused)
	paused := Step(t, ctx)
	time.Sleep(1500 * time.Millisecond)
	if now := Step(t, ctx); now != paused {
		t.Fatalf("the step counter moved from %d to %d while paused", paused, now)
	}
	if paused >= 20 {
		t.Fatalf("paused at step %d: the run was over before the pause", paused)
	}
	loss := Data(t, ctx, ui.StatusLossID, "loss")

	Click(t, ctx, ui.TrainResumeID)
	WaitStep(t, ctx, paused+1, 30*time.Second)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)
	if n := Step(t, ctx); n != 20 {
		t.Errorf("finished at step %d, want 20", n)
	}
	if Data(t, ctx, ui.StatusLossID, "loss") == loss {
		t.Error("the loss did not change after resuming")
	}
	if n := DataInt(t, ctx, ui.LossChartID, "count"); n != 20 {
		t.Errorf("the chart holds %d losses, want 20", n)
	}
	lines := LogLines(t, ctx)
	if len(lines) != 2 {
		t.Fatalf("log lines %q, want steps 0 and 10", lines)
	}
	for i, line := range lines {
		m := seedLine.FindStringSubmatch(line)
		if m == nil || m[1] != fmt.Sprint(10*i) {
			t.Errorf("log line %q is not the seed's line for step %d", line, 10*i)
		}
	}

	// A longer run (the steps field changed in the page, which also goes into the address),
	// stopped in the middle.
	SetField(t, ctx, ui.QuerySteps, "1000")
	WaitJS(t, ctx, `location.search.includes('steps=1000')`, 5*time.Second)
	StartRun(t, ctx)
	WaitStep(t, ctx, 2, 30*time.Second)
	Click(t, ctx, ui.TrainStopID)
	WaitPhase(t, ctx, 10*time.Second, protocol.PhaseStopped)
	stopped := Step(t, ctx)
	time.Sleep(time.Second)
	if now := Step(t, ctx); now != stopped || stopped >= 1000 {
		t.Errorf("after Stop at step %d the counter shows %d", stopped, now)
	}
	if !Eval[bool](t, ctx, `!document.getElementById('`+ui.TrainStartID+`').disabled && document.getElementById('`+ui.TrainResumeID+`').disabled`) {
		t.Error("after Stop, Start should be enabled and Resume disabled")
	}
	if got := Text(t, ctx, sel(ui.StatusPhaseID)); !strings.Contains(strings.ToLower(got), fmt.Sprintf("stopped at step %d", stopped)) {
		t.Errorf("status says %q", got)
	}
}

// TestLossesMatchNative trains 10 steps in the browser and natively with the same seed,
// batch and data: the losses must be the same float32 values, bit for bit, and the log lines
// the native trainer's.
func TestLossesMatchNative(t *testing.T) {
	ctx := NewBrowser(t, Timeout(120*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "steps=12&batch=16&seed=42")
	StartRun(t, ctx)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)
	got := PageLosses(t, ctx)
	ref := NativeReference(t, "-steps", "12", "-batch", "16", "-seed", "42")
	if len(got) != 12 {
		t.Fatalf("the page exposes %d losses, want 12", len(got))
	}
	for i := 0; i < 10; i++ {
		if math.Float32bits(got[i]) != ref.Losses[i] {
			t.Errorf("step %d: browser loss %v (%08x), native %v (%08x)", i, got[i], math.Float32bits(got[i]), ref.Loss(i), ref.Losses[i])
		}
	}
	lines := LogLines(t, ctx)
	for i, want := range ref.Log {
		if i >= len(lines) || !strings.HasPrefix(lines[i], want+" (") {
			t.Errorf("log line %d: browser %q, native %q", i, lines, want)
		}
	}
	t.Logf("first losses: %v", got[:3])
}

// TestEvalMatchesNative evaluates in the browser while a run is paused, and after it has
// finished: each shows "precision: 0.xxxx" and the count of correct test images the native
// evaluation of the same weights gives.
func TestEvalMatchesNative(t *testing.T) {
	ctx := NewBrowser(t, Timeout(150*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "steps=20&batch=16&seed=7")
	StartRun(t, ctx)
	WaitStep(t, ctx, 3, 30*time.Second)
	Click(t, ctx, ui.TrainPauseID)
	WaitPhase(t, ctx, 10*time.Second, protocol.PhasePaused)
	pausedAt := Step(t, ctx)

	Click(t, ctx, ui.EvalStartID)
	WaitJS(t, ctx, `document.getElementById('`+ui.EvalPrecisionID+`')`, 60*time.Second)
	checkPrecision(t, ctx, pausedAt, NativeReference(t, "-steps", fmt.Sprint(pausedAt), "-batch", "16", "-seed", "7"))
	if Phase(t, ctx) != protocol.PhasePaused || Step(t, ctx) != pausedAt {
		t.Errorf("evaluating changed the paused run: %s at step %d", Phase(t, ctx), Step(t, ctx))
	}

	Click(t, ctx, ui.TrainResumeID)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)
	Click(t, ctx, ui.EvalStartID)
	WaitJS(t, ctx, `document.getElementById('`+ui.EvalPrecisionID+`')?.dataset.step === '20'`, 60*time.Second)
	checkPrecision(t, ctx, 20, NativeReference(t, "-steps", "20", "-batch", "16", "-seed", "7"))
}

func checkPrecision(t *testing.T, ctx context.Context, step int, ref nativeResult) {
	t.Helper()
	text := Text(t, ctx, sel(ui.EvalPrecisionID))
	if !regexp.MustCompile(`^precision: [01]\.\d{4}$`).MatchString(text) {
		t.Errorf("the precision reads %q", text)
	}
	correct := DataInt(t, ctx, ui.EvalPrecisionID, "correct")
	total := DataInt(t, ctx, ui.EvalPrecisionID, "total")
	if correct != ref.Correct || total != ref.Total || total != SyntheticTest {
		t.Errorf("after %d steps the browser counts %d of %d correct, native %d of %d", step, correct, total, ref.Correct, ref.Total)
	}
	if want := seedlog.Precision(ref.Precision); text != want {
		t.Errorf("browser %q, native %q", text, want)
	}
	t.Logf("step %d: %s (%d/%d)", step, text, correct, total)
}
