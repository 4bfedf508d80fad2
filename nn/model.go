package nn

import "cifar10/nn/summary"

// Model is a network's parameters plus the spec that shapes them. It holds no batch-sized
// memory: a Trainer adds that, so one model can serve training and evaluation at different
// batch sizes.
//
// All parameter values live in one slab and all gradients in another, each parameter a view of
// its part, in Params order: the slabs are the flat vectors that checkpoints, workers and the
// summation of shard gradients exchange, with nothing to gather or scatter.
type Model struct {
	spec   Spec
	shapes [][3]int // output shape of each layer
	params []*Param
	byName map[string]*Param
	layer  [][]*Param // parameters of each layer (weights, biases) or nil
	values []float32  // every parameter's values, in Params order
	grads  []float32  // every parameter's gradient, in Params order
}

// NewModel builds the model described by spec and initializes it from seed, layer by layer as
// each layer's kind says (conv and dense: weights from a truncated normal with the layer's
// stddev, biases constant). The same seed gives bit-identical parameters on every platform.
func NewModel(spec Spec, seed uint64) (*Model, error) {
	shapes, err := spec.shapes()
	if err != nil {
		return nil, err
	}
	m := &Model{spec: spec, shapes: shapes, byName: map[string]*Param{}, layer: make([][]*Param, len(spec.Layers))}
	all, count := spec.params(shapes)
	n := 0
	for _, ps := range all {
		n += sizeOf(ps.shape)
	}
	m.values, m.grads = make([]float32, n), make([]float32, n)
	m.params = viewParams(all, m.values, m.grads)
	rest := m.params
	for i, c := range count {
		m.layer[i], rest = rest[:c:c], rest[c:]
	}
	for _, p := range m.params {
		m.byName[p.Name] = p
	}
	rng := newInitRand(seed)
	for i, l := range spec.Layers {
		if k := kinds[l.Kind]; k.init != nil {
			k.init(l, m.layer[i], rng)
		}
	}
	return m, nil
}

// params lists every layer's parameters in model order, and how many each layer has, given the
// layers' output shapes.
func (s Spec) params(shapes [][3]int) (all []paramShape, count []int) {
	count = make([]int, len(s.Layers))
	in := s.Input
	for i, l := range s.Layers {
		if k := kinds[l.Kind]; k.params != nil {
			ps := k.params(l, in)
			all, count[i] = append(all, ps...), len(ps)
		}
		in = shapes[i]
	}
	return all, count
}

// Spec returns the model's spec (its layer slice is shared; do not modify it).
func (m *Model) Spec() Spec { return m.spec }

// Params lists every trainable parameter in layer order, weights before biases.
func (m *Model) Params() []*Param { return m.params }

// Param returns the parameter with the given TensorFlow name, or nil.
func (m *Model) Param(name string) *Param { return m.byName[name] }

// NumParams is the total number of trainable scalars (1,068,298 for the cifar10 preset).
func (m *Model) NumParams() int { return len(m.values) }

// Values is every parameter's values, in Params order: the model's own slab, which the
// parameters view (writing it changes them).
func (m *Model) Values() []float32 { return m.values }

// Grads is every parameter's gradient, in Params order: the model's own slab, which the
// parameters' Grad views. Trainer.Gradients writes it; the optimizer reads it, so a sum of
// shard gradients written here is what the next update applies.
func (m *Model) Grads() []float32 { return m.grads }

// InputSize is the number of floats in one example (h*w*c).
func (m *Model) InputSize() int { return m.spec.Input[0] * m.spec.Input[1] * m.spec.Input[2] }

// Classes is the number of classes (logits per example).
func (m *Model) Classes() int { return m.spec.Classes }

// Summary describes every layer in order, for the UI's model table: rows of the leaf package
// summary, which the page shares without linking the engine.
func (m *Model) Summary() []summary.Layer {
	out := make([]summary.Layer, len(m.spec.Layers))
	for i, l := range m.spec.Layers {
		n := 0
		for _, p := range m.layer[i] {
			n += p.Size()
		}
		out[i] = summary.Layer{Name: l.Name, Kind: string(l.Kind), Output: m.shapes[i], Params: n}
	}
	return out
}

// fill sets every element of x to v.
func fill(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}
