package main

import (
	"encoding/json"
	"io"
	"slices"

	"cifar10/nn"
	"cifar10/nn/summary"
)

// activationsOut is the output of `predict -activations`: what the page's filters and
// activations views draw, each array as its shape, range and bit-exact digest (summary.Digest,
// the page's data-digest), so a test compares them without tens of thousands of numbers.
type activationsOut struct {
	Image   int       `json:"image"` // the test image, or -1 for -image
	Label   int       `json:"label"` // its class, or -1
	Filters *mapsOut  `json:"filters,omitempty"`
	Input   mapsOut   `json:"input"`
	Layers  []mapsOut `json:"layers"`
	Probs   []float64 `json:"probabilities"`
}

// mapsOut describes one array of values.
type mapsOut struct {
	Name   string  `json:"name"`
	Kind   string  `json:"kind,omitempty"`
	Shape  []int   `json:"shape"`
	Min    float32 `json:"min"`
	Max    float32 `json:"max"`
	Digest string  `json:"digest"`
}

func describeMaps(name, kind string, shape []int, v []float32) mapsOut {
	return mapsOut{Name: name, Kind: kind, Shape: shape, Min: slices.Min(v), Max: slices.Max(v), Digest: summary.Digest(v)}
}

// printActivations prints the filters and the activations of one 32x32 record (image and
// label -1 for one's own picture) after evaluation's preprocessing.
func printActivations(tr *nn.Trainer, record []byte, image, label int, w io.Writer) error {
	m := tr.Model()
	input := make([]float32, m.InputSize())
	m.Spec().Recipe.Input.EvalPixels(input, record, m.Spec().Input[0])
	out := activationsOut{Image: image, Label: label}
	if layer, shape, tiles, ok := m.Filters(); ok {
		f := describeMaps(layer, string(nn.KindConv), shape[:], tiles)
		out.Filters = &f
	}
	in := m.Spec().Input
	out.Input = describeMaps("input", "", in[:], input)
	maps := tr.Activations(nil, input)
	out.Probs = softmax(maps[len(maps)-m.Classes():])
	for _, l := range m.Summary() {
		n := l.Output[0] * l.Output[1] * l.Output[2]
		out.Layers = append(out.Layers, describeMaps(l.Name, l.Kind, l.Output[:], maps[:n]))
		maps = maps[n:]
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
