package nn

import (
	"fmt"

	"gorgonia.org/tensor"
)

// Param is one named tensor of the model (or of an optimizer's state) together with its gradient.
// Names and shapes are TensorFlow's (conv weights HWIO [kh,kw,in,out], dense weights [in,out]),
// so checkpoints and the UI can refer to parameters the way the tutorial does.
type Param struct {
	// Name is the TensorFlow variable name, e.g. "conv1/weights" or "local3/biases/Adam".
	Name string
	// Value holds the parameter itself (float32).
	Value *tensor.Dense
	// Grad has Value's shape and holds d(loss)/d(Value) after Trainer.Gradients; nil for
	// optimizer slots, which have no gradient.
	Grad *tensor.Dense
	// Decay is the L2 weight-decay factor wd of this parameter: wd*sum(w²)/2 joins the loss.
	Decay float32
}

// newParam allocates a zeroed float32 parameter (and its gradient when withGrad is set).
func newParam(name string, shape []int, decay float32, withGrad bool) *Param {
	p := &Param{Name: name, Value: newDense(shape), Decay: decay}
	if withGrad {
		p.Grad = newDense(shape)
	}
	return p
}

// newDense allocates a zeroed float32 tensor of the given shape.
func newDense(shape []int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
}

// Data returns the backing slice of Value, for hot loops and for copying values in and out.
// (Float32s, unlike Dense.Data, builds the slice without reflection or allocation.)
func (p *Param) Data() []float32 { return p.Value.Float32s() }

// GradData returns the backing slice of Grad (nil when the parameter has no gradient).
func (p *Param) GradData() []float32 {
	if p.Grad == nil {
		return nil
	}
	return p.Grad.Float32s()
}

// Shape returns a copy of the parameter's shape.
func (p *Param) Shape() []int { return append([]int(nil), p.Value.Shape()...) }

// Size returns the number of elements.
func (p *Param) Size() int { return p.Value.Shape().TotalSize() }

// Set copies values into the parameter, checking the length, so that restored or received
// values cannot silently land in the wrong tensor.
func (p *Param) Set(values []float32) error {
	d := p.Data()
	if len(values) != len(d) {
		return fmt.Errorf("nn: param %s: got %d values, want %d (shape %v)", p.Name, len(values), len(d), p.Value.Shape())
	}
	copy(d, values)
	return nil
}
