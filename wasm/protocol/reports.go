package protocol

import "cifar10/nn/summary"

// Ready is the worker's first message: what it can train.
type Ready struct {
	Presets []PresetInfo `json:"presets"`
	// Kernel names the GEMM micro-kernel the engine uses (e.g. "wasm-simd128").
	Kernel string `json:"kernel,omitempty"`
	// Lock names the Web Lock the worker holds for its whole life, which the page asks for to
	// learn when the worker is gone ("" when the browser has no Web Locks).
	Lock string `json:"lock,omitempty"`
	// Build is the worker's Build, which the page compares with its own.
	Build string `json:"build,omitempty"`
}

// PresetInfo describes a model preset for the model panel and the controls. The page gets it
// from the worker instead of importing the engine, which keeps the page's wasm small.
type PresetInfo struct {
	Name      string          `json:"name"`
	Input     [3]int          `json:"input"` // [h, w, c] of one example
	Layers    []summary.Layer `json:"layers"`
	NumParams int             `json:"numParams"`
	Optimizer string          `json:"optimizer"` // "adam" or "momentum"
	LR        float64         `json:"lr"`        // the preset's default learning rate
}

// DatasetProgress reports the dataset download (or the read from the browser's copy).
type DatasetProgress struct {
	File   string `json:"file"`   // the file that just advanced
	Loaded int64  `json:"loaded"` // bytes of all files so far
	// Total is the size of all files in bytes, or 0 while some sizes are still unknown.
	Total     int64 `json:"total"`
	FilesDone int   `json:"filesDone"`
	Files     int   `json:"files"`
	FromCache bool  `json:"fromCache"` // read from IndexedDB, not the network
}

// DatasetInfo describes the loaded dataset.
type DatasetInfo struct {
	Train      int      `json:"train"` // training images
	Test       int      `json:"test"`  // test images
	ClassNames []string `json:"classNames"`
	Bytes      int64    `json:"bytes"`
	FromCache  bool     `json:"fromCache"`
	Seconds    float64  `json:"seconds"` // time to load and check
	// Warning is set when something non-fatal happened, e.g. the browser refused to keep the
	// files (quota), so the next visit downloads them again.
	Warning string `json:"warning,omitempty"`
}

// RunState is a run's new phase.
type RunState struct {
	Phase Phase `json:"phase"`
	Step  int   `json:"step"` // steps done
	// Reason says why a run stopped or failed, for the user.
	Reason string `json:"reason,omitempty"`
	// Settings are the run's own, sent when a run is made from a checkpoint (its preset,
	// seed, batch and learning rate come from the file, not from the page's controls).
	Settings *Settings `json:"settings,omitempty"`
}

// Progress reports the steps done since the previous Progress of the run. The worker sends
// one at most every ProgressInterval, so fast small batches do not flood the page, and every
// loss arrives exactly once (float32 survives JSON exactly).
type Progress struct {
	Step      int       `json:"step"`      // steps done (the next step's index)
	Steps     int       `json:"steps"`     // steps to do in this run
	FirstStep int       `json:"firstStep"` // index of Losses[0]
	Losses    []float32 `json:"losses"`    // the total loss of each step, in order
	// SecPerBatch and ExamplesPerSec are over the last few steps, for the status line and ETA.
	SecPerBatch    float64 `json:"secPerBatch"`
	ExamplesPerSec float64 `json:"examplesPerSec"`
	// Examples and TrainSeconds accumulate over the run: examples consumed and seconds spent
	// inside steps (sampling + training, excluding pauses and evaluations).
	Examples     int64   `json:"examples"`
	TrainSeconds float64 `json:"trainSeconds"`
	// WaitSeconds is the part of TrainSeconds the leader of a group of workers spent waiting
	// for the others to finish their shards: what the group loses to its slowest worker
	// (always 0 for one worker).
	WaitSeconds float64 `json:"waitSeconds,omitempty"`
}

// LogLine is the seed script's line (nn/training/seedlog): one every seedlog.Every steps, from
// step 0.
type LogLine struct {
	Step           int     `json:"step"`
	Loss           float32 `json:"loss"`
	ExamplesPerSec float64 `json:"examplesPerSec"`
	SecPerBatch    float64 `json:"secPerBatch"`
	Text           string  `json:"text"`
}

// EvalProgress reports test images evaluated so far.
type EvalProgress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

// EvalResult is precision@1 of the weights after Step steps over the whole test set.
type EvalResult struct {
	Step      int     `json:"step"`
	Correct   int     `json:"correct"`
	Total     int     `json:"total"`
	Precision float64 `json:"precision"`
	// Confusion[true][predicted] counts test images.
	Confusion [][]int `json:"confusion,omitempty"`
	Seconds   float64 `json:"seconds"`
}

// Failure says what went wrong, in words for the user.
type Failure struct {
	Where   Where  `json:"where"`
	Message string `json:"message"`
}

// Kind implements Payload.
func (Ready) Kind() Kind { return KindReady }

// Kind implements Payload.
func (DatasetProgress) Kind() Kind { return KindDatasetProgress }

// Kind implements Payload.
func (DatasetInfo) Kind() Kind { return KindDataset }

// Kind implements Payload.
func (RunState) Kind() Kind { return KindState }

// Kind implements Payload.
func (Progress) Kind() Kind { return KindProgress }

// Kind implements Payload.
func (LogLine) Kind() Kind { return KindLog }

// Kind implements Payload.
func (EvalProgress) Kind() Kind { return KindEvalProgress }

// Kind implements Payload.
func (EvalResult) Kind() Kind { return KindEvalResult }

// Kind implements Payload.
func (Failure) Kind() Kind { return KindError }

// Validate accepts any presets: the worker made them from the engine.
func (Ready) Validate([]FileRef) error { return nil }

// Validate accepts any progress: it is only shown.
func (DatasetProgress) Validate([]FileRef) error { return nil }

// Validate accepts any description: it is only shown.
func (DatasetInfo) Validate([]FileRef) error { return nil }

// Validate accepts any state: the worker made it from its run.
func (RunState) Validate([]FileRef) error { return nil }

// Validate accepts any progress: JSON already refused losses that are not numbers.
func (Progress) Validate([]FileRef) error { return nil }

// Validate accepts any line: it is only shown.
func (LogLine) Validate([]FileRef) error { return nil }

// Validate accepts any counts: they are only shown.
func (EvalProgress) Validate([]FileRef) error { return nil }

// Validate accepts any result: the page adds the parts up as they are.
func (EvalResult) Validate([]FileRef) error { return nil }

// Validate accepts any failure: it is shown as it is.
func (Failure) Validate([]FileRef) error { return nil }

// ProgressInterval is the longest the worker keeps losses before sending a Progress, in
// milliseconds; the page's chart updates at least this often while training.
const ProgressInterval = 200
