package worker

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cifar10/nn/cifar"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// memBoard is a Board in Go memory, as the browser's SharedArrayBuffer behaves: every change
// rings the bell and wakes the waiters.
type memBoard struct {
	mu      sync.Mutex
	words   [wasm.BoardWords]int32
	data    []float32
	changed chan struct{}
}

func newMemBoard(l wasm.BoardLayout) *memBoard {
	return &memBoard{data: make([]float32, l.Floats()), changed: make(chan struct{})}
}

func (b *memBoard) Load(word int) int32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.words[word]
}

func (b *memBoard) change(word int, f func(int32) int32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.words[word] = f(b.words[word])
	b.words[wasm.WordBell]++
	close(b.changed)
	b.changed = make(chan struct{})
}

func (b *memBoard) Store(word int, v int32) { b.change(word, func(int32) int32 { return v }) }
func (b *memBoard) Add(word int, d int32)   { b.change(word, func(v int32) int32 { return v + d }) }

func (b *memBoard) Wait(word int, old int32, d time.Duration) {
	b.mu.Lock()
	if b.words[word] != old {
		b.mu.Unlock()
		return
	}
	ch := b.changed
	b.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(d):
	}
}

func (b *memBoard) ReadFloats(off int, dst []float32, add bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, v := range b.data[off : off+len(dst)] {
		if add {
			dst[i] += v
		} else {
			dst[i] = v
		}
	}
}

func (b *memBoard) WriteFloats(off int, src []float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	copy(b.data[off:], src)
}

// memShared opens memBoards.
var memShared = SharedMemory{
	Board: func(v any, l wasm.BoardLayout) (Board, error) {
		b, ok := v.(*memBoard)
		if !ok || len(b.data) != l.Floats() {
			return nil, fmt.Errorf("the board does not fit %d floats", l.Floats())
		}
		return b, nil
	},
}

// lockedStore lets the workers of a group share one memStore.
type lockedStore struct {
	mu sync.Mutex
	st *memStore
}

func (s *lockedStore) List() ([]protocol.CheckpointInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.List()
}

func (s *lockedStore) Save(info protocol.CheckpointInfo, file []byte, remove []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Save(info, file, remove)
}

func (s *lockedStore) Load(id string) (protocol.CheckpointInfo, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Load(id)
}

// driver runs one engine on its own goroutine, as a Web Worker runs one: messages are
// handled between units of work, and the engine blocks on the next message when idle.
type driver struct {
	e    *Engine
	mu   sync.Mutex
	rec  recorder
	in   chan wasm.Inbound
	do   chan func(*Engine)
	quit chan struct{}
	done chan struct{}
}

func newDriver(t *testing.T, data *cifar.Data, store CheckpointStore) *driver {
	d := &driver{in: make(chan wasm.Inbound, 16), do: make(chan func(*Engine)), quit: make(chan struct{}), done: make(chan struct{})}
	d.e = NewEngine(func(m protocol.Message) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.rec.post(m)
	}, nil)
	d.e.data = data
	d.e.Checkpoints = store
	d.e.SetSharedMemory(memShared)
	go d.loop()
	t.Cleanup(d.stop)
	return d
}

func (d *driver) loop() {
	defer close(d.done)
	for {
		select {
		case in := <-d.in:
			d.e.Receive(in)
			continue
		case f := <-d.do:
			f(d.e)
			continue
		case <-d.quit:
			return
		default:
		}
		if d.e.Busy() {
			d.e.Work()
			continue
		}
		select {
		case in := <-d.in:
			d.e.Receive(in)
		case f := <-d.do:
			f(d.e)
		case <-d.quit:
			return
		}
	}
}

// stop ends the goroutine (a worker that dies).
func (d *driver) stop() {
	select {
	case <-d.quit:
	default:
		close(d.quit)
	}
	<-d.done
}

// inspect runs f on the engine's goroutine.
func (d *driver) inspect(f func(*Engine)) {
	ran := make(chan struct{})
	d.do <- func(e *Engine) { f(e); close(ran) }
	<-ran
}

// messages returns what the engine posted so far, of one type.
func (d *driver) messages(typ protocol.Kind) []protocol.Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rec.of(typ)
}

func (d *driver) lastState() protocol.RunState {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rec.lastState()
}

