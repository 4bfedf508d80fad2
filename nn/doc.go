// Package nn is the pure-Go engine that trains and evaluates the CIFAR-10 tutorial CNN, natively
// and as WebAssembly in a browser tab.
//
// The model is described by a declarative Spec (a list of LayerSpec), so the TensorFlow tutorial
// network ("cifar10") and the deeper cs231n-style network ("cs231n") share every line of code.
// A Model owns the named parameters (TensorFlow's names and layouts, stored in gorgonia tensors);
// a Trainer owns everything that depends on the batch size (activations, gradients, caches),
// allocated once, so that a training step allocates nothing. Layers follow TensorFlow 1.x
// semantics exactly (SAME padding, tf.nn.lrn, TF1 Adam) because the results are checked against
// reference values of the original model.
//
// Layout: one file per layer kind (conv.go, maxpool.go, lrn.go, dense.go, xent.go), each with
// forward and backward over explicit input, output and gradient slices; the heavy products go
// through nn/gemm; small elementwise kernels have a simd/archsimd version (GOEXPERIMENT=simd)
// and a plain-Go twin that compute the same values. The SIMD versions are shaped for Go's wasm
// backend (straight-line loop bodies over pointers into slices checked once; see
// kernels_simd.go and winograd_simd.go), which is what the browser runs.
package nn
