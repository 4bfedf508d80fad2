package worker

import (
	"errors"
	"fmt"
	"math"

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

// receivePredict takes a testImages or classify message; during an evaluation or a dataset
// load, which use the evaluation trainer and the data, it waits until the work ends.
func (e *Engine) receivePredict(in wasm.Inbound) {
	if e.busy != "" {
		e.deferredPredict = append(e.deferredPredict, in)
		return
	}
	e.busy = "predict"
	if in.Msg.Kind() == protocol.KindClassify {
		e.classify(in.Msg, in.Files)
	} else {
		e.predictTest(in.Msg)
	}
	e.busy = ""
}

// evalTrainer is the run's evaluation trainer, made on first use.
func (e *Engine) evalTrainer() (*nn.Trainer, error) {
	r := e.run
	if r.eval == nil {
		t, err := nn.NewTrainer(r.model, nil, EvalBatch, 1)
		if err != nil {
			return nil, err
		}
		r.eval = t
	}
	if r.pred.images == nil {
		r.pred.images = make([]float32, EvalBatch*r.model.InputSize())
	}
	return r.eval, nil
}

// testPixels returns test image i's 3,072 bytes, whether the dataset is shared or in Go.
func (e *Engine) testPixels(i int) []byte {
	if e.par.pixels == nil {
		return e.data.Test.Image(i)
	}
	r := e.run
	r.pred.img = e.par.pixels.Test(i, r.pred.img)
	return r.pred.img
}

// predictTest answers a testImages request: the predictions of Count test images from Start,
// or of the next Count mistakes from Start, with their pixels attached.
func (e *Engine) predictTest(m protocol.Message) {
	r := e.run
	switch {
	case r == nil:
		e.fail(m.Run, protocol.WherePredict, errNoWeights)
		return
	case e.data == nil:
		e.fail(m.Run, protocol.WherePredict, errors.New("the dataset is not loaded yet"))
		return
	}
	tr, err := e.evalTrainer()
	if err != nil {
		e.fail(r.id, protocol.WherePredict, err)
		return
	}
	req := m.Payload.(protocol.TestImagesRequest)
	test := e.data.Test
	total := test.Len()
	out := &protocol.TestImages{Step: r.step, Start: min(req.Start, total), Mistakes: req.Mistakes, Total: total, Images: []protocol.TestImage{}}
	if r.pred.pixels == nil {
		r.pred.pixels = make([]byte, 0, protocol.MaxTestImages*cifar.ImageBytes)
	}
	pixels := r.pred.pixels[:0]
	n, c := r.model.InputSize(), r.model.Classes()
	i := out.Start
	for i < total && len(out.Images) < req.Count {
		count := min(EvalBatch, total-i)
		if !req.Mistakes {
			count = min(count, req.Count-len(out.Images))
		}
		for j := range count {
			cifar.EvalPixels(r.pred.images[j*n:(j+1)*n], e.testPixels(i+j), r.crop)
		}
		logits := tr.Logits(r.pred.images[:count*n])
		looked := count
		for j := range count {
			z := logits[j*c : (j+1)*c]
			pred, label := nn.Argmax(z), int(test.Labels[i+j])
			if req.Mistakes && pred == label {
				continue
			}
			p := topProbability(z, pred)
			if !(p >= 0 && p <= 1) {
				e.fail(r.id, protocol.WherePredict, fmt.Errorf("test image %d: the weights after step %d give no finite prediction (the run diverged)", i+j, r.step))
				return
			}
			out.Images = append(out.Images, protocol.TestImage{Index: i + j, Label: label, Pred: pred, Prob: p})
			pixels = append(pixels, e.testPixels(i+j)...)
			if len(out.Images) == req.Count {
				looked = j + 1
				break
			}
		}
		i += looked
	}
	out.Next = i
	msg := protocol.Message{Run: r.id, Payload: *out}
	if len(out.Images) == 0 {
		e.post(msg)
		return
	}
	msg.Files = []protocol.FileRef{{Name: "pixels", Size: len(pixels)}}
	e.PostFiles(msg, pixels)
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
func (e *Engine) classify(m protocol.Message, files [][]byte) {
	r := e.run
	if r == nil {
		e.fail(m.Run, protocol.WherePredict, errNoWeights)
		return
	}
	if len(files) != 1 || len(files[0]) != cifar.ImageBytes {
		e.fail(r.id, protocol.WherePredict, fmt.Errorf("the picture to classify must be one 32x32 image of %d bytes", cifar.ImageBytes))
		return
	}
	tr, err := e.evalTrainer()
	if err != nil {
		e.fail(r.id, protocol.WherePredict, err)
		return
	}
	img := r.pred.images[:r.model.InputSize()]
	cifar.EvalPixels(img, files[0], r.crop)
	probs := tr.Probabilities(img)
	for _, p := range probs {
		if !(p >= 0 && p <= 1) {
			e.fail(r.id, protocol.WherePredict, fmt.Errorf("the weights after step %d give no finite probabilities (the run diverged)", r.step))
			return
		}
	}
	e.post(protocol.Message{Run: r.id, Payload: protocol.Classified{
		Name: m.Payload.(protocol.ClassifyRequest).Name, Step: r.step, Probs: append([]float32(nil), probs...),
	}})
}
