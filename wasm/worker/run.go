package worker

import (
	"errors"
	"fmt"
	"time"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/replica"
	"cifar10/nn/training/seedlog"
	"cifar10/wasm/protocol"
)

// run is one training run: the model, its trainer and sampler, and where it is. It does what
// the native trainer does, with the same nn and cifar calls in the same order, so a seed gives
// the same losses in the browser as natively (bit for bit, against a build without fused
// multiply-add).
type run struct {
	id       int
	settings protocol.Settings
	crop     int
	model    *nn.Model
	trainer  *nn.Trainer // the replica's: sized for one shard of the batch
	replica  *replica.Replica
	sampler  *cifar.Sampler
	eval     *nn.Trainer // made on the first evaluation or prediction
	pred     predictBuffers

	// Data-parallel training (parallel.go): the group, and how shards are filled.
	group       *group
	fill        replica.Fill
	pixels      Pixels
	trainLabels []uint8
	img         []byte

	phase protocol.Phase
	step  int // steps done; the next step's index
	first int // the step the run started from: 0, or its checkpoint's
	ckpt  runCheckpoints

	pending      []float32 // losses not yet reported
	lastReport   time.Time
	recent       [recentSteps]float64 // durations of the last steps, seconds
	examples     int64
	trainSeconds float64
	waitSeconds  float64 // of trainSeconds, spent waiting for the other workers (parallel.go)
}

// newRun builds the model, optimizer, trainer and sampler for s on data's training set, in
// the native trainer's order: model from the seed, optimizer, trainer with one thread, sampler
// from the same seed.
func newRun(id int, s protocol.Settings, data *cifar.Data) (*run, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	spec, err := nn.Preset(s.Preset)
	if err != nil {
		return nil, err
	}
	m, err := nn.NewModel(spec, s.Seed)
	if err != nil {
		return nil, err
	}
	cfg := spec.Optimizer
	cfg.LR = s.LR
	opt, err := nn.NewOptimizer(cfg, m.Params())
	if err != nil {
		return nil, err
	}
	return assembleRun(id, s, m, opt, data)
}

// assembleRun makes the run that trains m with opt: a new one (newRun) or one restored from a
// checkpoint (runFromCheckpoint).
func assembleRun(id int, s protocol.Settings, m *nn.Model, opt nn.Optimizer, data *cifar.Data) (*run, error) {
	spec := m.Spec()
	if spec.Input[0] != spec.Input[1] || spec.Input[2] != 3 || spec.Input[0] > cifar.Side {
		return nil, fmt.Errorf("preset %s takes %v inputs, not CIFAR-10 crops", s.Preset, spec.Input)
	}
	// The batch is computed in shards, whether this worker trains alone or in a group, so
	// the weights do not depend on the number of workers (nn/shard).
	rep, err := replica.New(m, opt, s.Batch, 1, 0, 1)
	if err != nil {
		return nil, err
	}
	return &run{
		id: id, settings: s, crop: spec.Input[0], model: m, trainer: rep.Trainer(), replica: rep,
		sampler: cifar.NewSampler(data.Train, s.Seed, spec.Input[0]),
		phase:   protocol.PhaseRunning,
	}, nil
}

func (r *run) close() {
	r.trainer.Close()
	if r.eval != nil {
		r.eval.Close()
	}
}

func (e *Engine) start(id int, s protocol.Settings) {
	if e.data == nil {
		e.fail(id, protocol.WhereTrain, errors.New("the dataset is not loaded yet"))
		return
	}
	if e.run != nil {
		e.run.close()
		e.run = nil
	}
	r, err := newRun(id, s, e.data)
	if err == nil {
		err = e.joinGroup(r)
	}
	if err != nil {
		e.fail(id, protocol.WhereTrain, err)
		return
	}
	e.run = r
	r.lastReport = e.Now()
	e.postState("")
}

// control applies pause, resume and stop to the run they name; a command for another run is
// answered with the current state so the page can catch up.
func (e *Engine) control(m protocol.Message) {
	r := e.run
	if r == nil || r.id != m.Run {
		e.fail(m.Run, protocol.WhereTrain, fmt.Errorf("run %d is not the worker's current run", m.Run))
		return
	}
	switch {
	case m.Kind() == protocol.KindPause && r.phase == protocol.PhaseRunning:
		e.setPhase(protocol.PhasePaused, "")
	case m.Kind() == protocol.KindResume && r.phase == protocol.PhasePaused:
		if e.retrySave() { // the checkpoint a full storage refused, now that there is room
			e.setPhase(protocol.PhaseRunning, "")
		}
	case m.Kind() == protocol.KindStop && (r.phase == protocol.PhaseRunning || r.phase == protocol.PhasePaused):
		e.saveBeforeStop()
		e.setPhase(protocol.PhaseStopped, fmt.Sprintf("stopped at step %d", r.step))
	default:
		e.postState("") // nothing to change: repeat where the run is
	}
}

