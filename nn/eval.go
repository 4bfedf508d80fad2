package nn

import (
	"fmt"
	"math"
)

// Evaluation is the result of evaluating a model over a whole set.
type Evaluation struct {
	// Correct counts examples whose true class is in the top 1, as tf.nn.in_top_k(logits,
	// labels, 1) decides it (the tutorial's precision@1): no other class has a strictly larger
	// logit, and the logits are finite.
	Correct int `json:"correct"`
	// Total is the number of examples evaluated, exactly (no padding of the last batch).
	Total int `json:"total"`
	// Confusion[true][predicted] counts examples, the prediction being the first largest logit.
	Confusion [][]int `json:"confusion"`
}

// Precision is Correct/Total (precision@1).
func (e Evaluation) Precision() float64 {
	if e.Total == 0 {
		return 0
	}
	return float64(e.Correct) / float64(e.Total)
}

// Evaluate runs the model over total examples in batches of the trainer's size. fill must write
// examples start..start+len(labels)-1 (preprocessed images, NHWC, and their labels) into the
// given slices; an error from it stops the evaluation and is returned. progress, if not nil,
// is called after every batch with the number of examples done.
func (t *Trainer) Evaluate(total int, fill func(start int, images []float32, labels []uint8) error, progress func(done, total int)) (Evaluation, error) {
	evs, err := t.EvaluateTTA(TTANone, total, fill, progress)
	return evs[0], err
}

// EvaluateTTA is Evaluate with test-time augmentation: it returns one Evaluation per level
// from TTANone to level (the plain figure first), all from the same passes, so the augmented
// figure is always reported beside the plain one. A level costs 1, 2 or 6 forward passes.
func (t *Trainer) EvaluateTTA(level TTA, total int, fill func(start int, images []float32, labels []uint8) error, progress func(done, total int)) ([]Evaluation, error) {
	if level < TTANone || level > TTAFlipTranslate {
		return nil, fmt.Errorf("nn: evaluation: unknown test-time augmentation level %d", level)
	}
	c := t.model.spec.Classes
	evs := make([]Evaluation, level+1)
	for l := range evs {
		evs[l].Confusion = make([][]int, c)
		for i := range evs[l].Confusion {
			evs[l].Confusion[i] = make([]int, c)
		}
	}
	size := t.model.InputSize()
	images := make([]float32, t.batch*size)
	labels := make([]uint8, t.batch)
	v := newViews(level, t.model.spec.Input, t.batch, c)
	for start := 0; start < total; start += t.batch {
		n := min(t.batch, total-start)
		if err := fill(start, images[:n*size], labels[:n]); err != nil {
			return evs, fmt.Errorf("nn: evaluation at example %d: %w", start, err)
		}
		for i, lab := range labels[:n] {
			if int(lab) >= c {
				return evs, fmt.Errorf("nn: evaluation: label %d of example %d is not below the %d classes", lab, start+i, c)
			}
		}
		v.run(t, images[:n*size], n, level)
		for l := range evs {
			evs[l].count(v.level[l], labels[:n])
		}
		if progress != nil {
			progress(evs[0].Total, total)
		}
	}
	return evs, nil
}

// count adds the examples whose logits are rows of z and labels are labels.
func (e *Evaluation) count(z []float32, labels []uint8) {
	c := len(e.Confusion)
	for i, lab := range labels {
		row := z[i*c : (i+1)*c]
		if inTop1(row, int(lab)) {
			e.Correct++
		}
		e.Confusion[lab][Argmax(row)]++
	}
	e.Total += len(labels)
}

// Argmax returns the index of the first largest value (the predicted class of a logit row).
func Argmax(z []float32) int {
	best := 0
	for i, v := range z {
		if v > z[best] {
			best = i
		}
	}
	return best
}

// inTop1 is tf.nn.in_top_k with k = 1: no class beats the label's logit, and all are finite.
func inTop1(z []float32, label int) bool {
	target := z[label]
	for _, v := range z {
		if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
			return false
		}
		if v > target {
			return false
		}
	}
	return true
}
