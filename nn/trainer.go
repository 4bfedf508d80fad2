package nn

import (
	"fmt"
	"math"
	"runtime"
)

// Trainer runs a Model on batches: forward, loss, backward and the optimizer update. It owns all
// memory that depends on the batch size (activations, their gradients, layer caches), allocated
// once in NewTrainer, so steps allocate nothing. A Trainer is used by one goroutine at a time;
// it may use more threads internally (see NewTrainer).
type Trainer struct {
	model  *Model
	opt    Optimizer
	batch  int
	r      *runner
	layers []layer
	acts   [][]float32 // acts[i]: output of layer i
	grads  [][]float32 // grads[i]: gradient of the loss with respect to acts[i]
	xent   *softmaxXent
	input  []float32 // the images of the last forward (the caller's slice)
	loss   float64   // cross-entropy sum of the last forward
	pass   pass      // the current pass, shared with the layers
	folds  []folder  // the layers with running statistics
	first  int       // the first layer the last backward pass reached (firstTrained)
}

// NewTrainer prepares m for batches of up to batch examples, computing with threads threads
// (natively runtime.NumCPU(); in the browser 1). Results are identical for any thread count.
// opt may be nil for a trainer that only evaluates.
func NewTrainer(m *Model, opt Optimizer, batch, threads int) (*Trainer, error) {
	if batch < 1 {
		return nil, fmt.Errorf("nn: trainer for %s: batch size %d must be positive", m.spec.Name, batch)
	}
	t := &Trainer{model: m, opt: opt, batch: batch, r: newRunner(threads)}
	// The worker goroutines reference the runner, never the trainer, so an abandoned trainer
	// becomes unreachable and this stops them even without Close.
	runtime.AddCleanup(t, (*runner).close, t.r)
	layers := m.spec.Layers
	in := m.spec.Input
	for i, l := range layers {
		c := layerConfig{in: in, out: m.shapes[i], params: m.layer[i], batch: batch, r: t.r, relu: t.relu(i), needDx: i > 0, pass: &t.pass}
		size := batch * c.out[0] * c.out[1] * c.out[2]
		built := kinds[l.Kind].build(l, c)
		if f, ok := built.(folder); ok {
			t.folds = append(t.folds, f)
		}
		t.layers = append(t.layers, built)
		t.acts = append(t.acts, make([]float32, size))
		t.grads = append(t.grads, make([]float32, size))
		in = c.out
	}
	t.xent = newSoftmaxXent(m.spec.Classes, batch, m.spec.Recipe.LabelSmoothing)
	return t, nil
}

// firstTrained is the first layer with a Trained parameter (len(layers) if none). The
// backward pass stops there: the layers before it have nothing to learn, so no layer needs
// their output gradients. A whitening layer whose bias a recipe freezes (its Use set to
// Fixed, airbench does it after a few epochs) is one: from the next pass on, neither it nor
// the GELU after it runs backward, and the first convolution skips its input gradient.
func firstTrained(layers [][]*Param) int {
	for i, ps := range layers {
		for _, p := range ps {
			if p.Use == Trained {
				return i
			}
		}
	}
	return len(layers)
}

// relu says whether layer i applies a ReLU. A layer whose kind passesReLU, followed by one whose
// kind takesReLU, leaves its ReLU to that one (max pooling after a convolution: they commute).
func (t *Trainer) relu(i int) bool {
	ls := t.model.spec.Layers
	passes := func(j int) bool { return j >= 0 && ls[j].ReLU && kinds[ls[j].Kind].passesReLU }
	takes := func(j int) bool { return j < len(ls) && kinds[ls[j].Kind].takesReLU }
	if takes(i) && passes(i-1) {
		return true
	}
	return ls[i].ReLU && !(passes(i) && takes(i+1))
}

// Close stops the trainer's worker goroutines now rather than when the garbage collector finds
// the trainer unreachable; the trainer must not be used afterwards.
func (t *Trainer) Close() { t.r.close() }

// Model returns the model being trained.
func (t *Trainer) Model() *Model { return t.model }

// Optimizer returns the optimizer (nil for an evaluation-only trainer).
func (t *Trainer) Optimizer() Optimizer { return t.opt }

// Batch is the largest number of examples per call.
func (t *Trainer) Batch() int { return t.batch }

// Step trains on one batch: gradients of the mean cross-entropy plus weight decay, then one
// optimizer update. It returns the total loss (cross-entropy + decay) before the update, the
// figure the tutorial logs.
func (t *Trainer) Step(images []float32, labels []uint8) float32 {
	xent := t.Gradients(images, labels, 1/float32(len(labels)))
	decay := t.WeightDecay()
	t.Apply()
	return xent + decay
}

