package worker

import (
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/cifar/cifartest"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// Handle is Receive for a message without attachments or shared memory, which is what most
// tests send.
func (e *Engine) Handle(m protocol.Message) { e.Receive(wasm.Inbound{Msg: m}) }

// randomSet makes n random images with random labels.
func randomSet(seed uint64, n int) *cifar.Set {
	return cifartest.Random(n, seed, 1)
}

func testData() *cifar.Data {
	return &cifar.Data{Train: randomSet(1, 40), Test: randomSet(2, 30), ClassNames: cifar.ClassNames}
}

// recorder collects the engine's reports.
type recorder struct{ msgs []protocol.Message }

func (r *recorder) post(m protocol.Message) {
	if err := m.Validate(); err != nil {
		panic("the engine posted an invalid message: " + err.Error())
	}
	r.msgs = append(r.msgs, m)
}

func (r *recorder) of(typ protocol.Kind) []protocol.Message {
	var out []protocol.Message
	for _, m := range r.msgs {
		if m.Kind() == typ {
			out = append(out, m)
		}
	}
	return out
}

func (r *recorder) losses() []float32 {
	var out []float32
	for _, m := range r.of(protocol.KindProgress) {
		out = append(out, m.Payload.(protocol.Progress).Losses...)
	}
	return out
}

func (r *recorder) lastState() protocol.RunState {
	s := r.of(protocol.KindState)
	if len(s) == 0 {
		return protocol.RunState{}
	}
	return s[len(s)-1].Payload.(protocol.RunState)
}

// loadedEngine returns an engine that has loaded data.
func loadedEngine(t *testing.T, data *cifar.Data) (*Engine, *recorder) {
	rec := &recorder{}
	e := NewEngine(rec.post, func(reload bool, progress func(protocol.DatasetProgress)) (*cifar.Data, protocol.DatasetInfo, error) {
		progress(protocol.DatasetProgress{File: cifar.TestFile, Loaded: 1, Total: 2, Files: 6})
		return data, protocol.DatasetInfo{Train: data.Train.Len(), Test: data.Test.Len(), ClassNames: data.ClassNames}, nil
	})
	e.Handle(protocol.Message{Payload: protocol.Load{}})
	for e.Busy() {
		e.Work()
	}
	if len(rec.of(protocol.KindDataset)) != 1 || len(rec.of(protocol.KindDatasetProgress)) != 1 {
		t.Fatalf("loading reported %+v", rec.msgs)
	}
	rec.msgs = nil
	return e, rec
}

func settings(steps, batch int, seed uint64) *protocol.Settings {
	s := protocol.DefaultSettings()
	s.Steps, s.Batch, s.Seed = steps, batch, seed
	return &s
}

// reference trains like the native trainer, with nn and cifar directly, and returns the losses
// and the trained model.
func reference(t *testing.T, data *cifar.Data, s protocol.Settings) ([]float32, *nn.Model) {
	spec, err := nn.Preset(s.Preset)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.NewModel(spec, s.Seed)
	if err != nil {
		t.Fatal(err)
	}
	cfg := spec.Optimizer
	cfg.LR = s.LR
	opt, err := nn.NewOptimizer(cfg, m.Params())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := nn.NewTrainer(m, opt, s.Batch, 1)
	if err != nil {
		t.Fatal(err)
	}
	sp := cifar.NewSampler(data.Train, s.Seed, spec.Input[0])
	images, labels := make([]float32, s.Batch*m.InputSize()), make([]uint8, s.Batch)
	var losses []float32
	for step := 0; step < s.Steps; step++ {
		sp.Fill(int64(step*s.Batch), s.Batch, images, labels)
		losses = append(losses, tr.Step(images, labels))
	}
	return losses, m
}

var logLine = regexp.MustCompile(`^Step (\d+), loss = \d+\.\d\d \(\d+\.\d examples/sec; \d+\.\d\d\d sec/batch\)$`)

func TestTrainMatchesReference(t *testing.T) {
	data := testData()
	e, rec := loadedEngine(t, data)
	s := settings(12, 4, 5)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}})
	for e.Busy() {
		e.Work()
	}
	want, _ := reference(t, data, *s)
	got := rec.losses()
	if len(got) != len(want) {
		t.Fatalf("%d losses reported, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("step %d: loss %v, reference %v", i, got[i], want[i])
		}
	}
	next := 0
	for _, m := range rec.of(protocol.KindProgress) {
		if m.Run != 1 || m.Payload.(protocol.Progress).FirstStep != next || m.Payload.(protocol.Progress).Step != next+len(m.Payload.(protocol.Progress).Losses) {
			t.Errorf("progress out of sequence: %+v (expected first step %d)", m.Payload.(protocol.Progress), next)
		}
		next = m.Payload.(protocol.Progress).Step
	}
	logs := rec.of(protocol.KindLog)
	if len(logs) != 2 || logs[0].Payload.(protocol.LogLine).Step != 0 || logs[1].Payload.(protocol.LogLine).Step != 10 {
		t.Fatalf("log lines %+v, want steps 0 and 10", logs)
	}
	for _, l := range logs {
		if !logLine.MatchString(l.Payload.(protocol.LogLine).Text) || l.Payload.(protocol.LogLine).Loss != want[l.Payload.(protocol.LogLine).Step] {
			t.Errorf("log line %q (loss %v, want %v)", l.Payload.(protocol.LogLine).Text, l.Payload.(protocol.LogLine).Loss, want[l.Payload.(protocol.LogLine).Step])
		}
	}
	if st := rec.lastState(); st.Phase != protocol.PhaseFinished || st.Step != 12 {
		t.Errorf("final state %+v", st)
	}
}

