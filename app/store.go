package app

import (
	"cifar10/wasm"
	"cifar10/wasm/coord"
	"cifar10/wasm/protocol"
)

// Store is everything the page knows, updated from the worker's messages and the user's
// commands. It is plain data with no browser calls, so its logic is tested natively; Home owns
// one and hands each panel the part it draws.
type Store struct {
	Settings protocol.Settings
	// LRSet is true once the learning rate was chosen (in the address or the controls);
	// until then a preset's default applies.
	LRSet   bool
	Build   BuildView // which build runs, and whether offline (browser.go)
	Worker  WorkerView
	Group   coord.GroupView // the workers sharing the training (workers.go)
	Dataset DatasetView
	Run     RunView
	// Losses holds every step's loss of the current run, in order: Losses[i] is the loss of
	// step LossStart+i (LossStart is 0, or the step a run restored from a checkpoint began at).
	Losses    []float32
	LossStart int
	// Log holds the run's log lines; LogDropped counts older lines no longer kept.
	Log        []string
	LogDropped int
	Eval       EvalView
	// Predict is the test images with predictions and one's own picture (predict.go).
	Predict PredictView
	// Inside is the views inside the network and precision over time (inside.go).
	Inside InsideView
	// Checkpoints are those kept in this browser (checkpoints.go).
	Checkpoints CheckpointsView
	// Messages are problems to show the user (errors, ignored settings), newest last.
	Messages []Notice

	lost *lostWorker // the worker whose loss stopped the current run (workers.go)
}

// MaxLogLines bounds the log panel; the losses themselves are all kept for the chart.
const MaxLogLines = 1000

// WorkerView is the training worker's status.
type WorkerView struct {
	Ready   bool
	Failed  bool
	Presets []protocol.PresetInfo
	Kernel  string
	Build   string // the worker's protocol.Build
}

// Dataset phases.
const (
	DatasetWaiting = "waiting" // the worker is starting
	DatasetLoading = "loading"
	DatasetReady   = "ready"
	DatasetFailed  = "failed"
)

// DatasetView is the dataset panel's data.
type DatasetView struct {
	Phase    string
	Progress protocol.DatasetProgress
	Info     protocol.DatasetInfo // when ready
	Error    string               // when failed
}

// RunView is the current run as the status line shows it. Phase is "" before the first run.
type RunView struct {
	ID       int
	Settings protocol.Settings // the run's own settings (the controls may have moved on)
	Phase    protocol.Phase
	Reason   string
	Step     int // steps done
	Loss     float32
	HasLoss  bool
	Speed    float64 // examples/sec over the last steps
	SecBatch float64
	Examples int64   // examples consumed in the run
	Seconds  float64 // seconds spent in steps
	Wait     float64 // of Seconds, spent by the leading worker waiting for the others
}

// Active reports whether the run is going or paused (it holds the worker).
func (r RunView) Active() bool {
	return r.Phase == protocol.PhaseRunning || r.Phase == protocol.PhasePaused
}

// ETA is the time left at the recent speed, in seconds, or -1 when unknown.
func (r RunView) ETA() float64 {
	if r.Phase != protocol.PhaseRunning || r.SecBatch <= 0 {
		return -1
	}
	return float64(r.Settings.Steps-r.Step) * r.SecBatch
}

// EvalView is the evaluation panel's data.
type EvalView struct {
	Running bool
	Done    int
	Total   int
	Result  *protocol.EvalResult
}

// Notice is one message for the user.
type Notice struct {
	Where protocol.Where // a protocol.Where* or whereSettings
	Text  string
}

// whereSettings places a notice about the settings in the page's address, which only the page
// makes.
const whereSettings protocol.Where = "settings"

// NewStore starts from the settings in the page's address.
func NewStore(s protocol.Settings, lrSet bool, notes []string) *Store {
	st := &Store{Settings: s, LRSet: lrSet, Dataset: DatasetView{Phase: DatasetWaiting}}
	for _, n := range notes {
		st.notify(whereSettings, n)
	}
	return st
}

