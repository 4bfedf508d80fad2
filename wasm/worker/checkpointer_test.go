package worker

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"cifar10/nn/checkpoint"
	"cifar10/nn/training"
	"cifar10/wasm/protocol"
)

// trainedRun is an nn/training run of s on the test data, trained steps steps.
func trainedRun(t *testing.T, s *protocol.Settings, steps int) *training.Run {
	t.Helper()
	tr, err := training.New(config(*s, s.LR, testData().Train))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	for range steps {
		tr.Step()
	}
	return tr
}

// failingList is a store whose List fails.
type failingList struct{ *memStore }

func (failingList) List() ([]protocol.CheckpointInfo, error) { return nil, errors.New("list broke") }

// TestCheckpointerSave: each save says what became of it (saved with its entry and what it
// pruned, storage full, failed, no store) and remembers the last step stored and a refusal
// for a full storage; the run's key is made once, at the first save.
func TestCheckpointerSave(t *testing.T) {
	s := policy(10, 2, 1, 1, 2)
	tr := trainedRun(t, s, 1)
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	st := newMemStore()
	c := checkpointer{store: st}

	var ids []string
	for step := 1; step <= 3; step++ {
		if step > 1 {
			tr.Step()
		}
		res := c.save(tr, *s, at)
		if res.outcome != saved || res.step != step || c.saved != step || c.full || res.err != nil {
			t.Fatalf("save at step %d: %+v, saved %d", step, res, c.saved)
		}
		info := res.info
		loss, _ := tr.Loss()
		if info.Run != protocol.RunKey(false, at.UnixMilli()) || info.Step != int64(step) || !info.Resumable ||
			info.Size != len(st.files[info.ID]) || info.Loss == nil || *info.Loss != float64(loss) {
			t.Errorf("entry %+v", info)
		}
		ids = append(ids, info.ID)
		var want []string // Keep 2: the third save prunes the first
		if step == 3 {
			want = ids[:1]
		}
		if !slices.Equal(res.removed, want) {
			t.Errorf("step %d removed %v", step, res.removed)
		}
	}
	if got := st.ids(); !slices.Equal(got, ids[1:]) {
		t.Errorf("stored %v, want the newest 2 of %v", got, ids)
	}
	ck, err := checkpoint.Decode(st.files[ids[2]], "cifar10")
	if err != nil || ck.Step != 3 || ck.Run.Examples != 6 {
		t.Errorf("the file of step 3: %v %+v", err, ck)
	}

	st.quota = 1
	if res := c.save(tr, *s, at); res.outcome != storageFull || !c.full || c.saved != 3 {
		t.Errorf("over the quota: %+v, full %v, saved %d", res, c.full, c.saved)
	}
	st.quota = 0
	if res := c.save(tr, *s, at); res.outcome != saved || c.full {
		t.Errorf("with room again: %+v, full %v", res, c.full)
	}
	broken := checkpointer{store: failingList{st}}
	if res := broken.save(tr, *s, at); res.outcome != saveFailed || res.err == nil || res.err.Error() != "list broke" {
		t.Errorf("a store that cannot list: %+v", res)
	}
	none := checkpointer{}
	if res := none.save(tr, *s, at); res.outcome != notSaved || !errors.Is(res.err, errNoStore) || none.background() {
		t.Errorf("without a store: %+v", res)
	}
}

// TestCheckpointerBackground: a background save is open until the store commits it; settle
// gives its outcome once, and a checkpoint that cannot be made (diverged weights) fails at once
// without opening a save.
func TestCheckpointerBackground(t *testing.T) {
	s := policy(10, 2, 1, 1, 5)
	tr := trainedRun(t, s, 2)
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &bgStore{memStore: newMemStore()}
	c := checkpointer{store: st}
	if !c.background() {
		t.Fatal("a BackgroundSaver does not save in the background")
	}
	if _, done := c.start(tr, *s, at); done || c.pending == nil || st.started != 1 {
		t.Fatalf("start: done %v, pending %v, started %d", done, c.pending, st.started)
	}
	if _, done := c.settle(false); done || st.saves != 0 {
		t.Fatalf("settled before the commit (stored %d)", st.saves)
	}
	st.finish()
	res, done := c.settle(false)
	if !done || res.outcome != saved || res.step != 2 || c.saved != 2 || c.pending != nil || st.saves != 1 {
		t.Fatalf("after the commit: done %v, %+v, saved %d", done, res, c.saved)
	}
	if _, done := c.settle(true); done {
		t.Error("settled twice")
	}

	c.start(tr, *s, at)
	st.quota = 1
	if res, done := c.settle(true); !done || res.outcome != storageFull || !c.full {
		t.Errorf("waited for a save over the quota: done %v, %+v, full %v", done, res, c.full)
	}

	tr.Model().Params()[0].Data()[0] = float32(math.NaN())
	res, done = c.start(tr, *s, at)
	if !done || res.outcome != saveFailed || res.step != 2 || c.pending != nil || st.started != 2 {
		t.Errorf("a diverged run: done %v, %+v, started %d", done, res, st.started)
	}
}
