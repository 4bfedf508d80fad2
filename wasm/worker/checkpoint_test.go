package worker

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"cifar10/nn"
	"cifar10/nn/checkpoint"
	"cifar10/nn/safetensors"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// memStore is a CheckpointStore in memory with IndexedDB's all-or-nothing transactions and an
// optional quota on the bytes of the files it holds.
type memStore struct {
	infos map[string]protocol.CheckpointInfo
	files map[string][]byte
	quota int // 0: none
	saves int
}

func newMemStore() *memStore {
	return &memStore{infos: map[string]protocol.CheckpointInfo{}, files: map[string][]byte{}}
}

func (s *memStore) List() ([]protocol.CheckpointInfo, error) {
	var out []protocol.CheckpointInfo
	for _, c := range s.infos {
		out = append(out, c)
	}
	wasm.SortCheckpoints(out)
	return out, nil
}

func (s *memStore) Save(info protocol.CheckpointInfo, file []byte, remove []string) error {
	used := len(file)
	for id, f := range s.files {
		if !slices.Contains(remove, id) && id != info.ID {
			used += len(f)
		}
	}
	if s.quota > 0 && used > s.quota {
		return fmt.Errorf("%w (QuotaExceededError)", wasm.ErrStorageFull)
	}
	for _, id := range remove {
		delete(s.infos, id)
		delete(s.files, id)
	}
	s.infos[info.ID], s.files[info.ID] = info, bytes.Clone(file)
	s.saves++
	return nil
}

func (s *memStore) Load(id string) (protocol.CheckpointInfo, []byte, error) {
	info, ok := s.infos[id]
	if !ok {
		return info, nil, fmt.Errorf("no checkpoint %s", id)
	}
	return info, s.files[id], nil
}

// steps returns the stored steps of a run, ascending.
func (s *memStore) steps(run string) []int64 {
	var out []int64
	for _, c := range s.infos {
		if c.Run == run {
			out = append(out, c.Step)
		}
	}
	slices.Sort(out)
	return out
}

// find returns the entry of a run at a step.
func (s *memStore) find(t *testing.T, run string, step int64) protocol.CheckpointInfo {
	t.Helper()
	c, ok := s.infos[protocol.CheckpointID(run, step)]
	if !ok {
		t.Fatalf("no checkpoint at step %d in %s; stored: %v", step, run, s.ids())
	}
	return c
}

func (s *memStore) ids() []string {
	var out []string
	for id := range s.infos {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// storeEngine is a loaded engine with a memory store and a clock that advances a millisecond
// per reading (so different runs get different run keys).
func storeEngine(t *testing.T) (*Engine, *recorder, *memStore) {
	e, rec := loadedEngine(t, testData())
	st := newMemStore()
	e.Checkpoints = st
	clock := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	e.Now = func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	return e, rec, st
}

func policy(steps, batch int, seed uint64, every, keep int) *protocol.Settings {
	s := settings(steps, batch, seed)
	s.SaveEvery, s.Keep = every, keep
	return s
}

func runToEnd(e *Engine) {
	for e.Busy() {
		e.Work()
	}
}

// errorsOf returns the messages of the errors reported at where.
func errorsOf(rec *recorder, where protocol.Where) []string {
	var out []string
	for _, m := range rec.of(protocol.KindError) {
		if m.Payload.(protocol.Failure).Where == where {
			out = append(out, m.Payload.(protocol.Failure).Message)
		}
	}
	return out
}

// TestSaveEveryAndKeep trains 7 steps saving every 3 and keeping 2: checkpoints are written at
// steps 3, 6 and 7 (the end), the oldest is pruned in the transaction that adds the third,
// and each file decodes to the run's state at its step.
func TestSaveEveryAndKeep(t *testing.T) {
	e, rec, st := storeEngine(t)
	s := policy(7, 4, 3, 3, 2)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}})
	runToEnd(e)
	saved := rec.of(protocol.KindCheckpoint)
	if len(saved) != 3 || st.saves != 3 {
		t.Fatalf("checkpoint reports %d, saves %d; errors %v", len(saved), st.saves, rec.of(protocol.KindError))
	}
	run := saved[0].Payload.(protocol.CheckpointSaved).Info.Run
	for i, step := range []int64{3, 6, 7} {
		info := saved[i].Payload.(protocol.CheckpointSaved).Info
		if info.Step != step || info.Run != run || info.Name() != fmt.Sprintf("cifar10.ckpt-%d", step) || !info.Resumable || info.Steps != 7 {
			t.Errorf("report %d: %+v", i, info)
		}
	}
	if got := saved[2].Payload.(protocol.CheckpointSaved).Removed; !slices.Equal(got, []string{protocol.CheckpointID(run, 3)}) {
		t.Errorf("the third save removed %v, want step 3", got)
	}
	if got := st.steps(run); !slices.Equal(got, []int64{6, 7}) {
		t.Fatalf("stored steps %v, want [6 7]", got)
	}
	_, data, _ := st.Load(protocol.CheckpointID(run, 7))
	ck, err := checkpoint.Decode(data, "cifar10")
	if err != nil {
		t.Fatal(err)
	}
	losses, m := reference(t, e.data, *s)
	if ck.Step != 7 || ck.Run.Examples != 28 || ck.Run.Seed != 3 || ck.Run.Batch != 4 || *ck.Run.Loss != float64(losses[6]) {
		t.Errorf("decoded step %d, run %+v (loss %v, want %v)", ck.Step, ck.Run, *ck.Run.Loss, losses[6])
	}
	restored, err := ck.NewModel()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		if !slices.Equal(p.Data(), restored.Params()[i].Data()) {
			t.Errorf("%s differs from the reference after 7 steps", p.Name)
		}
	}
}

