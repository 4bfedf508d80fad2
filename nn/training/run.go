// Package training is one training run of a CIFAR-10 model, written once for the native
// trainer (cmd/cifar10) and the browser's workers (wasm/worker), which keep only their input
// and output. A Run holds the model, its optimizer, the replica (or the whole-batch trainer)
// that computes its steps, the sampler, the seed, batch and data position, the last loss, and
// the checkpoint policy; it starts fresh (New) or from a checkpoint (FromCheckpoint), trains
// (Step, or Compute and Apply in a group of workers), says when a checkpoint is due and encodes
// it. Because both programs take every decision here, a seed gives the same weights on both,
// and a learning-rate schedule or weight averaging added here reaches both at once.
package training

import (
	"fmt"
	"math"

	"cifar10/nn"
	"cifar10/nn/checkpoint"
	"cifar10/nn/cifar"
	"cifar10/nn/replica"
)

// Config describes a run. New uses all of it; FromCheckpoint takes the model, and for a
// resumable checkpoint the seed, batch and data position, from the file instead (see there).
type Config struct {
	// Preset names the model (nn.Preset) of a new run.
	Preset string
	// Seed drives the initialization, the data order and the augmentation.
	Seed uint64
	// Batch is the number of examples of every step.
	Batch int
	// LR, when positive, replaces the optimizer's learning rate; 0 keeps the preset's, or
	// the checkpoint's when resuming.
	LR float64
	// Steps is the step count the run trains to: it is finished once that many updates are
	// done in total (counting those of the checkpoint it started from).
	Steps int64
	// SaveEvery is the checkpoint period: a save is due after every step that is a multiple
	// of it, and after the last one (Steps). 0 saves none.
	SaveEvery int64
	// Keep is how many of the run's newest checkpoints the caller keeps when it stores one;
	// 0 keeps all. The run does not store files (a folder natively, IndexedDB in the browser).
	Keep int
	// Threads is the number of threads the engine computes with: natively the cores, in the
	// browser 1. Results do not depend on it. 0 means 1.
	Threads int
	// WholeBatch trains each batch with one trainer over the whole batch, the fastest use of a
	// machine's cores, whose sums differ from the sharded ones by rounding. Without it every
	// batch is computed in nn/shard's fixed shards, as the browser's workers compute it, so a
	// seed gives the same bits for any number of workers, natively and in a tab.
	WholeBatch bool
	// EvalEvery is the period, in steps, of the precision log: an evaluation on the first
	// EvalImages test images is due after every step that is a multiple of it (EvalDue), e.g.
	// once an epoch. 0 logs none. The caller evaluates (Evaluate) and prints or sends it.
	EvalEvery int64
	// EvalImages is the size of that fixed slice of the test set; 0 means the whole set.
	EvalImages int
	// Recipe and Optimizer, when not nil, replace the preset's (nn.Spec.Recipe and
	// Spec.Optimizer) in a new run, or in a fine-tuning run the recipe and the fresh
	// optimizer: how the command line or a test turns the recipe's pieces on for any preset.
	// A resumed run keeps its checkpoint's.
	Recipe    *nn.Recipe
	Optimizer *nn.OptimizerConfig
	// Train is the training set the run's batches are drawn from. It may be nil when the run is
	// made before the data is loaded (the native trainer checks its checkpoint folder first);
	// SetTrain then gives it before the first step.
	Train *cifar.Set
}

