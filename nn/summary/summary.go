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

// Digest fingerprints float32 values bit for bit (FNV-1a's 64-bit step over each value's 32
// bits as one word, in hex), so the page's maps and filters can be compared with the native
// trainer's (`cifar10 predict -activations`) without printing tens of thousands of numbers.
// A word at a time, not FNV's byte at a time: the page digests every redraw's 77,000 values.
func Digest(v []float32) string {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, x := range v {
		h = (h ^ uint64(math.Float32bits(x))) * prime
	}
	return strconv.FormatUint(h, 16)
}
