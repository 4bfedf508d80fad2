package wasm

import (
	"slices"
	"strings"
	"testing"

	"cifar10/nn/checkpoint"
)

func sampleInfo(run string, step int64) CheckpointInfo {
	loss := 2.5
	return CheckpointInfo{ID: CheckpointID(run, step), Run: run, Step: step, Saved: 1700000000000 + step,
		Size: 12818608, Preset: "cifar10", Seed: 1, Batch: 128, LR: 1e-3, Loss: &loss, Steps: 1000, Resumable: true}
}

// TestNamesMatchNative keeps the browser's file names those of the native trainer.
func TestNamesMatchNative(t *testing.T) {
	for _, step := range []int64{0, 10, 1000, 123456789} {
		if got, want := CheckpointFileName(step), checkpoint.FileName(step); got != want {
			t.Errorf("step %d: %q, native %q", step, got, want)
		}
		if s, ok := checkpoint.ParseFileName(CheckpointFileName(step)); !ok || s != step {
			t.Errorf("the native trainer does not read %q as step %d", CheckpointFileName(step), step)
		}
	}
	if got := sampleInfo("r5", 20).Name(); got != "cifar10.ckpt-20" {
		t.Errorf("name %q", got)
	}
}

func TestCheckpointIDs(t *testing.T) {
	if got := CheckpointID(RunKey(false, 1700000000123), 42); got != "r1700000000123/000000000042" {
		t.Errorf("id %q", got)
	}
	// Ids of a run sort by step as strings, which is how IndexedDB orders keys.
	if !(CheckpointID("r1", 9) < CheckpointID("r1", 10)) {
		t.Error("ids do not sort by step")
	}
	if err := sampleInfo(RunKey(true, 5), 3).Validate(); err != nil || !sampleInfo("u5", 3).Uploaded() || sampleInfo("r5", 3).Uploaded() {
		t.Errorf("upload entry: %v", err)
	}
	for _, bad := range []func(*CheckpointInfo){
		func(c *CheckpointInfo) { c.Run = "x1" },
		func(c *CheckpointInfo) { c.ID = "r1/000000000004" },
		func(c *CheckpointInfo) { c.Step = -1 },
		func(c *CheckpointInfo) { c.Size = 0 },
		func(c *CheckpointInfo) { c.Preset = "" },
	} {
		c := sampleInfo("r1", 3)
		bad(&c)
		if c.Validate() == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}

// TestPrune keeps the newest keep checkpoints of the added one's run, counting it, and never
// touches other runs or uploads.
func TestPrune(t *testing.T) {
	var list []CheckpointInfo
	for _, s := range []int64{10, 20, 30, 40, 50} {
		list = append(list, sampleInfo("r1", s))
	}
	list = append(list, sampleInfo("r2", 5), sampleInfo("u3", 1000))
	added := sampleInfo("r1", 60)
	if got := PruneCheckpoints(list, added, 5); !slices.Equal(got, []string{CheckpointID("r1", 10)}) {
		t.Errorf("keep 5: %v", got)
	}
	if got := PruneCheckpoints(list, added, 2); !slices.Equal(got, []string{CheckpointID("r1", 40), CheckpointID("r1", 30), CheckpointID("r1", 20), CheckpointID("r1", 10)}) {
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
	list := []CheckpointInfo{a, c, b}
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