// TestResumeExact restores the checkpoint of step 3 of a 6-step run and trains to 6: the
// losses of steps 3..5 and the checkpoint at 6 are those of the uninterrupted run, bit for
// bit, and the resumed run saves under a new run key since the old one has a newer checkpoint.
func TestResumeExact(t *testing.T) {
	e, rec, st := storeEngine(t)
	s := policy(6, 4, 11, 3, 5)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}})
	runToEnd(e)
	whole := rec.losses()
	first := rec.of(protocol.KindCheckpoint)[0].Payload.(protocol.CheckpointSaved).Info
	rec.msgs = nil

	other := *policy(6, 16, 99, 3, 5) // the controls' seed and batch must not matter
	e.Handle(protocol.Message{Run: 2, Payload: protocol.RestoreRequest{ID: first.ID, Resume: true, Settings: other}})
	if st := rec.lastState(); st.Phase != protocol.PhaseRunning || st.Step != 3 || st.Settings == nil || st.Settings.Seed != 11 || st.Settings.Batch != 4 {
		t.Fatalf("after resume: %+v; errors %v", st, rec.of(protocol.KindError))
	}
	runToEnd(e)
	resumed := rec.losses()
	if len(resumed) != 3 || rec.of(protocol.KindProgress)[0].Payload.(protocol.Progress).FirstStep != 3 {
		t.Fatalf("resumed losses %v", resumed)
	}
	for i, l := range resumed {
		if math.Float32bits(l) != math.Float32bits(whole[3+i]) {
			t.Errorf("step %d: resumed loss %v, uninterrupted %v", 3+i, l, whole[3+i])
		}
	}
	saved := rec.of(protocol.KindCheckpoint)
	if len(saved) != 1 || saved[0].Payload.(protocol.CheckpointSaved).Info.Step != 6 || saved[0].Payload.(protocol.CheckpointSaved).Info.Run == first.Run {
		t.Fatalf("the resumed run saved %+v", saved)
	}
	_, a, _ := st.Load(protocol.CheckpointID(first.Run, 6))
	_, b, _ := st.Load(saved[0].Payload.(protocol.CheckpointSaved).Info.ID)
	sameTensors(t, a, b)
}

// sameTensors checks that two checkpoint files hold the same tensors, byte for byte.
func sameTensors(t *testing.T, a, b []byte) {
	t.Helper()
	fa, err := safetensors.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := safetensors.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(fa.Tensors) != len(fb.Tensors) {
		t.Fatalf("%d tensors against %d", len(fa.Tensors), len(fb.Tensors))
	}
	for _, ta := range fa.Tensors {
		tb, ok := fb.Tensor(ta.Name)
		if !ok || !bytes.Equal(ta.Data, tb.Data) || !slices.Equal(ta.Shape, tb.Shape) {
			t.Errorf("tensor %s differs", ta.Name)
		}
	}
}

