package nn

import (
	"fmt"
	"math"
	"sort"

	"cifar10/nn/cifar"
)

// LayerSpec declares one layer. Only the fields that matter for its Kind are used; the rest
// stay zero and are omitted from JSON, so a spec reads like the tutorial's layer list.
type LayerSpec struct {
	// Kind names a registered layer kind (each kind's file declares its Kind constant and
	// registers it; see layer.go).
	Kind LayerKind `json:"kind"`
	// Name prefixes the layer's parameters ("<name>/weights", "<name>/biases").
	Name string `json:"name"`
	// Size is the kernel side (conv, whiten) or the window side (maxpool).
	Size int `json:"size,omitempty"`
	// Stride is the pooling stride; convolutions always use stride 1.
	Stride int `json:"stride,omitempty"`
	// Out is the number of output channels (conv) or units (dense).
	Out int `json:"out,omitempty"`
	// Winograd computes a 3x3 convolution with at least 16 input channels and an even output
	// size by Winograd's F(2x2, 3x3) (winograd3.go): 2.25 times fewer multiplications, for
	// slightly different rounding, so it is asked for by the presets that want it and the
	// others keep their bits. (5x5 convolutions with outputs of 4x4 tiles always use
	// F(4x4, 5x5).)
	Winograd bool `json:"winograd,omitempty"`
	// Mul multiplies a dense layer's output, after the bias and any ReLU; 0 means 1. airbench
	// scales its logits by 1/9, which slows the last layer's learning at its large rate.
	Mul float64 `json:"mul,omitempty"`
	// ReLU applies max(0, x) after the bias.
	ReLU bool `json:"relu,omitempty"`
	// Stddev is the standard deviation of the truncated-normal weight initialization.
	Stddev float64 `json:"stddev,omitempty"`
	// BiasInit is the constant initial value of the biases.
	BiasInit float64 `json:"bias_init,omitempty"`
	// WeightDecay is wd in wd*sum(w²)/2 added to the loss for the weights (never the biases).
	WeightDecay float64 `json:"weight_decay,omitempty"`
	// Radius, Bias, Alpha and Beta are tf.nn.lrn's depth_radius, bias, alpha and beta:
	// out[c] = in[c] / (Bias + Alpha*sum_{|c'-c|<=Radius} in[c']²)^Beta.
	Radius int     `json:"radius,omitempty"`
	Bias   float64 `json:"bias,omitempty"`
	Alpha  float64 `json:"alpha,omitempty"`
	Beta   float64 `json:"beta,omitempty"`
	// Momentum is batch normalization's weight of a step's batch statistics in its running
	// statistics (PyTorch's momentum: running = (1-m)·running + m·batch).
	Momentum float64 `json:"momentum,omitempty"`
	// Epsilon is added to batch normalization's variance before the square root.
	Epsilon float64 `json:"epsilon,omitempty"`
	// Scale gives batch normalization a learned scale gamma (TF's scale=True); without it the
	// scale is 1 and only the bias beta is learned.
	Scale bool `json:"scale,omitempty"`
}

// Spec declares a whole model: input shape, layers, number of classes and the default optimizer.
// It is plain data (JSON-serialisable) so that checkpoints and the UI can carry it.
type Spec struct {
	Name string `json:"name"`
	// Input is the shape of one example, [height, width, channels] (HWC).
	Input [3]int `json:"input"`
	// Classes is the number of outputs of the last (dense) layer.
	Classes   int             `json:"classes"`
	Layers    []LayerSpec     `json:"layers"`
	Optimizer OptimizerConfig `json:"optimizer"`
	// Recipe is how the preset trains and evaluates beyond its optimizer; the zero Recipe is
	// the tutorial's (its batch and length given by the caller, no smoothing, its inputs).
	Recipe Recipe `json:"recipe,omitzero"`
}

