package coord

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// fakePort is a worker as the group sees it: it records what it is sent.
type fakePort struct {
	name   string
	sent   []sent
	exit   map[string]func()
	closed bool
	inbox  chan wasm.Inbound
}

// sent is one message a fakePort was sent, with what went along.
type sent struct {
	msg    protocol.Message
	shared any // shared memory (SendShared)
	port   any // a channel (SendPort)
}

func (p *fakePort) Send(m protocol.Message, files ...[]byte) error {
	p.sent = append(p.sent, sent{msg: m})
	return nil
}

func (p *fakePort) SendShared(m protocol.Message, shared any) error {
	p.sent = append(p.sent, sent{msg: m, shared: shared})
	return nil
}

func (p *fakePort) SendPort(m protocol.Message, port any) error {
	p.sent = append(p.sent, sent{msg: m, port: port})
	return nil
}

func (p *fakePort) Inbox() <-chan wasm.Inbound { return p.inbox }

func (p *fakePort) OnExit(lock string, f func()) { p.exit[lock] = f }

func (p *fakePort) Close() { p.closed = true }

// kinds lists the kinds of the messages p was sent, and takes them off its list.
func (p *fakePort) kinds() []protocol.Kind {
	var k []protocol.Kind
	for _, s := range p.sent {
		k = append(k, s.msg.Kind())
	}
	p.sent = nil
	return k
}

// fakeBoard is a run's board: its buffer is its layout, and it keeps the words stored.
type fakeBoard struct {
	layout wasm.BoardLayout
	words  map[int]int32
}

func (b *fakeBoard) Buffer() any { return b }

func (b *fakeBoard) Store(word int, v int32) { b.words[word] = v }

// fakePage records what the group tells it.
type fakePage struct {
	received []protocol.Message
	view     GroupView
	lost     []string
	failures []protocol.Failure
	notices  []string
	params   int // the model size RunShape says
}

func (p *fakePage) Receive(in wasm.Inbound)  { p.received = append(p.received, in.Msg) }
func (p *fakePage) GroupChanged(v GroupView) { p.view = v }
func (p *fakePage) WorkerLost(number, of int, why string) {
	p.lost = append(p.lost, fmt.Sprintf("%d of %d: %s", number, of, why))
}
func (p *fakePage) Failure(f protocol.Failure) { p.failures = append(p.failures, f) }
func (p *fakePage) Notify(where protocol.Where, text string) {
	p.notices = append(p.notices, string(where)+": "+text)
}
func (p *fakePage) RunShape(m protocol.Message) (batch, params int) { return 128, p.params }

// kinds lists the kinds of the messages the page received, and takes them off its list.
func (p *fakePage) kinds() []protocol.Kind {
	var k []protocol.Kind
	for _, m := range p.received {
		k = append(k, m.Kind())
	}
	p.received = nil
	return k
}

// fixture is a group of fake workers, which the test delivers messages from.
type fixture struct {
	t       *testing.T
	g       *Group
	page    *fakePage
	ports   []*fakePort           // every worker started, in order
	boards  []*fakeBoard          // every board made, in order
	failAt  int                   // the Start call (1-based) that fails, or 0
	workers map[*fakePort]*worker // every worker seen in the group, lost ones too
	noMem   bool                  // NewBoard fails
}

// newFixture starts a group of n workers (the page knows a model of 1,000 parameters).
func newFixture(t *testing.T, n int) *fixture {
	f := &fixture{t: t, page: &fakePage{params: 1000}, workers: map[*fakePort]*worker{}}
	f.g = NewGroup(Env{
		Start: func(name string) (Port, error) {
			if len(f.ports)+1 == f.failAt {
				return nil, errors.New("no more workers")
			}
			p := &fakePort{name: name, exit: map[string]func(){}}
			f.ports = append(f.ports, p)
			return p, nil
		},
		NewBoard: func(l wasm.BoardLayout) (Board, error) {
			if f.noMem {
				return nil, errors.New("no shared memory")
			}
			b := &fakeBoard{layout: l, words: map[int]int32{}}
			f.boards = append(f.boards, b)
			return b, nil
		},
		Dispatch: func(fn func()) { fn() },
		Go:       func(func()) {}, // the tests deliver the messages themselves (from)
	}, f.page)
	f.g.Resize(n)
	return f
}

// from delivers m from worker i (of those started).
func (f *fixture) from(i int, m protocol.Message) {
	f.fromIn(i, wasm.Inbound{Msg: m})
}

