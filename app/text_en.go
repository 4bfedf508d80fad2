package app

// english is the page in English: one string per Key (text_keys.go), in fmt.Sprintf's
// format when it takes arguments.
var english = map[Key]string{
	msgTitle: "CIFAR-10 trainer",
	msgSubtitle: "The TensorFlow tutorial's CNN, trained by a Go engine in a Web Worker of this tab.",
	msgStartingApp: "Starting the app…",
	msgStartingWorker: "Starting the training worker…",
	msgWorkerFailed: "The training worker failed: see the message above.",
	msgWorkerReady: "%s (GEMM kernel %s).",
	msgIsolated: "The page is cross-origin isolated.",
	msgNotIsolatedShort: "Not cross-origin isolated: SharedArrayBuffer is unavailable.",
	msgBuildOnline: "Build %s.",
	msgBuildOffline: "Running offline from the copy of build %s kept in this browser.",
	msgLanguage: "Language",
	msgDismiss: "Dismiss",
	msgBadLang: "ignored lang=%q in the address: expected en or zh",
	msgMixedBuild: "this page is build %s but its training worker is build %s: they come from different versions of the app, so training is off; reload the page to get one version",
	msgNoWorkers: "This browser has no Web Workers, which training runs in: the page shows the model and your checkpoints, but cannot train or evaluate.",
	msgNoSIMD: "This browser lacks WebAssembly SIMD, which the training engine is built with: the page shows the model and your checkpoints, but cannot train or evaluate (use a current Chrome, Edge, Firefox or Safari 16.4+).",
	msgNoIndexedDB: "This browser does not let the page keep data (no IndexedDB): training works, but the dataset is downloaded at every visit and checkpoints are not kept.",
	msgNotIsolated: "SharedArrayBuffer is unavailable (the page is not cross-origin isolated), so training runs on one worker instead of one per core; results are the same.",
	msgWorkerOne: "1 worker",
	msgWorkerMany: "%d workers",
	msgTrainingWorkerOne: "1 training worker",
	msgTrainingWorkerMany: "%d training workers",
	msgGroupReady: "%s ready",
	msgGroupLoading: "%s (%d with the dataset)",
	msgGroupRun: ", %d sharing the current run",
}
