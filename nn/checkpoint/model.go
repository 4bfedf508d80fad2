package checkpoint

import (
	"fmt"
	"sync"
	"time"

	"cifar10/nn"
)

// FormatVersion is the "format" metadata of every file Encode writes. A file whose format is
// another "cifar10-go/" version is refused (it may mean something else); a file without it, or
// with another tool's format ("pt", "tf", ...), is read as a foreign file: its metadata is
// ignored and its tensors must speak for themselves.
const FormatVersion = "cifar10-go/1"

// formatFamily prefixes every version of this package's format.
const formatFamily = "cifar10-go/"

// Tensor names besides the parameters and the optimizer slots. All are I64 scalars, as
// TensorFlow stores its global step, so that the numbers that make resuming exact travel with
// the weights and cannot be lost by a tool that drops metadata.
const (
	// StepTensor is the number of optimizer updates applied (TensorFlow's global_step).
	StepTensor = "global_step"
	// SeedTensor is the run's seed (the bits of the uint64), which drives the data order and
	// the augmentation (and the initialization).
	SeedTensor = "data/seed"
	// ExamplesTensor is the number of training examples consumed: the data position, since
	// the sampler is a pure function of (seed, example index).
	ExamplesTensor = "data/examples"
	// BatchTensor is the batch size the run trains with.
	BatchTensor = "data/batch"
)

// Metadata keys (all values are strings, as safetensors requires). The numbers duplicate the
// tensors above for people reading the header; Decode checks that both agree.
const (
	keyFormat    = "format"    // FormatVersion
	keyPreset    = "preset"    // nn preset name, e.g. "cifar10"
	keyOptimizer = "optimizer" // JSON of nn.OptimizerConfig (absent: no optimizer state)
	keyRecipe    = "recipe"    // JSON of nn.Recipe (absent: the preset's, the tutorial's zero one)
	keyBatch     = "batch"     // decimal
	keySeed      = "seed"      // decimal uint64
	keyExamples  = "examples"  // decimal
	keyStep      = "step"      // decimal
	keyTime      = "time"      // RFC 3339, UTC
	keyLoss      = "loss"      // last measured total loss (shortest float64 text)
	keyPrecision = "precision" // last measured test precision@1, in [0, 1]
)

// tfAdamPowers are TensorFlow's Adam accumulators beta1^t and beta2^t. A file converted from a
// TF checkpoint may hold them; they follow from global_step, so they are accepted and ignored.
var tfAdamPowers = map[string]bool{"beta1_power": true, "beta2_power": true}

// kindSlots names each optimizer kind's slots as TensorFlow does: "<param>/<suffix>".
var kindSlots = map[string][]string{
	nn.OptAdam:     {"Adam", "Adam_1"},
	nn.OptMomentum: {"Momentum"},
	nn.OptNesterov: {"Momentum"},
}

// slotSuffixes lists the slots an optimizer configuration keeps per parameter: its kind's,
// then the weights' moving average when it has one ("<param>/ExponentialMovingAverage").
func slotSuffixes(cfg nn.OptimizerConfig) []string {
	s := kindSlots[cfg.Kind]
	if cfg.Average != nil {
		s = append(s[:len(s):len(s)], nn.AverageSlot)
	}
	return s
}

// Run is the training state that lives outside the model and the optimizer: the data position
// (seed, batch size and examples consumed: the sampler is stateless, so these three numbers
// restore the data order, augmentation and sampling exactly) and what was last measured.
type Run struct {
	Seed     uint64 // seed of the run (initialization, data order, augmentation)
	Batch    int    // examples per step; 0 in a file that does not record the data position
	Examples int64  // training examples consumed so far
	// Time is when the checkpoint was made; zero when unknown. Files keep whole seconds.
	Time time.Time
	// Loss is the last measured total loss, nil when unknown.
	Loss *float64
	// Precision is the last measured test precision@1, nil when unknown.
	Precision *float64
}

// Checkpoint is a decoded, fully validated file: every tensor the preset needs is present with
// its shape and finite values, so restoring it cannot fail halfway.
type Checkpoint struct {
	// Format is FormatVersion, or "" for a foreign file (for example weights exported from
	// PyTorch or TensorFlow), whose metadata was ignored.
	Format string
	// Spec is the model preset the weights belong to, with the recipe the file carries (the
	// preset's own when it carries none).
	Spec nn.Spec
	// Optimizer holds the saved hyperparameters, or nil when the file has no optimizer state
	// (a weights-only file: fine for eval, predict and fine-tuning, not for exact resuming).
	Optimizer *nn.OptimizerConfig
	// Step is the global step (optimizer updates applied); 0 when the file has none.
	Step int64
	// Run is the data position and last measurements; Run.Batch is 0 when not recorded.
	Run Run

	values map[string][]float32 // parameters and slots by TensorFlow name
}

