// Package summary describes a model's layers for display. It is a leaf, so the engine
// (nn.Model.Summary) and the page, which shows the table but must not link the engine, share
// one definition (the worker sends the engine's rows to the page as they are).
package summary

import (
	"math"
	"strconv"
)

// Layer describes one layer: what it is, what it produces and its size.
type Layer struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Output [3]int `json:"output"` // [h, w, c]; dense layers report [1, 1, units]
	Params int    `json:"params"`
}

// Digest fingerprints float32 values bit for bit (FNV-1a, 64 bits, over each value's
// little-endian bits, in hex), so the page's maps and filters can be compared with the native
// trainer's (`cifar10 predict -activations`) without printing tens of thousands of numbers.
func Digest(v []float32) string {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, x := range v {
		b := math.Float32bits(x)
		for range 4 {
			h = (h ^ uint64(b&0xff)) * prime
			b >>= 8
		}
	}
	return strconv.FormatUint(h, 16)
}