// setPhase reports the losses so far, then the new phase.
func (e *Engine) setPhase(phase protocol.Phase, reason string) {
	e.report()
	e.run.phase = phase
	e.announcePhase(phase)
	e.postState(reason)
}

func (e *Engine) postState(reason string) {
	r := e.run
	e.post(protocol.Message{Run: r.id, Payload: protocol.RunState{Phase: r.phase, Step: r.step, Reason: reason}})
}

// step trains one batch, timed like the seed script (sampling and training), and reports.
func (e *Engine) step() {
	r := e.run
	b := r.settings.Batch
	t0 := e.Now()
	loss, ok := e.trainStep()
	if !ok {
		return // paused, stopped or failed while waiting for the other workers (parallel.go)
	}
	d := e.Now().Sub(t0).Seconds()
	if !finite(loss) {
		e.report()
		e.fail(r.id, protocol.WhereTrain, fmt.Errorf("the loss diverged at step %d (loss = %v); lower the learning rate (now %g) and start again", r.step, loss, r.settings.LR))
		r.phase = protocol.PhaseFailed
		e.postState(fmt.Sprintf("loss diverged at step %d", r.step))
		return
	}
	r.recent[r.step%recentSteps] = d
	r.examples += int64(b)
	r.trainSeconds += d
	r.pending = append(r.pending, loss)
	r.step++
	if (r.step-1)%seedlog.Every == 0 {
		e.log(r.step-1, loss, d)
	}
	if !e.afterStep(loss) {
		return // the checkpoint could not be stored: the run paused (checkpoint.go)
	}
	if r.step == r.settings.Steps {
		e.setPhase(protocol.PhaseFinished, fmt.Sprintf("finished %d steps", r.step))
		return
	}
	if e.Now().Sub(r.lastReport) >= protocol.ProgressInterval*time.Millisecond || r.step == r.first+1 {
		e.report()
	}
}

func (e *Engine) log(step int, loss float32, d float64) {
	r := e.run
	eps := float64(r.settings.Batch) / d
	e.post(protocol.Message{Run: r.id, Payload: protocol.LogLine{
		Step: step, Loss: loss, ExamplesPerSec: eps, SecPerBatch: d,
		Text: seedlog.Line(int64(step), loss, eps, d),
	}})
}

// report sends the pending losses with the current speed.
func (e *Engine) report() {
	r := e.run
	r.lastReport = e.Now()
	if len(r.pending) == 0 {
		return
	}
	n := min(r.step-r.first, recentSteps)
	var sum float64
	for i := r.step - n; i < r.step; i++ {
		sum += r.recent[i%recentSteps]
	}
	spb := sum / float64(n)
	p := &protocol.Progress{
		Step: r.step, Steps: r.settings.Steps, FirstStep: r.step - len(r.pending),
		Losses: r.pending, SecPerBatch: spb, Examples: r.examples, TrainSeconds: r.trainSeconds,
		WaitSeconds: r.waitSeconds,
	}
	if spb > 0 {
		p.ExamplesPerSec = float64(r.settings.Batch) / spb
	}
	e.post(protocol.Message{Run: r.id, Payload: *p})
	r.pending = nil
}

// evaluate computes precision@1 of the current weights over the whole test set, reporting
// progress and yielding between batches.
func (e *Engine) evaluate() {
	r := e.run
	test := e.data.Test
	tr, err := e.evalTrainer()
	if err != nil {
		e.fail(r.id, protocol.WhereEval, err)
		return
	}
	start := e.Now()
	last := start
	lo, hi := e.evalPart(test.Len()) // in a group, each worker evaluates its part
	fill := func(i0 int, images []float32, labels []uint8) error {
		e.fillEval(lo+i0, images, labels)
		return nil
	}
	progress := func(done, total int) {
		if now := e.Now(); now.Sub(last) >= 100*time.Millisecond || done == total {
			last = now
			e.post(protocol.Message{Run: r.id, Payload: protocol.EvalProgress{Done: done, Total: total}})
		}
		if e.Yield != nil {
			e.Yield()
		}
	}
	ev, err := tr.Evaluate(hi-lo, fill, progress)
	if err != nil {
		e.fail(r.id, protocol.WhereEval, err)
		return
	}
	e.post(protocol.Message{Run: r.id, Payload: protocol.EvalResult{
		Step: r.step, Correct: ev.Correct, Total: ev.Total, Precision: ev.Precision(),
		Confusion: ev.Confusion, Seconds: e.Now().Sub(start).Seconds(),
	}})
}
