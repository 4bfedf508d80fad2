package app

import (
	"errors"
	"strings"
	"testing"

	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

func readyMsg() wasm.Inbound {
	return wasm.Inbound{Msg: protocol.Message{Payload: protocol.Ready{Kernel: "generic", Build: protocol.Build, Presets: []protocol.PresetInfo{
		{Name: "cifar10", LR: 1e-3, NumParams: 1068298}, {Name: "cs231n", LR: 0.01},
	}}}}
}

// readyStore is a store whose worker is ready and dataset loaded.
func readyStore(t *testing.T, s protocol.Settings, lrSet bool) *Store {
	st := NewStore(s, lrSet, nil)
	reply := st.Apply(readyMsg())
	if reply == nil || reply.Payload != (protocol.Load{}) {
		t.Fatalf("ready should ask for the dataset, got %+v", reply)
	}
	st.Apply(wasm.Inbound{Msg: protocol.Message{Payload: protocol.DatasetInfo{Train: 1000, Test: 500}}})
	return st
}

// TestStoreMixedBuild: a worker from another build than the page is refused, and the page
// says so instead of loading the dataset into it.
func TestStoreMixedBuild(t *testing.T) {
	st := NewStore(protocol.DefaultSettings(), false, nil)
	reply := st.Apply(wasm.Inbound{Msg: protocol.Message{Payload: protocol.Ready{Kernel: "generic", Build: protocol.Build + "-other"}}})
	if reply != nil || st.Worker.Ready || !st.Worker.Failed || st.Worker.Build != protocol.Build+"-other" {
		t.Fatalf("reply %+v, worker %+v", reply, st.Worker)
	}
	if len(st.Messages) != 1 || !strings.Contains(st.Messages[0].Text, "different versions") || st.Messages[0].Where != protocol.WhereWorker {
		t.Fatalf("notices %+v", st.Messages)
	}
	if ok, _ := st.CanStart(); ok {
		t.Error("a page with a worker from another build can start a run")
	}
}

func TestStoreReadyAppliesPresetLR(t *testing.T) {
	s := protocol.DefaultSettings()
	s.Preset = "cs231n"
	if st := readyStore(t, s, false); st.Settings.LR != 0.01 {
		t.Errorf("the preset's default rate was not applied: %v", st.Settings.LR)
	}
	s.LR = 0.5
	if st := readyStore(t, s, true); st.Settings.LR != 0.5 {
		t.Errorf("a rate from the address was replaced: %v", st.Settings.LR)
	}
	s.Preset = "nosuch"
	st := readyStore(t, s, false)
	if ok, why := st.CanStart(); ok || !strings.Contains(why, "nosuch") || len(st.Messages) != 1 {
		t.Errorf("unknown preset: can start %v (%s), messages %+v", ok, why, st.Messages)
	}
}

func TestStoreRun(t *testing.T) {
	st := NewStore(protocol.DefaultSettings(), false, nil)
	if ok, why := st.CanStart(); ok || why != "the worker is starting" {
		t.Errorf("before ready: %v %q", ok, why)
	}
	st = readyStore(t, protocol.DefaultSettings(), false)
	if ok, _ := st.CanStart(); !ok || st.CanEval() {
		t.Fatalf("ready store: start %v eval %v", ok, st.CanEval())
	}
	start := st.StartRun()
	if start.Payload != (protocol.Start{Settings: st.Settings}) || start.Run != 1 {
		t.Fatalf("start %+v", start)
	}
	if ok, _ := st.CanStart(); ok {
		t.Error("Start is enabled during a run")
	}
	apply := func(m protocol.Message) { st.Apply(wasm.Inbound{Msg: m}) }
	apply(protocol.Message{Run: 1, Payload: protocol.RunState{Phase: protocol.PhaseRunning}})
	apply(protocol.Message{Run: 1, Payload: protocol.Progress{Step: 2, Steps: 1000, FirstStep: 0, Losses: []float32{2.5, 2.4}, SecPerBatch: 0.5, ExamplesPerSec: 256}})
	apply(protocol.Message{Run: 1, Payload: protocol.Progress{Step: 3, Steps: 1000, FirstStep: 2, Losses: []float32{2.3}, SecPerBatch: 0.5}})
	apply(protocol.Message{Run: 1, Payload: protocol.LogLine{Text: "Step 0, loss = 2.50 (1.0 examples/sec; 1.000 sec/batch)"}})
	// A late report of a replaced run is dropped.
	apply(protocol.Message{Run: 0 + 7, Payload: protocol.Progress{Step: 9, FirstStep: 3, Losses: []float32{9}}})
	if len(st.Losses) != 3 || st.Losses[2] != 2.3 || st.Run.Loss != 2.3 || st.Run.Step != 3 || len(st.Log) != 1 {
		t.Errorf("run %+v losses %v log %v", st.Run, st.Losses, st.Log)
	}
	if eta := st.Run.ETA(); eta != 997*0.5 {
		t.Errorf("ETA %v", eta)
	}
	if !st.CanEval() {
		t.Error("cannot evaluate a running run")
	}
	ev := st.Command(protocol.Eval{})
	if ev.Payload != (protocol.Eval{}) || ev.Run != 1 || !st.Eval.Running || st.CanEval() {
		t.Errorf("eval %+v, view %+v", ev, st.Eval)
	}
	apply(protocol.Message{Run: 1, Payload: protocol.EvalResult{Correct: 50, Total: 500, Precision: 0.1}})
	if st.Eval.Running || st.Eval.Result == nil || st.Eval.Result.Precision != 0.1 {
		t.Errorf("eval view %+v", st.Eval)
	}
	apply(protocol.Message{Run: 1, Payload: protocol.RunState{Phase: protocol.PhasePaused, Step: 3}})
	if st.Run.ETA() != -1 || !st.Run.Active() {
		t.Errorf("paused run: %+v", st.Run)
	}
	apply(protocol.Message{Run: 1, Payload: protocol.Failure{Where: protocol.WhereTrain, Message: "the loss diverged at step 3"}})
	apply(protocol.Message{Run: 1, Payload: protocol.RunState{Phase: protocol.PhaseFailed, Step: 3}})
	if ok, _ := st.CanStart(); !ok || len(st.Messages) != 1 || st.Messages[0].Where != protocol.WhereTrain {
		t.Errorf("after a failure: messages %+v", st.Messages)
	}
	second := st.StartRun()
	if second.Run != 2 || len(st.Losses) != 0 || len(st.Log) != 0 || st.Eval.Result != nil {
		t.Errorf("a new run keeps the old one's data: %+v", st)
	}
}

func TestStoreFailures(t *testing.T) {
	st := readyStore(t, protocol.DefaultSettings(), false)
	st.StartRun()
	st.Apply(wasm.Inbound{Err: errors.New("the training worker failed to start or crashed: oops"), Fatal: true})
	if !st.Worker.Failed || st.Run.Phase != protocol.PhaseFailed || len(st.Messages) != 1 {
		t.Errorf("a dead worker: %+v %+v", st.Worker, st.Run)
	}
	if ok, why := st.CanStart(); ok || st.CanEval() || !strings.Contains(why, "reload the page") {
		t.Errorf("a dead worker still takes commands: start %v (%s), eval %v", ok, why, st.CanEval())
	}
	st = readyStore(t, protocol.DefaultSettings(), false)
	st.Apply(wasm.Inbound{Msg: protocol.Message{Payload: protocol.Failure{Where: protocol.WhereDataset, Message: "test_batch.bin: truncated"}}})
	if st.Dataset.Phase != DatasetFailed || st.Dataset.Error != "test_batch.bin: truncated" {
		t.Errorf("dataset view %+v", st.Dataset)
	}
	if ok, why := st.CanStart(); ok || why != "the dataset is not loaded" {
		t.Errorf("start with a failed dataset: %v %q", ok, why)
	}
	st.Dismiss(0)
	if len(st.Messages) != 0 {
		t.Errorf("dismiss left %+v", st.Messages)
	}
	st.Apply(wasm.Inbound{Err: errors.New("malformed message")})
	if st.Worker.Failed {
		t.Error("one unreadable message marked the worker dead")
	}
}

func TestStoreSetSettings(t *testing.T) {
	st := readyStore(t, protocol.DefaultSettings(), false)
	n := st.Settings
	n.Preset = "cs231n"
	st.SetSettings(n, false)
	if st.Settings.LR != 0.01 {
		t.Errorf("switching preset kept the old default rate: %v", st.Settings.LR)
	}
	n = st.Settings
	n.LR = 0.2
	st.SetSettings(n, true)
	n.Steps = 5
	st.SetSettings(n, false)
	if st.Settings.LR != 0.2 || st.Settings.Steps != 5 || !st.LRSet {
		t.Errorf("settings %+v", st.Settings)
	}
}

func TestStoreLogBound(t *testing.T) {
	st := NewStore(protocol.DefaultSettings(), false, nil)
	for i := 0; i < MaxLogLines+5; i++ {
		st.addLog("line")
	}
	if len(st.Log) != MaxLogLines || st.LogDropped != 5 {
		t.Errorf("%d lines kept, %d dropped", len(st.Log), st.LogDropped)
	}
}
