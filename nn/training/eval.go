package training

import (
	"cifar10/nn"
	"cifar10/nn/cifar"
)

// Evaluate measures tr's model on the first images test images (all of them when images is 0
// or more than the set holds), each preprocessed as the model's recipe says, with test-time
// augmentation up to level: one nn.Evaluation per level, the plain figure first. The native
// trainer's final and periodic evaluations and its eval command all go through it; level is
// the recipe's TTA unless the caller asks for another.
func Evaluate(tr *nn.Trainer, test *cifar.Set, images int, level nn.TTA, progress func(done, total int)) ([]nn.Evaluation, error) {
	spec := tr.Model().Spec()
	total := test.Len()
	if images > 0 && images < total {
		total = images
	}
	prep, side := spec.Recipe.Input, spec.Input[0]
	return tr.EvaluateTTA(level, total, func(start int, x []float32, labels []uint8) error {
		prep.EvalBatch(test, start, len(labels), side, x, labels)
		return nil
	}, progress)
}
