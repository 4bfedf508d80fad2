// Package wasm is the browser glue between the page and the training Web Worker.
//
// This file is the message protocol, plain Go with no syscall/js, so it builds for any GOOS and
// is unit-tested natively. The rest of the package (files tagged js && wasm) moves messages over
// postMessage, fetches files with progress and keeps them in IndexedDB. The engine side of the
// worker lives in wasm/worker, so the page binary, which imports this package, never links the
// engine.
//
// A message travels as a JavaScript object {json, buffers}: json is the Message encoded with
// encoding/json, buffers are ArrayBuffers transferred (not copied) with it, named in order by
// Message.Files. Bulk bytes (dataset files, checkpoint files) therefore never go through JSON.
//
// Conversation (page -> worker, worker -> page):
//
//	worker: ready {presets}            once, when the worker's Go code runs
//	page:   load {reload}              fetch the dataset (from IndexedDB when kept there)
//	worker: datasetProgress* dataset   or error {where: "dataset"}
//	page:   start {settings} run=N     a new run replaces any earlier one
//	worker: state {running} progress* log* ... state {finished|stopped|failed}
//	page:   pause | resume | stop      run=N; answered by state
//	page:   eval                       at any time once a run has a model, also while paused
//	worker: evalProgress* evalResult   or error {where: "eval"}
//	worker: checkpoint {info, removed}  every SaveEvery steps, once stored in IndexedDB
//	page:   checkpointRestore {id} run=N  the stored checkpoint becomes run N (resumed or not)
//	worker: state {running|restored, settings}   or error {where: "checkpoint"}
//	page:   checkpointUpload {name} +file   checked in full, then stored
//	worker: checkpoint {info}          or error {where: "checkpoint"}: nothing stored
//	page:   testImages | classify +image   predictions for the evaluation view (predict.go)
//	worker: predictions +pixels | classified   or error {where: "predict"}
//
// With several workers (board.go, app/workers.go) the page talks as above to worker 0, the
// leader, and in addition:
//
//	page:   shareDataset {dataset} +SharedArrayBuffer   to the others, once worker 0 loaded it
//	worker: dataset
//	page:   start | checkpointRestore {worker, workers} +board   to every worker of the run
//	worker: evalProgress* evalResult   from every worker of the run, each for its part
//
// Every message names its run, so a late message of an earlier run is recognised and dropped.
package wasm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
)

// Message types. The page sends the commands, the worker the reports.
const (
	// Commands, page -> worker.
	TypeLoad   = "load"   // fetch the dataset; Load says whether to drop the kept copy first
	TypeStart  = "start"  // begin run Run with Settings
	TypePause  = "pause"  // stop stepping after the current step, keep everything
	TypeResume = "resume" // continue a paused run
	TypeStop   = "stop"   // end the run; its weights stay for evaluation
	TypeEval   = "eval"   // precision@1 of the current weights over the whole test set

	// Reports, worker -> page.
	TypeReady           = "ready"           // the worker runs; Ready lists the model presets
	TypeDatasetProgress = "datasetProgress" // bytes of the dataset loaded so far
	TypeDataset         = "dataset"         // the dataset is loaded and checked
	TypeState           = "state"           // the run changed phase
	TypeProgress        = "progress"        // steps done since the last progress, with their losses
	TypeLog             = "log"             // the seed script's line, every 10 steps
	TypeEvalProgress    = "evalProgress"    // test images evaluated so far
	TypeEvalResult      = "evalResult"      // precision@1 and the confusion matrix
	TypeError           = "error"           // something failed; Error says what and where

	// Checkpoints (see checkpoints.go). The worker stores a checkpoint in IndexedDB every
	// SaveEvery steps and reports it; the page lists, downloads and deletes them there itself,
	// and sends uploads (the file attached) and restores (by id) to the worker.
	TypeCheckpoint        = "checkpoint"        // worker -> page: a checkpoint was stored
	TypeCheckpointRestore = "checkpointRestore" // page -> worker: load a stored checkpoint into run Run
	TypeCheckpointUpload  = "checkpointUpload"  // page -> worker: check the attached file, store it

	// TypeShareDataset (page -> worker) hands a worker the dataset another worker loaded, as
	// the SharedArrayBuffer that worker's dataset message carried; answered by dataset.
	TypeShareDataset = "shareDataset"

	// TypeSaver (page -> worker) hands a worker a MessagePort to the page's checkpoint saver
	// (assets/saver.js, wasm/saver_js.go), through which it stores its checkpoints from then on.
	TypeSaver = "saver"
)

// Run phases reported by TypeState.
const (
	PhaseRunning  = "running"
	PhasePaused   = "paused"
	PhaseStopped  = "stopped"  // by the user
	PhaseFinished = "finished" // reached Settings.Steps
	PhaseFailed   = "failed"   // diverged or crashed; Error holds why
	// PhaseRestored is a run made from a checkpoint for evaluation only (the seed script's
	// has_trained = True): it has weights, it does not train.
	PhaseRestored = "restored"
)

