package app

import (
	"strings"
	"testing"

	"cifar10/wasm/coord"
	"cifar10/wasm/protocol"
)

// TestWorkerLost: a worker lost during a run fails it and says how to go on; lost while idle
// it only says what is left.
func TestWorkerLost(t *testing.T) {
	s := NewStore(protocol.DefaultSettings(), false, nil)
	s.Group = coord.GroupView{Size: 1}
	s.Run = RunView{ID: 2, Phase: protocol.PhaseRunning, Step: 17}
	s.Eval.Running = true
	s.SetCheckpoints([]protocol.CheckpointInfo{{ID: "r1/000000000010", Run: "r1", Step: 10, Resumable: true, Preset: "cifar10"}}, nil)
	s.WorkerLost(2, 2, "it was terminated or crashed")
	if s.Run.Phase != protocol.PhaseFailed || !strings.Contains(s.Run.Reason, "worker 2 of 2 stopped at step 17") || s.Eval.Running {
		t.Errorf("run %+v, evaluation running %v", s.Run, s.Eval.Running)
	}
	text := s.Messages[len(s.Messages)-1].Text
	for _, want := range []string{"training worker 2 of 2 stopped (it was terminated or crashed)", "training stopped at step 17",
		"Resume latest goes on from cifar10.ckpt-10 with the 1 worker left"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q lacks %q", text, want)
		}
	}

	// The leader had finished two more steps: its last reports arrive after the loss.
	s.progress(protocol.Progress{Step: 19, FirstStep: 17, Losses: []float32{2, 2}})
	s.state(protocol.RunState{Phase: protocol.PhaseFailed, Step: 19, Reason: "another worker of the group stopped: training stopped at step 19"})
	text = s.Messages[len(s.Messages)-1].Text
	if !strings.Contains(text, "training stopped at step 19.") || strings.Contains(text, "17") || s.Run.Reason != "worker 2 of 2 stopped at step 19" {
		t.Errorf("after the leader's last reports: %q, reason %q", text, s.Run.Reason)
	}
	s.Run = RunView{ID: 3, Phase: protocol.PhaseRunning, Step: 1} // a new run is not the lost one's
	s.state(protocol.RunState{Phase: protocol.PhaseFailed, Step: 1, Reason: "diverged"})
	if s.Run.Reason != "diverged" || s.lost != nil {
		t.Errorf("a later run's reason became %q", s.Run.Reason)
	}

	s.Group.Size = 2
	s.WorkerLost(3, 3, "oops")
	if text := s.Messages[len(s.Messages)-1].Text; !strings.HasSuffix(text, "stopped (oops); 2 workers left") {
		t.Errorf("idle loss says %q", text)
	}
	if v := groupText(coord.GroupView{Size: 2, Ready: 1, Run: 2}); v != "2 training workers (1 with the dataset), 2 sharing the current run" {
		t.Errorf("group view %q", v)
	}
	if v := groupText(coord.GroupView{Size: 1, Ready: 1}); v != "1 training worker ready" {
		t.Errorf("group view %q", v)
	}
}

// TestRunShape: a run's board is sized by the batch and the preset it will train with: the
// message's settings, or a resumable checkpoint's own batch and preset.
func TestRunShape(t *testing.T) {
	s := NewStore(protocol.DefaultSettings(), false, nil)
	s.Worker.Presets = []protocol.PresetInfo{{Name: "small", NumParams: 10}, {Name: "big", NumParams: 1000}}
	s.SetCheckpoints([]protocol.CheckpointInfo{
		{ID: "r1/000000000010", Run: "r1", Step: 10, Resumable: true, Preset: "big", Batch: 64},
		{ID: "w/000000000000", Run: "w", Preset: "big"},
	}, nil)
	set := protocol.DefaultSettings()
	set.Preset, set.Batch = "small", 32
	for _, c := range []struct {
		payload       protocol.Payload
		batch, params int
	}{
		{protocol.Start{Settings: set}, 32, 10},
		{protocol.RestoreRequest{ID: "r1/000000000010", Resume: true, Settings: set}, 64, 1000},
		{protocol.RestoreRequest{ID: "w/000000000000", Settings: set}, 32, 1000},
		{protocol.RestoreRequest{ID: "gone", Settings: set}, 32, 10},
		{protocol.Start{Settings: protocol.Settings{Preset: "none", Batch: 8}}, 8, 0},
	} {
		if batch, params := s.runShape(protocol.Message{Payload: c.payload}); batch != c.batch || params != c.params {
			t.Errorf("%+v: batch %d, params %d, want %d, %d", c.payload, batch, params, c.batch, c.params)
		}
	}
}