func (f *fixture) fromIn(i int, in wasm.Inbound) {
	for _, w := range f.g.workers {
		f.workers[w.port.(*fakePort)] = w
	}
	w, ok := f.workers[f.ports[i]]
	if !ok {
		f.t.Fatalf("worker %d is unknown", i)
	}
	f.g.receive(w, in)
}

// loaded makes every worker ready, the leader load the dataset and the others take it.
func (f *fixture) loaded() {
	for i, p := range f.ports {
		f.from(i, protocol.Message{Payload: protocol.Ready{Lock: p.name}})
	}
	f.fromIn(0, wasm.Inbound{Msg: protocol.Message{Payload: protocol.DatasetInfo{Train: 50000, Test: 10000}}, Shared: "dataset"})
	for i := 1; i < len(f.ports); i++ {
		f.from(i, protocol.Message{Payload: protocol.DatasetInfo{Train: 50000, Test: 10000}})
	}
	for _, p := range f.ports {
		p.sent = nil
	}
	f.page.received = nil
}

// start sends the start of run.
func (f *fixture) start(run int) {
	if err := f.g.Send(protocol.Message{Run: run, Payload: protocol.Start{Settings: protocol.DefaultSettings()}}); err != nil {
		f.t.Fatal(err)
	}
}

// TestStart: a run starts on every worker holding the dataset, each told its index and the
// run's size, with one board for the run; on the leader alone, with no board, when it is the
// only one, when the model size is unknown, or when the board cannot be made.
func TestStart(t *testing.T) {
	for _, c := range []struct {
		name    string
		workers int
		params  int
		noMem   bool
		loaded  bool
		want    int // workers of the run
		notice  string
	}{
		{name: "one", workers: 1, params: 1000, loaded: true, want: 1},
		{name: "two", workers: 2, params: 1000, loaded: true, want: 2},
		{name: "four", workers: 4, params: 1000, loaded: true, want: 4},
		{name: "not loaded", workers: 3, params: 1000, want: 1},
		{name: "model unknown", workers: 3, params: 0, loaded: true, want: 1},
		{name: "no shared memory", workers: 3, params: 1000, noMem: true, loaded: true, want: 1,
			notice: "protocol: training with one worker: no shared memory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.workers)
			f.page.params, f.noMem = c.params, c.noMem
			if c.loaded {
				f.loaded()
			}
			f.start(3)
			if f.page.view.Run != c.want {
				t.Errorf("the view says %d workers share the run, want %d", f.page.view.Run, c.want)
			}
			if c.want == 1 {
				if len(f.boards) != 0 {
					t.Errorf("%d boards for a run of one", len(f.boards))
				}
				if s := f.ports[0].sent; len(s) != 1 || s[0].msg.Kind() != protocol.KindStart || s[0].shared != nil || s[0].msg.Workers != 0 {
					t.Errorf("the leader was sent %+v", s)
				}
			} else if len(f.boards) != 1 || f.boards[0].layout.Workers != c.want || f.boards[0].layout.Params != c.params ||
				f.boards[0].layout.Shards != 8 {
				t.Fatalf("boards %+v", f.boards)
			}
			for i, p := range f.ports[1:c.workers] {
				if i+1 >= c.want && len(p.sent) != 0 {
					t.Errorf("worker %d, not in the run, was sent %+v", i+1, p.sent)
				}
			}
			for i, p := range f.ports[:c.want] {
				if c.want == 1 {
					break
				}
				if len(p.sent) != 1 {
					t.Fatalf("worker %d was sent %d messages", i, len(p.sent))
				}
				s := p.sent[0]
				if s.msg.Kind() != protocol.KindStart || s.msg.Run != 3 || s.msg.Worker != i || s.msg.Workers != c.want || s.shared != f.boards[0] {
					t.Errorf("worker %d was sent %+v", i, s)
				}
			}
			if strings.Join(f.page.notices, "\n") != c.notice {
				t.Errorf("notices %q, want %q", f.page.notices, c.notice)
			}
		})
	}
}