// until polls cond for up to a minute.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
	}
}

// team is a group of drivers and the board of their current run.
type team struct {
	drivers []*driver
	board   *memBoard
}

func newTeam(t *testing.T, n int, data *cifar.Data, store CheckpointStore) *team {
	tm := &team{}
	for range n {
		tm.drivers = append(tm.drivers, newDriver(t, data, store))
	}
	return tm
}

// send gives every worker msg for run id as the page does: its index, the group size and a
// board made for the run's batch.
func (tm *team) send(msg protocol.Message, batch int) {
	n := len(tm.drivers)
	tm.board = newMemBoard(wasm.NewBoardLayout(batch, n, paramsOf(msg)))
	for w, d := range tm.drivers {
		m := msg
		m.Worker, m.Workers = w, n
		d.in <- wasm.Inbound{Msg: m, Shared: tm.board}
	}
}

// paramsOf is the tutorial model's size (the presets tests train).
func paramsOf(protocol.Message) int { return 1068298 }

// leaderState waits until the leader reports one of phases and returns its state.
func (tm *team) leaderState(t *testing.T, phases ...protocol.Phase) protocol.RunState {
	t.Helper()
	var st protocol.RunState
	until(t, fmt.Sprintf("the leader to be %v", phases), func() bool {
		st = tm.drivers[0].lastState()
		return slices.Contains(phases, st.Phase)
	})
	return st
}

// states returns every worker's phase and step, read on their goroutines.
func (tm *team) states() []string {
	var out []string
	for _, d := range tm.drivers {
		d.inspect(func(e *Engine) { out = append(out, fmt.Sprintf("%s@%d", e.run.phase, e.run.steps())) })
	}
	return out
}

// weights returns worker w's parameters.
func (tm *team) weights(w int) []float32 {
	var out []float32
	tm.drivers[w].inspect(func(e *Engine) { out = e.run.tr.Model().CopyValues(make([]float32, e.run.tr.Model().NumParams())) })
	return out
}

func sameFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// alone trains s on one engine and returns its losses, weights and evaluation.
func alone(t *testing.T, data *cifar.Data, s *protocol.Settings) ([]float32, []float32, protocol.EvalResult) {
	e, rec := loadedEngine(t, data)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}})
	runToEnd(e)
	e.Handle(protocol.Message{Payload: protocol.Eval{}, Run: 1})
	runToEnd(e)
	ev := rec.of(protocol.KindEvalResult)
	if len(ev) != 1 {
		t.Fatalf("alone: %d evaluation results; errors %+v", len(ev), rec.of(protocol.KindError))
	}
	return rec.losses(), e.run.tr.Model().CopyValues(make([]float32, e.run.tr.Model().NumParams())), ev[0].Payload.(protocol.EvalResult)
}

// TestGroupTrainsAsOne: 2 and 3 workers train a run of batch 64 (4 shards) to the same losses
// and weights as one worker alone; only the leader reports; the evaluation is split, and its
// parts add up to the lone worker's.
func TestGroupTrainsAsOne(t *testing.T) {
	data := testData()
	s := settings(6, 64, 3)
	wantLosses, wantWeights, wantEval := alone(t, data, s)
	for _, n := range []int{2, 3} {
		tm := newTeam(t, n, data, nil)
		tm.send(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}}, s.Batch)
		tm.leaderState(t, protocol.PhaseFinished)
		until(t, "every worker to finish", func() bool {
			return strings.Join(tm.states(), " ") == strings.TrimSpace(strings.Repeat("finished@6 ", n))
		})
		var got []float32
		for _, m := range tm.drivers[0].messages(protocol.KindProgress) {
			got = append(got, m.Payload.(protocol.Progress).Losses...)
		}
		if !sameFloats(got, wantLosses) {
			t.Errorf("%d workers: losses %v, alone %v", n, got, wantLosses)
		}
		for w := range n {
			if !sameFloats(tm.weights(w), wantWeights) {
				t.Errorf("%d workers: worker %d's weights differ from a lone worker's", n, w)
			}
			if w > 0 && len(tm.drivers[w].messages(protocol.KindProgress))+len(tm.drivers[w].messages(protocol.KindLog)) > 0 {
				t.Errorf("%d workers: follower %d reported progress", n, w)
			}
		}

		tm.drivers[0].in <- wasm.Inbound{Msg: protocol.Message{Payload: protocol.Eval{}, Run: 1}}
		var sum protocol.EvalResult
		until(t, "every part of the evaluation", func() bool {
			sum = protocol.EvalResult{}
			parts := 0
			for _, d := range tm.drivers {
				for _, m := range d.messages(protocol.KindEvalResult) {
					parts++
					sum.Correct += m.Payload.(protocol.EvalResult).Correct
					sum.Total += m.Payload.(protocol.EvalResult).Total
				}
			}
			return parts == n
		})
		if sum.Correct != wantEval.Correct || sum.Total != wantEval.Total || sum.Total != data.Test.Len() {
			t.Errorf("%d workers: evaluation parts add to %d/%d, alone %d/%d", n, sum.Correct, sum.Total, wantEval.Correct, wantEval.Total)
		}
	}
}

