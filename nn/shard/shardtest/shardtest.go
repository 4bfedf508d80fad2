// Package shardtest is a board in Go memory for tests of data-parallel training (nn/replica,
// nn/training), so each does not carry its own copy of the source that reads it.
package shardtest

import "cifar10/nn/shard"

// Board holds the node sums a group's workers published, by node, as the browser's shared
// board does.
type Board map[shard.Node][]float32

// Source reads the board as a worker reads the others' sums: it copies (or, with add, adds)
// node n's sum into dst and reports whether n was published.
func (b Board) Source() shard.Source {
	return func(n shard.Node, dst []float32, add bool) bool {
		v, ok := b[n]
		switch {
		case !ok:
		case add:
			shard.AddTo(dst, v)
		default:
			copy(dst, v)
		}
		return ok
	}
}
