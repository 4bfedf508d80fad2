package worker

import (
	"fmt"
	"time"

	"cifar10/nn/cifar"
	"cifar10/nn/replica"
	"cifar10/nn/training"
	"cifar10/nn/training/seedlog"
	"cifar10/wasm/protocol"
)

// run is the worker's side of one training run (nn/training, the same run the native trainer
// makes): the page's id and settings, the phase, the progress reported to the page, and the
// worker's own ways to feed it (pixels shared with other workers) and share it (a group).
type run struct {
	id       int
	settings protocol.Settings // the run's own: from a checkpoint, its preset, seed, batch and rate
	tr       *training.Run
	phase    protocol.Phase
	diverged bool // the last update gave a NaN or infinite loss: it does not count as a step
	out      outbox
	ckpt     checkpointer
	group    *group       // the other workers training the run (follow.go); nil alone
	fill     replica.Fill // fills shards from shared pixels; nil: the run's sampler does
	pixels   Pixels
	labels   []uint8 // the training labels, with pixels
	img      []byte  // one training image copied out of shared memory
	pred     predictBuffers
	inside   insideBuffers
	sliceAt  int // the step of the last periodic evaluation on the test slice
	progress progress
}

// outbox is where a run reports, and its clock.
type outbox struct {
	post func(protocol.Message)
	now  func() time.Time
}

// progress is what the leader has yet to report of its steps, and the speed it reports.
type progress struct {
	first        int       // the step the run started from: 0, or its checkpoint's
	pending      []float32 // losses not yet reported
	lastReport   time.Time
	recent       [recentSteps]float64 // durations of the last steps, seconds
	examples     int64                // examples trained by this worker's run since it started
	trainSeconds float64
	waitSeconds  float64 // of trainSeconds, spent waiting for the other workers (follow.go)
}

// newRun starts run id from scratch with settings s on the training set train: the native
// trainer's run with one thread, computed in shards whether this worker trains alone or in a
// group, so the weights do not depend on the number of workers (nn/shard).
func newRun(id int, s protocol.Settings, train *cifar.Set, store CheckpointStore, out outbox) (*run, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	tr, err := training.New(config(s, s.LR, train))
	if err != nil {
		return nil, err
	}
	return wrap(id, s, tr, protocol.PhaseRunning, store, out), nil
}

// config is the nn/training run of settings s with learning rate lr (0 keeps the optimizer's).
func config(s protocol.Settings, lr float64, train *cifar.Set) training.Config {
	return training.Config{
		Preset: s.Preset, Seed: s.Seed, Batch: s.Batch, LR: lr, Steps: int64(s.Steps),
		SaveEvery: int64(s.SaveEvery), Keep: s.Keep, Threads: 1, Train: train,
	}
}

// wrap makes the worker's run of tr.
func wrap(id int, s protocol.Settings, tr *training.Run, phase protocol.Phase, store CheckpointStore, out outbox) *run {
	r := &run{id: id, settings: s, tr: tr, phase: phase, out: out}
	step := r.steps()
	r.ckpt = checkpointer{store: store, saved: step}
	r.progress = progress{first: step, lastReport: out.now()}
	return r
}

func (r *run) close() { r.tr.Close() }

// steps is the number of steps done: the index of the next step, or of the one that diverged.
func (r *run) steps() int {
	n := int(r.tr.StepsDone())
	if r.diverged {
		n--
	}
	return n
}

// crop is the side of the model's input images.
func (r *run) crop() int { return r.tr.Model().Spec().Input[0] }

// prep is how the model's recipe makes its inputs from the records (the tutorial's crop and
// standardization, or airbench's normalized 32x32 images).
func (r *run) prep() cifar.Prep { return r.tr.Model().Spec().Recipe.Input }

// useTrain makes the run fill its shards from pixels kept in memory shared with other workers
// (labels are the training labels); with nil pixels the run's own sampler fills them.
func (r *run) useTrain(pixels Pixels, labels []uint8) {
	r.fill, r.pixels, r.labels = nil, pixels, labels
	if pixels != nil {
		r.fill = r.fillShared
	}
}

// fillShared writes examples first..first+count-1 of the run's next batch from the shared
// pixels, as the run's sampler would from a training set in Go memory.
func (r *run) fillShared(first, count int, images []float32, labels []uint8) {
	sp := r.tr.Sampler()
	k0 := r.tr.Examples() + int64(first)
	n := r.tr.Model().InputSize()
	for j := range count {
		k := k0 + int64(j)
		i := sp.Index(k)
		r.img = r.pixels.Train(i, r.img)
		sp.Example(images[j*n:(j+1)*n], r.img, k)
		labels[j] = r.labels[i]
	}
}

// control applies pause, resume and stop; a command that changes nothing is answered with the
// current state so the page can catch up.
func (r *run) control(kind protocol.Kind) {
	switch {
	case kind == protocol.KindPause && r.phase == protocol.PhaseRunning:
		r.setPhase(protocol.PhasePaused, "")
	case kind == protocol.KindResume && r.phase == protocol.PhasePaused:
		if r.retrySave() { // the checkpoint a full storage refused, now that there is room
			r.setPhase(protocol.PhaseRunning, "")
		}
	case kind == protocol.KindStop && (r.phase == protocol.PhaseRunning || r.phase == protocol.PhasePaused):
		r.saveBeforeStop()
		r.setPhase(protocol.PhaseStopped, fmt.Sprintf("stopped at step %d", r.steps()))
	default:
		r.postState("") // nothing to change: repeat where the run is
	}
}

// setPhase reports the losses so far, then the new phase; a leader writes it on the board for
// its followers.
func (r *run) setPhase(phase protocol.Phase, reason string) {
	r.report()
	r.phase = phase
	if r.group != nil && r.group.leads() {
		r.group.announce(phase, r.steps())
	}
	r.postState(reason)
}

