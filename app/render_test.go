package app

import (
	"regexp"
	"strings"
	"testing"

	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// button returns the opening tag of the button with the given id.
func button(t *testing.T, html, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<button[^>]*id="` + id + `"[^>]*>`).FindString(html)
	if m == "" {
		t.Fatalf("no #%s in %s", id, html)
	}
	return m
}

// disabled tells whether a tag is disabled. go-app writes a false boolean attribute as
// disabled="false" on the server (the browser's own rendering then drops it).
func disabled(tag string) bool {
	return strings.Contains(strings.ReplaceAll(tag, `disabled="false"`, ""), "disabled")
}

func TestControlsButtons(t *testing.T) {
	tests := []struct {
		phase    protocol.Phase
		canStart bool
		enabled  []string
	}{
		{"", true, []string{TrainStartID}},
		{protocol.PhaseRunning, false, []string{TrainPauseID, TrainStopID}},
		{protocol.PhasePaused, false, []string{TrainResumeID, TrainStopID}},
		{protocol.PhaseFinished, true, []string{TrainStartID}},
	}
	for _, tc := range tests {
		html := app.HTMLString(&Controls{Settings: protocol.DefaultSettings(), Presets: []string{"cifar10"}, Phase: tc.phase, CanStart: tc.canStart})
		for _, id := range []string{TrainStartID, TrainPauseID, TrainResumeID, TrainStopID} {
			want := false
			for _, e := range tc.enabled {
				want = want || e == id
			}
			if got := !disabled(button(t, html, id)); got != want {
				t.Errorf("phase %q: #%s enabled %v, want %v", tc.phase, id, got, want)
			}
		}
	}
}

// TestPrerender checks that the server's page already holds every automation id, with the
// controls showing the defaults, before any wasm runs.
func TestPrerender(t *testing.T) {
	h := &Home{}
	h.OnInit()
	html := app.HTMLString(h)
	for _, id := range []string{TrainStartID, TrainPauseID, TrainResumeID, TrainStopID, StatusStepID, StatusLossID, LogID,
		EvalStartID, LossChartID, DatasetStatusID, SettingIDPrefix + QuerySteps, SettingIDPrefix + QueryPreset,
		RestoreLatestID, ResumeLatestID, CkptListID, CkptUploadID} {
		if !strings.Contains(html, `id="`+id+`"`) {
			t.Errorf("the prerendered page lacks #%s", id)
		}
	}
	if strings.Contains(html, `id="`+ClientReadyID+`"`) {
		t.Error("the server renders the client-only marker")
	}
	if !strings.Contains(html, `value="1000"`) || !strings.Contains(html, `value="128"`) {
		t.Error("the controls do not show the default steps and batch")
	}
}

func TestEvalPanelPrecision(t *testing.T) {
	html := app.HTMLString(&EvalPanel{CanEval: true, ClassNames: []string{"a", "b"}, Eval: EvalView{
		Result: &protocol.EvalResult{Step: 20, Correct: 3, Total: 4, Precision: 0.75, Confusion: [][]int{{2, 0}, {1, 1}}},
	}})
	for _, want := range []string{"precision: 0.7500", `data-correct="3"`, `data-total="4"`, "100.0%", "50.0%"} {
		if !strings.Contains(html, want) {
			t.Errorf("eval panel lacks %q:\n%s", want, html)
		}
	}
	if disabled(button(t, html, EvalStartID)) {
		t.Error("Evaluate is disabled")
	}
}

func TestLossChartData(t *testing.T) {
	html := app.HTMLString(&LossChart{Losses: []float32{2.3025851, 2.25}, Steps: 20})
	if !strings.Contains(html, `data-losses="2.3025851,2.25"`) || !strings.Contains(html, `data-count="2"`) {
		t.Errorf("chart data attributes: %s", html)
	}
	if strings.Count(html, "<polyline") != 2 || strings.Contains(app.HTMLString(&LossChart{}), "<polyline") {
		t.Errorf("want raw and smoothed lines: %s", html)
	}
}

// TestStatusWait: the share of the steps spent waiting for the slowest worker shows only for
// a run shared by several workers (a worker alone never waits).
func TestStatusWait(t *testing.T) {
	run := RunView{Phase: protocol.PhaseRunning, Step: 20, Speed: 300, SecBatch: 0.4, Examples: 2560, Seconds: 8}
	if html := app.HTMLString(&StatusPanel{Run: run}); strings.Contains(html, StatusWaitID) {
		t.Errorf("one worker's status shows a wait: %s", html)
	}
	run.Wait = 0.4
	html := app.HTMLString(&StatusPanel{Run: run})
	if m := regexp.MustCompile(`id="` + StatusWaitID + `"[^>]*>([^<]*)<`).FindStringSubmatch(html); m == nil || m[1] != "5%" {
		t.Errorf("want the wait as 5%%, got %v in %s", m, html)
	}
	if !strings.Contains(html, `data-wait="0.4"`) {
		t.Errorf("no data-wait: %s", html)
	}
}