func TestPauseResumeStop(t *testing.T) {
	e, rec := loadedEngine(t, testData())
	e.Handle(protocol.Message{Run: 7, Payload: protocol.Start{Settings: *settings(100, 2, 1)}})
	e.Work()
	e.Work()
	e.Handle(protocol.Message{Payload: protocol.Pause{}, Run: 7})
	if st := rec.lastState(); st.Phase != protocol.PhasePaused || st.Step != 2 {
		t.Fatalf("after pause: %+v", st)
	}
	if e.Busy() {
		t.Fatal("a paused run keeps the engine busy")
	}
	if n := len(rec.losses()); n != 2 {
		t.Errorf("pausing reported %d losses, want the 2 steps done", n)
	}
	e.Handle(protocol.Message{Payload: protocol.Resume{}, Run: 7})
	if st := rec.lastState(); st.Phase != protocol.PhaseRunning || !e.Busy() {
		t.Fatalf("after resume: %+v", st)
	}
	e.Work()
	e.Handle(protocol.Message{Payload: protocol.Stop{}, Run: 7})
	if st := rec.lastState(); st.Phase != protocol.PhaseStopped || st.Step != 3 || e.Busy() {
		t.Fatalf("after stop: %+v busy %v", st, e.Busy())
	}
	e.Handle(protocol.Message{Payload: protocol.Resume{}, Run: 7})
	if st := rec.lastState(); st.Phase != protocol.PhaseStopped {
		t.Errorf("a stopped run resumed: %+v", st)
	}
	e.Handle(protocol.Message{Payload: protocol.Pause{}, Run: 6})
	if errs := rec.of(protocol.KindError); len(errs) != 1 || !strings.Contains(errs[0].Payload.(protocol.Failure).Message, "run 6") {
		t.Errorf("a command for another run: %+v", errs)
	}
}

// TestEvalWhilePaused evaluates a paused run: the precision must be the reference model's,
// a pause received during the evaluation is applied at once, and a start is kept until the
// evaluation ends.
func TestEvalWhilePaused(t *testing.T) {
	data := testData()
	e, rec := loadedEngine(t, data)
	s := settings(50, 4, 9)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}})
	for i := 0; i < 3; i++ {
		e.Work()
	}
	yields := 0
	e.Yield = func() {
		yields++
		if yields == 1 {
			e.Handle(protocol.Message{Payload: protocol.Pause{}, Run: 1})
			e.Handle(protocol.Message{Run: 2, Payload: protocol.Start{Settings: *settings(5, 2, 1)}})
		}
	}
	e.Handle(protocol.Message{Payload: protocol.Eval{}, Run: 1})
	e.Work() // the evaluation, which has priority over steps
	results := rec.of(protocol.KindEvalResult)
	if len(results) != 1 {
		t.Fatalf("eval results %+v; errors %+v", results, rec.of(protocol.KindError))
	}
	s.Steps = 3
	_, m := reference(t, data, *s)
	ev := evaluateModel(t, m, data.Test)
	r := results[0].Payload.(protocol.EvalResult)
	if r.Correct != ev.Correct || r.Total != data.Test.Len() || r.Step != 3 || r.Precision != ev.Precision() {
		t.Errorf("eval %+v, reference %d/%d", r, ev.Correct, ev.Total)
	}
	if yields != (data.Test.Len()+EvalBatch-1)/EvalBatch {
		t.Errorf("yielded %d times", yields)
	}
	if p := rec.of(protocol.KindEvalProgress); len(p) == 0 || p[len(p)-1].Payload.(protocol.EvalProgress).Done != data.Test.Len() {
		t.Errorf("eval progress %+v", p)
	}
	// The pause came during the evaluation; the deferred start ran after it.
	var phases []string
	for _, m := range rec.of(protocol.KindState) {
		phases = append(phases, string(m.Payload.(protocol.RunState).Phase))
	}
	if got := strings.Join(phases, ","); got != "running,paused,running" || e.run.id != 2 {
		t.Errorf("phases %s, run %d", got, e.run.id)
	}
}

