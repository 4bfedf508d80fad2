package summary

import (
	"hash/fnv"
	"math"
	"strconv"
	"testing"

	"encoding/binary"
)

// TestDigest is FNV-1a 64 over the little-endian bits, and tells apart values that differ in
// one bit or in order.
func TestDigest(t *testing.T) {
	v := []float32{1, -0.5, float32(math.Inf(1)), 3e-38}
	h := fnv.New64a()
	for _, x := range v {
		h.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(x)))
	}
	if got, want := Digest(v), strconv.FormatUint(h.Sum64(), 16); got != want {
		t.Errorf("Digest = %s, FNV-1a says %s", got, want)
	}
	w := append([]float32(nil), v...)
	w[3] = math.Float32frombits(math.Float32bits(w[3]) ^ 1)
	if Digest(w) == Digest(v) || Digest([]float32{-0.5, 1}) == Digest([]float32{1, -0.5}) {
		t.Error("Digest does not tell apart a changed bit or a changed order")
	}
}
