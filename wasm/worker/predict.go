package worker

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// Predictions for the evaluation view (wasm/protocol/predict.go): test images with their true and
// predicted labels, and one's own picture classified. Both run the current weights on the
// evaluation trainer (EvalBatch examples), with evaluation's preprocessing, so a test image's
// prediction here is the one its evaluation counted. Only the leader is asked.

// predictBuffers are a run's buffers for predictions, made on the first request and reused.
type predictBuffers struct {
	images []float32 // one evaluation batch of inputs
	pixels []byte    // the answer's pixels: up to protocol.MaxTestImages records
	img    []byte    // one test image copied out of shared memory
}

// errNoWeights is the answer to a prediction before any run.
var errNoWeights = errors.New("there are no weights to predict with yet: train a few steps, or restore or upload a checkpoint first")

// predict answers a testImages or classify message with the current run's weights. It waits
// in the inbox during an evaluation or a dataset load, which use the evaluation trainer and
// the data (commands.go).
func (e *Engine) predict(in wasm.Inbound) {
	m := in.Msg
	r := e.run
	switch {
	case r == nil:
		e.fail(m.Run, protocol.WherePredict, errNoWeights)
		return
	case m.Kind() == protocol.KindTestImages && e.data == nil:
		e.fail(m.Run, protocol.WherePredict, errors.New("the dataset is not loaded yet"))
		return
	}
	e.doing = predicting
	var err error
	if req, ok := m.Payload.(protocol.ClassifyRequest); ok {
		var c protocol.Classified
		if c, err = r.classify(req, in.Files); err == nil {
			e.post(protocol.Message{Run: r.id, Payload: c})
		}
	} else {
		var out protocol.TestImages
		var pixels []byte
		if out, pixels, err = r.testImages(m.Payload.(protocol.TestImagesRequest), e.data.Test, e.pixels); err == nil {
			e.postImages(protocol.Message{Run: r.id, Payload: out}, pixels)
		}
	}
	if err != nil {
		e.fail(r.id, protocol.WherePredict, err)
	}
	e.doing = idle
}

// postImages posts msg with the pixels of its test images attached, when there are any.
func (e *Engine) postImages(msg protocol.Message, pixels []byte) {
	if len(pixels) == 0 {
		e.post(msg)
		return
	}
	msg.Files = []protocol.FileRef{{Name: "pixels", Size: len(pixels)}}
	e.PostFiles(msg, pixels)
}

// evalTrainer is the run's evaluation trainer, with the buffer of a batch of its inputs.
func (r *run) evalTrainer() (*nn.Trainer, error) {
	tr, err := r.tr.EvalTrainer(EvalBatch)
	if err == nil && r.pred.images == nil {
		r.pred.images = make([]float32, EvalBatch*r.tr.Model().InputSize())
	}
	return tr, err
}

// testPixels returns test image i's 3,072 bytes, whether the dataset is shared or in Go.
func (r *run) testPixels(test *cifar.Set, pixels Pixels, i int) []byte {
	if pixels == nil {
		return test.Image(i)
	}
	r.pred.img = pixels.Test(i, r.pred.img)
	return r.pred.img
}

// testImages answers a testImages request: the predictions of Count test images from Start,
// or of the next Count mistakes from Start, and their pixels (valid until the next request).
func (r *run) testImages(req protocol.TestImagesRequest, test *cifar.Set, shared Pixels) (protocol.TestImages, []byte, error) {
	tr, err := r.evalTrainer()
	if err != nil {
		return protocol.TestImages{}, nil, err
	}
	total := test.Len()
	step := r.steps()
	out := protocol.TestImages{Step: step, Start: min(req.Start, total), Mistakes: req.Mistakes, Filter: req.Filter, Total: total, Images: []protocol.TestImage{}}
	if r.pred.pixels == nil {
		r.pred.pixels = make([]byte, 0, protocol.MaxTestImages*cifar.ImageBytes)
	}
	pixels := r.pred.pixels[:0]
	n, c, crop := r.tr.Model().InputSize(), r.tr.Model().Classes(), r.crop()
	i := out.Start
	for i < total && len(out.Images) < req.Count {
		count := min(EvalBatch, total-i)
		if !req.Mistakes && req.Any() {
			count = min(count, req.Count-len(out.Images))
		}
		for j := range count {
			r.prep().EvalPixels(r.pred.images[j*n:(j+1)*n], r.testPixels(test, shared, i+j), crop)
		}
		logits := tr.Logits(r.pred.images[:count*n])
		looked := count
		for j := range count {
			z := logits[j*c : (j+1)*c]
			pred, label := nn.Argmax(z), int(test.Labels[i+j])
			if (req.Mistakes && pred == label) || !req.Keeps(label, pred) {
				continue
			}
			top := topClasses(z)
			p := top[0].Prob
			if !(p >= 0 && p <= 1) {
				return out, nil, fmt.Errorf("test image %d: the weights after step %d give no finite prediction (the run diverged)", i+j, step)
			}
			out.Images = append(out.Images, protocol.TestImage{Index: i + j, Label: label, Pred: pred, Prob: p, Top: top})
			pixels = append(pixels, r.testPixels(test, shared, i+j)...)
			if len(out.Images) == req.Count {
				looked = j + 1
				break
			}
		}
		i += looked
	}
	out.Next = i
	return out, pixels, nil
}

// topClasses are the protocol.TopClasses classes with the largest logits z, the first largest
// first (evaluation's prediction), with their softmax probabilities.
func topClasses(z []float32) []protocol.ClassProb {
	order := make([]int, len(z))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(z[b], z[a]) })
	top := make([]protocol.ClassProb, min(protocol.TopClasses, len(z)))
	for i := range top {
		top[i] = protocol.ClassProb{Class: order[i], Prob: topProbability(z, order[i])}
	}
	return top
}

// topProbability is the softmax probability of class k given the logits z, computed from the
// logits (so the predicted class is exactly evaluation's argmax).
func topProbability(z []float32, k int) float32 {
	sum := 0.0
	for _, v := range z {
		sum += math.Exp(float64(v) - float64(z[k]))
	}
	return float32(1 / sum)
}

// classify answers a classify request: the model's class probabilities for the attached
// 32x32 picture after evaluation's preprocessing (central crop, per-image standardization).
func (r *run) classify(req protocol.ClassifyRequest, files [][]byte) (protocol.Classified, error) {
	if len(files) != 1 || len(files[0]) != cifar.ImageBytes {
		return protocol.Classified{}, fmt.Errorf("the picture to classify must be one 32x32 image of %d bytes", cifar.ImageBytes)
	}
	tr, err := r.evalTrainer()
	if err != nil {
		return protocol.Classified{}, err
	}
	img := r.pred.images[:r.tr.Model().InputSize()]
	r.prep().EvalPixels(img, files[0], r.crop())
	probs := tr.Probabilities(img)
	for _, p := range probs {
		if !(p >= 0 && p <= 1) {
			return protocol.Classified{}, fmt.Errorf("the weights after step %d give no finite probabilities (the run diverged)", r.steps())
		}
	}
	return protocol.Classified{Name: req.Name, Step: r.steps(), Probs: append([]float32(nil), probs...)}, nil
}
