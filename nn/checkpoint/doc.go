// Package checkpoint saves and restores training state as safetensors files.
//
// It has two halves. The file-system half (name.go, dir.go) knows nothing of models: it names
// files as TensorFlow's Saver does ("cifar10.ckpt-<step>", plus ".safetensors"), lists a folder's
// checkpoints by step, and writes a new one atomically (temporary file, fsync, rename, fsync of
// the folder) before pruning old ones, so a crash or a bad write never leaves a half file as the
// latest checkpoint and never loses a good one. The model half (model.go, encode.go, decode.go,
// header.go) maps the engine's parameters, optimizer slots and data position to tensors and
// metadata: Encode gives bytes for WriteAtomic (or IndexedDB), Decode and Load read them back.
// Encode and Decode are pure, so the browser worker uses them without a file system.
//
// A file holds, under TensorFlow's names and layouts:
//
//	conv1/weights ... softmax_linear/biases   F32, conv weights HWIO, dense weights [in,out]
//	<param>/Adam, <param>/Adam_1              Adam slots (m and v), or
//	<param>/Momentum                          the momentum accumulator (momentum, Nesterov)
//	<param>/ExponentialMovingAverage          the weights' moving average, when the optimizer
//	                                          configuration has one (nn.Average)
//	global_step                               I64 scalar: updates applied
//	data/seed, data/batch, data/examples      I64 scalars: the data position
//
// and the metadata format ("cifar10-go/1"), preset, optimizer (JSON of nn.OptimizerConfig, with
// the learning-rate schedule, the average and the run's length they are defined by),
// step, seed, batch, examples, time (RFC 3339), and loss and precision when known. The sampler
// is stateless, so seed, batch and examples consumed restore the data order, augmentation and
// sampling exactly: training resumed from a checkpoint is bit for bit the uninterrupted run.
// A weights-only file (just the parameters, as PyTorch or TensorFlow would export them) is
// valid for evaluation, prediction and fine-tuning.
package checkpoint
