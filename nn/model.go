package nn

import (
	"fmt"

	"cifar10/nn/summary"
)

// Model is a network's parameters plus the spec that shapes them. It holds no batch-sized
// memory: a Trainer adds that, so one model can serve training and evaluation at different
// batch sizes.
type Model struct {
	spec   Spec
	shapes [][3]int // output shape of each layer
	params []*Param
	byName map[string]*Param
	layer  [][]*Param // parameters of each layer (weights, biases) or nil
}

// LayerInfo describes one layer for display: what it is, what it produces and its size. It is
// defined in the leaf package summary, which the page shares without linking the engine.
type LayerInfo = summary.Layer

// NewModel builds the model described by spec and initializes it from seed: weights from a
// truncated normal with the layer's stddev, biases constant. The same seed gives bit-identical
// parameters on every platform.
func NewModel(spec Spec, seed uint64) (*Model, error) {
	shapes, err := spec.shapes()
	if err != nil {
		return nil, err
	}
	m := &Model{spec: spec, shapes: shapes, byName: map[string]*Param{}, layer: make([][]*Param, len(spec.Layers))}
	rng := newInitRand(seed)
	in := spec.Input
	for i, l := range spec.Layers {
		var wshape []int
		switch l.Kind {
		case KindConv:
			wshape = []int{l.Size, l.Size, in[2], l.Out}
		case KindDense:
			wshape = []int{in[0] * in[1] * in[2], l.Out}
		}
		if wshape != nil {
			w := newParam(l.Name+"/weights", wshape, float32(l.WeightDecay), true)
			b := newParam(l.Name+"/biases", []int{l.Out}, 0, true)
			rng.truncNormal(w.Data(), l.Stddev)
			fill(b.Data(), float32(l.BiasInit))
			m.layer[i] = []*Param{w, b}
			m.params = append(m.params, w, b)
			m.byName[w.Name], m.byName[b.Name] = w, b
		}
		in = shapes[i]
	}
	return m, nil
}

// Spec returns the model's spec (its layer slice is shared; do not modify it).
func (m *Model) Spec() Spec { return m.spec }

// Params lists every trainable parameter in layer order, weights before biases.
func (m *Model) Params() []*Param { return m.params }

// Param returns the parameter with the given TensorFlow name, or nil.
func (m *Model) Param(name string) *Param { return m.byName[name] }

// NumParams is the total number of trainable scalars (1,068,298 for the cifar10 preset).
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Size()
	}
	return n
}

// InputSize is the number of floats in one example (h*w*c).
func (m *Model) InputSize() int { return m.spec.Input[0] * m.spec.Input[1] * m.spec.Input[2] }

// Classes is the number of classes (logits per example).
func (m *Model) Classes() int { return m.spec.Classes }

// Summary describes every layer in order, for the UI's model table.
func (m *Model) Summary() []LayerInfo {
	out := make([]LayerInfo, len(m.spec.Layers))
	for i, l := range m.spec.Layers {
		n := 0
		for _, p := range m.layer[i] {
			n += p.Size()
		}
		out[i] = LayerInfo{Name: l.Name, Kind: l.Kind, Output: m.shapes[i], Params: n}
	}
	return out
}

// CopyValues writes all parameter values, in Params order, into dst (which must hold
// NumParams floats) and returns it; with SetValues it moves a whole model between workers.
func (m *Model) CopyValues(dst []float32) []float32 {
	return m.flatten(dst, (*Param).Data)
}

// SetValues loads all parameter values, in Params order, from src.
func (m *Model) SetValues(src []float32) error {
	return m.unflatten(src, (*Param).Data, "values")
}

// CopyGrads writes all gradients, in Params order, into dst (NumParams floats) and returns it,
// so that shard gradients computed by several workers can be summed and fed back with SetGrads.
func (m *Model) CopyGrads(dst []float32) []float32 {
	return m.flatten(dst, (*Param).GradData)
}

// SetGrads loads all gradients, in Params order, from src (e.g. the sum of shard gradients).
func (m *Model) SetGrads(src []float32) error {
	return m.unflatten(src, (*Param).GradData, "gradients")
}

func (m *Model) flatten(dst []float32, get func(*Param) []float32) []float32 {
	if n := m.NumParams(); len(dst) < n {
		panic(fmt.Sprintf("nn: model %s: destination holds %d floats, want %d", m.spec.Name, len(dst), n))
	}
	off := 0
	for _, p := range m.params {
		off += copy(dst[off:], get(p))
	}
	return dst[:off]
}

func (m *Model) unflatten(src []float32, get func(*Param) []float32, what string) error {
	if n := m.NumParams(); len(src) != n {
		return fmt.Errorf("nn: model %s: got %d %s, want %d", m.spec.Name, len(src), what, n)
	}
	off := 0
	for _, p := range m.params {
		off += copy(get(p), src[off:])
	}
	return nil
}

// fill sets every element of x to v.
func fill(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}
