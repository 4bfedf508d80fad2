package checkpoint

import (
	"testing"
	"time"
)

// BenchmarkEncode is one cifar10 checkpoint with Adam's slots (12.8 MB), what the browser's
// worker writes every save_every steps.
func BenchmarkEncode(b *testing.B) {
	m, opt := newModelOpt(b, "cifar10", "adam", 1)
	scramble(m, opt, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(m, opt, Run{Seed: 1, Batch: 128, Examples: 1280, Time: time.Unix(0, 0)}); err != nil {
			b.Fatal(err)
		}
	}
}