func (s *Store) notify(where protocol.Where, text string) {
	s.Messages = append(s.Messages, Notice{Where: where, Text: text})
	if len(s.Messages) > 20 {
		s.Messages = s.Messages[len(s.Messages)-20:]
	}
}

// Dismiss removes message i.
func (s *Store) Dismiss(i int) {
	if i >= 0 && i < len(s.Messages) {
		s.Messages = append(s.Messages[:i:i], s.Messages[i+1:]...)
	}
}

// Preset returns the info of the named preset, if the worker listed it.
func (s *Store) Preset(name string) (protocol.PresetInfo, bool) {
	for _, p := range s.Worker.Presets {
		if p.Name == name {
			return p, true
		}
	}
	return protocol.PresetInfo{}, false
}

// CanStart reports whether Start may be pressed, and if not, why.
func (s *Store) CanStart() (bool, string) {
	switch {
	case s.Worker.Failed:
		return false, T(msgWhyWorkerStopped)
	case !s.Worker.Ready:
		return false, T(msgWhyWorkerStarting)
	case s.Dataset.Phase == DatasetLoading || s.Dataset.Phase == DatasetWaiting:
		return false, T(msgWhyDatasetLoading)
	case s.Dataset.Phase != DatasetReady:
		return false, T(msgWhyDatasetMissing)
	case s.Run.Active():
		return false, T(msgWhyRunning)
	case s.Eval.Running:
		return false, T(msgWhyEvaluating)
	case s.Checkpoints.Pending != nil:
		return false, T(msgWhyRestoring)
	}
	if _, ok := s.Preset(s.Settings.Preset); !ok {
		return false, T(msgWhyNoPreset, s.Settings.Preset)
	}
	if err := s.Settings.Validate(); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// CanEval reports whether there are weights to evaluate and no evaluation running.
func (s *Store) CanEval() bool {
	return s.Worker.Ready && !s.Worker.Failed && s.Run.ID > 0 && s.Run.Phase != "" && !s.Eval.Running
}

// SetSettings applies settings chosen in the controls. Changing the preset without choosing
// a learning rate brings the new preset's default rate.
func (s *Store) SetSettings(n protocol.Settings, lrChosen bool) {
	if lrChosen {
		s.LRSet = true
	}
	if n.Preset != s.Settings.Preset && !lrChosen {
		if p, ok := s.Preset(n.Preset); ok {
			n.LR = p.LR
			s.LRSet = false
		}
	}
	s.Settings = n
}

// StartRun begins a new run with the current settings and returns the command for the worker.
func (s *Store) StartRun() protocol.Message {
	id := s.Run.ID + 1
	set := s.Settings
	s.Run = RunView{ID: id, Settings: set, Phase: protocol.PhaseRunning}
	s.Losses, s.LossStart = make([]float32, 0, min(set.Steps, 1<<16)), 0
	s.Log, s.LogDropped = nil, 0
	s.Eval = EvalView{}
	s.resetPredictions()
	s.resetInside()
	return protocol.Message{Run: id, Payload: protocol.Start{Settings: set}}
}

// Command returns a pause, resume, stop or eval command for the current run.
func (s *Store) Command(cmd protocol.Payload) protocol.Message {
	if cmd.Kind() == protocol.KindEval {
		s.Eval = EvalView{Running: true, Total: s.Dataset.Info.Test, Result: s.Eval.Result}
	}
	return protocol.Message{Run: s.Run.ID, Payload: cmd}
}

// Apply folds one message (or receive error) from the worker into the store. It returns the
// command to send back, if any: the dataset request once the worker is ready.
func (s *Store) Apply(in wasm.Inbound) *protocol.Message {
	if in.Err != nil {
		where := protocol.WhereProtocol
		if in.Fatal {
			where = protocol.WhereWorker
		}
		s.failure(protocol.Failure{Where: where, Message: in.Err.Error()})
		return nil
	}
	m := in.Msg
	if m.Run != 0 && m.Run != s.Run.ID && !s.adoptRestored(m) {
		return nil // a report of a run the page has replaced
	}
	switch p := m.Payload.(type) {
	case protocol.Ready:
		return s.ready(p)
	case protocol.DatasetProgress:
		s.Dataset.Phase = DatasetLoading
		s.Dataset.Progress = p
	case protocol.DatasetInfo:
		s.Dataset.Phase, s.Dataset.Info, s.Dataset.Error = DatasetReady, p, ""
		if p.Warning != "" {
			s.notify(protocol.WhereDataset, p.Warning)
		}
	case protocol.RunState:
		s.state(p)
	case protocol.Progress:
		s.progress(p)
	case protocol.LogLine:
		s.addLog(p.Text)
	case protocol.EvalProgress:
		s.Eval.Running, s.Eval.Done, s.Eval.Total = true, p.Done, p.Total
	case protocol.EvalResult:
		s.Eval = EvalView{Done: p.Total, Total: p.Total, Result: &p}
		return s.afterEval() // the test images, predicted by the weights just evaluated
	case protocol.TestImages:
		s.testImages(p, in.Files)
	case protocol.Classified:
		s.classified(p)
	case protocol.Inside:
		s.inside(p, in.Files)
	case protocol.Precision:
		s.precision(p)
	case protocol.EvalCheckpointsDone:
		s.Inside.CkptsRunning = false
	case protocol.CheckpointSaved:
		if m.Run == s.Run.ID && !p.Info.Uploaded() {
			s.Inside.RunKey = p.Info.Run
		}
		s.checkpointSaved(p)
	case protocol.Failure:
		if p.Where == protocol.WhereCheckpoint {
			s.checkpointFailed(m.Run)
		}
		s.failure(p)
	}
	return nil
}

func (s *Store) ready(r protocol.Ready) *protocol.Message {
	if r.Build != protocol.Build {
		s.Worker = WorkerView{Failed: true, Build: r.Build}
		s.notify(protocol.WhereWorker, T(msgMixedBuild, protocol.Build, r.Build))
		return nil
	}
	s.Worker = WorkerView{Ready: true, Presets: r.Presets, Kernel: r.Kernel, Build: r.Build}
	if p, ok := s.Preset(s.Settings.Preset); ok && !s.LRSet {
		s.Settings.LR = p.LR
	} else if !ok {
		s.notify(whereSettings, T(msgNoPresetChoose, s.Settings.Preset))
	}
	s.Dataset.Phase = DatasetLoading
	return &protocol.Message{Payload: protocol.Load{}}
}

func (s *Store) state(st protocol.RunState) {
	s.Run.Phase, s.Run.Step, s.Run.Reason = st.Phase, st.Step, st.Reason
	if s.lost != nil {
		s.lostStep()
	}
}

func (s *Store) progress(p protocol.Progress) {
	if p.FirstStep == s.LossStart+len(s.Losses) {
		s.Losses = append(s.Losses, p.Losses...)
	}
	r := &s.Run
	r.Step, r.Speed, r.SecBatch = p.Step, p.ExamplesPerSec, p.SecPerBatch
	r.Examples, r.Seconds, r.Wait = p.Examples, p.TrainSeconds, p.WaitSeconds
	if n := len(p.Losses); n > 0 {
		r.Loss, r.HasLoss = p.Losses[n-1], true
	}
	if s.lost != nil {
		s.lostStep()
	}
}

func (s *Store) addLog(line string) {
	s.Log = append(s.Log, line)
	if len(s.Log) > MaxLogLines {
		drop := len(s.Log) - MaxLogLines
		s.LogDropped += drop
		s.Log = append([]string(nil), s.Log[drop:]...)
	}
}

func (s *Store) failure(f protocol.Failure) {
	switch f.Where {
	case protocol.WhereDataset:
		s.Dataset.Phase, s.Dataset.Error = DatasetFailed, f.Message
	case protocol.WhereEval:
		s.Eval.Running = false
	case protocol.WherePredict:
		s.Predict.Loading, s.Predict.Classify.Busy = false, false
		s.Inside.Pending = false
	case protocol.WhereWorker:
		s.Worker.Failed = true
		s.Eval.Running = false
		if s.Run.Active() {
			s.Run.Phase, s.Run.Reason = protocol.PhaseFailed, T(msgRunWorkerStopped)
		}
	}
	s.notify(f.Where, f.Message)
}
