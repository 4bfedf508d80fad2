package protocol

// Message kinds. The page sends the commands, the worker the reports.
const (
	// Commands, page -> worker.
	KindLoad   Kind = "load"   // Load: fetch the dataset
	KindStart  Kind = "start"  // Start: begin run Run with its settings
	KindPause  Kind = "pause"  // Pause: stop stepping after the current step, keep everything
	KindResume Kind = "resume" // Resume: continue a paused run
	KindStop   Kind = "stop"   // Stop: end the run; its weights stay for evaluation
	KindEval   Kind = "eval"   // Eval: precision@1 of the current weights over the whole test set

	// Reports, worker -> page.
	KindReady           Kind = "ready"           // Ready: the worker runs, with the model presets
	KindDatasetProgress Kind = "datasetProgress" // DatasetProgress: bytes of the dataset loaded so far
	KindDataset         Kind = "dataset"         // DatasetInfo: the dataset is loaded and checked
	KindState           Kind = "state"           // RunState: the run changed phase
	KindProgress        Kind = "progress"        // Progress: steps done since the last progress, with their losses
	KindLog             Kind = "log"             // LogLine: the seed script's line, every seedlog.Every steps
	KindEvalProgress    Kind = "evalProgress"    // EvalProgress: test images evaluated so far
	KindEvalResult      Kind = "evalResult"      // EvalResult: precision@1 and the confusion matrix
	KindError           Kind = "error"           // Failure: something failed, what and where

	// Checkpoints (checkpoint.go). The worker stores a checkpoint in IndexedDB every
	// SaveEvery steps and reports it; the page lists, downloads and deletes them there itself,
	// and sends uploads (the file attached) and restores (by id) to the worker.
	KindCheckpoint        Kind = "checkpoint"        // CheckpointSaved, worker -> page: a checkpoint was stored
	KindCheckpointRestore Kind = "checkpointRestore" // RestoreRequest, page -> worker: load a stored checkpoint into run Run
	KindCheckpointUpload  Kind = "checkpointUpload"  // UploadRequest, page -> worker: check the attached file, store it

	// KindShareDataset (ShareDataset, page -> worker) hands a worker the dataset another
	// worker loaded, as the SharedArrayBuffer that worker's dataset message carried;
	// answered by dataset.
	KindShareDataset Kind = "shareDataset"

	// KindSaver (SaverPort, page -> worker) hands a worker a MessagePort to the page's
	// checkpoint saver (assets/saver.js, wasm/saver_js.go), through which it stores its
	// checkpoints from then on.
	KindSaver Kind = "saver"

	// The evaluation view's predictions (predict.go).
	KindTestImages  Kind = "testImages"  // TestImagesRequest, page -> worker: predict test images
	KindClassify    Kind = "classify"    // ClassifyRequest, page -> worker: classify the attached 32x32 image
	KindPredictions Kind = "predictions" // TestImages, worker -> page: test images with labels and predictions
	KindClassified  Kind = "classified"  // Classified, worker -> page: the class probabilities of a classify's image

	// Inside the network and precision over time (inside.go).
	KindInspect             Kind = "inspect"             // InspectRequest, page -> worker: filters and one image's activations
	KindInside              Kind = "inside"              // Inside, worker -> page: the filters and maps +buffers
	KindPrecision           Kind = "precision"           // Precision, worker -> page: precision on the test slice at a step
	KindEvalCheckpoints     Kind = "evalCheckpoints"     // EvalCheckpoints, page -> worker: precision of stored checkpoints
	KindEvalCheckpointsDone Kind = "evalCheckpointsDone" // EvalCheckpointsDone, worker -> page: all of them evaluated
)

// The registry: the one place that ties each kind to its payload type.
func init() {
	register(
		Load{}, Start{}, Pause{}, Resume{}, Stop{}, Eval{},
		Ready{}, DatasetProgress{}, DatasetInfo{}, RunState{}, Progress{}, LogLine{},
		EvalProgress{}, EvalResult{}, Failure{},
		CheckpointSaved{}, RestoreRequest{}, UploadRequest{},
		ShareDataset{}, SaverPort{},
		TestImagesRequest{}, ClassifyRequest{}, TestImages{}, Classified{},
		InspectRequest{}, Inside{}, Precision{}, EvalCheckpoints{}, EvalCheckpointsDone{},
	)
}

// Phase is a run's phase, reported by RunState.
type Phase string

// Run phases.
const (
	PhaseRunning  Phase = "running"
	PhasePaused   Phase = "paused"
	PhaseStopped  Phase = "stopped"  // by the user
	PhaseFinished Phase = "finished" // reached Settings.Steps
	PhaseFailed   Phase = "failed"   // diverged or crashed; RunState.Reason says why
	// PhaseRestored is a run made from a checkpoint for evaluation only (the seed script's
	// has_trained = True): it has weights, it does not train.
	PhaseRestored Phase = "restored"
)

// Where says where an error happened, so the page can show it next to the right panel.
type Where string

// Places of errors.
const (
	WhereDataset  Where = "dataset"
	WhereTrain    Where = "train"
	WhereEval     Where = "eval"
	WhereProtocol Where = "protocol"
	WhereWorker   Where = "worker" // the worker itself failed to start or died: it is gone
	// WhereCheckpoint is about storing, restoring or uploading a checkpoint.
	WhereCheckpoint Where = "checkpoint"
	// WherePredict is about predicting test images or classifying one's own image.
	WherePredict Where = "predict"
)

// UncompressedLengthHeader is the response header in which the server sends the size of a
// file it serves precompressed (wasm, dataset): Content-Length is then the compressed size,
// and the page's loading bar and the worker's download progress need the real one. It is
// the one name protocol holds that is not part of a message: the server, the page and the
// worker (wasm/fetch_js.go) must all spell it the same, and protocol is what they share.
const UncompressedLengthHeader = "X-Uncompressed-Length"