// Resumable reports whether the file holds everything an exact resume needs: optimizer state
// and the data position.
func (c *Checkpoint) Resumable() bool { return c.Optimizer != nil && c.Run.Batch > 0 }

// NewModel builds the checkpoint's model with the saved weights.
func (c *Checkpoint) NewModel() (*nn.Model, error) {
	m, err := nn.NewModel(c.Spec, 0) // the initial values are overwritten just below
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if err := c.Restore(m, nil); err != nil {
		return nil, err
	}
	return m, nil
}

// NewOptimizer returns the optimizer for m (built from this checkpoint) in the saved state:
// saved hyperparameters, slots and step. For a weights-only file it returns a fresh optimizer
// of the preset's default kind at step 0, which is what fine-tuning starts from; without the
// preset's schedule and weight average, which need a run's length the file does not give
// (nn/training gives a fine-tuning run its own).
func (c *Checkpoint) NewOptimizer(m *nn.Model) (nn.Optimizer, error) {
	cfg := c.Spec.Optimizer
	cfg.Schedule, cfg.Average, cfg.Steps = nil, nil, 0
	if c.Optimizer != nil {
		cfg = *c.Optimizer
	}
	opt, err := nn.NewOptimizer(cfg, m.Params())
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if c.Optimizer == nil {
		return opt, nil
	}
	if err := c.checkOptimizer(opt); err != nil {
		return nil, err
	}
	c.setOptimizer(opt)
	return opt, nil
}

// Restore copies the saved weights into m and, when opt is not nil, the saved slots and step
// into opt (which must be of the saved kind; its hyperparameters are left alone). Everything is
// checked before anything is written, so a refused restore leaves m and opt untouched.
func (c *Checkpoint) Restore(m *nn.Model, opt nn.Optimizer) error {
	if got := m.Spec().Name; got != c.Spec.Name {
		return fmt.Errorf("checkpoint: cannot restore a %s checkpoint into a %s model", c.Spec.Name, got)
	}
	if err := c.check(m.Params()); err != nil {
		return err
	}
	if opt != nil {
		if err := c.checkOptimizer(opt); err != nil {
			return err
		}
	}
	c.set(m.Params())
	if opt != nil {
		c.setOptimizer(opt)
	}
	return nil
}

// checkOptimizer makes sure the file has state for an optimizer of opt's kind and every slot.
func (c *Checkpoint) checkOptimizer(opt nn.Optimizer) error {
	if c.Optimizer == nil {
		return fmt.Errorf("checkpoint: the file holds weights only, no optimizer state to restore")
	}
	if got := opt.Config().Kind; got != c.Optimizer.Kind {
		return fmt.Errorf("checkpoint: cannot restore %s optimizer state into a %s optimizer", c.Optimizer.Kind, got)
	}
	return c.check(opt.Slots())
}

// setOptimizer loads the checked slots and the step into opt.
func (c *Checkpoint) setOptimizer(opt nn.Optimizer) {
	c.set(opt.Slots())
	opt.SetSteps(c.Step)
}

// check makes sure the checkpoint has a value of the right size for every tensor in ps.
func (c *Checkpoint) check(ps []*nn.Param) error {
	for _, p := range ps {
		v, ok := c.values[p.Name]
		if !ok {
			return fmt.Errorf("checkpoint: the file has no tensor %s", p.Name)
		}
		if len(v) != p.Size() {
			return fmt.Errorf("checkpoint: tensor %s has %d values, the model needs %d", p.Name, len(v), p.Size())
		}
	}
	return nil
}

// set copies the checked values into ps.
func (c *Checkpoint) set(ps []*nn.Param) {
	for _, p := range ps {
		copy(p.Data(), c.values[p.Name])
	}
}

// tensorShape is one tensor a preset needs.
type tensorShape struct {
	name    string
	shape   []int
	trained bool // the parameter is Trained: an optimizer keeps slots for it
}

// layouts caches each preset's parameter names and shapes (building a model to learn them
// takes tens of milliseconds, and Decode may run often, for example under the fuzzer).
var layouts sync.Map // preset name -> []tensorShape

// presetLayout returns the parameters of a preset in model order.
func presetLayout(preset string) (nn.Spec, []tensorShape, error) {
	spec, err := nn.Preset(preset)
	if err != nil {
		return nn.Spec{}, nil, err
	}
	if l, ok := layouts.Load(preset); ok {
		return spec, l.([]tensorShape), nil
	}
	m, err := nn.NewModel(spec, 0)
	if err != nil {
		return nn.Spec{}, nil, err
	}
	var l []tensorShape
	for _, p := range m.Params() {
		l = append(l, tensorShape{p.Name, p.Shape(), p.Use == nn.Trained})
	}
	layouts.Store(preset, l)
	return spec, l, nil
}