// validate names the first setting out of range.
func (c Config) validate() error {
	switch {
	case c.Batch < 1:
		return fmt.Errorf("training: batch %d must be at least 1", c.Batch)
	case c.Steps < 0 || c.SaveEvery < 0 || c.Keep < 0 || c.Threads < 0:
		return fmt.Errorf("training: steps %d, save every %d, keep %d and threads %d must not be negative", c.Steps, c.SaveEvery, c.Keep, c.Threads)
	case c.EvalEvery < 0 || c.EvalImages < 0:
		return fmt.Errorf("training: eval every %d and eval images %d must not be negative", c.EvalEvery, c.EvalImages)
	case !(c.LR >= 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("training: learning rate %v must be a positive number (or 0 to keep the optimizer's)", c.LR)
	}
	return nil
}

// Run is one training run. It is not safe for concurrent use.
type Run struct {
	cfg      Config // as given, with the preset, seed, batch and learning rate in effect
	model    *nn.Model
	opt      nn.Optimizer
	rep      *replica.Replica // computes the steps in shards; nil with WholeBatch
	tr       *nn.Trainer      // the whole-batch trainer, or the replica's (one shard)
	eval     *nn.Trainer      // EvalTrainer's, made on first use
	sampler  *cifar.Sampler
	examples int64   // training examples consumed: the data position
	loss     float32 // the last step's loss, when measured
	measured bool    // a step has been done since the run was made
	fill     replica.Fill
	images   []float32 // the whole batch, with WholeBatch
	labels   []uint8
	file     []byte // the buffer every Encode writes into
	whiten   bool   // the whitening weights wait for the training images (WhiteningPending)
}

// New starts a run from scratch: the preset's model initialized from the seed, and its
// optimizer with the learning rate of cfg when given. A preset whose first layer is a
// whitening layer gets its weights from the training set (InitWhitening) as soon as the run
// has its pixels.
func New(cfg Config) (*Run, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	spec, err := nn.Preset(cfg.Preset)
	if err != nil {
		return nil, err
	}
	spec.Recipe, spec.Optimizer = cfg.recipe(spec), cfg.optimizer(spec)
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	m, err := nn.NewModel(spec, cfg.Seed)
	if err != nil {
		return nil, err
	}
	opt, err := nn.NewOptimizer(spec.Optimizer, m.Params())
	if err != nil {
		return nil, err
	}
	_, whiten := whitenLayer(m)
	return assemble(cfg, m, opt, 0, whiten)
}

// recipe is the recipe a new run of spec trains with: Config.Recipe, else the preset's.
func (c Config) recipe(spec nn.Spec) nn.Recipe {
	if c.Recipe != nil {
		return *c.Recipe
	}
	return spec.Recipe
}

// optimizer is the configuration of a new run's optimizer: Config.Optimizer, else the
// preset's, with the run's length when a schedule or an average is defined by it. A preset's
// learning rate and decoupled decay are for its recipe's batch (Recipe.Batch): a run with
// another batch scales both by the ratio, the linear rule nn.Airbench's scale follows, so the
// fast preset at batch 512 trains as -recipe airbench -batch 512 does.
func (c Config) optimizer(spec nn.Spec) nn.OptimizerConfig {
	o := spec.Optimizer
	if c.Optimizer != nil {
		o = *c.Optimizer
	} else if b := spec.Recipe.Batch; b > 0 && c.Batch > 0 && c.Batch != b {
		ratio := float64(c.Batch) / float64(b)
		o.LR, o.WeightDecay = o.LR*ratio, o.WeightDecay*ratio
	}
	if o.Schedule != nil || o.Average != nil {
		o.Steps = c.Steps
	}
	return o
}

// FromCheckpoint continues a run from a decoded checkpoint. A resumable file (optimizer state
// and data position) continues exactly: its model, optimizer state and step, seed, batch and
// data position replace those of cfg, so the steps that follow are bit for bit those of the
// run that never stopped. Any other file (weights only, as other tools export them) keeps what
// ck.NewOptimizer restores (for weights only, a fresh optimizer of the preset's kind at step
// 0) and draws its batches from the start of cfg's seed and batch: fine-tuning. In both cases
// a positive cfg.LR replaces the learning rate; Steps, SaveEvery, Keep and the rest are cfg's.
func FromCheckpoint(ck *checkpoint.Checkpoint, cfg Config) (*Run, error) {
	if ck.Optimizer == nil && cfg.Recipe != nil {
		c := *ck // fine-tuning with another recipe; the caller's checkpoint stays as it is
		c.Spec.Recipe = *cfg.Recipe
		ck = &c
	}
	m, err := ck.NewModel()
	if err != nil {
		return nil, err
	}
	opt, err := optimizerFor(ck, m, cfg)
	if err != nil {
		return nil, err
	}
	var examples int64
	if ck.Resumable() {
		cfg.Seed, cfg.Batch, examples = ck.Run.Seed, ck.Run.Batch, ck.Run.Examples
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return assemble(cfg, m, opt, examples, false) // the checkpoint holds the whitening
}

// optimizerFor is the optimizer a run from ck continues with: the file's, in its saved
// state, or for a weights-only file a fresh one as a new run of cfg would make it.
func optimizerFor(ck *checkpoint.Checkpoint, m *nn.Model, cfg Config) (nn.Optimizer, error) {
	if ck.Optimizer != nil {
		return ck.NewOptimizer(m)
	}
	opt, err := nn.NewOptimizer(cfg.optimizer(ck.Spec), m.Params())
	if err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	return opt, nil
}

// assemble makes the run that trains m with opt from data position examples; whiten says its
// whitening weights are still to be computed from the training set.
func assemble(cfg Config, m *nn.Model, opt nn.Optimizer, examples int64, whiten bool) (*Run, error) {
	spec := m.Spec()
	if in := spec.Input; in[0] != in[1] || in[2] != 3 || in[0] > cifar.Side {
		return nil, fmt.Errorf("training: preset %s takes %v inputs, not CIFAR-10 crops", spec.Name, in)
	}
	if err := spec.Recipe.Input.Check(spec.Input[0]); err != nil {
		return nil, fmt.Errorf("training: preset %s: %w", spec.Name, err)
	}
	if cfg.LR > 0 {
		opt.SetLearningRate(cfg.LR)
	}
	cfg.Preset, cfg.LR = spec.Name, opt.Config().LR
	cfg.Threads = max(cfg.Threads, 1)
	r := &Run{cfg: cfg, model: m, opt: opt, examples: examples, whiten: whiten}
	r.freeze()
	var err error
	if cfg.WholeBatch {
		r.tr, err = nn.NewTrainer(m, opt, cfg.Batch, cfg.Threads)
		r.images = make([]float32, cfg.Batch*m.InputSize())
		r.labels = make([]uint8, cfg.Batch)
	} else {
		r.rep, err = replica.New(m, opt, cfg.Batch, 1, 0, cfg.Threads)
		if err == nil {
			r.tr = r.rep.Trainer()
		}
	}
	if err != nil {
		return nil, err
	}
	r.fill = r.fillFromSampler
	if cfg.Train != nil {
		if err := r.SetTrain(cfg.Train); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// SetTrain gives the run the training set its batches are drawn from, when Config.Train was
// nil. The sampler is a pure function of the set, the seed and the example index, so the
// data order is the same whenever it is given. A fresh run's whitening weights are computed
// here when the set holds its pixels (InitWhitening).
func (r *Run) SetTrain(set *cifar.Set) error {
	r.cfg.Train = set
	spec := r.model.Spec()
	r.sampler = spec.Recipe.Input.NewSampler(set, r.cfg.Seed, spec.Input[0])
	if r.whiten && hasPixels(set) {
		return r.InitWhitening(set.Image)
	}
	return nil
}

// Close stops the engine's threads.
func (r *Run) Close() {
	r.tr.Close()
	if r.eval != nil {
		r.eval.Close()
	}
}

// Config is the run's configuration with the values in effect: for a resumed run the
// checkpoint's seed and batch, the preset of its model and its optimizer's learning rate.
func (r *Run) Config() Config { return r.cfg }

// Model is the model being trained.
func (r *Run) Model() *nn.Model { return r.model }

// Optimizer is the model's optimizer; its Steps are the run's.
func (r *Run) Optimizer() nn.Optimizer { return r.opt }

// Sampler is the training stream (nil before the training set is given), for a caller that
// fills shards from pixels of its own: it maps example k to an image (Index) and distorts it
// (Example) exactly as the run would.
func (r *Run) Sampler() *cifar.Sampler { return r.sampler }

// Replica is the replica that computes the steps in shards, for publishing its node sums and
// shard losses to the other workers of a group; nil with WholeBatch.
func (r *Run) Replica() *replica.Replica { return r.rep }

// Trainer is the trainer of the steps: the whole-batch one, or the replica's, sized for one
// shard. The native trainer evaluates with it too.
func (r *Run) Trainer() *nn.Trainer { return r.tr }

// EvalTrainer is an evaluation-only trainer for batches of batch examples (made on the first
// call, then kept), for a caller whose training trainer is sized for one small shard. It
// shares the model, so it sees the weights of the latest step.
func (r *Run) EvalTrainer(batch int) (*nn.Trainer, error) {
	if r.eval == nil || r.eval.Batch() != batch {
		t, err := nn.NewTrainer(r.model, nil, batch, r.cfg.Threads)
		if err != nil {
			return nil, err
		}
		if r.eval != nil {
			r.eval.Close()
		}
		r.eval = t
	}
	return r.eval, nil
}

// StepsDone is the number of updates applied, counting those of the checkpoint the run
// started from: the index of the next step.
func (r *Run) StepsDone() int64 { return r.opt.Steps() }

// Finished reports whether the run has done Config.Steps steps.
func (r *Run) Finished() bool { return r.opt.Steps() >= r.cfg.Steps }

// Examples is the data position: the number of training examples consumed, so the next
// batch starts at example Examples() of the sampler's stream.
func (r *Run) Examples() int64 { return r.examples }

// Loss is the loss of the last step, with ok false before the run's first step (a run
// restored from a checkpoint has not measured one yet).
func (r *Run) Loss() (loss float32, ok bool) {
	return r.loss, r.measured
}