// TestResumeLatestContinuesRun resumes from a run's newest checkpoint: the run goes on
// under the same run key, and Keep prunes across the two sessions.
func TestResumeLatestContinuesRun(t *testing.T) {
	e, rec, st := storeEngine(t)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *policy(4, 2, 1, 2, 2)}})
	runToEnd(e)
	last := rec.of(protocol.KindCheckpoint)[1].Payload.(protocol.CheckpointSaved).Info
	e.Handle(protocol.Message{Run: 2, Payload: protocol.RestoreRequest{ID: last.ID, Resume: true, Settings: *policy(8, 2, 1, 2, 2)}})
	runToEnd(e)
	if got := st.steps(last.Run); !slices.Equal(got, []int64{6, 8}) || len(st.infos) != 2 {
		t.Errorf("stored %v, want steps 6 and 8 of the one run", st.ids())
	}
}

// TestRestoreForEvaluation restores without training (has_trained = True): the run holds the
// checkpoint's weights, does not train, and evaluates to the saved model's precision.
func TestRestoreForEvaluation(t *testing.T) {
	e, rec, st := storeEngine(t)
	s := policy(5, 4, 2, 5, 5)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}})
	runToEnd(e)
	info := rec.of(protocol.KindCheckpoint)[0].Payload.(protocol.CheckpointSaved).Info
	e.Handle(protocol.Message{Run: 2, Payload: protocol.Start{Settings: *settings(3, 4, 77)}}) // other weights
	runToEnd(e)
	rec.msgs = nil
	saves := st.saves

	e.Handle(protocol.Message{Run: 3, Payload: protocol.RestoreRequest{ID: info.ID, Settings: *settings(100, 8, 1)}})
	stt := rec.lastState()
	if stt.Phase != protocol.PhaseRestored || stt.Step != 5 || !strings.Contains(stt.Reason, "cifar10.ckpt-5") || e.Busy() {
		t.Fatalf("state %+v busy %v; errors %v", stt, e.Busy(), rec.of(protocol.KindError))
	}
	e.Handle(protocol.Message{Payload: protocol.Eval{}, Run: 3})
	runToEnd(e)
	_, m := reference(t, e.data, *s)
	want := evaluateModel(t, m, e.data.Test)
	res := rec.of(protocol.KindEvalResult)
	if len(res) != 1 || res[0].Payload.(protocol.EvalResult).Correct != want.Correct || res[0].Payload.(protocol.EvalResult).Step != 5 || res[0].Run != 3 {
		t.Errorf("evaluation %+v, want %d correct at step 5", res, want.Correct)
	}
	if st.saves != saves || len(rec.of(protocol.KindCheckpoint)) != 0 {
		t.Errorf("restoring and evaluating saved something: %d saves", st.saves)
	}
}

// TestRestoreRefused leaves the current run alone when a restore cannot be done.
func TestRestoreRefused(t *testing.T) {
	e, rec, _ := storeEngine(t)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *policy(4, 2, 1, 4, 5)}})
	runToEnd(e)
	info := rec.of(protocol.KindCheckpoint)[0].Payload.(protocol.CheckpointSaved).Info
	rec.msgs = nil
	for _, req := range []protocol.RestoreRequest{
		{ID: info.ID, Resume: true, Settings: *settings(4, 2, 1)},                             // already at step 4
		{ID: protocol.CheckpointID(info.Run, 9), Resume: true, Settings: *settings(20, 2, 1)}, // not stored
	} {
		e.Handle(protocol.Message{Run: 2, Payload: req})
	}
	errs := errorsOf(rec, protocol.WhereCheckpoint)
	if len(errs) != 2 || !strings.Contains(errs[0], "already at step 4") || !strings.Contains(errs[1], "no checkpoint") {
		t.Errorf("errors %q", errs)
	}
	if e.run.id != 1 || e.run.phase != protocol.PhaseFinished || len(rec.of(protocol.KindState)) != 0 {
		t.Errorf("a refused restore changed the run: %d %s", e.run.id, e.run.phase)
	}
}

