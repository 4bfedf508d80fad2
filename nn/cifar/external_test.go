package cifar

import (
	"bytes"
	"slices"
	"testing"
)

// TestExampleMatchesFill: a sampler that only has the labels, given each image's bytes by the
// caller, makes the same examples as Fill over the full set, across an epoch boundary.
func TestExampleMatchesFill(t *testing.T) {
	s := syntheticSet(t, 30)
	const crop, count = 24, 50
	k0 := int64(17)
	n := crop * crop * 3
	want := make([]float32, count*n)
	wantLabels := make([]uint8, count)
	NewSampler(s, 9, crop).Fill(k0, count, want, wantLabels)

	labelsOnly := NewSampler(&Set{Labels: s.Labels}, 9, crop)
	got := make([]float32, count*n)
	for j := range count {
		k := k0 + int64(j)
		i := labelsOnly.Index(k)
		labelsOnly.Example(got[j*n:(j+1)*n], slices.Clone(s.Image(i)), k)
		if s.Labels[i] != wantLabels[j] {
			t.Fatalf("example %d: label %d, Fill gave %d", k, s.Labels[i], wantLabels[j])
		}
	}
	if !sameBits(got, want) {
		t.Fatal("Example differs from Fill")
	}
}

// TestCheck: Check accepts what Parse accepts, with the same labels, and refuses what Parse
// refuses, with the same message.
func TestCheck(t *testing.T) {
	good := records(1, 3, 0, 9, 4)
	bad := append(slices.Clone(good[:2*RecordSize]), records(2, 10)...)
	for _, data := range [][]byte{good, bad, good[:RecordSize+5], nil} {
		want, werr := Parse("f.bin", data)
		got, gerr := Check("f.bin", bytes.NewReader(data), int64(len(data)))
		switch {
		case werr != nil || gerr != nil:
			if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
				t.Errorf("Parse: %v; Check: %v", werr, gerr)
			}
		case !slices.Equal(got, want.Labels):
			t.Errorf("Check labels %v, Parse %v", got, want.Labels)
		}
	}
}