// TestStartWithoutLeader: a run whose leader lacks the dataset (it is reloading) runs on the
// leader alone; followers without it are left out.
func TestStartWithoutLeader(t *testing.T) {
	f := newFixture(t, 3)
	f.loaded()
	f.g.workers[2].data = false
	f.start(1)
	if len(f.boards) != 1 || f.boards[0].layout.Workers != 2 || len(f.ports[2].sent) != 0 {
		t.Errorf("a follower without the dataset: boards %+v, it was sent %+v", f.boards, f.ports[2].sent)
	}
	f.g.workers[0].data = false
	f.start(2)
	if len(f.boards) != 1 || len(f.ports[1].sent) != 1 || f.page.view.Run != 1 {
		t.Errorf("a leader without the dataset: %d boards, worker 1 was sent %+v", len(f.boards), f.ports[1].sent)
	}
}

// TestCommandsToLeader: pause, resume, stop, eval and every other command of a run go to the
// leader alone (the looks inside the network and the checkpoint evaluations too); the followers
// take them from the board.
func TestCommandsToLeader(t *testing.T) {
	f := newFixture(t, 3)
	f.loaded()
	f.start(1)
	for _, p := range f.ports {
		p.sent = nil
	}
	for _, cmd := range []protocol.Payload{protocol.Pause{}, protocol.Resume{}, protocol.Eval{}, protocol.Stop{}, protocol.Load{Reload: true},
		protocol.InspectRequest{Filters: true, Image: 3}, protocol.EvalCheckpoints{IDs: []string{"r1/000000000010"}, Images: 100}} {
		if err := f.g.Send(protocol.Message{Run: 1, Payload: cmd}); err != nil {
			t.Fatal(err)
		}
	}
	want := []protocol.Kind{protocol.KindPause, protocol.KindResume, protocol.KindEval, protocol.KindStop, protocol.KindLoad,
		protocol.KindInspect, protocol.KindEvalCheckpoints}
	if got := f.ports[0].kinds(); !slices.Equal(got, want) {
		t.Errorf("the leader was sent %v, want %v", got, want)
	}
	for i, p := range f.ports[1:] {
		if len(p.sent) != 0 {
			t.Errorf("follower %d was sent %v", i+1, p.kinds())
		}
	}
	if err := NewGroup(Env{}, f.page).Send(protocol.Message{Payload: protocol.Pause{}}); err != nil {
		t.Errorf("a group without workers: %v", err)
	}
}

// TestShareDataset: the leader's dataset goes to every follower once both are ready (whichever
// comes first), each confirming it; only the leader's messages reach the page.
func TestShareDataset(t *testing.T) {
	f := newFixture(t, 3)
	f.from(1, protocol.Message{Payload: protocol.Ready{}}) // a follower ready before the leader loaded
	if len(f.ports[1].sent) != 0 || len(f.page.received) != 0 {
		t.Fatalf("before the leader loaded: sent %v, the page got %v", f.ports[1].kinds(), f.page.kinds())
	}
	f.from(0, protocol.Message{Payload: protocol.Ready{}})
	info := protocol.DatasetInfo{Train: 500, Test: 100}
	f.fromIn(0, wasm.Inbound{Msg: protocol.Message{Payload: info}, Shared: "dataset"})
	if got := f.page.kinds(); !slices.Equal(got, []protocol.Kind{protocol.KindReady, protocol.KindDataset}) {
		t.Errorf("the page got %v", got)
	}
	s := f.ports[1].sent
	if len(s) != 1 || s[0].shared != "dataset" || !reflect.DeepEqual(s[0].msg.Payload, protocol.ShareDataset{Dataset: info}) {
		t.Errorf("the ready follower was sent %+v", s)
	}
	if len(f.ports[2].sent) != 0 {
		t.Errorf("a follower not ready was sent %v", f.ports[2].kinds())
	}
	if f.page.view != (GroupView{Size: 3, Ready: 1}) {
		t.Errorf("view %+v", f.page.view)
	}
	f.from(2, protocol.Message{Payload: protocol.Ready{}}) // ready after: it gets the dataset at once
	if s := f.ports[2].sent; len(s) != 1 || s[0].shared != "dataset" {
		t.Errorf("the late follower was sent %+v", s)
	}
	f.from(1, protocol.Message{Payload: info})
	f.from(2, protocol.Message{Payload: info})
	if f.page.view != (GroupView{Size: 3, Ready: 3}) || len(f.page.received) != 0 {
		t.Errorf("view %+v, the page got %v", f.page.view, f.page.kinds())
	}
}

