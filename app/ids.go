package app

// Element ids and action names. The ids are stable: browser tests and other automation find
// elements by them (the README lists them), so renaming one is a breaking change.
const (
	// Worker and page.
	NoticesID      = "notices"       // messages for the user; each .notice has data-where
	WorkerStatusID = "worker-status" // data-ready, data-failed, data-kernel
	// BuildID says which build runs: data-build (the page's), data-worker-build, data-offline
	// (true when the page came from the browser's offline copy), data-checked.
	BuildID      = "app-build"
	LangSwitchID = "lang-switch" // <select> of the page's languages

	// Dataset panel.
	DatasetStatusID   = "dataset-status"   // data-phase: waiting|loading|ready|failed; data-from-cache
	DatasetProgressID = "dataset-progress" // <progress>, bytes
	DatasetTrainID    = "dataset-train"    // training image count
	DatasetTestID     = "dataset-test"     // test image count
	DatasetClassesID  = "dataset-classes"  // class names
	DatasetReloadID   = "dataset-reload"   // drop the browser's copy and download again

	// Model panel.
	ModelTableID  = "model-table"  // one row per layer: name, kind, output shape, parameters
	ModelParamsID = "model-params" // total parameters; data-params holds the number

	// Controls. Setting inputs are "setting-" + the query key (setting-steps, setting-save_every...).
	SettingIDPrefix = "setting-"
	TrainStartID    = "train-start"
	TrainPauseID    = "train-pause"
	TrainResumeID   = "train-resume"
	TrainStopID     = "train-stop"

	// Live view.
	StatusPhaseID    = "status-phase"     // data-phase: "", running, paused, stopped, finished, failed; data-run: run number
	StatusStepID     = "status-step"      // data-step: steps done
	StatusLossID     = "status-loss"      // data-loss: the last loss, full float32 precision
	StatusSpeedID    = "status-speed"     // examples/sec; data-examples, data-seconds and data-wait for the run
	StatusSecBatchID = "status-sec-batch" // sec/batch
	StatusETAID      = "status-eta"
	StatusWaitID     = "status-wait" // several workers: the share of the run's steps spent waiting for the slowest
	LossChartID      = "loss-chart"  // SVG; data-count, data-losses (first ChartDataLosses losses, full precision)
	SmoothingID      = "chart-smoothing"
	LogID            = "log" // the seed's log lines, one .log-line each; data-lines

	// Evaluation.
	EvalStartID     = "eval-start"
	EvalProgressID  = "eval-progress"  // <progress>, test images done
	EvalPrecisionID = "eval-precision" // "precision: 0.xxxx"; data-precision, data-correct, data-total, data-step
	EvalClassesID   = "eval-classes"   // per-class accuracy table
	// EvalConfusionID is the confusion matrix: rows true classes, columns predicted classes;
	// each count cell has data-true, data-pred and data-count.
	EvalConfusionID = "eval-confusion"

	// Test images with predictions (app/predict.go). The grid has data-count, data-mistakes,
	// data-start, data-next and data-step; each .ti-tile has data-index, data-label, data-pred.
	TestImagesID         = "test-images"
	TestImagesShowID     = "test-images-show"     // predict the current page (or the first)
	TestImagesPrevID     = "test-images-prev"     // the previous page
	TestImagesNextID     = "test-images-next"     // the next page
	TestImagesMistakesID = "test-images-mistakes" // checkbox: only misclassified images

	// Classify my own image.
	ClassifyUploadID = "classify-upload" // <input type=file> taking a PNG or JPEG picture
	ClassifyResultID = "classify-result" // classes by probability; data-class (the top class), data-name
	ClassifyErrorID  = "classify-error"  // why the chosen file was not classified

	// Inside the network (app/inside_panel.go). The filters have data-layer, data-count,
	// data-step and data-digest (nn/summary.Digest of the values), one .filter-tile each
	// (data-channel); the activations have data-image (NoImage, -1: one's own picture),
	// data-step and data-label, one .act-layer each (the input, every layer, the
	// probabilities) with data-layer, data-channels, data-digest, data-min and data-max, and
	// one .act-tile per channel of a layer of maps.
	InsideToggleID = "inside-toggle" // shows or hides the views
	FiltersID      = "filters"
	ActivationsID  = "activations"
	// PrecisionChartID is precision over time (SVG): data-points (every evaluation plotted),
	// data-run-points (the run's periodic ones), data-ckpt-points (its checkpoints'),
	// data-last (the latest periodic precision).
	PrecisionChartID  = "precision-chart"
	EvalCheckpointsID = "eval-checkpoints" // evaluates every stored checkpoint of the run
	// ClassifyDropID is the drop zone for a picture to classify; TestImagesLabelID and
	// TestImagesPredID the grid's class filters (<select>, "" for any class). The grid's
	// tiles and the classification each have a .top3 list of .top3-row (data-class, data-prob).
	ClassifyDropID    = "classify-drop"
	TestImagesLabelID = "test-images-label"
	TestImagesPredID  = "test-images-pred"

	// Checkpoints panel. Each row of the list is a .ckpt-row with data-id, data-name
	// ("cifar10.ckpt-<step>"), data-step, data-size and data-run, and buttons .ckpt-restore,
	// .ckpt-resume, .ckpt-download and .ckpt-delete.
	CkptListID      = "ckpt-list"      // the list (a table, or a sentence when empty); data-count
	CkptUploadID    = "ckpt-upload"    // <input type=file> taking a checkpoint file
	CkptUploadingID = "ckpt-uploading" // shown while the worker checks an upload
	CkptStorageID   = "ckpt-storage"   // data-usage, data-quota (bytes), data-persistent
	CkptOfferID     = "ckpt-offer"     // the offer to resume a run interrupted by a reload
	RestoreLatestID = "restore-latest" // the newest checkpoint's weights, for evaluation (has_trained)
	ResumeLatestID  = "resume-latest"  // train on exactly from the newest checkpoint
)

// ChartDataLosses is how many leading losses the chart exposes exactly in data-losses, for
// comparing the browser's losses with the native trainer's bit for bit.
const ChartDataLosses = 100

// Actions the panels send to Home, which owns the worker.
const (
	actionSettings = "settings" // value: settingsChange
	actionStart    = "train.start"
	actionPause    = "train.pause"
	actionResume   = "train.resume"
	actionStop     = "train.stop"
	actionEval     = "eval.start"
	actionReload   = "dataset.reload"
	actionDismiss  = "notice.dismiss" // value: index
	actionLang     = "page.lang"      // value: Lang

	actionCkptRestore  = "ckpt.restore"  // value: checkpoint id
	actionCkptResume   = "ckpt.resume"   // value: checkpoint id
	actionCkptDownload = "ckpt.download" // value: checkpoint id
	actionCkptDelete   = "ckpt.delete"   // value: checkpoint id
	actionCkptUpload   = "ckpt.upload"   // the file chosen in CkptUploadID

	actionTestShow     = "test.show"     // predict the current page of test images
	actionTestNext     = "test.next"     // the next page
	actionTestPrev     = "test.prev"     // the previous page
	actionTestMistakes = "test.mistakes" // value: bool, only mistakes
	actionClassify     = "classify"      // the picture chosen in ClassifyUploadID

	actionInsideToggle    = "inside.toggle"   // value: bool, open
	actionLookAt          = "inside.look"     // value: the test image's index
	actionEvalCheckpoints = "precision.ckpts" // evaluate every stored checkpoint of the run
	actionTestFilter      = "test.filter"     // value: protocol.Filter
)