// slowBoard is a follower's view of a board on which publishing takes delay longer.
type slowBoard struct {
	Board
	delay time.Duration
}

func (b slowBoard) WriteFloats(off int, src []float32) {
	time.Sleep(b.delay)
	b.Board.WriteFloats(off, src)
}

// TestLeaderReportsWait: the leader reports the time it spent waiting for a follower that
// publishes its shards late, as part of the time in steps; a lone worker reports none.
func TestLeaderReportsWait(t *testing.T) {
	data := testData()
	s := settings(4, 32, 3)
	const delay = 150 * time.Millisecond
	tm := newTeam(t, 2, data, nil)
	tm.drivers[1].e.SetSharedMemory(SharedMemory{Board: func(v any, l wasm.BoardLayout) (Board, error) {
		b, err := memShared.Board(v, l)
		return slowBoard{b, delay}, err
	}})
	tm.send(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}}, s.Batch)
	tm.leaderState(t, protocol.PhaseFinished)
	progress := tm.drivers[0].messages(protocol.KindProgress)
	last := progress[len(progress)-1].Payload.(protocol.Progress)
	if min := 0.8 * float64(s.Steps) * delay.Seconds(); last.WaitSeconds < min || last.WaitSeconds >= last.TrainSeconds {
		t.Errorf("the leader waited %.3f s of %.3f s in steps, want at least %.3f s", last.WaitSeconds, last.TrainSeconds, min)
	}

	e, rec := loadedEngine(t, data)
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}})
	runToEnd(e)
	for _, m := range rec.of(protocol.KindProgress) {
		if m.Payload.(protocol.Progress).WaitSeconds != 0 {
			t.Errorf("a lone worker reports waiting %g s", m.Payload.(protocol.Progress).WaitSeconds)
		}
	}
}

// TestGroupPauseStop: the page commands only the leader; the followers pause, resume and stop
// at the leader's step, so every worker keeps the same weights.
func TestGroupPauseStop(t *testing.T) {
	tm := newTeam(t, 2, testData(), nil)
	tm.send(protocol.Message{Run: 4, Payload: protocol.Start{Settings: *settings(1000, 32, 1)}}, 32)
	until(t, "two steps", func() bool { return tm.drivers[0].lastStep() >= 2 })
	leader := tm.drivers[0]
	leader.in <- wasm.Inbound{Msg: protocol.Message{Payload: protocol.Pause{}, Run: 4}}
	paused := tm.leaderState(t, protocol.PhasePaused)
	want := fmt.Sprintf("paused@%d", paused.Step)
	until(t, "the follower to pause", func() bool { return strings.Join(tm.states(), " ") == want+" "+want })
	time.Sleep(50 * time.Millisecond)
	if got := strings.Join(tm.states(), " "); got != want+" "+want {
		t.Fatalf("while paused: %s", got)
	}

	leader.in <- wasm.Inbound{Msg: protocol.Message{Payload: protocol.Resume{}, Run: 4}}
	until(t, "two more steps", func() bool { return leader.lastStep() >= paused.Step+2 })
	leader.in <- wasm.Inbound{Msg: protocol.Message{Payload: protocol.Stop{}, Run: 4}}
	stopped := tm.leaderState(t, protocol.PhaseStopped)
	want = fmt.Sprintf("stopped@%d", stopped.Step)
	until(t, "the follower to stop", func() bool { return strings.Join(tm.states(), " ") == want+" "+want })
	if !sameFloats(tm.weights(0), tm.weights(1)) {
		t.Error("the workers stopped with different weights")
	}
}