// Recipe holds the training choices of a preset besides the layers and the optimizer (whose
// schedule and weight average live in OptimizerConfig, since a checkpoint must resume them).
// Every field's zero value is the tutorial's behaviour.
type Recipe struct {
	// Batch is the preset's default batch size; 0 leaves it to the caller (128).
	Batch int `json:"batch,omitempty"`
	// Epochs is the preset's default length in passes over the training set; 0 leaves the
	// number of steps to the caller (1,000).
	Epochs float64 `json:"epochs,omitempty"`
	// LabelSmoothing is eps of the cross-entropy's target (1-eps)*onehot + eps/classes.
	LabelSmoothing float64 `json:"label_smoothing,omitempty"`
	// Input is how images are made from the records, for training and evaluation.
	Input cifar.Prep `json:"input,omitempty"`
	// TTA is the test-time augmentation the preset's evaluation reports beside the plain
	// figure (TTANone: the plain figure alone).
	TTA TTA `json:"tta,omitempty"`
	// FreezeWhiten is the fraction of the run's steps after which the bias of a first
	// whitening layer stops training (airbench: after 3 of its 9.9 epochs): from update
	// floor(FreezeWhiten*steps) on its Use is Fixed, so the optimizer leaves it and the
	// backward pass stops before the first convolution. 0 never freezes it. A pure function
	// of the step, so a resumed run freezes it at the same update (training.Run).
	FreezeWhiten float64 `json:"freeze_whiten,omitempty"`
}

// FreezeStep is the update from which a first whitening layer's bias is frozen in a run of
// steps updates (FreezeWhiten), or -1 when it never is.
func (r Recipe) FreezeStep(steps int64) int64 {
	if r.FreezeWhiten == 0 {
		return -1
	}
	return int64(r.FreezeWhiten * float64(steps))
}

// Validate names a field out of range for a model taking input-shaped examples (a checkpoint
// that carries its recipe is checked with it).
func (r Recipe) Validate(input [3]int) error {
	switch {
	case r.Batch < 0 || !(r.Epochs >= 0) || math.IsInf(r.Epochs, 0):
		return fmt.Errorf("nn: recipe batch %d and epochs %g must not be negative", r.Batch, r.Epochs)
	case !(r.LabelSmoothing >= 0 && r.LabelSmoothing <= 1):
		return fmt.Errorf("nn: recipe label smoothing %g, want a value in [0, 1]", r.LabelSmoothing)
	case !(r.FreezeWhiten >= 0 && r.FreezeWhiten <= 1):
		return fmt.Errorf("nn: recipe freeze_whiten %g, want a fraction of the run in [0, 1]", r.FreezeWhiten)
	case r.TTA < TTANone || r.TTA > TTAFlipTranslate:
		return fmt.Errorf("nn: recipe tta %d, want %d (none), %d (flip) or %d (flip and translate)", r.TTA, TTANone, TTAFlip, TTAFlipTranslate)
	}
	return r.Input.Check(input[0])
}

// Optimizer kinds.
const (
	OptAdam     = "adam"     // tf.train.AdamOptimizer (TF1 form)
	OptMomentum = "momentum" // tf.train.MomentumOptimizer (not Nesterov)
	OptNesterov = "nesterov" // SGD with Nesterov momentum and decoupled weight decay (airbench)
)

