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
	"cifar10/nn/training"
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

// testGroup is a group of drivers and the board of their current run.
type testGroup struct {
	drivers []*driver
	board   *memBoard
}

func newTestGroup(t *testing.T, n int, data *cifar.Data, store CheckpointStore) *testGroup {
	tg := &testGroup{}
	for range n {
		tg.drivers = append(tg.drivers, newDriver(t, data, store))
	}
	return tg
}

// send gives every worker msg for run id as the page does: its index, the group size and a
// board made for the run's batch.
func (tg *testGroup) send(msg protocol.Message, batch int) {
	n := len(tg.drivers)
	tg.board = newMemBoard(wasm.NewBoardLayout(batch, n, paramsOf(msg)))
	for w, d := range tg.drivers {
		m := msg
		m.Worker, m.Workers = w, n
		d.in <- wasm.Inbound{Msg: m, Shared: tg.board}
	}
}

// paramsOf is the tutorial model's size (the presets tests train).
func paramsOf(protocol.Message) int { return 1068298 }

// leaderState waits until the leader reports one of phases and returns its state.
func (tg *testGroup) leaderState(t *testing.T, phases ...protocol.Phase) protocol.RunState {
	t.Helper()
	var st protocol.RunState
	until(t, fmt.Sprintf("the leader to be %v", phases), func() bool {
		st = tg.drivers[0].lastState()
		return slices.Contains(phases, st.Phase)
	})
	return st
}

// states returns every worker's phase and step, read on their goroutines.
func (tg *testGroup) states() []string {
	var out []string
	for _, d := range tg.drivers {
		d.inspect(func(e *Engine) { out = append(out, fmt.Sprintf("%s@%d", e.run.phase, e.run.steps())) })
	}
	return out
}

// weights returns worker w's parameters.
func (tg *testGroup) weights(w int) []float32 {
	var out []float32
	tg.drivers[w].inspect(func(e *Engine) { out = slices.Clone(e.run.tr.Model().Values()) })
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
	return rec.losses(), slices.Clone(e.run.tr.Model().Values()), ev[0].Payload.(protocol.EvalResult)
}

