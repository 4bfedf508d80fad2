package worker

import (
	"errors"
	"fmt"
	"math"

	"cifar10/nn"
	"cifar10/nn/checkpoint"
	"cifar10/nn/cifar"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// Inside the network (wasm/protocol/inside.go): the filters and one image's activations for
// the page's views, answered between two steps on the evaluation trainer (so training waits
// for one forward pass of one image), and precision over time: periodic evaluations on a
// slice of the test set during a run, and the evaluation of a run's stored checkpoints.

// insideBuffers are a run's buffers for inspect answers, reused from one to the next.
type insideBuffers struct {
	maps    []float32
	filters []byte // the answer's attached buffers, as bytes
	input   []byte
	bytes   []byte
}

// inspect answers an inspect message with the current run's filters and activations.
func (e *Engine) inspect(in wasm.Inbound) {
	m := in.Msg
	r := e.run
	req := m.Payload.(protocol.InspectRequest)
	switch {
	case r == nil:
		e.fail(m.Run, protocol.WherePredict, errNoWeights)
		return
	case req.Image != protocol.NoImage && e.data == nil:
		e.fail(m.Run, protocol.WherePredict, errors.New("the dataset is not loaded yet"))
		return
	}
	e.doing = predicting
	out, files, err := r.inspect(req, in.Files, e.testSet(), e.pixels)
	if err != nil {
		e.fail(r.id, protocol.WherePredict, err)
	} else {
		msg := protocol.Message{Run: r.id, Payload: out}
		for i, f := range files {
			msg.Files = append(msg.Files, protocol.FileRef{Name: insideFileNames(out)[i], Size: len(f)})
		}
		e.PostFiles(msg, files...)
	}
	e.doing = idle
}

// testSet is the loaded test set, or nil.
func (e *Engine) testSet() *cifar.Set {
	if e.data == nil {
		return nil
	}
	return e.data.Test
}

// insideFileNames names an Inside's attached buffers in order.
func insideFileNames(out protocol.Inside) []string {
	var names []string
	if out.Filters != nil {
		names = append(names, protocol.FileFilters)
	}
	if len(out.Layers) > 0 {
		names = append(names, protocol.FileInput, protocol.FileMaps)
	}
	return names
}

// inspect makes the answer to req and its buffers (the run's, valid until the next call).
func (r *run) inspect(req protocol.InspectRequest, files [][]byte, test *cifar.Set, shared Pixels) (protocol.Inside, [][]byte, error) {
	out := protocol.Inside{Step: r.steps(), Image: req.Image, Name: req.Name, Label: -1}
	b := &r.inside
	var bufs [][]byte
	m := r.tr.Model()
	if req.Filters {
		layer, shape, tiles, ok := m.Filters()
		if ok {
			out.Filters = &protocol.FilterShape{Layer: layer, Shape: shape}
			b.filters = protocol.Float32Bytes(b.filters[:0], tiles)
			bufs = append(bufs, b.filters)
		}
	}
	var record []byte
	switch {
	case req.Image == protocol.NoImage && len(files) == 1:
		if len(files[0]) != cifar.ImageBytes {
			return out, nil, fmt.Errorf("the picture to look inside with must be one 32x32 image of %d bytes", cifar.ImageBytes)
		}
		record = files[0]
	case req.Image != protocol.NoImage:
		if req.Image >= test.Len() {
			return out, nil, fmt.Errorf("there is no test image %d: the test set has %d", req.Image, test.Len())
		}
		record = r.testPixels(test, shared, req.Image)
		out.Label = int(test.Labels[req.Image])
	}
	if record != nil {
		tr, err := r.evalTrainer()
		if err != nil {
			return out, nil, err
		}
		img := r.pred.images[:m.InputSize()]
		r.prep().EvalPixels(img, record, r.crop())
		b.maps = tr.Activations(b.maps[:0], img)
		out.Input = m.Spec().Input
		out.Layers = m.Summary()
		c := m.Classes()
		out.Probs = softmax(b.maps[len(b.maps)-c:])
		for _, p := range out.Probs {
			if !(p >= 0 && p <= 1) {
				return out, nil, fmt.Errorf("the weights after step %d give no finite probabilities (the run diverged)", out.Step)
			}
		}
		b.input = protocol.Float32Bytes(b.input[:0], img)
		b.bytes = protocol.Float32Bytes(b.bytes[:0], b.maps)
		bufs = append(bufs, b.input, b.bytes)
	}
	return out, bufs, nil
}

// softmax is the class probabilities of logits z, in a new slice (float64 inside, as the
// engine's Probabilities).
func softmax(z []float32) []float32 {
	top := z[0]
	for _, v := range z {
		top = max(top, v)
	}
	sum := 0.0
	for _, v := range z {
		sum += math.Exp(float64(v - top))
	}
	out := make([]float32, len(z))
	for i, v := range z {
		out[i] = float32(math.Exp(float64(v-top)) / sum)
	}
	return out
}

// evalSliceDue reports whether the step just done ends a period of precision over time: a
// lone worker's or a leader's run with both settings on, at a multiple of EvalEvery.
func (r *run) evalSliceDue() bool {
	s := r.settings
	step := r.steps()
	return s.EvalEvery > 0 && s.EvalImages > 0 && !r.following() && step > 0 && step%s.EvalEvery == 0 &&
		step != r.sliceAt && !r.diverged
}

// evalSlice reports precision@1 of the current weights over the first EvalImages test images.
func (r *run) evalSlice(test *cifar.Set, pixels Pixels) {
	tr, err := r.tr.EvalTrainer(EvalBatch)
	if err != nil {
		r.fail(protocol.WhereEval, err)
		return
	}
	p, err := sliceAt(tr, r.settings.EvalImages, test, func(i0 int, images []float32, labels []uint8) {
		r.fillEval(test, pixels, i0, images, labels)
	})
	if err != nil {
		r.fail(protocol.WhereEval, err)
		return
	}
	p.Step = r.steps()
	r.sliceAt = p.Step
	r.out.post(protocol.Message{Run: r.id, Payload: p})
}

// sliceAt evaluates tr on the first images test images (all of them when there are fewer).
func sliceAt(tr *nn.Trainer, images int, test *cifar.Set, fill func(i0 int, images []float32, labels []uint8)) (protocol.Precision, error) {
	n := min(images, test.Len())
	ev, err := tr.Evaluate(n, func(i0 int, images []float32, labels []uint8) error {
		fill(i0, images, labels)
		return nil
	}, nil)
	if err != nil {
		return protocol.Precision{}, err
	}
	return protocol.Precision{Correct: ev.Correct, Total: ev.Total}, nil
}

// evalCheckpoints answers an evalCheckpoints message: the precision of each stored checkpoint
// over the test slice, each on a model of its own, so the current run is left as it was.
func (e *Engine) evalCheckpoints(in wasm.Inbound) {
	m := in.Msg
	req := m.Payload.(protocol.EvalCheckpoints)
	switch {
	case e.data == nil:
		e.fail(m.Run, protocol.WhereEval, errors.New("the dataset is not loaded yet"))
		return
	case e.Checkpoints == nil:
		e.fail(m.Run, protocol.WhereEval, errNoStore)
		return
	}
	e.doing = evaluating
	defer func() { e.doing = idle }()
	test := e.data.Test
	for i, id := range req.IDs {
		p, err := e.evalStored(id, req.Images, test)
		if err != nil {
			e.fail(m.Run, protocol.WhereEval, err)
			e.post(protocol.Message{Run: m.Run, Payload: protocol.EvalCheckpointsDone{Count: i}})
			return
		}
		e.post(protocol.Message{Run: m.Run, Payload: p})
		if e.Yield != nil {
			e.Yield()
		}
	}
	e.post(protocol.Message{Run: m.Run, Payload: protocol.EvalCheckpointsDone{Count: len(req.IDs)}})
}

// evalStored evaluates stored checkpoint id on the first images test images.
func (e *Engine) evalStored(id string, images int, test *cifar.Set) (protocol.Precision, error) {
	info, data, err := e.Checkpoints.Load(id)
	if err != nil {
		return protocol.Precision{}, err
	}
	ck, err := checkpoint.Decode(data, info.Preset)
	if err != nil {
		return protocol.Precision{}, fmt.Errorf("checkpoint %s cannot be evaluated: %s", info.Name(), reason(err))
	}
	model, err := ck.NewModel()
	if err != nil {
		return protocol.Precision{}, fmt.Errorf("checkpoint %s cannot be evaluated: %s", info.Name(), reason(err))
	}
	tr, err := nn.NewTrainer(model, nil, EvalBatch, 1)
	if err != nil {
		return protocol.Precision{}, err
	}
	defer tr.Close()
	crop := model.Spec().Input[0]
	n := model.InputSize()
	var img []byte
	p, err := sliceAt(tr, images, test, func(i0 int, batch []float32, labels []uint8) {
		for j := range labels {
			if e.pixels != nil {
				img = e.pixels.Test(i0+j, img)
			} else {
				img = test.Image(i0 + j)
			}
			model.Spec().Recipe.Input.EvalPixels(batch[j*n:(j+1)*n], img, crop)
			labels[j] = test.Labels[i0+j]
		}
	})
	p.Step, p.Checkpoint = int(info.Step), id
	return p, err
}