// OptimizerConfig holds an optimizer's hyperparameters. Fields that do not apply to Kind are
// ignored. Values are float64 for JSON; the update itself runs in float32 like TensorFlow.
// A checkpoint stores it as JSON, so everything that decides an update (the schedule and the
// run's length included) is here: resuming from the file continues the same updates.
type OptimizerConfig struct {
	Kind     string  `json:"kind"`
	LR       float64 `json:"lr"`
	Beta1    float64 `json:"beta1,omitempty"`
	Beta2    float64 `json:"beta2,omitempty"`
	Epsilon  float64 `json:"epsilon,omitempty"`
	Momentum float64 `json:"momentum,omitempty"`
	// WeightDecay is the Nesterov optimizer's decoupled decay: the decay term moves a weight by
	// WeightDecay*w per step (times the schedule's factor, through the momentum), whatever the
	// learning rate of its group. It adds to any L2 decay of the layers (LayerSpec.WeightDecay).
	WeightDecay float64 `json:"weight_decay,omitempty"`
	// BiasLR multiplies the Nesterov learning rate of batch normalization's offsets and scales
	// (Param.Norm), not their decay; 0 means 1. airbench uses 64 for its BatchNorm biases.
	BiasLR float64 `json:"bias_lr,omitempty"`
	// Steps is the run's total number of updates, which Schedule and Average are defined by;
	// the run sets it (training.New) and a checkpoint keeps it. 0 without them.
	Steps int64 `json:"steps,omitempty"`
	// Schedule, when set, multiplies LR by a factor that depends on the step (schedule.go).
	Schedule *Schedule `json:"schedule,omitempty"`
	// Average, when set, keeps a moving average of the weights, lookahead style (average.go).
	Average *Average `json:"average,omitempty"`
}

// DefaultAdam is the tutorial's optimizer: Adam with TensorFlow's defaults and learning rate 1e-3.
func DefaultAdam() OptimizerConfig {
	return OptimizerConfig{Kind: OptAdam, LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8}
}

// DefaultMomentum is SGD with momentum as the cs231n notes recommend it for this kind of network.
func DefaultMomentum() OptimizerConfig {
	return OptimizerConfig{Kind: OptMomentum, LR: 0.01, Momentum: 0.9}
}

// presets maps a preset name to its constructor; see Preset.
var presets = map[string]func() Spec{
	"cifar10": cifar10Spec,
	"cs231n":  cs231nSpec,
	"fast":    fastSpec,
}

// PresetNames lists the built-in model presets in a stable order, for menus and flags.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns a fresh copy of a built-in model spec: "cifar10" (the TensorFlow tutorial model,
// the spec's reference), "cs231n" (three [conv3x3-ReLU, conv3x3-ReLU, maxpool 2x2] blocks) or
// "fast" (airbench's network, narrower: a whitening layer, three blocks with batch
// normalization and GELU, global max pooling).
func Preset(name string) (Spec, error) {
	f, ok := presets[name]
	if !ok {
		return Spec{}, fmt.Errorf("nn: unknown preset %q (known: %v)", name, PresetNames())
	}
	return f(), nil
}

// cifar10Spec is the TensorFlow 1.x tutorial model; every constant is part of the project spec.
func cifar10Spec() Spec {
	const alpha = 0.001 / 9.0
	return Spec{
		Name:    "cifar10",
		Input:   [3]int{24, 24, 3},
		Classes: 10,
		Layers: []LayerSpec{
			{Kind: KindConv, Name: "conv1", Size: 5, Out: 64, ReLU: true, Stddev: 5e-2, BiasInit: 0},
			{Kind: KindMaxPool, Name: "pool1", Size: 3, Stride: 2},
			{Kind: KindLRN, Name: "norm1", Radius: 4, Bias: 1, Alpha: alpha, Beta: 0.75},
			{Kind: KindConv, Name: "conv2", Size: 5, Out: 64, ReLU: true, Stddev: 5e-2, BiasInit: 0.1},
			// The tutorial calls tf.nn.lrn without depth_radius here, so TF's default 5 applies.
			{Kind: KindLRN, Name: "norm2", Radius: 5, Bias: 1, Alpha: alpha, Beta: 0.75},
			{Kind: KindMaxPool, Name: "pool2", Size: 3, Stride: 2},
			{Kind: KindDense, Name: "local3", Out: 384, ReLU: true, Stddev: 0.04, BiasInit: 0.1, WeightDecay: 0.004},
			{Kind: KindDense, Name: "local4", Out: 192, ReLU: true, Stddev: 0.04, BiasInit: 0.1, WeightDecay: 0.004},
			{Kind: KindDense, Name: "softmax_linear", Out: 10, Stddev: 1.0 / 192.0, BiasInit: 0, WeightDecay: 0.004},
		},
		Optimizer: DefaultAdam(),
	}
}

