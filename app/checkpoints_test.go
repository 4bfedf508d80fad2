package app

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"cifar10/wasm"
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

func info(run string, step int64, saved int64) protocol.CheckpointInfo {
	loss := 2.25
	return protocol.CheckpointInfo{ID: protocol.CheckpointID(run, step), Run: run, Step: step, Saved: saved, Size: 12818608,
		Preset: "cifar10", Seed: 1, Batch: 16, LR: 1e-3, Loss: &loss, Steps: 100, Resumable: true}
}

func saved(c protocol.CheckpointInfo, removed ...string) wasm.Inbound {
	return wasm.Inbound{Msg: protocol.Message{Payload: protocol.CheckpointSaved{Info: c, Removed: removed}}}
}

func ids(list []protocol.CheckpointInfo) string {
	var out []string
	for _, c := range list {
		out = append(out, c.Name())
	}
	return strings.Join(out, " ")
}

// TestCheckpointList follows the list from IndexedDB through saves that prune and a deletion.
func TestCheckpointList(t *testing.T) {
	st := readyStore(t, protocol.DefaultSettings(), false)
	st.SetCheckpoints([]protocol.CheckpointInfo{info("r1", 10, 100), info("r1", 20, 200)}, nil)
	if got := ids(st.Checkpoints.List); got != "cifar10.ckpt-20 cifar10.ckpt-10" {
		t.Fatalf("list %s, want newest first", got)
	}
	st.Apply(saved(info("r1", 30, 300), protocol.CheckpointID("r1", 10)))
	if got := ids(st.Checkpoints.List); got != "cifar10.ckpt-30 cifar10.ckpt-20" {
		t.Errorf("after a save that pruned step 10: %s", got)
	}
	if c, ok := st.Checkpoints.Latest(); !ok || c.Step != 30 {
		t.Errorf("latest %+v", c)
	}
	st.RemoveCheckpoints(protocol.CheckpointID("r1", 30))
	if got := ids(st.Checkpoints.List); got != "cifar10.ckpt-20" {
		t.Errorf("after deleting step 30: %s", got)
	}
	st.SetCheckpoints(nil, errors.New("no IndexedDB"))
	if !strings.Contains(st.Checkpoints.Unavailable, "no IndexedDB") {
		t.Errorf("unavailable %q", st.Checkpoints.Unavailable)
	}
}

// TestRestoreAdopted restores a checkpoint: the page keeps its run until the worker confirms,
// then switches to the restored run, whose losses start at the checkpoint's step.
func TestRestoreAdopted(t *testing.T) {
	st := readyStore(t, protocol.DefaultSettings(), false)
	st.SetCheckpoints([]protocol.CheckpointInfo{info("r1", 10, 100)}, nil)
	if offer := st.ResumeOffer(); !strings.Contains(offer, "step 10 of 100") || !strings.Contains(offer, "cifar10.ckpt-10") {
		t.Errorf("offer %q", offer)
	}
	msg := st.RestoreCheckpoint(protocol.CheckpointID("r1", 10), true)
	if req, ok := msg.Payload.(protocol.RestoreRequest); !ok || msg.Run != 1 || !req.Resume || req.Settings != st.Settings {
		t.Fatalf("message %+v", msg)
	}
	if ok, why := st.CanStart(); ok || !strings.Contains(why, "restored") {
		t.Errorf("Start during a restore: %v %q", ok, why)
	}
	runSet := st.Settings
	runSet.Batch, runSet.Seed = 16, 1
	st.Apply(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.RunState{Phase: protocol.PhaseRunning, Step: 10, Settings: &runSet}}})
	if st.Run.ID != 1 || st.Run.Phase != protocol.PhaseRunning || st.Run.Step != 10 || st.Run.Settings.Batch != 16 || st.Checkpoints.Pending != nil {
		t.Fatalf("run %+v pending %+v", st.Run, st.Checkpoints.Pending)
	}
	st.Apply(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.Progress{Step: 12, FirstStep: 10, Losses: []float32{2, 1.5}}}})
	if len(st.Losses) != 2 || st.LossStart != 10 || st.ResumeOffer() != "" {
		t.Errorf("losses %v from %d; offer %q", st.Losses, st.LossStart, st.ResumeOffer())
	}
	if ok, why := st.CanRestore(); ok || why != "stop the current run first" {
		t.Errorf("restore during a run: %v %q", ok, why)
	}
}