func (r *run) postState(reason string) {
	r.out.post(protocol.Message{Run: r.id, Payload: protocol.RunState{Phase: r.phase, Step: r.steps(), Reason: reason}})
}

func (r *run) fail(where protocol.Where, err error) {
	r.out.post(protocol.Message{Run: r.id, Payload: protocol.Failure{Where: where, Message: err.Error()}})
}

// train is the leader's (or a lone worker's) unit of work: one step, timed like the seed
// script (sampling and training), logged, saved and reported.
func (r *run) train() {
	t0 := r.out.now()
	loss, ok := r.trainStep(nil)
	if !ok {
		return // paused, stopped or failed while waiting for the other workers (follow.go)
	}
	d := r.out.now().Sub(t0).Seconds()
	if !finite(loss) {
		r.divergedWith(loss)
		return
	}
	r.record(loss, d)
	if r.tr.LogDue() {
		r.log(loss, d)
	}
	if !r.saveIfDue() {
		return // the checkpoint could not be stored: the run paused (saves.go)
	}
	if r.tr.Finished() {
		r.setPhase(protocol.PhaseFinished, fmt.Sprintf("finished %d steps", r.steps()))
		return
	}
	if r.out.now().Sub(r.progress.lastReport) >= protocol.ProgressInterval*time.Millisecond || r.steps() == r.progress.first+1 {
		r.report()
	}
}

// divergedWith fails the run whose last step gave loss, which is not a number: the step is
// reported as not done, as the native trainer reports it.
func (r *run) divergedWith(loss float32) {
	r.diverged = true
	step := r.steps()
	r.report()
	r.fail(protocol.WhereTrain, fmt.Errorf("the loss diverged at step %d (loss = %v); lower the learning rate (now %g) and start again", step, loss, r.settings.LR))
	r.phase = protocol.PhaseFailed
	r.postState(fmt.Sprintf("loss diverged at step %d", step))
}

// record counts the step just done, of loss and d seconds, for the next report.
func (r *run) record(loss float32, d float64) {
	p := &r.progress
	p.recent[(r.steps()-1)%recentSteps] = d
	p.examples += int64(r.settings.Batch)
	p.trainSeconds += d
	p.pending = append(p.pending, loss)
}

// log sends the seed script's line of the step just done, of loss and d seconds.
func (r *run) log(loss float32, d float64) {
	step := r.steps() - 1
	eps := float64(r.settings.Batch) / d
	r.out.post(protocol.Message{Run: r.id, Payload: protocol.LogLine{
		Step: step, Loss: loss, ExamplesPerSec: eps, SecPerBatch: d,
		Text: seedlog.Line(int64(step), loss, eps, d),
	}})
}

// report sends the pending losses with the current speed.
func (r *run) report() {
	p := &r.progress
	p.lastReport = r.out.now()
	if len(p.pending) == 0 {
		return
	}
	step := r.steps()
	n := min(step-p.first, recentSteps)
	var sum float64
	for i := step - n; i < step; i++ {
		sum += p.recent[i%recentSteps]
	}
	spb := sum / float64(n)
	msg := protocol.Progress{
		Step: step, Steps: r.settings.Steps, FirstStep: step - len(p.pending),
		Losses: p.pending, SecPerBatch: spb, Examples: p.examples, TrainSeconds: p.trainSeconds,
		WaitSeconds: p.waitSeconds,
	}
	if spb > 0 {
		msg.ExamplesPerSec = float64(r.settings.Batch) / spb
	}
	r.out.post(protocol.Message{Run: r.id, Payload: msg})
	p.pending = nil
}

// evaluate computes precision@1 of the current weights over the whole test set (in a group,
// this worker's part of it), reporting progress and calling yield between batches.
func (r *run) evaluate(test *cifar.Set, pixels Pixels, yield func()) {
	tr, err := r.tr.EvalTrainer(EvalBatch)
	if err != nil {
		r.fail(protocol.WhereEval, err)
		return
	}
	start := r.out.now()
	last := start
	lo, hi := r.evalPart(test.Len())
	fill := func(i0 int, images []float32, labels []uint8) error {
		r.fillEval(test, pixels, lo+i0, images, labels)
		return nil
	}
	progress := func(done, total int) {
		if now := r.out.now(); now.Sub(last) >= 100*time.Millisecond || done == total {
			last = now
			r.out.post(protocol.Message{Run: r.id, Payload: protocol.EvalProgress{Done: done, Total: total}})
		}
		if yield != nil {
			yield()
		}
	}
	ev, err := tr.Evaluate(hi-lo, fill, progress)
	if err != nil {
		r.fail(protocol.WhereEval, err)
		return
	}
	r.out.post(protocol.Message{Run: r.id, Payload: protocol.EvalResult{
		Step: r.steps(), Correct: ev.Correct, Total: ev.Total, Precision: ev.Precision(),
		Confusion: ev.Confusion, Seconds: r.out.now().Sub(start).Seconds(),
	}})
}

// fillEval writes test images i0.. of the test set, whether its pixels are shared or in Go.
func (r *run) fillEval(test *cifar.Set, pixels Pixels, i0 int, images []float32, labels []uint8) {
	if pixels == nil {
		r.prep().EvalBatch(test, i0, len(labels), r.crop(), images, labels)
		return
	}
	n := r.tr.Model().InputSize()
	for j := range labels {
		r.img = pixels.Test(i0+j, r.img)
		r.prep().EvalPixels(images[j*n:(j+1)*n], r.img, r.crop())
		labels[j] = test.Labels[i0+j]
	}
}
