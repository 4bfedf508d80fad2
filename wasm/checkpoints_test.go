package wasm

import (
	"slices"
	"strings"
	"testing"

	"cifar10/wasm/protocol"
)

func sampleInfo(run string, step int64) protocol.CheckpointInfo {
	loss := 2.5
	return protocol.CheckpointInfo{ID: protocol.CheckpointID(run, step), Run: run, Step: step, Saved: 1700000000000 + step,
		Size: 12818608, Preset: "cifar10", Seed: 1, Batch: 128, LR: 1e-3, Loss: &loss, Steps: 1000, Resumable: true}
}

// TestPrune keeps the newest keep checkpoints of the added one's run, counting it, and never
// touches other runs or uploads.
func TestPrune(t *testing.T) {
	var list []protocol.CheckpointInfo
	for _, s := range []int64{10, 20, 30, 40, 50} {
		list = append(list, sampleInfo("r1", s))
	}
	list = append(list, sampleInfo("r2", 5), sampleInfo("u3", 1000))
	added := sampleInfo("r1", 60)
	if got := PruneCheckpoints(list, added, 5); !slices.Equal(got, []string{protocol.CheckpointID("r1", 10)}) {
		t.Errorf("keep 5: %v", got)
	}
	if got := PruneCheckpoints(list, added, 2); !slices.Equal(got, []string{protocol.CheckpointID("r1", 40), protocol.CheckpointID("r1", 30), protocol.CheckpointID("r1", 20), protocol.CheckpointID("r1", 10)}) {
		t.Errorf("keep 2: %v", got)
	}
	if got := PruneCheckpoints(list, added, 1); len(got) != 5 {
		t.Errorf("keep 1 leaves only the new one: %v", got)
	}
	// Saving a step again (a resumed run that branched off, then came back) replaces it.
	if got := PruneCheckpoints(list, sampleInfo("r1", 50), 5); len(got) != 0 {
		t.Errorf("re-saving step 50: %v", got)
	}
	if got := PruneCheckpoints(list, sampleInfo("u9", 7), 1); len(got) != 0 {
		t.Errorf("an upload pruned %v", got)
	}
}

func TestSortAndNewest(t *testing.T) {
	a, b, c := sampleInfo("r1", 10), sampleInfo("r1", 20), sampleInfo("u2", 5)
	c.Saved = b.Saved + 1000
	list := []protocol.CheckpointInfo{a, c, b}
	SortCheckpoints(list)
	if list[0].ID != c.ID || list[1].ID != b.ID || list[2].ID != a.ID {
		t.Errorf("order %v %v %v", list[0].ID, list[1].ID, list[2].ID)
	}
	if !NewestOfRun(list, b) || NewestOfRun(list, a) || !NewestOfRun(list, c) {
		t.Error("NewestOfRun")
	}
	if !strings.Contains(ErrStorageFull.Error(), "full") {
		t.Error(ErrStorageFull)
	}
}