// cs231nSpec is the deeper network the article sketches: [conv-ReLU, conv-ReLU, pool] x3 on the
// full 32x32 image, then one fully connected layer. Convolutions use He initialization
// (stddev sqrt(2/fan_in)); all weights carry a small L2 decay, as usual for SGD training.
func cs231nSpec() Spec {
	const wd = 5e-4
	he := func(k, in int) float64 { return math.Sqrt(2 / float64(k*k*in)) }
	s := Spec{Name: "cs231n", Input: [3]int{32, 32, 3}, Classes: 10, Optimizer: DefaultMomentum()}
	in, n := 3, 1
	for _, out := range []int{32, 64, 128} {
		for i := 0; i < 2; i++ {
			s.Layers = append(s.Layers, LayerSpec{Kind: KindConv, Name: fmt.Sprintf("conv%d", n), Size: 3, Out: out,
				ReLU: true, Stddev: he(3, in), WeightDecay: wd})
			in = out
			n++
		}
		s.Layers = append(s.Layers, LayerSpec{Kind: KindMaxPool, Name: fmt.Sprintf("pool%d", n/2), Size: 2, Stride: 2})
	}
	const fanIn = 4 * 4 * 128
	s.Layers = append(s.Layers, LayerSpec{Kind: KindDense, Name: "softmax_linear", Out: 10,
		Stddev: 1 / math.Sqrt(fanIn), WeightDecay: wd})
	return s
}

// FastWidth is the fast preset's first block width w; its blocks are w, 4w and 4w wide
// (airbench94: 64, 256, 256). 32 is the measured compromise on two cores (PyTorch's
// CPU path: 84.6% in 5 epochs, 8 minutes); 16 halves the time for about 3 points less.
const FastWidth = 32

// FastBatch and FastEpochs are the fast preset's default batch and length: airbench's batch,
// and the measured budget for width 32 (PyTorch's CPU path: 5 epochs in 8 minutes).
const (
	FastBatch  = 1024
	FastEpochs = 5
)

// fastSpec is the fast preset at FastWidth.
func fastSpec() Spec { return FastSpec(FastWidth) }

