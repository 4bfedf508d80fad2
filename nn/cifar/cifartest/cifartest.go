// Package cifartest makes CIFAR-10 sets for tests of the packages that consume them, so each
// test does not carry its own copy of the same record generator.
package cifartest

import (
	"math/rand/v2"

	"cifar10/nn/cifar"
)

// Random returns n records of uniformly random pixels and labels, drawn from a PCG seeded with
// (seed, stream). The same arguments give the same set natively and in wasm; different streams
// let callers keep the exact sets their tests were written against.
func Random(n int, seed, stream uint64) *cifar.Set {
	r := rand.New(rand.NewPCG(seed, stream))
	s := &cifar.Set{Labels: make([]uint8, n), Pixels: make([]byte, n*cifar.ImageBytes)}
	for i := range s.Labels {
		s.Labels[i] = uint8(r.IntN(cifar.NumClasses))
	}
	for i := range s.Pixels {
		s.Pixels[i] = byte(r.IntN(256))
	}
	return s
}