// Gradients runs forward and backward on len(labels) examples and sets every parameter's Grad
// to the gradient of scale * (sum of the examples' cross-entropies); it returns that scaled sum.
// Use scale 1/n for a whole batch of n; a worker holding a shard of a batch of B uses 1/B, so
// that the shards' gradients and losses add up to the batch mean. Weight decay is not included:
// add it once, after summing, with WeightDecay.
func (t *Trainer) Gradients(images []float32, labels []uint8, scale float32) float32 {
	t.pass = pass{train: true, scale: scale}
	t.forward(images, len(labels))
	return t.backward(labels, scale)
}

// backward is Gradients after the forward pass over len(labels) examples: the loss, then
// every layer's backward from the last.
func (t *Trainer) backward(labels []uint8, scale float32) float32 {
	n := len(labels)
	last := len(t.layers) - 1
	t.loss = t.xent.forward(t.acts[last], labels)
	t.xent.backward(t.grads[last], labels, scale)
	t.first = firstTrained(t.model.layer)
	for _, ps := range t.model.layer[:t.first] {
		for _, p := range ps {
			clear(p.GradData()) // nothing to learn there (a frozen bias): no stale gradient
		}
	}
	for i := last; i >= t.first; i-- {
		x := t.input
		var dx []float32
		if i > 0 {
			x = t.acts[i-1]
		}
		if i > t.first {
			dx = t.grads[i-1]
		}
		t.layers[i].backward(x, t.acts[i], t.grads[i], dx, n)
	}
	return float32(t.loss * float64(scale))
}

// WeightDecay adds the L2 decay terms wd*w to the gradients of every decayed parameter and
// returns the decay loss, sum of wd*sum(w²)/2 (tf.nn.l2_loss times wd), summed in float64.
func (t *Trainer) WeightDecay() float32 {
	total := 0.0
	for _, p := range t.model.params {
		if p.Decay == 0 {
			continue
		}
		total += float64(p.Decay) * sumSquares(p.Data()) / 2
		addScaled(p.GradData(), p.Data(), p.Decay)
	}
	return float32(total)
}

// DecayLoss returns the weight-decay part of the loss without touching the gradients.
func (t *Trainer) DecayLoss() float32 {
	total := 0.0
	for _, p := range t.model.params {
		if p.Decay != 0 {
			total += float64(p.Decay) * sumSquares(p.Data()) / 2
		}
	}
	return float32(total)
}

// Apply updates the parameters from their current gradients with the optimizer, then folds
// the batch statistics summed into the gradient slots of Statistic parameters into their
// running values (batch normalization).
func (t *Trainer) Apply() {
	if t.opt == nil {
		panic("nn: Trainer.Apply without an optimizer")
	}
	t.opt.Apply()
	for _, f := range t.folds {
		f.fold()
	}
}

// Logits runs the model on len(images)/InputSize examples and returns their logits
// (examples x classes). The slice is the trainer's own and is overwritten by the next call.
func (t *Trainer) Logits(images []float32) []float32 {
	n := len(images) / t.model.InputSize()
	t.pass = pass{}
	t.forward(images, n)
	return t.acts[len(t.acts)-1][:n*t.model.spec.Classes]
}

// Probabilities is Logits followed by a softmax per example: the class probabilities for
// "classify my own image". The slice is overwritten by the next call.
func (t *Trainer) Probabilities(images []float32) []float32 {
	z := t.Logits(images)
	c := t.model.spec.Classes
	for i := 0; i+c <= len(z); i += c {
		softmax(z[i : i+c])
	}
	return z
}

// forward runs every layer on n examples of images.
func (t *Trainer) forward(images []float32, n int) {
	if n < 1 || n > t.batch || len(images) != n*t.model.InputSize() {
		panic(fmt.Sprintf("nn: %d examples with %d input floats; want 1..%d examples of %d floats", n, len(images), t.batch, t.model.InputSize()))
	}
	t.input = images
	x := images
	for i, l := range t.layers {
		l.forward(x, t.acts[i], n)
		x = t.acts[i]
	}
}

// activation returns layer name's output for the last forward (tests compare it with TF).
func (t *Trainer) activation(name string) []float32 {
	for i, l := range t.model.spec.Layers {
		if l.Name == name {
			return t.acts[i]
		}
	}
	return nil
}

func sumSquares(x []float32) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

// softmax replaces z by its softmax (in float64 internally).
func softmax(z []float32) {
	m := z[0]
	for _, v := range z {
		m = max(m, v)
	}
	sum := 0.0
	for _, v := range z {
		sum += math.Exp(float64(v) - float64(m))
	}
	for i, v := range z {
		z[i] = float32(math.Exp(float64(v)-float64(m)) / sum)
	}
}
