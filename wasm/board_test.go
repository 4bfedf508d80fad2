package wasm

import "testing"

// TestBoardLayout: slots never overlap the losses or each other, and the board of a
// two-worker run of the tutorial model stays small (two sums, twice).
func TestBoardLayout(t *testing.T) {
	const params = 1068298
	l := NewBoardLayout(128, 2, params)
	if l.Shards != 8 || len(l.Slots) != 2 {
		t.Fatalf("batch 128 on 2 workers: %d shards, %d slots", l.Shards, len(l.Slots))
	}
	if mb := float64(l.Bytes()) / 1e6; mb > 17.2 {
		t.Errorf("the board takes %.1f MB", mb)
	}
	for _, workers := range []int{1, 3, 16} {
		l := NewBoardLayout(128, workers, 10)
		end := 2 * l.Shards
		for buf := range 2 {
			for i, n := range l.Slots {
				if slot, ok := l.Slot(n); !ok || slot != i {
					t.Errorf("%d workers: slot of %v is %d", workers, n, slot)
				}
				if off := l.Node(buf, i); off != end {
					t.Errorf("%d workers: slot %d of buffer %d at %d, want %d", workers, i, buf, off, end)
				}
				end += l.Params
			}
		}
		if end != l.Floats() || l.Loss(1, l.Shards-1) != 2*l.Shards-1 {
			t.Errorf("%d workers: data end at %d of %d floats", workers, end, l.Floats())
		}
	}
}
