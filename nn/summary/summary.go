// Package summary describes a model's layers for display. It is a leaf, so the engine
// (nn.Model.Summary) and the page, which shows the table but must not link the engine, share
// one definition (the worker sends the engine's rows to the page as they are).
package summary

// Layer describes one layer: what it is, what it produces and its size.
type Layer struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Output [3]int `json:"output"` // [h, w, c]; dense layers report [1, 1, units]
	Params int    `json:"params"`
}
