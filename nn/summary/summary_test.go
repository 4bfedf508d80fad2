package summary

import (
	"math"
	"strconv"
	"testing"
)

// TestDigest is FNV-1a's step over 32-bit words, and tells apart values that differ in one
// bit or in order.
func TestDigest(t *testing.T) {
	v := []float32{1, -0.5, float32(math.Inf(1)), 3e-38}
	h := uint64(14695981039346656037)
	for _, x := range v {
		h = (h ^ uint64(math.Float32bits(x))) * 1099511628211
	}
	if got, want := Digest(v), strconv.FormatUint(h, 16); got != want {
		t.Errorf("Digest = %s, want %s", got, want)
	}
	if Digest(nil) != strconv.FormatUint(14695981039346656037, 16) {
		t.Errorf("Digest of nothing is %s, not FNV's offset", Digest(nil))
	}
	w := append([]float32(nil), v...)
	w[3] = math.Float32frombits(math.Float32bits(w[3]) ^ 1)
	if Digest(w) == Digest(v) || Digest([]float32{-0.5, 1}) == Digest([]float32{1, -0.5}) {
		t.Error("Digest does not tell apart a changed bit or a changed order")
	}
}
