package nn

import "cifar10/nn/cifar"

// RecipeAirbench names airbench94's recipe (Airbench) where a recipe is chosen by name, as the
// native trainer's -recipe flag does.
const RecipeAirbench = "airbench"

// Airbench returns airbench94's training recipe and optimizer for batches of batch examples,
// in this engine's conventions, for any preset taking 32x32 inputs: label smoothing 0.2,
// flip and translate by 2, test-time augmentation with flip and translation, a whitening bias
// frozen after 3/9.9 of the run (airbench: after 3 of its 9.9 epochs); Nesterov SGD with
// momentum 0.85, decoupled decay and 64x the learning rate for batch normalization's
// parameters (the whitening, convolution and dense biases train at the base rate), the
// triangular schedule (0.2 -> 1 at 23% -> 0.07) and the lookahead average every 5 steps
// from 30% of the run (airbench: from epoch 3 of 9.9), decay 0.95 per step, power 3.
//
// airbench states its learning rate and decay per 1,024 examples of a summed loss and divides
// them by 1024*(1 + 1/(1-momentum)) (its "kilostep scale"): lr 11.5 and wd 0.0153 become
// 11.5/7.667 = 1.5 and 0.0153/7.667 per 1,024 examples of our batch-mean gradient, scaled by
// batch/1024. The layers' own L2 decay (LayerSpec.WeightDecay) still applies; a preset built
// for this recipe sets it to 0.
func Airbench(batch int) (Recipe, OptimizerConfig) {
	const momentum = 0.85
	scale := float64(batch) / 1024 / (1 + 1/(1-momentum))
	return Recipe{Batch: batch, LabelSmoothing: 0.2, Input: cifar.FlipTranslate, TTA: TTAFlipTranslate, FreezeWhiten: 3 / 9.9},
		OptimizerConfig{Kind: OptNesterov, LR: 11.5 * scale, Momentum: momentum, WeightDecay: 0.0153 * scale, BiasLR: 64,
			Schedule: &Schedule{Start: 0.2, Peak: 0.23, End: 0.07},
			Average:  &Average{Start: 3 / 9.9, Every: 5, Decay: 0.95, Pow: 3}}
}
