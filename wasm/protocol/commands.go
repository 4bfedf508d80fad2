package protocol

import (
	"fmt"
	"math"
	"regexp"
)

// Load asks the worker for the dataset.
type Load struct {
	// Reload drops the copy kept in the browser and downloads the files again.
	Reload bool `json:"reload,omitempty"`
}

// Start begins a new run with Settings, replacing any earlier one.
type Start struct {
	Settings Settings `json:"settings"`
}

// Pause, Resume, Stop and Eval command the run the message names; they carry nothing.
type (
	Pause  struct{}
	Resume struct{}
	Stop   struct{}
	Eval   struct{}
)

// ShareDataset hands a worker the dataset another worker loaded: the SharedArrayBuffer goes
// with the message, Dataset describes it as that worker's dataset message did.
type ShareDataset struct {
	Dataset DatasetInfo `json:"dataset"`
}

// SaverPort goes with a MessagePort to the page's checkpoint saver; it carries nothing else.
type SaverPort struct{}

// Kind implements Payload.
func (Load) Kind() Kind { return KindLoad }

// Kind implements Payload.
func (Start) Kind() Kind { return KindStart }

// Kind implements Payload.
func (Pause) Kind() Kind { return KindPause }

// Kind implements Payload.
func (Resume) Kind() Kind { return KindResume }

// Kind implements Payload.
func (Stop) Kind() Kind { return KindStop }

// Kind implements Payload.
func (Eval) Kind() Kind { return KindEval }

// Kind implements Payload.
func (ShareDataset) Kind() Kind { return KindShareDataset }

// Kind implements Payload.
func (SaverPort) Kind() Kind { return KindSaver }

// Validate implements Payload.
func (Load) Validate([]FileRef) error { return nil }

// Validate checks the settings.
func (s Start) Validate([]FileRef) error { return s.Settings.Validate() }

// Validate implements Payload.
func (Pause) Validate([]FileRef) error { return nil }

// Validate implements Payload.
func (Resume) Validate([]FileRef) error { return nil }

// Validate implements Payload.
func (Stop) Validate([]FileRef) error { return nil }

// Validate implements Payload.
func (Eval) Validate([]FileRef) error { return nil }

// Validate implements Payload.
func (ShareDataset) Validate([]FileRef) error { return nil }

// Validate implements Payload.
func (SaverPort) Validate([]FileRef) error { return nil }

// Settings are a run's hyperparameters: what the controls show, what the URL query holds
// (so a run can be shared and reproduced) and what the start message carries.
type Settings struct {
	Preset string  `json:"preset"`
	Steps  int     `json:"steps"`
	Batch  int     `json:"batch"`
	LR     float64 `json:"lr"`
	Seed   uint64  `json:"seed"`
	// SaveEvery and Keep are the checkpoint policy (every 10 steps and at the end, the last
	// 5 of the run, like the script's Saver); SaveEvery 0 saves none.
	SaveEvery int `json:"save_every"`
	Keep      int `json:"keep"`
	// Workers is how many Web Workers share the training (1..MaxWorkers), or 0 for one per
	// core (navigator.hardwareConcurrency). It never changes the results (see nn/shard).
	Workers int `json:"workers,omitempty"`
	// EvalEvery and EvalImages are precision over time: every EvalEvery steps the leader
	// evaluates the weights on the first EvalImages test images (a fixed slice) between two
	// steps; 0 for either turns it off. Evaluating the run's checkpoints uses the same slice.
	EvalEvery  int `json:"eval_every,omitempty"`
	EvalImages int `json:"eval_images,omitempty"`
}

// Limits of the settings. The batch limit keeps a worker's memory (activations grow with the
// batch: about 50 MB at 128) well inside what a tab gets.
const (
	MaxSteps = 10_000_000
	MaxBatch = 1024
	MaxKeep  = 1000
	// MaxEvalImages is the size of CIFAR-10's test set, the largest slice there is.
	MaxEvalImages = 10_000
)

// DefaultSettings are the seed script's: the tutorial model, 1000 steps of batch 128 with
// Adam at 1e-3, a checkpoint every 10 steps keeping the last 5; seed 1 like the native
// trainer's example; precision on the first 1,000 test images every 100 steps.
func DefaultSettings() Settings {
	return Settings{Preset: "cifar10", Steps: 1000, Batch: 128, LR: 1e-3, Seed: 1, SaveEvery: 10, Keep: 5,
		EvalEvery: 100, EvalImages: 1000}
}

var presetName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Validate names the first setting out of range, so a start or restore message carrying
// bad settings is refused before a run begins. Whether the preset exists is the worker's
// to say, since the list lives in the engine.
func (s Settings) Validate() error {
	switch {
	case !presetName.MatchString(s.Preset):
		return fmt.Errorf("preset %q is not a preset name", s.Preset)
	case s.Steps < 1 || s.Steps > MaxSteps:
		return fmt.Errorf("steps must be 1..%d, not %d", MaxSteps, s.Steps)
	case s.Batch < 1 || s.Batch > MaxBatch:
		return fmt.Errorf("batch must be 1..%d, not %d", MaxBatch, s.Batch)
	case math.IsNaN(s.LR) || math.IsInf(s.LR, 0) || s.LR <= 0 || s.LR > 10:
		return fmt.Errorf("learning rate must be above 0 and at most 10, not %g", s.LR)
	case s.SaveEvery < 0 || s.SaveEvery > MaxSteps:
		return fmt.Errorf("save_every must be 0 (never) ..%d, not %d", MaxSteps, s.SaveEvery)
	case s.Keep < 1 || s.Keep > MaxKeep:
		return fmt.Errorf("keep must be 1..%d, not %d", MaxKeep, s.Keep)
	case s.Workers < 0 || s.Workers > MaxWorkers:
		return fmt.Errorf("workers must be 1..%d (0: one per core), not %d", MaxWorkers, s.Workers)
	case s.EvalEvery < 0 || s.EvalEvery > MaxSteps:
		return fmt.Errorf("eval_every must be 0 (never) ..%d, not %d", MaxSteps, s.EvalEvery)
	case s.EvalImages < 0 || s.EvalImages > MaxEvalImages:
		return fmt.Errorf("eval_images must be 0 (none) ..%d, not %d", MaxEvalImages, s.EvalImages)
	}
	return nil
}
