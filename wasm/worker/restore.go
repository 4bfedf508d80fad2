package worker

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"cifar10/nn/checkpoint"
	"cifar10/nn/cifar"
	"cifar10/nn/training"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// Checkpoints the page asks for: a stored one restored as the current run, an uploaded file
// checked and stored, and the page's saver taken into use.

// restore makes run m.Run from a stored checkpoint: trained on at once when resuming, else
// kept for evaluation (phase restored). The current run is replaced only once the file has
// been read, decoded and loaded, so a refused restore changes nothing.
func (e *Engine) restore(in wasm.Inbound) {
	m := in.Msg
	r, restored, err := e.runFromStore(m.Run, m.Payload.(protocol.RestoreRequest))
	if err == nil {
		err = e.join(r, in) // every worker of a group restores the same file (follow.go)
	}
	if err != nil {
		if r != nil {
			r.close()
		}
		e.fail(m.Run, protocol.WhereCheckpoint, err)
		return
	}
	if e.run != nil {
		e.run.close()
	}
	e.run = r
	s := r.settings
	e.post(protocol.Message{Run: r.id, Payload: protocol.RunState{Phase: r.phase, Step: r.steps(), Reason: restored, Settings: &s}})
}

// runFromStore reads, decodes and loads a stored checkpoint into a new run, and says what a
// run restored for evaluation holds.
func (e *Engine) runFromStore(id int, req protocol.RestoreRequest) (r *run, restored string, err error) {
	if e.data == nil {
		return nil, "", errors.New("the dataset is not loaded yet")
	}
	if e.Checkpoints == nil {
		return nil, "", errNoStore
	}
	info, data, err := e.Checkpoints.Load(req.ID)
	if err != nil {
		return nil, "", err
	}
	ck, err := checkpoint.Decode(data, info.Preset)
	if err == nil {
		r, err = restoredRun(id, ck, req, e.data.Train, e.Checkpoints, e.out())
	}
	if err != nil {
		return nil, "", fmt.Errorf("checkpoint %s cannot be restored: %s", info.Name(), reason(err))
	}
	if req.Resume && ck.Resumable() && !info.Uploaded() {
		list, err := e.Checkpoints.List()
		if err == nil && wasm.NewestOfRun(list, info) {
			r.ckpt.key = info.Run // continue the run; from an older checkpoint, branch off
		}
	}
	if r.phase == protocol.PhaseRestored {
		held := "weights and optimizer state"
		if ck.Optimizer == nil {
			held = "weights only"
		}
		restored = fmt.Sprintf("restored %s (%s): ready to evaluate", info.Name(), held)
	}
	return r, restored, nil
}

// restoredRun continues a decoded checkpoint as nn/training does (a resumable file exactly,
// with its own preset, seed, batch and learning rate; a weights-only file fine-tuned from step
// 0 with the page's seed and batch), under the page's rules for it: a weights-only file of
// the page's preset takes the page's learning rate, a resumable one must be at the data
// position this page's runs reach, and a run to train on must not be at Steps already.
func restoredRun(id int, ck *checkpoint.Checkpoint, req protocol.RestoreRequest, train *cifar.Set, store CheckpointStore, out outbox) (*run, error) {
	s := req.Settings
	var lr float64 // the checkpoint's rate
	if !ck.Resumable() && s.Preset == ck.Spec.Name {
		lr = s.LR
	}
	tr, err := training.FromCheckpoint(ck, config(s, lr, train))
	if err != nil {
		return nil, err
	}
	s, err = restoredSettings(tr, ck, req)
	if err != nil {
		tr.Close()
		return nil, err
	}
	phase := protocol.PhaseRunning
	if !req.Resume {
		phase = protocol.PhaseRestored
	}
	return wrap(id, s, tr, phase, store, out), nil
}

// restoredSettings are the settings of the run tr restored from a checkpoint: the run's own
// preset, seed, batch and learning rate, the page's Steps (the step reached, for a run only
// evaluated), SaveEvery and Keep.
func restoredSettings(tr *training.Run, ck *checkpoint.Checkpoint, req protocol.RestoreRequest) (protocol.Settings, error) {
	s := req.Settings
	c := tr.Config()
	step := tr.StepsDone()
	if ck.Resumable() && !resumesHere(ck) {
		return s, fmt.Errorf("its data position (%d examples after %d steps of %d) is not where this page resumes a run; restore it to evaluate", tr.Examples(), step, c.Batch)
	}
	s.Preset, s.Seed, s.Batch, s.LR = c.Preset, c.Seed, c.Batch, c.LR
	switch {
	case !req.Resume:
		s.Steps = max(int(step), 1)
	case step >= int64(s.Steps):
		return s, fmt.Errorf("it is already at step %d; set Max steps above that to train on from it", step)
	}
	return s, s.Validate()
}