// TestStopSaves saves the step reached when a run is stopped between checkpoints.
func TestStopSaves(t *testing.T) {
	e, rec, st := storeEngine(t)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *policy(100, 2, 1, 3, 5)}})
	for i := 0; i < 5; i++ {
		e.Work()
	}
	e.Handle(protocol.Message{Payload: protocol.Stop{}, Run: 1})
	saved := rec.of(protocol.KindCheckpoint)
	if len(saved) != 2 || saved[1].Payload.(protocol.CheckpointSaved).Info.Step != 5 || st.saves != 2 {
		t.Errorf("saved %+v", saved)
	}
}

// TestStorageFull fills the quota: the save that does not fit is reported, the run pauses at
// that step, and every checkpoint stored before is still there.
func TestStorageFull(t *testing.T) {
	e, rec, st := storeEngine(t)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *policy(100, 2, 1, 2, 5)}})
	e.Work()
	e.Work()
	size := st.infos[rec.of(protocol.KindCheckpoint)[0].Payload.(protocol.CheckpointSaved).Info.ID].Size
	st.quota = 2*size + size/2
	for e.Busy() {
		e.Work()
	}
	stt := rec.lastState()
	if stt.Phase != protocol.PhasePaused || stt.Step != 6 || !strings.Contains(stt.Reason, "storage is full") {
		t.Fatalf("state %+v", stt)
	}
	errs := errorsOf(rec, protocol.WhereCheckpoint)
	if len(errs) != 1 || !strings.Contains(errs[0], "checkpoint cifar10.ckpt-6 was not saved") || !strings.Contains(errs[0], "kept") {
		t.Errorf("errors %q", errs)
	}
	if got := st.steps(rec.of(protocol.KindCheckpoint)[0].Payload.(protocol.CheckpointSaved).Info.Run); !slices.Equal(got, []int64{2, 4}) {
		t.Errorf("stored %v after the full quota, want 2 and 4", got)
	}
	run := rec.of(protocol.KindCheckpoint)[0].Payload.(protocol.CheckpointSaved).Info.Run
	// Still full: Resume retries the save, which fails again, and the run stays paused.
	e.Handle(protocol.Message{Payload: protocol.Resume{}, Run: 1})
	if stt := rec.lastState(); stt.Phase != protocol.PhasePaused || e.Busy() || len(errorsOf(rec, protocol.WhereCheckpoint)) != 2 {
		t.Fatalf("resumed with the storage still full: %+v", stt)
	}
	// Room made: Resume saves the refused checkpoint first, then trains on.
	st.quota = 0
	e.Handle(protocol.Message{Payload: protocol.Resume{}, Run: 1})
	if got := st.steps(run); !slices.Equal(got, []int64{2, 4, 6}) || rec.lastState().Phase != protocol.PhaseRunning {
		t.Fatalf("after making room: stored %v, state %+v", got, rec.lastState())
	}
	e.Work()
	e.Work()
	if got := st.steps(run); !slices.Equal(got, []int64{2, 4, 6, 8}) {
		t.Errorf("stored %v after two more steps", got)
	}
}

// TestNoStore trains without IndexedDB (the page says so in its panel): the run trains on
// and nothing fails.
func TestNoStore(t *testing.T) {
	e, rec := loadedEngine(t, testData())
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *policy(6, 2, 1, 2, 5)}})
	runToEnd(e)
	if errs := rec.of(protocol.KindError); len(errs) != 0 {
		t.Errorf("errors %+v", errs)
	}
	if st := rec.lastState(); st.Phase != protocol.PhaseFinished {
		t.Errorf("state %+v", st)
	}
}

