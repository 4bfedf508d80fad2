package nn

import (
	"fmt"

	"gorgonia.org/tensor"
)

// Looking inside the network (the page's filters and activations views): the first
// convolution's filters, and every layer's output for one example, read from the engine's own
// parameters and activation buffers, so what the page draws is what the engine computes.

// Filters returns the first convolution's name and its weights as one tile per output channel:
// [out, kh, kw, in], the transpose of the stored HWIO [kh, kw, in, out], so that filter o is
// the contiguous kh*kw*in values of an image (HWC). ok is false when the model has no
// convolution.
func (m *Model) Filters() (layer string, shape [4]int, tiles []float32, ok bool) {
	for i, l := range m.spec.Layers {
		if l.Kind != KindConv {
			continue
		}
		// Transpose works on a copy (SafeT), so the tiles never alias the model's weights.
		t, err := tensor.Transpose(m.layer[i][0].Value, 3, 0, 1, 2)
		if err != nil {
			panic(fmt.Sprintf("nn: filters of %s: %v", l.Name, err))
		}
		s := t.Shape()
		tiles = t.(*tensor.Dense).Float32s()
		return l.Name, [4]int{s[0], s[1], s[2], s[3]}, tiles, true
	}
	return "", [4]int{}, nil, false
}

// Activations runs the model on one example (InputSize floats, preprocessed) and appends
// every layer's output for it to dst, in layer order, each [h, w, c] as Model.Summary lists
// the shapes; the last layer's are the logits. The values are the engine's activation
// buffers after its forward pass, with one change: a layer whose spec asks for a ReLU that
// the following max pooling applies instead (they commute; see Trainer.relu) is given its
// ReLU here, so each layer's maps are what the layer means.
func (t *Trainer) Activations(dst, image []float32) []float32 {
	t.forward(image, 1)
	for i, l := range t.model.spec.Layers {
		s := t.model.shapes[i]
		y := t.acts[i][:s[0]*s[1]*s[2]]
		at := len(dst)
		dst = append(dst, y...)
		if l.ReLU && !t.relu(i) {
			for j, v := range dst[at:] {
				dst[at+j] = max(v, 0)
			}
		}
	}
	return dst
}
