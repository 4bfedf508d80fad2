package worker

import (
	"fmt"

	"cifar10/nn/checkpoint/ckptname"
	"cifar10/wasm/protocol"
)

// The run's checkpoint policy in the browser: nn/training says when a save is due and encodes
// it, the checkpointer stores it, and the run tells the page and pauses when the browser's
// storage is full (older checkpoints stay; the user makes room and resumes).

// saveIfDue saves a checkpoint when one is due after the step just done: every SaveEvery
// steps and at the last step. It returns false when the storage is full and the run has
// paused.
//
// A periodic save goes to the background when the store can (BackgroundSaver): training goes
// on while it commits, and its outcome is reported after a later step (settle). The last
// step's save, and every other one, is waited for.
func (r *run) saveIfDue() bool {
	if !r.settle(false) {
		return false
	}
	if !r.tr.CheckpointDue() {
		return true
	}
	last := r.tr.Finished()
	if !last && r.ckpt.background() {
		if !r.settle(true) { // one at a time: the next save prunes what this one stored
			return false // the last one found the storage full: the run paused instead
		}
		if res, done := r.ckpt.start(r.tr, r.settings, r.out.now()); done {
			r.reportSave(res)
		}
		return true
	}
	res := r.save()
	if res.outcome != storageFull || last {
		return true
	}
	r.setPhase(protocol.PhasePaused, storageFullReason(r.steps()))
	return false
}

// save settles the background save, then stores the checkpoint of the current step and
// reports it. Without a store (no IndexedDB) nothing is saved (checkpointer.save) and nothing
// reported (reportSave): the page, which cannot open IndexedDB either, says so in its
// checkpoints panel.
func (r *run) save() saveResult {
	r.settle(true)
	res := r.ckpt.save(r.tr, r.settings, r.out.now())
	r.reportSave(res)
	return res
}

// settle reports the outcome of the background save once it is known; with wait it waits
// for it. It returns false when that save found the storage full: the run has then paused at
// its current step (a few steps past the refused checkpoint), which Resume saves first.
func (r *run) settle(wait bool) bool {
	res, done := r.ckpt.settle(wait)
	if !done {
		return true
	}
	r.reportSave(res)
	if res.outcome != storageFull || r.tr.Finished() {
		return true
	}
	if r.phase == protocol.PhaseRunning {
		r.setPhase(protocol.PhasePaused, storageFullReason(r.steps()))
	}
	return false
}

// retrySave stores the checkpoint a full storage refused, when the user resumes the run that
// paused for it (having made room). It returns false, with the run still paused, when the
// storage is still full.
func (r *run) retrySave() bool {
	if !r.ckpt.full {
		return true
	}
	if r.save().outcome == storageFull {
		r.postState(storageFullReason(r.steps()))
		return false
	}
	return true
}

// saveBeforeStop saves the state reached when the run is stopped between two checkpoints, as
// the native trainer does when interrupted.
func (r *run) saveBeforeStop() {
	if r.settings.SaveEvery > 0 && r.steps() > r.ckpt.saved {
		r.save()
	}
}

// reportSave tells the page what became of a save: the new entry, or why it was not stored.
func (r *run) reportSave(res saveResult) {
	name := "checkpoint " + ckptname.Base(int64(res.step))
	switch res.outcome {
	case storageFull:
		r.fail(protocol.WhereCheckpoint, fmt.Errorf("%s was not saved because the browser's storage for this page is full, so training paused at step %d with every older checkpoint kept: delete some checkpoints, then press Resume", name, r.steps()))
	case saveFailed:
		r.fail(protocol.WhereCheckpoint, fmt.Errorf("%s was not saved: %w", name, res.err))
	case saved:
		r.out.post(protocol.Message{Payload: protocol.CheckpointSaved{Info: res.info, Removed: res.removed}})
	}
}

func storageFullReason(step int) string {
	return fmt.Sprintf("paused at step %d: the browser's storage is full", step)
}