// validFile is a checkpoint file of a fresh preset model with optimizer state at step 0.
func validFile(t *testing.T, preset string) []byte {
	t.Helper()
	spec, err := nn.Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.NewModel(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := nn.NewOptimizer(spec.Optimizer, m.Params())
	if err != nil {
		t.Fatal(err)
	}
	data, err := checkpoint.Encode(m, opt, checkpoint.Run{Seed: 1, Batch: 8})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// withNaN returns a copy of file with the first value of tensor name set to NaN.
func withNaN(t *testing.T, file []byte, name string) []byte {
	t.Helper()
	out := bytes.Clone(file)
	f, err := safetensors.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	tensor, ok := f.Tensor(name)
	if !ok {
		t.Fatalf("no tensor %s", name)
	}
	binary.LittleEndian.PutUint32(tensor.Data, math.Float32bits(float32(math.NaN())))
	return out
}

// TestUploadChecks uploads a good file, then bad ones: each bad one is refused with one
// sentence naming the file and the reason, and the store does not change.
func TestUploadChecks(t *testing.T) {
	e, rec, st := storeEngine(t)
	good := validFile(t, "cifar10")
	upload := func(name string, data []byte) {
		e.Receive(wasm.Inbound{Msg: protocol.Message{
			Payload: protocol.UploadRequest{Name: name, Preset: "cifar10"},
			Files:   []protocol.FileRef{{Name: name, Size: len(data)}}}, Files: [][]byte{data}})
	}
	upload("good.safetensors", good)
	saved := rec.of(protocol.KindCheckpoint)
	if len(saved) != 1 {
		t.Fatalf("the good file was not stored: %v", rec.of(protocol.KindError))
	}
	info := saved[0].Payload.(protocol.CheckpointSaved).Info
	if !info.Uploaded() || info.Upload != "good.safetensors" || info.Step != 0 || info.Size != len(good) || info.Preset != "cifar10" || !info.Resumable {
		t.Errorf("stored %+v", info)
	}
	if _, data, _ := st.Load(info.ID); !bytes.Equal(data, good) {
		t.Error("the stored file is not the uploaded bytes")
	}
	before := st.ids()
	bad := []struct{ name, want string }{
		{"truncated.safetensors", "not a complete safetensors checkpoint file"},
		{"nan.safetensors", "holds NaN"},
		{"cs231n.safetensors", "preset cs231n, not cifar10"},
		{"empty.safetensors", "too short"},
	}
	files := [][]byte{good[:len(good)-1000], withNaN(t, good, "conv2/weights"), validFile(t, "cs231n"), nil}
	for i, b := range bad {
		upload(b.name, files[i])
	}
	errs := errorsOf(rec, protocol.WhereCheckpoint)
	if len(errs) != len(bad) {
		t.Fatalf("errors %q", errs)
	}
	for i, b := range bad {
		msg := errs[i]
		if !strings.HasPrefix(msg, "the file "+b.name+" was not stored: ") || !strings.Contains(msg, b.want) || strings.Count(msg, ". ") > 0 {
			t.Errorf("%s: %q, want one sentence containing %q", b.name, msg, b.want)
		}
		t.Logf("%s", msg)
	}
	if !slices.Equal(st.ids(), before) || st.saves != 1 {
		t.Errorf("bad uploads changed the store: %v", st.ids())
	}
}

// TestUploadWeightsOnly accepts a file holding only the parameters (as another tool would
// export them, no metadata) and fine-tunes from it on resume.
func TestUploadWeightsOnly(t *testing.T) {
	e, rec, _ := storeEngine(t)
	spec, _ := nn.Preset("cifar10")
	m, _ := nn.NewModel(spec, 5)
	var tensors []safetensors.Tensor
	for _, p := range m.Params() {
		tensors = append(tensors, safetensors.F32(p.Name, p.Shape(), p.Data()))
	}
	data, err := safetensors.Marshal(&safetensors.File{Tensors: tensors})
	if err != nil {
		t.Fatal(err)
	}
	e.Receive(wasm.Inbound{Msg: protocol.Message{Payload: protocol.UploadRequest{Name: "w.safetensors", Preset: "cifar10"},
		Files: []protocol.FileRef{{Name: "w", Size: len(data)}}}, Files: [][]byte{data}})
	saved := rec.of(protocol.KindCheckpoint)
	if len(saved) != 1 || saved[0].Payload.(protocol.CheckpointSaved).Info.Resumable {
		t.Fatalf("saved %+v, errors %v", saved, rec.of(protocol.KindError))
	}
	e.Handle(protocol.Message{Run: 1, Payload: protocol.RestoreRequest{ID: saved[0].Payload.(protocol.CheckpointSaved).Info.ID, Resume: true, Settings: *policy(2, 2, 1, 0, 5)}})
	runToEnd(e)
	if st := rec.lastState(); st.Phase != protocol.PhaseFinished || st.Step != 2 {
		t.Errorf("fine-tuning from weights: %+v; errors %v", st, rec.of(protocol.KindError))
	}
}

// bgStore is a memStore that saves in the background, as IndexedDB does: a started save takes
// effect (or fails) only when the test finishes it or the engine waits for it.
type bgStore struct {
	*memStore
	started int
	open    []*bgSave
}

type bgSave struct {
	apply func() error
	err   error
	done  bool
}

func (s *bgStore) StartSave(info protocol.CheckpointInfo, file []byte, remove []string) func(bool) (bool, error) {
	file = bytes.Clone(file) // the engine may reuse its buffer, as the browser's copy allows
	sv := &bgSave{apply: func() error { return s.memStore.Save(info, file, remove) }}
	s.started++
	s.open = append(s.open, sv)
	return func(wait bool) (bool, error) {
		if wait && !sv.done {
			s.finish()
		}
		return sv.done, sv.err
	}
}

// finish commits (or fails) every started save.
func (s *bgStore) finish() {
	for _, sv := range s.open {
		sv.err, sv.done = sv.apply(), true
	}
	s.open = nil
}

func bgEngine(t *testing.T) (*Engine, *recorder, *bgStore) {
	e, rec, mem := storeEngine(t)
	st := &bgStore{memStore: mem}
	e.Checkpoints = st
	return e, rec, st
}

// TestBackgroundSave trains 7 steps saving every 3 into a store that commits in the
// background: training goes on while the save of step 3 is open, its entry is reported after
// the first step following its commit, and the last save (step 7) is waited for, after the
// open one of step 6.
func TestBackgroundSave(t *testing.T) {
	e, rec, st := bgEngine(t)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *policy(7, 4, 3, 3, 2)}})
	for range 4 {
		e.Work()
	}
	if st.started != 1 || st.saves != 0 || len(rec.of(protocol.KindCheckpoint)) != 0 || rec.lastState().Phase != protocol.PhaseRunning {
		t.Fatalf("after 4 steps with the save of step 3 open: started %d, stored %d, reported %d, state %+v",
			st.started, st.saves, len(rec.of(protocol.KindCheckpoint)), rec.lastState())
	}
	st.finish()
	e.Work()
	saved := rec.of(protocol.KindCheckpoint)
	if len(saved) != 1 || saved[0].Payload.(protocol.CheckpointSaved).Info.Step != 3 || st.saves != 1 {
		t.Fatalf("after the commit and one more step: reports %v, stored %d", saved, st.saves)
	}
	runToEnd(e)
	saved = rec.of(protocol.KindCheckpoint)
	if len(saved) != 3 || saved[1].Payload.(protocol.CheckpointSaved).Info.Step != 6 || saved[2].Payload.(protocol.CheckpointSaved).Info.Step != 7 {
		t.Fatalf("reports %d: %+v; errors %v", len(saved), saved, rec.of(protocol.KindError))
	}
	run := saved[0].Payload.(protocol.CheckpointSaved).Info.Run
	if got := saved[2].Payload.(protocol.CheckpointSaved).Removed; !slices.Equal(got, []string{protocol.CheckpointID(run, 3)}) {
		t.Errorf("the last save removed %v, want step 3", got)
	}
	if got := st.steps(run); !slices.Equal(got, []int64{6, 7}) || st.started != 2 || len(st.open) != 0 {
		t.Errorf("stored steps %v (want [6 7]), %d started in the background (want 2), %d open", got, st.started, len(st.open))
	}
	_, data, _ := st.Load(protocol.CheckpointID(run, 6))
	ck, err := checkpoint.Decode(data, "cifar10")
	if err != nil || ck.Step != 6 || ck.Run.Examples != 24 {
		t.Fatalf("checkpoint of step 6: %v, %+v", err, ck)
	}
	if st := rec.lastState(); st.Phase != protocol.PhaseFinished {
		t.Errorf("state %+v", st)
	}
}

