package training

import (
	"fmt"

	"cifar10/nn"
	"cifar10/nn/cifar"
)

// WhitenImages is how many training images a fresh run's whitening layer is computed from:
// the first of the seed's order (epoch 0 of the sampler), as evaluation inputs (airbench
// whitens from its first 5,000 training images).
const WhitenImages = 5000

// whitenLayer is the model's first layer when it is a whitening layer, else ok is false.
func whitenLayer(m *nn.Model) (l nn.LayerSpec, ok bool) {
	l = m.Spec().Layers[0]
	return l, l.Kind == nn.KindWhiten
}

// WhiteningPending reports whether the run's whitening weights still wait for the training
// images: a fresh run of a preset that starts with a whitening layer, made without the
// pixels (a browser worker whose dataset lives in memory shared by the workers). The caller
// then calls InitWhitening before the first step.
func (r *Run) WhiteningPending() bool { return r.whiten }

// InitWhitening sets a fresh run's whitening weights (nn.Model.InitWhitening) from the first
// WhitenImages images of the seed's order, image(i) giving training image i's 3,072 record
// bytes, each made into the model's evaluation input. It is a pure function of the images
// and the seed, so every worker of a group computes the same weights (and a checkpoint
// stores them: a resumed run does not compute them again). New calls it when its training
// set holds the pixels; the training set must have been given.
func (r *Run) InitWhitening(image func(i int) []byte) error {
	if !r.whiten {
		return nil
	}
	if r.sampler == nil {
		return fmt.Errorf("training: preset %s: whitening before the training set is given", r.cfg.Preset)
	}
	spec := r.model.Spec()
	n := min(WhitenImages, r.cfg.Train.Len())
	size := r.model.InputSize()
	images := make([]float32, n*size)
	for k := range n {
		spec.Recipe.Input.EvalPixels(images[k*size:(k+1)*size], image(r.sampler.Index(int64(k))), spec.Input[0])
	}
	if err := r.model.InitWhitening(images); err != nil {
		return fmt.Errorf("training: %w", err)
	}
	r.whiten = false
	return nil
}

// hasPixels reports whether set holds its images (a browser worker's shared dataset holds
// only the labels in Go memory).
func hasPixels(set *cifar.Set) bool {
	return set.Len() > 0 && len(set.Pixels) >= set.Len()*cifar.ImageBytes
}

// freeze sets the Use of a first whitening layer's bias for the next update: Fixed from the
// recipe's FreezeStep on, Trained before. It is a pure function of the step, the recipe and
// the run's length (the optimizer's, which a checkpoint keeps), so every worker and a
// resumed run freeze it at the same update.
func (r *Run) freeze() {
	l, ok := whitenLayer(r.model)
	if !ok {
		return
	}
	steps := r.opt.Config().Steps
	if steps == 0 {
		steps = r.cfg.Steps
	}
	at := r.model.Spec().Recipe.FreezeStep(steps)
	use := nn.Trained
	if at >= 0 && r.opt.Steps() >= at {
		use = nn.Fixed
	}
	r.model.Param(l.Name + "/biases").Use = use
}