// TestEvalSplit: an evaluation of a run of several workers is merged from every worker's part:
// the page sees the summed progress, then one result once all parts are in; parts of another
// run are dropped, and a run of one passes its evaluation through.
func TestEvalSplit(t *testing.T) {
	f := newFixture(t, 3)
	f.loaded()
	f.start(4)
	if err := f.g.Send(protocol.Message{Run: 4, Payload: protocol.Eval{}}); err != nil {
		t.Fatal(err)
	}
	part := func(correct int) protocol.EvalResult {
		return protocol.EvalResult{Step: 9, Correct: correct, Total: 10, Seconds: float64(correct), Confusion: [][]int{{correct, 10 - correct}}}
	}
	f.from(1, protocol.Message{Run: 4, Payload: protocol.EvalProgress{Done: 5, Total: 10}})
	f.from(2, protocol.Message{Run: 4, Payload: protocol.EvalProgress{Done: 3, Total: 10}})
	f.from(1, protocol.Message{Run: 3, Payload: part(1)}) // an earlier run's part
	f.from(0, protocol.Message{Run: 4, Payload: part(6)})
	f.from(1, protocol.Message{Run: 4, Payload: part(7)})
	var progress []int
	for _, m := range f.page.received {
		if p, ok := m.Payload.(protocol.EvalProgress); !ok || p.Total != 10000 || m.Run != 4 {
			t.Errorf("before every part is in, the page got %+v", m)
		} else {
			progress = append(progress, p.Done)
		}
	}
	if !slices.Equal(progress, []int{5, 8, 18, 23}) {
		t.Errorf("progress %v", progress)
	}
	f.page.received = nil
	f.from(2, protocol.Message{Run: 4, Payload: part(8)})
	if len(f.page.received) != 1 {
		t.Fatalf("the last part gave the page %v", f.page.kinds())
	}
	sum, ok := f.page.received[0].Payload.(protocol.EvalResult)
	if !ok || f.page.received[0].Run != 4 || sum.Correct != 21 || sum.Total != 30 || sum.Seconds != 8 || sum.Confusion[0][1] != 9 {
		t.Errorf("merged %+v", f.page.received[0])
	}
	f.page.received = nil
	f.from(2, protocol.Message{Run: 4, Payload: part(8)}) // a part of an evaluation already merged
	if len(f.page.received) != 0 {
		t.Errorf("after the merge, the page got %v", f.page.kinds())
	}

	one := newFixture(t, 1)
	one.loaded()
	one.start(1)
	_ = one.g.Send(protocol.Message{Run: 1, Payload: protocol.Eval{}})
	one.from(0, protocol.Message{Run: 1, Payload: part(3)})
	if r, ok := one.page.received[0].Payload.(protocol.EvalResult); len(one.page.received) != 1 || !ok || r.Total != 10 {
		t.Errorf("a run of one: the page got %+v", one.page.received)
	}
}

// TestMergeEval: the parts of a split evaluation add up to one evaluation, only once all are
// in.
func TestMergeEval(t *testing.T) {
	a := &protocol.EvalResult{Step: 7, Correct: 3, Total: 5, Seconds: 2, Confusion: [][]int{{2, 1}, {1, 1}}}
	b := &protocol.EvalResult{Step: 7, Correct: 4, Total: 5, Seconds: 3, Confusion: [][]int{{3, 0}, {1, 1}}}
	if _, ok := mergeEval([]*protocol.EvalResult{a, nil}); ok {
		t.Fatal("merged with a part missing")
	}
	sum, ok := mergeEval([]*protocol.EvalResult{a, b})
	if !ok || sum.Step != 7 || sum.Correct != 7 || sum.Total != 10 || sum.Precision != 0.7 || sum.Seconds != 3 {
		t.Fatalf("merged %+v", sum)
	}
	if sum.Confusion[0][0] != 5 || sum.Confusion[0][1] != 1 || sum.Confusion[1][0] != 2 || sum.Confusion[1][1] != 2 {
		t.Errorf("confusion %v", sum.Confusion)
	}
	if a.Confusion[0][0] != 2 {
		t.Error("merging changed a part")
	}
}

