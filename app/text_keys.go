package app

// Keys of the catalogues (i18n.go explains how to add one). The value is the key in both
// catalogues; the name says where or what.
const (
	msgTitle Key = "title"
	msgSubtitle Key = "subtitle"
	msgStartingApp Key = "starting-app"
	msgStartingWorker Key = "starting-worker"
	msgWorkerFailed Key = "worker-failed"
	msgWorkerReady Key = "worker-ready"
	msgIsolated Key = "isolated"
	msgNotIsolatedShort Key = "not-isolated-short"
	msgBuildOnline Key = "build-online"
	msgBuildOffline Key = "build-offline"
	msgLanguage Key = "language"
	msgDismiss Key = "dismiss"
	msgBadLang Key = "bad-lang"
	msgMixedBuild Key = "mixed-build"
	msgNoWorkers Key = "no-workers"
	msgNoSIMD Key = "no-simd"
	msgNoIndexedDB Key = "no-indexeddb"
	msgNotIsolated Key = "not-isolated"
	msgWorkerOne Key = "worker-one"
	msgWorkerMany Key = "worker-many"
	msgTrainingWorkerOne Key = "training-worker-one"
	msgTrainingWorkerMany Key = "training-worker-many"
	msgGroupReady Key = "group-ready"
	msgGroupLoading Key = "group-loading"
	msgGroupRun Key = "group-run"
)