// lastStep is the steps done in the last progress or state the engine reported.
func (d *driver) lastStep() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	step := 0
	for _, m := range d.rec.msgs {
		switch p := m.Payload.(type) {
		case protocol.Progress:
			step = p.Step
		case protocol.RunState:
			step = p.Step
		}
	}
	return step
}

// TestGroupAbort: when the page aborts the board (a worker died), every live worker fails the
// run at once, and the leader says why.
func TestGroupAbort(t *testing.T) {
	tm := newTeam(t, 3, testData(), nil)
	tm.send(protocol.Message{Run: 2, Payload: protocol.Start{Settings: *settings(1000, 48, 2)}}, 48)
	until(t, "a step", func() bool { return tm.drivers[0].lastStep() >= 1 })
	tm.drivers[2].stop() // the worker dies: it never arrives again
	tm.board.Store(wasm.WordAbort, wasm.AbortPage)
	st := tm.leaderState(t, protocol.PhaseFailed)
	if !strings.Contains(st.Reason, "another worker of the group stopped: training stopped at step") {
		t.Errorf("the leader failed with %q", st.Reason)
	}
	// The follower sees the abort on the board on its own schedule (within one wait slice),
	// not necessarily before the leader has reported: wait for it, then look.
	var phase protocol.Phase
	var busy bool
	until(t, "the follower to fail and go idle", func() bool {
		tm.drivers[1].inspect(func(e *Engine) { phase, busy = e.run.phase, e.Busy() })
		return phase == protocol.PhaseFailed && !busy
	})
}

// TestFollowerPanic: a follower that fails aborts the group, and the leader names it.
func TestFollowerPanic(t *testing.T) {
	tm := newTeam(t, 2, testData(), nil)
	tm.send(protocol.Message{Run: 2, Payload: protocol.Start{Settings: *settings(1000, 32, 2)}}, 32)
	until(t, "a step", func() bool { return tm.drivers[0].lastStep() >= 1 })
	tm.drivers[1].inspect(func(e *Engine) { e.Abort("boom") })
	st := tm.leaderState(t, protocol.PhaseFailed)
	if !strings.HasPrefix(st.Reason, "worker 2 of 2 failed") {
		t.Errorf("the leader failed with %q", st.Reason)
	}
	if errs := tm.drivers[1].messages(protocol.KindError); len(errs) != 1 || !strings.Contains(errs[0].Payload.(protocol.Failure).Message, "boom") {
		t.Errorf("the follower reported %+v", errs)
	}
}

// TestResumeWithOtherWorkers: a run trained alone and saved, resumed from its checkpoint by a
// group of two (as after a worker died), ends exactly where the lone run ended.
func TestResumeWithOtherWorkers(t *testing.T) {
	data := testData()
	store := &lockedStore{st: newMemStore()}
	s := policy(6, 32, 8, 3, 5)
	one := newTeam(t, 1, data, store)
	one.drivers[0].in <- wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}}}
	one.leaderState(t, protocol.PhaseFinished)
	want := one.weights(0)
	saved := one.drivers[0].messages(protocol.KindCheckpoint)
	if len(saved) != 2 || saved[0].Payload.(protocol.CheckpointSaved).Info.Step != 3 {
		t.Fatalf("saved %+v", saved)
	}

	two := newTeam(t, 2, data, store)
	two.send(protocol.Message{Run: 2, Payload: protocol.RestoreRequest{
		ID: saved[0].Payload.(protocol.CheckpointSaved).Info.ID, Resume: true, Settings: *s}}, s.Batch)
	two.leaderState(t, protocol.PhaseFinished)
	until(t, "the follower to finish", func() bool { return strings.Join(two.states(), " ") == "finished@6 finished@6" })
	for w := range 2 {
		if !sameFloats(two.weights(w), want) {
			t.Errorf("worker %d of the resumed group differs from the uninterrupted run", w)
		}
	}
	if n := len(two.drivers[1].messages(protocol.KindCheckpoint)); n != 0 {
		t.Errorf("the follower saved %d checkpoints", n)
	}
}