// TestWorkerLost: a worker lost mid-run (terminated, crashed, or saying it failed) aborts the
// run's board, is closed and reported by its number in the run; the next run starts on the
// workers left; losing the last one is a failure of the page's workers.
func TestWorkerLost(t *testing.T) {
	for _, c := range []struct {
		name string
		lose func(f *fixture, i int)
		why  string
	}{
		{"terminated", func(f *fixture, i int) { f.ports[i].exit[f.ports[i].name]() }, "it was terminated or crashed"},
		{"crashed", func(f *fixture, i int) { f.fromIn(i, wasm.Inbound{Err: errors.New("boom"), Fatal: true}) }, "boom"},
		{"failed", func(f *fixture, i int) {
			f.from(i, protocol.Message{Payload: protocol.Failure{Where: protocol.WhereWorker, Message: "out of memory"}})
		}, "out of memory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, 3)
			f.loaded()
			f.start(1)
			c.lose(f, 1)
			if !f.ports[1].closed || f.boards[0].words[wasm.WordAbort] != wasm.AbortPage {
				t.Errorf("closed %v, board words %v", f.ports[1].closed, f.boards[0].words)
			}
			if want := "2 of 3: " + c.why; !slices.Equal(f.page.lost, []string{want}) {
				t.Errorf("lost %q, want %q", f.page.lost, want)
			}
			if f.page.view != (GroupView{Size: 2, Ready: 2, Run: 3, Lost: 1}) {
				t.Errorf("view %+v", f.page.view)
			}
			c.lose(f, 1) // once only
			f.from(1, protocol.Message{Run: 1, Payload: protocol.RunState{Phase: protocol.PhaseFailed}})
			if len(f.page.lost) != 1 || len(f.page.received) != 0 {
				t.Errorf("a lost worker still counts: lost %q, the page got %v", f.page.lost, f.page.kinds())
			}
			// What is left of the run evaluates on the leader alone.
			_ = f.g.Send(protocol.Message{Run: 1, Payload: protocol.Eval{}})
			f.from(0, protocol.Message{Run: 1, Payload: protocol.EvalResult{Correct: 1, Total: 10}})
			if r, ok := f.page.received[0].Payload.(protocol.EvalResult); len(f.page.received) != 1 || !ok || r.Total != 10 {
				t.Errorf("evaluating after the loss, the page got %+v", f.page.received)
			}
			for _, p := range f.ports {
				p.sent = nil
			}
			f.start(2)
			if len(f.boards) != 2 || f.boards[1].layout.Workers != 2 || len(f.ports[1].sent) != 0 ||
				len(f.ports[2].sent) != 1 || f.ports[2].sent[0].msg.Worker != 1 || f.page.view.Run != 2 {
				t.Errorf("the next run: boards %+v, worker 2 was sent %+v", f.boards, f.ports[2].sent)
			}
		})
	}

	f := newFixture(t, 2)
	f.loaded()
	f.lose(0) // idle: numbered among the group's workers
	f.lose(1)
	if !slices.Equal(f.page.lost, []string{"1 of 2: x"}) || len(f.page.failures) != 1 || f.page.failures[0].Where != protocol.WhereWorker ||
		f.page.view.Size != 0 || f.page.view.Lost != 2 {
		t.Errorf("lost %q, failures %+v, view %+v", f.page.lost, f.page.failures, f.page.view)
	}
}

// lose makes worker i crash with "x".
func (f *fixture) lose(i int) {
	f.fromIn(i, wasm.Inbound{Err: errors.New("x"), Fatal: true})
}

// TestFollowerError: a follower's error is shown with its number and aborts its run's board;
// the leader's go to the page as they are.
func TestFollowerError(t *testing.T) {
	f := newFixture(t, 3)
	f.loaded()
	f.start(5)
	f.from(2, protocol.Message{Run: 5, Payload: protocol.Failure{Where: protocol.WhereCheckpoint, Message: "cannot join"}})
	if f.boards[0].words[wasm.WordAbort] != 3 || !slices.Equal(f.page.notices, []string{"checkpoint: worker 3: cannot join"}) ||
		len(f.page.received) != 0 {
		t.Errorf("board %v, notices %q, the page got %v", f.boards[0].words, f.page.notices, f.page.kinds())
	}
	f.from(1, protocol.Message{Payload: protocol.Failure{Where: protocol.WhereDataset, Message: "bad"}}) // no run: no abort
	if f.boards[0].words[wasm.WordAbort] != 3 || len(f.page.notices) != 2 {
		t.Errorf("board %v, notices %q", f.boards[0].words, f.page.notices)
	}
	f.from(0, protocol.Message{Run: 5, Payload: protocol.Failure{Where: protocol.WhereEval, Message: "no"}})
	f.fromIn(0, wasm.Inbound{Err: errors.New("unreadable")})
	f.fromIn(1, wasm.Inbound{Err: errors.New("unreadable")})
	if len(f.page.received) != 2 || f.page.received[0].Kind() != protocol.KindError || len(f.page.lost) != 0 {
		t.Errorf("the page got %v, lost %q", f.page.received, f.page.lost)
	}
}

