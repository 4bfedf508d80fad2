package nn

// layer is the interface every layer kind implements (ConvNetJS / llm.c style). Inputs, outputs
// and gradients are explicit slices owned by the Trainer, n examples long, NHWC; a layer holds
// only references to its parameters and its own caches, sized once for the largest batch.
type layer interface {
	// forward computes y from x for n examples.
	forward(x, y []float32, n int)
	// backward sets the layer's parameter gradients and, unless dx is nil, the input gradient
	// dx, from the input x, the output y of the last forward and the output gradient dy.
	// dy may be overwritten (e.g. masked by ReLU).
	backward(x, y, dy, dx []float32, n int)
}