// TestBackgroundStorageFull: a save that fails in the background for a full quota pauses the
// run a step or two later, keeping every older checkpoint, and Resume saves the step reached.
// When the refusal is only known as the next save begins (the saver answers slowly), the run
// pauses there without trying that save, which would count against the storage a second time.
func TestBackgroundStorageFull(t *testing.T) {
	for _, c := range []struct {
		name    string
		settled bool // every save ends right after the step that began it
		paused  int  // the step the run pauses at
	}{
		{"settled at once", true, 7},
		{"seen as the next save begins", false, 8},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, rec, st := bgEngine(t)
			e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *policy(100, 2, 1, 2, 5)}})
			e.Work()
			e.Work()
			st.finish()
			e.Work()
			first := rec.of(protocol.KindCheckpoint)[0].Payload.(protocol.CheckpointSaved).Info
			st.quota = 2*first.Size + first.Size/2
			for e.Busy() {
				e.Work()
				if c.settled {
					st.finish()
				}
			}
			stt := rec.lastState()
			if stt.Phase != protocol.PhasePaused || stt.Step != c.paused || !strings.Contains(stt.Reason, "storage is full") {
				t.Fatalf("state %+v", stt)
			}
			errs := errorsOf(rec, protocol.WhereCheckpoint)
			if len(errs) != 1 || !strings.Contains(errs[0], "checkpoint cifar10.ckpt-6 was not saved") || !strings.Contains(errs[0], fmt.Sprintf("paused at step %d", c.paused)) {
				t.Errorf("errors %q", errs)
			}
			if st.started != 3 {
				t.Errorf("%d saves begun, want 3 (steps 2, 4 and 6; none after 6 was refused)", st.started)
			}
			if got := st.steps(first.Run); !slices.Equal(got, []int64{2, 4}) {
				t.Errorf("stored %v after the full quota, want 2 and 4", got)
			}
			st.quota = 0
			e.Handle(protocol.Message{Payload: protocol.Resume{}, Run: 1})
			if got := st.steps(first.Run); !slices.Equal(got, []int64{2, 4, int64(c.paused)}) || rec.lastState().Phase != protocol.PhaseRunning {
				t.Fatalf("after making room: stored %v, state %+v", got, rec.lastState())
			}
		})
	}
}

