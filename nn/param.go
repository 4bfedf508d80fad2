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
	// Value holds the parameter itself (float32): a view of its part of the model's values
	// slab (Model.Values) or of the optimizer's slab for its slot kind.
	Value *tensor.Dense
	// Grad has Value's shape and holds d(loss)/d(Value) after Trainer.Gradients, a view of its
	// part of the model's gradient slab (Model.Grads); nil for optimizer slots, which have no
	// gradient.
	Grad *tensor.Dense
	// Decay is the L2 weight-decay factor wd of this parameter: wd*sum(w²)/2 joins the loss.
	Decay float32
	// Use says how training treats the parameter: most are Trained; a whitening layer's
	// weights are Fixed and a batch normalization's running statistics are Statistics.
	Use Use
	// Norm marks a batch normalization's offset or scale, the group whose learning rate the
	// Nesterov optimizer multiplies by BiasLR (airbench's norm biases).
	Norm bool
}

// Use says how training treats a parameter. Every parameter lives in the model's slabs and in
// checkpoints alike; only what fills its gradient slot and who updates it differ.
type Use uint8

const (
	// Trained parameters are updated by the optimizer from their gradients.
	Trained Use = iota
	// Fixed parameters are set once (from data, as the whitening layer's weights) and never
	// updated: their gradient slot stays zero and the optimizer skips them.
	Fixed
	// Statistics are running statistics for evaluation (batch normalization's moving mean
	// and variance). Their gradient slot carries, instead of a gradient, each shard's batch
	// statistics scaled like its gradients, so the shard tree sums them with the gradients in
	// its fixed order, and Trainer.Apply folds the sum into the running values: the same bits
	// for any number of workers, with nothing exchanged besides the gradient slab.
	Statistic
)

// Trainable lists the parameters of ps the optimizer updates (Use Trained), in order. The
// optimizer keeps slots for them; one whose Use a recipe later sets to Fixed (the whitening
// bias, frozen after part of the run) keeps its slots, which then stay as they are: the
// optimizers and the average skip every parameter that is not Trained at the time of the update.
func Trainable(ps []*Param) []*Param {
	out := make([]*Param, 0, len(ps))
	for _, p := range ps {
		if p.Use == Trained {
			out = append(out, p)
		}
	}
	return out
}

// viewParams makes one parameter per shape, in order, whose Value is a view of the next part of
// values and whose Grad (when grads is not nil) the same part of grads. values and grads must
// hold exactly the parameters' sizes summed: a slab is the parameters back to back, so a whole
// model's values or gradients are one vector and need no gathering.
func viewParams(shapes []paramShape, values, grads []float32) []*Param {
	out := make([]*Param, len(shapes))
	off := 0
	for i, s := range shapes {
		n := sizeOf(s.shape)
		p := &Param{Name: s.name, Value: view(values[off:off+n:off+n], s.shape), Decay: s.decay, Use: s.use, Norm: s.norm}
		if grads != nil {
			p.Grad = view(grads[off:off+n:off+n], s.shape)
		}
		out[i] = p
		off += n
	}
	if off != len(values) || (grads != nil && len(grads) != off) {
		panic(fmt.Sprintf("nn: slab of %d values and %d gradients for parameters of %d", len(values), len(grads), off))
	}
	return out
}

// view is a float32 tensor of the given shape over data (no copy).
func view(data []float32, shape []int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// sizeOf is the number of elements of a tensor of the given shape.
func sizeOf(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
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
