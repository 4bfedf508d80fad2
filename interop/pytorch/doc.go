// Package pytorch is the bridge to PyTorch for a run that outgrows the tab: the same checkpoint
// files read and written by Python (torch and numpy only), evaluated with our preprocessing and
// trained on by torchrun with DistributedDataParallel. The Python lives next to this file:
//
//	checkpoint.py   load(path) and save(path): our safetensors files <-> torch tensors; every
//	                layout conversion (HWIO <-> OIHW, [in,out] <-> [out,in]) written once
//	model.py        each preset (presets.json) as a torch.nn.Module, one class per layer kind
//	                (batch normalization over nn/shard's groups, as the engine)
//	optim.py        TensorFlow 1's Adam (slots <name>/Adam, <name>/Adam_1), momentum, Nesterov
//	                with decoupled decay, the schedule and the lookahead average
//	data.py         the CIFAR-10 binary files, evaluation preprocessing and augmentation (the
//	                tutorial's, or FlipTranslate's)
//	evaluate.py     precision@1 on the test set, counted as `cifar10 eval` counts it, with the
//	                recipe's test-time augmentation
//	train.py        continues a run under torchrun and writes checkpoints in our format
//	test_interop.py unit tests against the TensorFlow reference numbers (python3 -m unittest)
//
// The Go side is the generator of presets.json (the presets as nn declares them, so the
// Python models never restate a layer) and the round-trip tests, which run the Python with
// Debian's /usr/bin/python3 and torchrun against the native trainer (cmd/cifar10) and the
// worker's upload check.
//
//go:generate go run gen_presets.go
package pytorch