// TestRestoreRefused keeps the page's run when the worker cannot restore.
func TestRestoreRefused(t *testing.T) {
	st := readyStore(t, protocol.DefaultSettings(), false)
	st.Apply(wasm.Inbound{Msg: st.StartRun()})
	st.Apply(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.RunState{Phase: protocol.PhaseFinished, Step: 5}}})
	st.SetCheckpoints([]protocol.CheckpointInfo{info("r1", 5, 100)}, nil)
	st.RestoreCheckpoint(protocol.CheckpointID("r1", 5), false)
	st.Apply(wasm.Inbound{Msg: protocol.Message{Run: 2, Payload: protocol.Failure{Where: protocol.WhereCheckpoint, Message: "cifar10.ckpt-5 cannot be restored: gone"}}})
	if st.Run.ID != 1 || st.Run.Phase != protocol.PhaseFinished || st.Checkpoints.Pending != nil {
		t.Errorf("run %+v pending %+v", st.Run, st.Checkpoints.Pending)
	}
	if n := len(st.Messages); n != 1 || !strings.Contains(st.Messages[0].Text, "cannot be restored") {
		t.Errorf("messages %+v", st.Messages)
	}
}

func TestCanResume(t *testing.T) {
	st := readyStore(t, protocol.DefaultSettings(), false)
	st.Settings.Steps = 20
	c := info("r1", 20, 1)
	if ok, why := st.CanResume(c); ok || !strings.Contains(why, "above 20") {
		t.Errorf("resume at the last step: %v %q", ok, why)
	}
	st.Settings.Steps = 30
	if ok, _ := st.CanResume(c); !ok {
		t.Error("cannot resume with Max steps above the checkpoint")
	}
	c.Resumable = false
	st.Settings.Steps = 5
	if ok, _ := st.CanResume(c); !ok {
		t.Error("a weights-only file cannot be fine-tuned")
	}
}

// TestUploadRefused ends the upload wait on the worker's refusal and shows its sentence.
func TestUploadRefused(t *testing.T) {
	st := readyStore(t, protocol.DefaultSettings(), false)
	st.Checkpoints.Uploading = "bad.safetensors"
	st.Apply(wasm.Inbound{Msg: protocol.Message{Payload: protocol.Failure{Where: protocol.WhereCheckpoint, Message: "the file bad.safetensors was not stored: tensor conv1/weights holds NaN at index 0"}}})
	if st.Checkpoints.Uploading != "" || len(st.Messages) != 1 || st.Messages[0].Where != protocol.WhereCheckpoint {
		t.Errorf("uploading %q, messages %+v", st.Checkpoints.Uploading, st.Messages)
	}
	up := info("u9", 1000, 500)
	up.Upload = "cifar10.ckpt-1000.safetensors"
	st.Checkpoints.Uploading = up.Upload
	st.Apply(saved(up))
	if st.Checkpoints.Uploading != "" || ids(st.Checkpoints.List) != "cifar10.ckpt-1000" || st.ResumeOffer() != "" {
		t.Errorf("after a stored upload: %q %s offer %q", st.Checkpoints.Uploading, ids(st.Checkpoints.List), st.ResumeOffer())
	}
}

// TestCheckpointsPanel renders the panel with two checkpoints: the stable ids, one row each
// with its name, and Resume disabled where Max steps leaves nothing to train.
func TestCheckpointsPanel(t *testing.T) {
	empty := app.HTMLString(&CheckpointsPanel{SaveEvery: 10})
	for _, id := range []string{RestoreLatestID, ResumeLatestID} {
		if !disabled(button(t, empty, id)) {
			t.Errorf("#%s enabled without checkpoints", id)
		}
	}
	if !strings.Contains(empty, `id="`+CkptListID+`"`) || !strings.Contains(empty, `id="`+CkptUploadID+`"`) || !strings.Contains(empty, "every 10 steps") {
		t.Errorf("empty panel: %s", empty)
	}
	v := CheckpointsView{Loaded: true, List: []protocol.CheckpointInfo{info("r1", 20, 2), info("r1", 10, 1)},
		Storage: wasm.Storage{Usage: 30e6, Quota: 2e9}, StorageKnown: true}
	html := app.HTMLString(&CheckpointsPanel{View: v, CanRestore: true, MaxSteps: 20})
	if n := strings.Count(html, `class="ckpt-row"`); n != 2 || !strings.Contains(html, `data-name="cifar10.ckpt-20"`) {
		t.Errorf("%d rows in %s", n, html)
	}
	if disabled(button(t, html, RestoreLatestID)) || !disabled(button(t, html, ResumeLatestID)) {
		t.Error("with Max steps 20 and the latest at step 20, Restore latest should be enabled and Resume latest not")
	}
	if !strings.Contains(html, "30.0 MB used of 2.0 GB") || !strings.Contains(html, "12.8 MB") {
		t.Errorf("sizes missing: %s", html)
	}
}

// TestChartFromStep draws a resumed run's losses from its first step.
func TestChartFromStep(t *testing.T) {
	c := buildChart([]float32{3, 2, 1}, 10, 20, 0.6)
	if first := strings.Fields(c.Raw)[0]; !strings.HasPrefix(first, "48.0,") {
		t.Errorf("step 10 is not at the left edge: %s", first)
	}
	if last, _ := strconv.Atoi(c.XTicks[len(c.XTicks)-1].Label); c.XTicks[0].Label != "10" || last > 19 || last < 15 {
		t.Errorf("x ticks %+v, want steps 10..19", c.XTicks)
	}
}