// Where an error happened, so the page can show it next to the right panel.
const (
	WhereDataset  = "dataset"
	WhereTrain    = "train"
	WhereEval     = "eval"
	WhereProtocol = "protocol"
	WhereWorker   = "worker" // the worker itself failed to start or died: it is gone
	// WhereCheckpoint is about storing, restoring or uploading a checkpoint.
	WhereCheckpoint = "checkpoint"
)

// Message is one message between the page and a worker. Exactly the payload that belongs to
// Type is set (see Validate); the others stay nil and are omitted from the JSON.
type Message struct {
	Type string `json:"type"`
	// Run identifies the training run the message belongs to (0: none). The page numbers its
	// runs; the worker echoes the number, so reports of a replaced run can be dropped.
	Run int `json:"run,omitempty"`
	// Worker is the index of the worker that sent or should receive the message, and Workers
	// the size of the group training run Run (start and restore messages; 0 means one worker
	// on its own). Worker 0 leads: it reports the run and saves its checkpoints (board.go).
	Worker  int `json:"worker,omitempty"`
	Workers int `json:"workers,omitempty"`

	Load            *LoadRequest     `json:"load,omitempty"`
	Settings        *Settings        `json:"settings,omitempty"`
	Ready           *Ready           `json:"ready,omitempty"`
	DatasetProgress *DatasetProgress `json:"datasetProgress,omitempty"`
	Dataset         *DatasetInfo     `json:"dataset,omitempty"`
	State           *RunState        `json:"state,omitempty"`
	Progress        *Progress        `json:"progress,omitempty"`
	Log             *LogLine         `json:"log,omitempty"`
	EvalProgress    *EvalProgress    `json:"evalProgress,omitempty"`
	EvalResult      *EvalResult      `json:"evalResult,omitempty"`
	Error           *Failure         `json:"error,omitempty"`
	Checkpoint      *CheckpointSaved `json:"checkpoint,omitempty"`
	Restore         *RestoreRequest  `json:"restore,omitempty"`
	Upload          *UploadRequest   `json:"upload,omitempty"`
	// The evaluation view's predictions (predict.go).
	TestImagesRequest *TestImagesRequest `json:"testImages,omitempty"`
	Predictions       *TestImages        `json:"predictions,omitempty"`
	Classify          *ClassifyRequest   `json:"classify,omitempty"`
	Classified        *Classified        `json:"classified,omitempty"`

	// Files names the buffers transferred with the message, in order.
	Files []FileRef `json:"files,omitempty"`
}

// FileRef names one attached buffer.
type FileRef struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

// LoadRequest asks the worker for the dataset.
type LoadRequest struct {
	// Reload drops the copy kept in the browser and downloads the files again.
	Reload bool `json:"reload,omitempty"`
}

// Ready is the worker's first message: what it can train.
type Ready struct {
	Presets []PresetInfo `json:"presets"`
	// Kernel names the GEMM micro-kernel the engine uses (e.g. "wasm-simd128").
	Kernel string `json:"kernel,omitempty"`
	// Lock names the Web Lock the worker holds for its whole life, which the page asks for to
	// learn when the worker is gone ("" when the browser has no Web Locks).
	Lock string `json:"lock,omitempty"`
}

// PresetInfo describes a model preset for the model panel and the controls. The page gets it
// from the worker instead of importing the engine, which keeps the page's wasm small.
type PresetInfo struct {
	Name      string      `json:"name"`
	Input     [3]int      `json:"input"` // [h, w, c] of one example
	Layers    []LayerInfo `json:"layers"`
	NumParams int         `json:"numParams"`
	Optimizer string      `json:"optimizer"` // "adam" or "momentum"
	LR        float64     `json:"lr"`        // the preset's default learning rate
}

// LayerInfo is one row of the model table.
type LayerInfo struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Output [3]int `json:"output"`
	Params int    `json:"params"`
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
	Phase string `json:"phase"`
	Step  int    `json:"step"` // steps done
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

// LogLine is the seed script's line: one every LogEvery steps, from step 0.
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
	Where   string `json:"where"`
	Message string `json:"message"`
}

// LogEvery is how often the seed script logs: steps 0, 10, 20, ...
const LogEvery = 10

// ProgressInterval is the longest the worker keeps losses before sending a Progress, in
// milliseconds; the page's chart updates at least this often while training.
const ProgressInterval = 200