// TestResize: the group grows and shrinks between runs, keeping at least the leader; a worker
// that cannot start is a failure, and the group stays as it is.
func TestResize(t *testing.T) {
	f := newFixture(t, 2)
	f.g.Resize(4)
	if len(f.ports) != 4 || f.page.view.Size != 4 || f.ports[3].name == f.ports[2].name {
		t.Fatalf("grown to %d, view %+v", len(f.ports), f.page.view)
	}
	f.g.Resize(0)
	if f.page.view.Size != 1 || f.ports[0].closed || !f.ports[1].closed || !f.ports[3].closed {
		t.Errorf("shrunk: view %+v", f.page.view)
	}
	if f.g.Leader() != f.ports[0] || len(f.g.Ports()) != 1 {
		t.Errorf("leader %v, ports %v", f.g.Leader(), f.g.Ports())
	}
	f.failAt = 6
	f.g.Resize(4)
	if f.page.view.Size != 2 || len(f.page.failures) != 1 || f.page.failures[0].Message != "no more workers" {
		t.Errorf("a failed start: view %+v, failures %+v", f.page.view, f.page.failures)
	}
	f.g.Close()
	if !f.ports[0].closed || !f.ports[4].closed || f.g.Leader() != nil {
		t.Error("Close left workers")
	}
}

// TestSaver: once the checkpoint saver runs, every worker, and every one started later, gets
// a channel to it; before, none does.
func TestSaver(t *testing.T) {
	f := newFixture(t, 2)
	for _, p := range f.ports {
		if len(p.sent) != 0 {
			t.Fatalf("before the saver runs: %v", p.kinds())
		}
	}
	f.g.SaverReady(&fakeSaver{})
	f.g.Resize(3)
	for i, p := range f.ports {
		if len(p.sent) != 1 || p.sent[0].msg.Kind() != protocol.KindSaver || p.sent[0].port != fmt.Sprintf("channel %d", i+1) {
			t.Errorf("worker %d was sent %+v", i, p.sent)
		}
	}
}

// fakeSaver opens numbered channels.
type fakeSaver struct{ n int }

func (s *fakeSaver) Connect() any {
	s.n++
	return fmt.Sprintf("channel %d", s.n)
}

// TestListen: a worker's messages go from its inbox, through Env.Go and Env.Dispatch, to the
// group, in order.
func TestListen(t *testing.T) {
	page := &fakePage{}
	work := make(chan func())
	port := &fakePort{inbox: make(chan wasm.Inbound), exit: map[string]func(){}}
	g := NewGroup(Env{
		Start:    func(string) (Port, error) { return port, nil },
		Dispatch: func(f func()) { work <- f },
		Go:       func(f func()) { go f() },
	}, page)
	g.Resize(1)
	go func() {
		port.inbox <- wasm.Inbound{Msg: protocol.Message{Payload: protocol.Ready{}}}
		port.inbox <- wasm.Inbound{Msg: protocol.Message{Payload: protocol.LogLine{Text: "hi"}}}
	}()
	for range 2 {
		select {
		case f := <-work:
			f()
		case <-time.After(5 * time.Second):
			t.Fatal("no message reached the group")
		}
	}
	if got := page.kinds(); !slices.Equal(got, []protocol.Kind{protocol.KindReady, protocol.KindLog}) {
		t.Errorf("the page got %v", got)
	}
}

// TestWant: one worker per core up to the maximum, and one without shared memory; a number is
// taken as it is.
func TestWant(t *testing.T) {
	s := protocol.DefaultSettings()
	for _, c := range []struct {
		workers, cores int
		shared         bool
		want           int
	}{{0, 4, true, 4}, {0, 64, true, protocol.MaxWorkers}, {0, 4, false, 1}, {3, 2, true, 3}, {3, 2, false, 1}} {
		s.Workers = c.workers
		if got := Want(s, c.cores, c.shared); got != c.want {
			t.Errorf("workers %d on %d cores (shared %v): %d, want %d", c.workers, c.cores, c.shared, got, c.want)
		}
	}
}