// TestGroupTrainsAsOne: 2 and 3 workers train a run of batch 64 (4 shards) to the same losses
// and weights as one worker alone; only the leader reports; the evaluation is split, and its
// parts add up to the lone worker's.
func TestGroupTrainsAsOne(t *testing.T) {
	data := testData()
	s := settings(6, 64, 3)
	wantLosses, wantWeights, wantEval := alone(t, data, s)
	for _, n := range []int{2, 3} {
		tg := newTestGroup(t, n, data, nil)
		tg.send(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}}, s.Batch)
		tg.leaderState(t, protocol.PhaseFinished)
		until(t, "every worker to finish", func() bool {
			return strings.Join(tg.states(), " ") == strings.TrimSpace(strings.Repeat("finished@6 ", n))
		})
		var got []float32
		for _, m := range tg.drivers[0].messages(protocol.KindProgress) {
			got = append(got, m.Payload.(protocol.Progress).Losses...)
		}
		if !sameFloats(got, wantLosses) {
			t.Errorf("%d workers: losses %v, alone %v", n, got, wantLosses)
		}
		for w := range n {
			if !sameFloats(tg.weights(w), wantWeights) {
				t.Errorf("%d workers: worker %d's weights differ from a lone worker's", n, w)
			}
			if w > 0 && len(tg.drivers[w].messages(protocol.KindProgress))+len(tg.drivers[w].messages(protocol.KindLog)) > 0 {
				t.Errorf("%d workers: follower %d reported progress", n, w)
			}
		}

		tg.drivers[0].in <- wasm.Inbound{Msg: protocol.Message{Payload: protocol.Eval{}, Run: 1}}
		var sum protocol.EvalResult
		until(t, "every part of the evaluation", func() bool {
			sum = protocol.EvalResult{}
			parts := 0
			for _, d := range tg.drivers {
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
	tg := newTestGroup(t, 2, data, nil)
	tg.drivers[1].e.SetSharedMemory(SharedMemory{Board: func(v any, l wasm.BoardLayout) (Board, error) {
		b, err := memShared.Board(v, l)
		return slowBoard{b, delay}, err
	}})
	tg.send(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}}, s.Batch)
	tg.leaderState(t, protocol.PhaseFinished)
	progress := tg.drivers[0].messages(protocol.KindProgress)
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
	tg := newTestGroup(t, 2, testData(), nil)
	tg.send(protocol.Message{Run: 4, Payload: protocol.Start{Settings: *settings(1000, 32, 1)}}, 32)
	until(t, "two steps", func() bool { return tg.drivers[0].lastStep() >= 2 })
	leader := tg.drivers[0]
	leader.in <- wasm.Inbound{Msg: protocol.Message{Payload: protocol.Pause{}, Run: 4}}
	paused := tg.leaderState(t, protocol.PhasePaused)
	want := fmt.Sprintf("paused@%d", paused.Step)
	until(t, "the follower to pause", func() bool { return strings.Join(tg.states(), " ") == want+" "+want })
	time.Sleep(50 * time.Millisecond)
	if got := strings.Join(tg.states(), " "); got != want+" "+want {
		t.Fatalf("while paused: %s", got)
	}

	leader.in <- wasm.Inbound{Msg: protocol.Message{Payload: protocol.Resume{}, Run: 4}}
	until(t, "two more steps", func() bool { return leader.lastStep() >= paused.Step+2 })
	leader.in <- wasm.Inbound{Msg: protocol.Message{Payload: protocol.Stop{}, Run: 4}}
	stopped := tg.leaderState(t, protocol.PhaseStopped)
	want = fmt.Sprintf("stopped@%d", stopped.Step)
	until(t, "the follower to stop", func() bool { return strings.Join(tg.states(), " ") == want+" "+want })
	if !sameFloats(tg.weights(0), tg.weights(1)) {
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
	tg := newTestGroup(t, 3, testData(), nil)
	tg.send(protocol.Message{Run: 2, Payload: protocol.Start{Settings: *settings(1000, 48, 2)}}, 48)
	until(t, "a step", func() bool { return tg.drivers[0].lastStep() >= 1 })
	tg.drivers[2].stop() // the worker dies: it never arrives again
	tg.board.Store(wasm.WordAbort, wasm.AbortPage)
	st := tg.leaderState(t, protocol.PhaseFailed)
	if !strings.Contains(st.Reason, "another worker of the group stopped: training stopped at step") {
		t.Errorf("the leader failed with %q", st.Reason)
	}
	// The follower sees the abort on the board on its own schedule (within one wait slice),
	// not necessarily before the leader has reported: wait for it, then look.
	var phase protocol.Phase
	var busy bool
	until(t, "the follower to fail and go idle", func() bool {
		tg.drivers[1].inspect(func(e *Engine) { phase, busy = e.run.phase, e.Busy() })
		return phase == protocol.PhaseFailed && !busy
	})
}

// TestFollowerPanic: a follower that fails aborts the group, and the leader names it.
func TestFollowerPanic(t *testing.T) {
	tg := newTestGroup(t, 2, testData(), nil)
	tg.send(protocol.Message{Run: 2, Payload: protocol.Start{Settings: *settings(1000, 32, 2)}}, 32)
	until(t, "a step", func() bool { return tg.drivers[0].lastStep() >= 1 })
	tg.drivers[1].inspect(func(e *Engine) { e.Abort("boom") })
	st := tg.leaderState(t, protocol.PhaseFailed)
	if !strings.HasPrefix(st.Reason, "worker 2 of 2 failed") {
		t.Errorf("the leader failed with %q", st.Reason)
	}
	if errs := tg.drivers[1].messages(protocol.KindError); len(errs) != 1 || !strings.Contains(errs[0].Payload.(protocol.Failure).Message, "boom") {
		t.Errorf("the follower reported %+v", errs)
	}
}

// TestResumeWithOtherWorkers: a run trained alone and saved, resumed from its checkpoint by a
// group of two (as after a worker died), ends exactly where the lone run ended.
func TestResumeWithOtherWorkers(t *testing.T) {
	data := testData()
	store := &lockedStore{st: newMemStore()}
	s := policy(6, 32, 8, 3, 5)
	one := newTestGroup(t, 1, data, store)
	one.drivers[0].in <- wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}}}
	one.leaderState(t, protocol.PhaseFinished)
	want := one.weights(0)
	saved := one.drivers[0].messages(protocol.KindCheckpoint)
	if len(saved) != 2 || saved[0].Payload.(protocol.CheckpointSaved).Info.Step != 3 {
		t.Fatalf("saved %+v", saved)
	}

	two := newTestGroup(t, 2, data, store)
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

// boardGroups are the groups of workers 0..n-1 on one memBoard, for a run of batch at step.
func boardGroups(n, batch, step int) ([]*group, *memBoard) {
	l := wasm.NewBoardLayout(batch, n, paramsOf(protocol.Message{}))
	b := newMemBoard(l)
	var gs []*group
	for i := range n {
		gs = append(gs, newGroup(b, l, i, n, step))
	}
	return gs, b
}