// delegating is a store that takes a saver (a Delegator), refusing what is not one.
type delegating struct {
	*memStore
	helpers []any
}

func (s *delegating) UseSaver(helper any) error {
	if helper != "port" {
		return fmt.Errorf("not a port: %v", helper)
	}
	s.helpers = append(s.helpers, helper)
	return nil
}

// TestSaverMessage: a saver message hands its shared value to a store that delegates its
// writes, says why when the store refuses it, and is ignored by a store that writes itself.
func TestSaverMessage(t *testing.T) {
	e, rec, mem := storeEngine(t)
	st := &delegating{memStore: mem}
	e.Checkpoints = st
	e.Receive(wasm.Inbound{Msg: protocol.Message{Payload: protocol.SaverPort{}}, Shared: "port"})
	if len(st.helpers) != 1 || len(errorsOf(rec, protocol.WhereCheckpoint)) != 0 {
		t.Fatalf("helpers %v, errors %q", st.helpers, errorsOf(rec, protocol.WhereCheckpoint))
	}
	e.Receive(wasm.Inbound{Msg: protocol.Message{Payload: protocol.SaverPort{}}, Shared: 42})
	if errs := errorsOf(rec, protocol.WhereCheckpoint); len(errs) != 1 || !strings.Contains(errs[0], "not a port") {
		t.Errorf("a refused saver reported %q", errs)
	}
	e.Checkpoints = mem
	e.Receive(wasm.Inbound{Msg: protocol.Message{Payload: protocol.SaverPort{}}, Shared: "port"})
	if errs := errorsOf(rec, protocol.WhereCheckpoint); len(errs) != 1 || len(errorsOf(rec, protocol.WhereProtocol)) != 0 {
		t.Errorf("a store without a saver reported %q", errs)
	}
}