func evaluateModel(t *testing.T, m *nn.Model, test *cifar.Set) nn.Evaluation {
	tr, err := nn.NewTrainer(m, nil, 7, 1) // another batch size: precision must not depend on it
	if err != nil {
		t.Fatal(err)
	}
	ev, err := tr.Evaluate(test.Len(), func(i0 int, images []float32, labels []uint8) error {
		cifar.EvalBatch(test, i0, len(labels), 24, images, labels)
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestDivergence(t *testing.T) {
	e, rec := loadedEngine(t, testData())
	s := settings(50, 2, 1)
	s.Preset, s.LR = "cs231n", 10 // SGD with momentum at this rate blows up in a few steps
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}})
	for e.Busy() {
		e.Work()
	}
	st := rec.lastState()
	errs := rec.of(protocol.KindError)
	if st.Phase != protocol.PhaseFailed || len(errs) != 1 || !strings.Contains(errs[0].Payload.(protocol.Failure).Message, "diverged") {
		t.Fatalf("state %+v, errors %+v", st, errs)
	}
	if n := len(rec.losses()); n != st.Step {
		t.Errorf("%d finite losses reported for %d steps", n, st.Step)
	}
	t.Logf("%s", errs[0].Payload.(protocol.Failure).Message)
}

func TestCommandErrors(t *testing.T) {
	rec := &recorder{}
	failing := func(bool, func(protocol.DatasetProgress)) (*cifar.Data, protocol.DatasetInfo, error) {
		return nil, protocol.DatasetInfo{}, errors.New("data_batch_3.bin: truncated")
	}
	e := NewEngine(rec.post, failing)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *settings(1, 1, 1)}})
	e.Handle(protocol.Message{Payload: protocol.Eval{}, Run: 1})
	e.Handle(protocol.Message{Payload: protocol.Load{}})
	e.Work()
	e.Receive(wasm.Inbound{Err: errors.New("garbled")})
	e.Handle(protocol.Message{Payload: protocol.Ready{}})
	want := []struct {
		where protocol.Where
		text  string
	}{
		{protocol.WhereTrain, "not loaded"},
		{protocol.WhereEval, "no weights"},
		{protocol.WhereDataset, "data_batch_3.bin: truncated"},
		{protocol.WhereProtocol, "garbled"},
		{protocol.WhereProtocol, "does not take ready"},
	}
	errs := rec.of(protocol.KindError)
	if len(errs) != len(want) {
		t.Fatalf("errors %+v", errs)
	}
	for i, w := range want {
		if f := errs[i].Payload.(protocol.Failure); f.Where != w.where || !strings.Contains(f.Message, w.text) {
			t.Errorf("error %d: %+v, want %s / %q", i, f, w.where, w.text)
		}
	}

	e2, rec2 := loadedEngine(t, testData())
	bad := settings(1, 1, 1)
	bad.Preset = "nosuch"
	e2.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *bad}})
	if errs := rec2.of(protocol.KindError); len(errs) != 1 || !strings.Contains(errs[0].Payload.(protocol.Failure).Message, "nosuch") || e2.Busy() {
		t.Errorf("unknown preset: %+v", errs)
	}
}

// TestAbort checks that a panic in a unit of work fails the run with a message.
func TestAbort(t *testing.T) {
	e, rec := loadedEngine(t, testData())
	e.Handle(protocol.Message{Run: 4, Payload: protocol.Start{Settings: *settings(10, 1, 1)}})
	e.Abort("boom")
	if st := rec.lastState(); st.Phase != protocol.PhaseFailed || e.Busy() {
		t.Errorf("state %+v", st)
	}
	if errs := rec.of(protocol.KindError); len(errs) != 1 || errs[0].Run != 4 || !strings.Contains(errs[0].Payload.(protocol.Failure).Message, "boom") {
		t.Errorf("errors %+v", errs)
	}
}

func TestReady(t *testing.T) {
	rec := &recorder{}
	NewEngine(rec.post, nil).Ready()
	r := rec.of(protocol.KindReady)
	if len(r) != 1 || r[0].Payload.(protocol.Ready).Kernel == "" {
		t.Fatalf("ready %+v", rec.msgs)
	}
	var found bool
	for _, p := range r[0].Payload.(protocol.Ready).Presets {
		if p.Name == "cifar10" {
			found = true
			if p.NumParams != 1068298 || len(p.Layers) != 9 || p.Input != [3]int{24, 24, 3} || p.LR != 1e-3 || p.Optimizer != "adam" {
				t.Errorf("cifar10 preset %+v", p)
			}
			if l := p.Layers[0]; l.Name != "conv1" || l.Output != [3]int{24, 24, 64} || l.Params != 4864 {
				t.Errorf("first layer %+v", l)
			}
		}
	}
	if !found || len(r[0].Payload.(protocol.Ready).Presets) != len(nn.PresetNames()) {
		t.Errorf("presets %+v", r[0].Payload.(protocol.Ready).Presets)
	}
}
