package worker

import (
	"fmt"

	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// The run's side of a group of workers (group.go is the board's): joining, the step in
// shards, a follower's work, and the end of the group.

// join readies a new run r for the dataset's pixels and, when its start or restore message
// in names a group of several workers, for the group; alone otherwise.
func (e *Engine) join(r *run, in wasm.Inbound) error {
	r.useTrain(e.pixels, e.data.Train.Labels)
	if err := r.whiten(); err != nil {
		return err
	}
	m := in.Msg
	workers := max(m.Workers, 1)
	if workers == 1 {
		return nil
	}
	if e.shared.Board == nil || in.Shared == nil {
		return fmt.Errorf("%d workers need shared memory, which this page does not have", workers)
	}
	l := wasm.NewBoardLayout(r.settings.Batch, workers, r.tr.Model().NumParams())
	b, err := e.shared.Board(in.Shared, l)
	if err != nil {
		return err
	}
	if err := r.tr.Join(workers, m.Worker); err != nil {
		return err
	}
	r.group = newGroup(b, l, m.Worker, workers, r.steps())
	return nil
}

// whiten computes a fresh run's whitening weights from the training images when the run could
// not (training.Run.WhiteningPending): the pixels are in memory shared by the workers, not in
// the training set. Every worker of a group computes the same weights from the same images.
func (r *run) whiten() error {
	if !r.tr.WhiteningPending() {
		return nil
	}
	if r.pixels == nil {
		return fmt.Errorf("the %s preset's whitening layer needs the training images, which this worker does not hold", r.settings.Preset)
	}
	return r.tr.InitWhitening(func(i int) []byte {
		r.img = r.pixels.Train(i, r.img)
		return r.img
	})
}

// following reports whether the run takes its commands from the board: a follower's.
func (r *run) following() bool { return r != nil && r.group.follows() }

// trainStep computes this worker's shards of the run's next batch and, in a group, publishes
// them, waits for the others' and sums them all; then it applies the update. A follower obeys
// the leader meanwhile (obey; nil for the leader). It returns the step's loss, or ok false
// when the wait ended without a step (paused, stopped, or the group failed, which fails the
// run).
func (r *run) trainStep(obey func(request) bool) (loss float32, ok bool) {
	g := r.group
	if g == nil {
		r.tr.Compute(r.fill)
		return r.tr.Apply(nil, r.tr.Replica().Losses()), true
	}
	step := r.steps()
	if !g.published {
		r.tr.Compute(r.fill)
		g.publish(r.tr.Replica(), step)
	}
	t0 := r.out.now()
	end := g.await(step, obey)
	r.progress.waitSeconds += r.out.now().Sub(t0).Seconds()
	switch end {
	case abortSeen:
		r.groupAborted()
		return 0, false
	case obeyed:
		return 0, false
	}
	return r.tr.Apply(g.collect(step)), true
}

// follow is a follower's unit of work: obeying the leader (obey), a step, or else waiting a
// moment for one of them.
func (r *run) follow(obey func(request) bool) {
	g := r.group
	bell := g.bell()
	if g.abortCode() != 0 {
		r.groupAborted()
		return
	}
	if req, ok := g.next(r.steps()); ok && obey(req) {
		return
	}
	if r.phase == protocol.PhaseRunning {
		r.followStep(obey)
		return
	}
	g.wait(bell)
}

// followStep is a follower's training step: the leader's without the reports.
func (r *run) followStep(obey func(request) bool) {
	loss, ok := r.trainStep(obey)
	switch {
	case !ok:
	case !finite(loss):
		r.diverged = true
		r.phase = protocol.PhaseFailed // the leader reports the divergence
	case r.tr.Finished():
		r.phase = protocol.PhaseFinished
	}
}

// obey takes the phase the leader set, when it changes the follower's; it reports whether it
// did.
func (r *run) obey(phase protocol.Phase) bool {
	switch {
	case phase == protocol.PhasePaused && r.phase == protocol.PhaseRunning,
		phase == protocol.PhaseRunning && r.phase == protocol.PhasePaused,
		phase == protocol.PhaseStopped && (r.phase == protocol.PhaseRunning || r.phase == protocol.PhasePaused):
		r.phase = phase
		return true
	}
	return false
}

// groupAborted ends the run because a worker of the group failed or died. The leader says so;
// the page knows which worker it was and names it.
func (r *run) groupAborted() {
	g := r.group
	g.aborted = true
	if r.phase != protocol.PhaseRunning && r.phase != protocol.PhasePaused {
		return
	}
	code := g.abortCode()
	reason := "another worker of the group stopped"
	if code > 0 {
		reason = fmt.Sprintf("worker %d of %d failed", code, g.workers)
	}
	reason += fmt.Sprintf(": training stopped at step %d", r.steps())
	if g.leads() {
		r.setPhase(protocol.PhaseFailed, reason)
		return
	}
	r.phase = protocol.PhaseFailed
}

// evalPart returns the test images lo..hi-1 this worker evaluates. The leader first asks the
// followers, on the board, to evaluate theirs at this step.
func (r *run) evalPart(total int) (lo, hi int) {
	g := r.group
	if g == nil || g.aborted {
		return 0, total // alone, or what is left of a group
	}
	if g.leads() {
		g.askEval(r.steps())
	}
	return g.part(total)
}