// FormatLog is the seed script's log line, `format_str % (step, loss_value, examples_per_sec,
// sec_per_batch)`, where the timing is that of the logged step alone.
func FormatLog(step int, loss float32, examplesPerSec, secPerBatch float64) string {
	return fmt.Sprintf("Step %d, loss = %.2f (%.1f examples/sec; %.3f sec/batch)", step, loss, examplesPerSec, secPerBatch)
}

// FormatPrecision is the seed script's last line, with four decimals.
func FormatPrecision(p float64) string {
	return fmt.Sprintf("precision: %.4f", p)
}

// Encode checks m and encodes it as the json part of the envelope.
func Encode(m Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// Decode parses the json part of an envelope and checks it, so that handlers can rely on the
// payload their type needs being there.
func Decode(b []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, fmt.Errorf("malformed message: %w", err)
	}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// payloads says which payload each type carries ("" for none).
var payloads = map[string]string{
	TypeLoad: "load", TypeStart: "settings", TypePause: "", TypeResume: "", TypeStop: "",
	TypeEval: "", TypeReady: "ready", TypeDatasetProgress: "datasetProgress",
	TypeDataset: "dataset", TypeState: "state", TypeProgress: "progress", TypeLog: "log",
	TypeEvalProgress: "evalProgress", TypeEvalResult: "evalResult", TypeError: "error",
	TypeCheckpoint: "checkpoint", TypeCheckpointRestore: "restore", TypeCheckpointUpload: "upload",
	TypeShareDataset: "dataset", TypeSaver: "",
	TypeTestImages: "testImages", TypePredictions: "predictions", TypeClassify: "classify", TypeClassified: "classified",
}

// Validate reports a message whose type is unknown, whose payload is missing or belongs to
// another type, or whose settings are out of range.
func (m Message) Validate() error {
	want, ok := payloads[m.Type]
	if !ok {
		return fmt.Errorf("unknown message type %q", m.Type)
	}
	if m.Run < 0 || m.Worker < 0 {
		return fmt.Errorf("%s message: negative run or worker", m.Type)
	}
	if m.Workers < 0 || m.Workers > MaxWorkers || (m.Workers > 0 && m.Worker >= m.Workers) {
		return fmt.Errorf("%s message: worker %d of %d", m.Type, m.Worker, m.Workers)
	}
	set := m.present()
	for _, name := range set {
		if name != want {
			return fmt.Errorf("%s message carries a %s payload", m.Type, name)
		}
	}
	if want != "" && len(set) == 0 {
		return fmt.Errorf("%s message lacks its %s payload", m.Type, want)
	}
	for _, f := range m.Files {
		if f.Name == "" || f.Size < 0 {
			return fmt.Errorf("%s message: bad attached file %+v", m.Type, f)
		}
	}
	if m.Settings != nil {
		return m.Settings.Validate()
	}
	if err := m.validateCheckpoint(); err != nil {
		return err
	}
	return m.validatePredict()
}

// present lists the payloads that are set.
func (m Message) present() []string {
	var names []string
	add := func(set bool, name string) {
		if set {
			names = append(names, name)
		}
	}
	add(m.Load != nil, "load")
	add(m.Settings != nil, "settings")
	add(m.Ready != nil, "ready")
	add(m.DatasetProgress != nil, "datasetProgress")
	add(m.Dataset != nil, "dataset")
	add(m.State != nil, "state")
	add(m.Progress != nil, "progress")
	add(m.Log != nil, "log")
	add(m.EvalProgress != nil, "evalProgress")
	add(m.EvalResult != nil, "evalResult")
	add(m.Error != nil, "error")
	add(m.Checkpoint != nil, "checkpoint")
	add(m.Restore != nil, "restore")
	add(m.Upload != nil, "upload")
	add(m.TestImagesRequest != nil, "testImages")
	add(m.Predictions != nil, "predictions")
	add(m.Classify != nil, "classify")
	add(m.Classified != nil, "classified")
	return names
}

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
}

// Limits of the settings. The batch limit keeps a worker's memory (activations grow with the
// batch: about 50 MB at 128) well inside what a tab gets.
const (
	MaxSteps = 10_000_000
	MaxBatch = 1024
	MaxKeep  = 1000
)

// DefaultSettings are the seed script's: the tutorial model, 1000 steps of batch 128 with
// Adam at 1e-3, a checkpoint every 10 steps keeping the last 5; seed 1 like the native
// trainer's example.
func DefaultSettings() Settings {
	return Settings{Preset: "cifar10", Steps: 1000, Batch: 128, LR: 1e-3, Seed: 1, SaveEvery: 10, Keep: 5}
}

var presetName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Validate names the first setting out of range. Whether the preset exists is the worker's
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
	}
	return nil
}

// ErrNotInBrowser is returned by the parts of the package that need a browser when the
// program runs elsewhere (the server prerendering the page, native tests).
var ErrNotInBrowser = errors.New("wasm: only available in a browser (js/wasm)")