// TestGroupPublishCollect: what each worker of a group publishes for a step is what every
// worker collects: all shards' losses in shard order, and the others' node sums through the
// source; the board's two buffers alternate with the steps.
func TestGroupPublishCollect(t *testing.T) {
	const batch, step = 32, 3
	gs, b := boardGroups(2, batch, step)
	var runs []*training.Run
	for i := range gs {
		tr, err := training.New(config(*settings(10, batch, 4), 1e-3, testData().Train))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tr.Close)
		if err := tr.Join(2, i); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, tr)
	}
	for i, g := range gs {
		runs[i].Compute(nil)
		g.publish(runs[i].Replica(), step)
		if !g.published || b.Load(wasm.WordArrived) != int32(i+1) {
			t.Errorf("worker %d published, and the board counts %d arrived", i, b.Load(wasm.WordArrived))
		}
	}
	want := append(slices.Clone(runs[0].Replica().Losses()), runs[1].Replica().Losses()...)
	if len(want) != 2 {
		t.Fatalf("%d shard losses, want 2 (one a worker)", len(want))
	}
	for i, g := range gs {
		if end := g.await(step, nil); end != allArrived {
			t.Fatalf("worker %d: the wait ended with %v", i, end)
		}
		src, losses := g.collect(step)
		if !sameFloats(losses, want) || g.published || g.buf != 0 || g.bufOf(step+1) != 1 {
			t.Errorf("worker %d collected losses %v, want %v (buffer %d)", i, losses, want, g.buf)
		}
		other := runs[1-i].Replica()
		for k, n := range other.Nodes() {
			got := make([]float32, len(other.NodeSum(k)))
			if !src(n, got, false) || !sameFloats(got, other.NodeSum(k)) {
				t.Errorf("worker %d reads node %v of worker %d wrong", i, n, 1-i)
			}
		}
	}
}

// TestGroupRequests: a follower sees the leader's evaluation request once, at its step, and the
// leader's phase at the step it was written for; finished and failed are never written.
func TestGroupRequests(t *testing.T) {
	gs, b := boardGroups(3, 48, 0)
	leader, follower := gs[0], gs[1]
	if _, ok := follower.next(0); !ok {
		t.Error("at step 0 a follower does not see the board's running phase")
	}
	leader.announce(protocol.PhasePaused, 4)
	for _, c := range []struct {
		step int
		want request
		ok   bool
	}{{3, request{}, false}, {4, request{phase: protocol.PhasePaused}, true}} {
		if got, ok := follower.next(c.step); ok != c.ok || ok && got != c.want {
			t.Errorf("at step %d: %+v %v, want %+v %v", c.step, got, ok, c.want, c.ok)
		}
	}
	control := b.Load(wasm.WordControl)
	leader.announce(protocol.PhaseFinished, 5)
	leader.announce(protocol.PhaseFailed, 5)
	if b.Load(wasm.WordControl) != control {
		t.Error("the leader wrote finished or failed on the board")
	}
	leader.askEval(4)
	if got, ok := follower.next(4); !ok || !got.eval {
		t.Errorf("the evaluation request: %+v %v", got, ok)
	}
	if got, _ := follower.next(4); got.eval {
		t.Error("the evaluation request was taken twice")
	}
	if got, ok := gs[2].next(3); ok && got.eval {
		t.Error("an evaluation at step 4 was taken at step 3")
	}
	total := 0
	for i, g := range gs {
		lo, hi := g.part(31)
		if lo != total {
			t.Errorf("worker %d evaluates from %d, want %d", i, lo, total)
		}
		total = hi
	}
	if total != 31 {
		t.Errorf("the parts cover %d of 31 test images", total)
	}
}

// TestGroupAwait: a wait ends when every worker arrived, when a worker aborts (once, with its
// index), or when a follower obeys a phase; after an evaluation it waits on.
func TestGroupAwait(t *testing.T) {
	t.Run("abort", func(t *testing.T) {
		gs, b := boardGroups(2, 32, 0)
		gs[1].abort()
		gs[1].abort()
		if code := b.Load(wasm.WordAbort); code != 2 || !gs[1].aborted || gs[1].follows() {
			t.Errorf("abort word %d, aborted %v", code, gs[1].aborted)
		}
		if end := gs[0].await(0, nil); end != abortSeen {
			t.Errorf("the leader's wait ended with %v", end)
		}
		var none *group
		none.abort() // a lone worker has no group to tell
	})
	t.Run("obey", func(t *testing.T) {
		gs, _ := boardGroups(2, 32, 0)
		gs[0].announce(protocol.PhaseStopped, 0)
		var got []request
		end := gs[1].await(0, func(r request) bool { got = append(got, r); return true })
		if end != obeyed || len(got) != 1 || got[0].phase != protocol.PhaseStopped {
			t.Errorf("ended with %v after %+v", end, got)
		}
	})
	t.Run("evaluate, then arrive", func(t *testing.T) {
		gs, b := boardGroups(2, 32, 0)
		gs[0].askEval(0)
		evals := 0
		end := gs[1].await(0, func(r request) bool {
			if r.eval {
				evals++
				b.Add(wasm.WordArrived, 2) // both workers arrive during the evaluation
				return true
			}
			return false // running, as the follower already is
		})
		if end != allArrived || evals != 1 {
			t.Errorf("ended with %v after %d evaluations", end, evals)
		}
	})
}