// upload checks an uploaded checkpoint file completely (decoded against the page's preset,
// then loaded into a model and optimizer as a restore would) and stores it as its own run.
// A refused file is explained in one sentence and nothing stored changes.
func (e *Engine) upload(in wasm.Inbound) {
	req := in.Msg.Payload.(protocol.UploadRequest)
	name := "the file " + req.Name
	if req.Name == "" {
		name = "the uploaded file"
	}
	if len(in.Files) != 1 {
		e.fail(0, protocol.WhereCheckpoint, fmt.Errorf("%s was not stored: the upload carried %d files", name, len(in.Files)))
		return
	}
	if e.Checkpoints == nil {
		e.fail(0, protocol.WhereCheckpoint, fmt.Errorf("%s was not stored: %w", name, errNoStore))
		return
	}
	info, err := CheckUpload(in.Files[0], req, e.Now())
	var removed []string
	if err == nil {
		c := checkpointer{store: e.Checkpoints}
		removed, err = c.put(info, in.Files[0], 1)
	}
	switch {
	case errors.Is(err, wasm.ErrStorageFull):
		e.fail(0, protocol.WhereCheckpoint, fmt.Errorf("%s was not stored because the browser's storage for this page is full; delete some checkpoints and upload it again", name))
	case err != nil:
		e.fail(0, protocol.WhereCheckpoint, fmt.Errorf("%s was not stored: %s", name, reason(err)))
	default:
		e.post(protocol.Message{Payload: protocol.CheckpointSaved{Info: info, Removed: removed}})
	}
}

// CheckUpload validates an uploaded checkpoint file in full and returns its entry, stored at
// now as a run of its own. It accepts what the native trainer writes, what this page
// writes, and weights-only files of any tool that uses the same tensor names; it refuses
// anything that would not restore (a damaged file, NaN, another preset's model).
func CheckUpload(data []byte, req protocol.UploadRequest, now time.Time) (protocol.CheckpointInfo, error) {
	ck, err := checkpoint.Decode(data, req.Preset)
	if err != nil {
		return protocol.CheckpointInfo{}, err
	}
	m, err := ck.NewModel()
	if err != nil {
		return protocol.CheckpointInfo{}, err
	}
	opt, err := ck.NewOptimizer(m)
	if err != nil {
		return protocol.CheckpointInfo{}, err
	}
	key := protocol.RunKey(true, now.UnixMilli())
	info := protocol.CheckpointInfo{
		ID: protocol.CheckpointID(key, ck.Step), Run: key, Step: ck.Step, Saved: now.UnixMilli(),
		Size: len(data), Preset: ck.Spec.Name, Seed: ck.Run.Seed, Batch: ck.Run.Batch,
		LR: opt.Config().LR, Loss: ck.Run.Loss, Upload: req.Name,
		Resumable: resumesHere(ck),
	}
	return info, info.Validate()
}

// resumesHere reports whether the page can continue ck's run: it holds the optimizer state and
// data position, and its position is where this page's runs are after ck.Step steps (every
// step one batch; a file fine-tuned from a weights-only start elsewhere may not be).
func resumesHere(ck *checkpoint.Checkpoint) bool {
	return ck.Resumable() && ck.Run.Examples == ck.Step*int64(ck.Run.Batch)
}

// reason is an error of nn/checkpoint or nn/training as the end of a sentence: without the
// package prefixes, and naming a damaged file as such.
func reason(err error) string {
	s := strings.TrimPrefix(err.Error(), "checkpoint: ")
	s = strings.TrimPrefix(s, "training: ")
	if rest, ok := strings.CutPrefix(s, "not a checkpoint file: safetensors: "); ok {
		return "it is not a complete safetensors checkpoint file (" + rest + ")"
	}
	return s
}

// useSaver passes the helper of a saver message to the store.
func (e *Engine) useSaver(in wasm.Inbound) {
	d, ok := e.Checkpoints.(Delegator)
	if !ok {
		return // no store, or one that writes by itself: saves go on as they did
	}
	if err := d.UseSaver(in.Shared); err != nil {
		e.fail(0, protocol.WhereCheckpoint, err)
	}
}
