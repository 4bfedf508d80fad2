package nn

import (
	"fmt"
	"sort"
	"strings"
)

// layer is the interface every layer kind implements (ConvNetJS / llm.c style). Inputs, outputs
// and gradients are explicit slices owned by the Trainer, n examples long, NHWC; a layer holds
// only references to its parameters and its own caches, sized once for the largest batch.
type layer interface {
	// forward computes y from x for n examples.
	forward(x, y []float32, n int)
	// backward sets the layer's parameter gradients and, unless dx is nil, the input gradient
	// dx, from the input x, the output y of the last forward and the output gradient dy.
	// dy may be overwritten (e.g. masked by ReLU).
	backward(x, y, dy, dx []float32, n int)
}

// kind is everything the engine knows about one layer kind. Each kind's file registers its
// own (registerKind, from an init function) next to its forward and backward passes, so a new
// kind touches that file and the presets that use it, nothing else.
type kind struct {
	// outShape checks a layer's fields against its input shape [h, w, c] and returns its
	// output shape; errors come from LayerSpec.errorf.
	outShape func(l LayerSpec, in [3]int) ([3]int, error)
	// params lists the layer's parameters in model order; nil when it has none.
	params func(l LayerSpec, in [3]int) []paramShape
	// init sets the initial values of the parameters params listed, drawing from rng. The
	// order of the draws is part of every seed's meaning: changing it changes every run.
	init func(l LayerSpec, ps []*Param, rng *initRand)
	// build makes the layer a Trainer runs.
	build func(l LayerSpec, c layerConfig) layer
	// passesReLU says a ReLU of this layer may be left to a following layer of a kind that
	// takesReLU, which applies it to its output instead (max pooling commutes with ReLU and
	// touches fewer values).
	passesReLU, takesReLU bool
}

// paramShape declares one parameter of a layer.
type paramShape struct {
	name  string // TensorFlow name, "<layer>/weights"
	shape []int
	decay float32 // L2 weight-decay factor, 0 for none
	use   Use
	norm  bool // Param.Norm
}

// layerConfig is what building a layer for a Trainer needs besides its spec.
type layerConfig struct {
	in, out [3]int   // input and output shapes
	params  []*Param // the layer's parameters, as its kind's params listed them
	batch   int      // largest number of examples per call
	r       *runner
	relu    bool // whether the layer applies a ReLU (after the hand-overs of passesReLU)
	needDx  bool // whether the input gradient is needed (not for the first layer)
	pass    *pass
}

// pass is what the Trainer's current pass is, shared by its layers: layers whose forward
// differs between training and evaluation (batch normalization) read it.
type pass struct {
	train bool    // a training pass (Gradients), not an evaluation (Logits)
	scale float32 // the scale of the pass's gradients, 1/batch (Trainer.Gradients)
}

// folder is a layer with running statistics (Use Statistic): fold merges the batch statistics
// the shard tree summed into their gradient slots into the running values, once per update.
type folder interface {
	fold()
}

// LayerKind names a layer kind in a spec (LayerSpec.Kind) and in its JSON, "conv" say. Each
// kind's file declares its constant and registers the kind under it.
type LayerKind string

// kinds holds every registered layer kind by LayerSpec.Kind.
var kinds = map[LayerKind]kind{}

// registerKind makes a layer kind known to specs, models and trainers.
func registerKind(name LayerKind, k kind) {
	if _, dup := kinds[name]; dup {
		panic("nn: layer kind " + string(name) + " registered twice")
	}
	kinds[name] = k
}

// kindNames lists the registered kinds for error messages: "a, b or c".
func kindNames() string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, string(n))
	}
	sort.Strings(names)
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// errorf reports a problem with layer l, naming it and its kind.
func (l LayerSpec) errorf(format string, a ...any) error {
	return fmt.Errorf("nn: layer %q (%s): "+format, append([]any{l.Name, l.Kind}, a...)...)
}

// weightsAndBiases is the parameter list of a layer with weights of the given shape (decayed
// by l.WeightDecay) and l.Out biases (never decayed).
func weightsAndBiases(l LayerSpec, weights ...int) []paramShape {
	return []paramShape{
		{name: l.Name + "/weights", shape: weights, decay: float32(l.WeightDecay)},
		{name: l.Name + "/biases", shape: []int{l.Out}},
	}
}

// initWeightsAndBiases draws the weights from a truncated normal with l.Stddev, then sets the
// biases to l.BiasInit (no draws).
func initWeightsAndBiases(l LayerSpec, ps []*Param, rng *initRand) {
	rng.truncNormal(ps[0].Data(), l.Stddev)
	fill(ps[1].Data(), float32(l.BiasInit))
}