// FastSpec is airbench94's network with blocks w, 4w and 4w wide, on the full 32x32 image:
//
//	whiten 2x2 (24 channels, 31x31) -> GELU
//	3 x [conv3x3 -> maxpool 2x2 -> batchnorm -> GELU -> conv3x3 -> batchnorm -> GELU]
//	-> global max pool -> dense 10
//
// Convolutions are He-initialised (airbench uses PyTorch's default, then identity-initialises
// half the filters; not done here: PyTorch's default scale alone measured worse, 45.9% against
// He's 52.7% on the 2,000-image slice after a one-epoch run of seed 1) and keep their
// (redundant) biases; they run by the
// implicit GEMM, which measured 1.5 to 4 times faster natively than Winograd's F(2x2, 3x3)
// with its portable transforms (BenchmarkConv3); batch normalization
// learns only its bias (airbench: weight=False), with airbench's running-statistics momentum:
// its BatchNorm(momentum=0.6) passes 1-0.6 to PyTorch, so each step's batch statistics weigh
// 0.4 (our Momentum, PyTorch's convention); epsilon 1e-5 rather than its 1e-12, which float32
// variances near zero would amplify. The pools are SAME (31 -> 16 -> 8 -> 4, where
// airbench floors to 15, 7, 3). The logits are scaled by 1/9 (airbench's head). It trains with
// airbench's recipe (Airbench) at FastBatch for FastEpochs, with no L2 decay of its own (the
// optimizer's decoupled decay); the whitening weights come from the training images
// (Model.InitWhitening, which training.New calls).
func FastSpec(w int) Spec {
	he := func(k, in int) float64 { return math.Sqrt(2 / float64(k*k*in)) }
	recipe, opt := Airbench(FastBatch)
	recipe.Epochs = FastEpochs
	s := Spec{Name: "fast", Input: [3]int{32, 32, 3}, Classes: 10, Optimizer: opt, Recipe: recipe}
	s.Layers = []LayerSpec{
		{Kind: KindWhiten, Name: "whiten", Size: 2, Epsilon: 5e-4},
		{Kind: KindGELU, Name: "whiten_gelu"},
	}
	in := whitenOut(2, 3)
	bn := func(name string) LayerSpec {
		return LayerSpec{Kind: KindBatchNorm, Name: name, Momentum: 0.4, Epsilon: 1e-5}
	}
	for b, out := range []int{w, 4 * w, 4 * w} {
		p := fmt.Sprintf("block%d/", b+1)
		s.Layers = append(s.Layers,
			LayerSpec{Kind: KindConv, Name: p + "conv1", Size: 3, Out: out, Stddev: he(3, in)},
			LayerSpec{Kind: KindMaxPool, Name: p + "pool", Size: 2, Stride: 2},
			bn(p+"norm1"),
			LayerSpec{Kind: KindGELU, Name: p + "gelu1"},
			LayerSpec{Kind: KindConv, Name: p + "conv2", Size: 3, Out: out, Stddev: he(3, out)},
			bn(p+"norm2"),
			LayerSpec{Kind: KindGELU, Name: p + "gelu2"},
		)
		in = out
	}
	s.Layers = append(s.Layers,
		LayerSpec{Kind: KindGlobalMaxPool, Name: "pool"},
		LayerSpec{Kind: KindDense, Name: "softmax_linear", Out: 10, Stddev: 1 / math.Sqrt(float64(in)), Mul: 1.0 / 9})
	return s
}

// outShape checks one layer against its input shape and returns its output shape [h, w, c].
func (l LayerSpec) outShape(in [3]int) ([3]int, error) {
	k, ok := kinds[l.Kind]
	if !ok {
		return [3]int{}, l.errorf("unknown kind (want %s)", kindNames())
	}
	return k.outShape(l, in)
}

// Validate reports the first problem that would stop NewModel from building the spec (an
// unknown kind, a bad size, duplicate names, a last layer that does not produce the classes),
// so a spec read from a checkpoint or the UI can be rejected with a clear message.
func (s Spec) Validate() error {
	if _, err := s.shapes(); err != nil {
		return err
	}
	if err := s.Recipe.Validate(s.Input); err != nil {
		return err
	}
	o := s.Optimizer
	if o.Steps == 0 {
		o.Steps = 1 // a preset leaves the run's length, which a schedule needs, to the run
	}
	return o.Validate()
}

// shapes validates the layers and returns the output shape of every layer.
func (s Spec) shapes() ([][3]int, error) {
	if s.Input[0] < 1 || s.Input[1] < 1 || s.Input[2] < 1 {
		return nil, fmt.Errorf("nn: spec %q: input shape %v must be positive", s.Name, s.Input)
	}
	if len(s.Layers) == 0 {
		return nil, fmt.Errorf("nn: spec %q has no layers", s.Name)
	}
	seen := map[string]bool{}
	out := make([][3]int, len(s.Layers))
	in := s.Input
	for i, l := range s.Layers {
		if l.Name == "" || seen[l.Name] {
			return nil, fmt.Errorf("nn: spec %q: layer %d needs a unique name, got %q", s.Name, i, l.Name)
		}
		seen[l.Name] = true
		var err error
		if in, err = l.outShape(in); err != nil {
			return nil, err
		}
		out[i] = in
	}
	last := s.Layers[len(s.Layers)-1]
	if last.Kind != KindDense || last.ReLU || last.Out != s.Classes {
		return nil, fmt.Errorf("nn: spec %q: the last layer must be a dense layer without ReLU and with %d outputs (the classes); got %s %q with %d", s.Name, s.Classes, last.Kind, last.Name, last.Out)
	}
	return out, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
