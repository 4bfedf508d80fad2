package nn

// newParam allocates a zeroed float32 parameter (and its gradient when withGrad is set) in a
// slab of its own; models and optimizers make theirs with viewParams.
func newParam(name string, shape []int, decay float32, withGrad bool) *Param {
	ps := []paramShape{{name: name, shape: shape, decay: decay}}
	values, grads := make([]float32, sizeOf(shape)), []float32(nil)
	if withGrad {
		grads = make([]float32, len(values))
	}
	return viewParams(ps, values, grads)[0]
}
