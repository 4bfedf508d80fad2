package worker

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"cifar10/nn"
	"cifar10/nn/checkpoint"
	"cifar10/nn/checkpoint/ckptname"
	"cifar10/nn/cifar"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// CheckpointStore keeps checkpoint files with their list entries: IndexedDB in the browser
// (checkpoints_js.go), a map in tests.
type CheckpointStore interface {
	// List returns the entries of the stored checkpoints, in no particular order.
	List() ([]protocol.CheckpointInfo, error)
	// Save stores file with its entry and removes the checkpoints in remove, all in one
	// transaction: afterwards all of it happened or none did. A full quota is
	// wasm.ErrStorageFull. file is the engine's again once Save returns (it is reused).
	Save(info protocol.CheckpointInfo, file []byte, remove []string) error
	// Load returns a stored checkpoint's entry and file.
	Load(id string) (protocol.CheckpointInfo, []byte, error)
}

// BackgroundSaver is a CheckpointStore that can commit a save while training goes on: in
// IndexedDB the disk write and its flush take a few hundred milliseconds, which every worker of
// a group would otherwise spend waiting for the leader.
type BackgroundSaver interface {
	// StartSave begins Save and returns at once with its outcome: done is false while the
	// transaction is still running, and with wait the call blocks until it has ended. As with
	// Save, file is the engine's again once StartSave returns.
	StartSave(info protocol.CheckpointInfo, file []byte, remove []string) (outcome func(wait bool) (done bool, err error))
}

// Delegator is a CheckpointStore that can hand its writes to a helper: in the browser the
// page's checkpoint saver (assets/saver.js), which does IndexedDB's 85-150 ms put() of a file
// off the training thread. The helper comes as the shared value of a saver message.
type Delegator interface {
	UseSaver(helper any) error
}

// useSaver passes the helper of a saver message to the store.
func (e *Engine) useSaver(helper any) {
	d, ok := e.Checkpoints.(Delegator)
	if !ok {
		return // no store, or one that writes by itself: saves go on as they did
	}
	if err := d.UseSaver(helper); err != nil {
		e.fail(0, protocol.WhereCheckpoint, err)
	}
}

// errNoStore is the reason nothing can be saved when the browser gave the worker no IndexedDB.
var errNoStore = errors.New("this browser does not let the page keep checkpoints (no IndexedDB)")

// runCheckpoints is a run's checkpoint state.
type runCheckpoints struct {
	group string  // run key its checkpoints are stored under; "" until the first save
	saved int     // step of the newest checkpoint stored, or restored from (nothing newer to save)
	loss  float32 // the loss of the last step, for the checkpoint's metadata
	full  bool    // the last save found the storage full: retried when the run resumes
	// pending is the periodic save being committed in the background, or nil.
	pending *pendingSave
	// file is the buffer every save of the run encodes into: a fresh 12.8 MB buffer each time
	// cost 40 ms of first-touch page faults, ten times the copy.
	file []byte
}

// pendingSave is a checkpoint handed to a BackgroundSaver whose outcome is not yet known.
type pendingSave struct {
	info    protocol.CheckpointInfo
	removed []string
	outcome func(wait bool) (done bool, err error)
}

// afterStep records the loss of the step just done and saves a checkpoint when one is due:
// every SaveEvery steps and at the last step. It returns false when the browser's storage is
// full and the run has paused (older checkpoints stay; the user makes room and resumes).
//
// A periodic save goes to the background when the store can (BackgroundSaver): training goes
// on while it commits, and its outcome is reported after a later step (settleSave). The last
// step's save, and every other one, is waited for.
func (e *Engine) afterStep(loss float32) bool {
	r := e.run
	r.ckpt.loss = loss
	if !e.settleSave(false) {
		return false
	}
	every := r.settings.SaveEvery
	if every <= 0 || (r.step%every != 0 && r.step != r.settings.Steps) {
		return true
	}
	if r.step != r.settings.Steps && e.startSave() {
		return !r.ckpt.full
	}
	err := e.saveCheckpoint()
	if !errors.Is(err, wasm.ErrStorageFull) || r.step >= r.settings.Steps {
		return true
	}
	r.ckpt.full = true
	e.setPhase(protocol.PhasePaused, storageFullReason(r.step))
	return false
}

func storageFullReason(step int) string {
	return fmt.Sprintf("paused at step %d: the browser's storage is full", step)
}

// retrySave stores the checkpoint a full storage refused, when the user resumes the run that
// paused for it (having made room). It returns false, with the run still paused, when the
// storage is still full.
func (e *Engine) retrySave() bool {
	r := e.run
	if !r.ckpt.full {
		return true
	}
	if errors.Is(e.saveCheckpoint(), wasm.ErrStorageFull) {
		e.postState(storageFullReason(r.step))
		return false
	}
	r.ckpt.full = false
	return true
}

// saveBeforeStop saves the state reached when the run is stopped between two checkpoints, as
// the native trainer does when interrupted.
func (e *Engine) saveBeforeStop() {
	r := e.run
	if r.settings.SaveEvery > 0 && r.step > r.ckpt.saved {
		e.saveCheckpoint()
	}
}

// saveCheckpoint encodes the run's model, optimizer state and data position, stores them with
// the run's older checkpoints beyond Keep removed in the same transaction, and reports the new
// entry. A failure is reported too, and returned. Without a store (no IndexedDB) it does
// nothing: the page, which cannot open IndexedDB either, says so in its checkpoints panel.
// A save still committing in the background is settled first.
func (e *Engine) saveCheckpoint() error {
	r := e.run
	if e.Checkpoints == nil {
		return errNoStore
	}
	e.settleSave(true)
	info, data, removed, err := e.prepareSave()
	if err == nil {
		err = e.Checkpoints.Save(info, data, removed)
	}
	return e.saved(r.step, info, removed, err)
}

// startSave begins the due checkpoint's save in the background. It returns false, having done
// nothing, when the store cannot save in the background.
func (e *Engine) startSave() bool {
	r := e.run
	bg, ok := e.Checkpoints.(BackgroundSaver)
	if !ok {
		return false
	}
	if !e.settleSave(true) { // one at a time: the next save prunes what this one stored
		return true // the last one found the storage full: the run paused instead
	}
	info, data, removed, err := e.prepareSave()
	if err != nil {
		e.saved(r.step, info, removed, err)
		return true
	}
	r.ckpt.pending = &pendingSave{info: info, removed: removed, outcome: bg.StartSave(info, data, removed)}
	return true
}

// settleSave reports the outcome of the background save once it is known; with wait it waits
// for it. It returns false when that save found the storage full: the run has then paused at
// its current step (a few steps past the refused checkpoint), which Resume saves first.
func (e *Engine) settleSave(wait bool) bool {
	r := e.run
	if r == nil || r.ckpt.pending == nil {
		return true
	}
	p := r.ckpt.pending
	done, err := p.outcome(wait)
	if !done {
		return true
	}
	r.ckpt.pending = nil
	if !errors.Is(e.saved(int(p.info.Step), p.info, p.removed, err), wasm.ErrStorageFull) || r.step >= r.settings.Steps {
		return true
	}
	r.ckpt.full = true
	if r.phase == protocol.PhaseRunning {
		e.setPhase(protocol.PhasePaused, storageFullReason(r.step))
	}
	return false
}

// prepareSave makes the checkpoint of the run's current step and lists the run's checkpoints
// its save removes (those beyond Keep).
func (e *Engine) prepareSave() (protocol.CheckpointInfo, []byte, []string, error) {
	info, data, err := e.encodeRun()
	if err != nil {
		return info, nil, nil, err
	}
	removed, err := e.pruned(info, e.run.settings.Keep)
	return info, data, removed, err
}

// pruned lists the checkpoints that storing info removes: its group's beyond keep.
func (e *Engine) pruned(info protocol.CheckpointInfo, keep int) ([]string, error) {
	list, err := e.Checkpoints.List()
	if err != nil {
		return nil, err
	}
	return wasm.PruneCheckpoints(list, info, keep), nil
}

// saved reports the outcome of saving the checkpoint of step: the new entry, or why it was not
// stored. It returns err.
func (e *Engine) saved(step int, info protocol.CheckpointInfo, removed []string, err error) error {
	r := e.run
	name := "checkpoint " + ckptname.Base(int64(step))
	switch {
	case errors.Is(err, wasm.ErrStorageFull):
		e.fail(r.id, protocol.WhereCheckpoint, fmt.Errorf("%s was not saved because the browser's storage for this page is full, so training paused at step %d with every older checkpoint kept: delete some checkpoints, then press Resume", name, r.step))
	case err != nil:
		e.fail(r.id, protocol.WhereCheckpoint, fmt.Errorf("%s was not saved: %w", name, err))
	default:
		r.ckpt.saved = step
		e.post(protocol.Message{Payload: protocol.CheckpointSaved{Info: info, Removed: removed}})
	}
	return err
}

// encodeRun makes the checkpoint file of the run's current step and its entry.
func (e *Engine) encodeRun() (protocol.CheckpointInfo, []byte, error) {
	r := e.run
	now := e.Now()
	if r.ckpt.group == "" {
		r.ckpt.group = protocol.RunKey(false, now.UnixMilli())
	}
	s := r.settings
	loss := float64(r.ckpt.loss)
	data, err := checkpoint.AppendEncode(r.ckpt.file[:0], r.model, r.trainer.Optimizer(), checkpoint.Run{
		Seed: s.Seed, Batch: s.Batch, Examples: int64(r.step) * int64(s.Batch), Time: now, Loss: &loss,
	})
	if err != nil {
		return protocol.CheckpointInfo{}, nil, err
	}
	r.ckpt.file = data
	step := int64(r.step)
	return protocol.CheckpointInfo{
		ID: protocol.CheckpointID(r.ckpt.group, step), Run: r.ckpt.group, Step: step, Saved: now.UnixMilli(),
		Size: len(data), Preset: s.Preset, Seed: s.Seed, Batch: s.Batch, LR: s.LR, Loss: &loss,
		Steps: s.Steps, Resumable: true,
	}, data, nil
}

// store saves a file and prunes its group to keep checkpoints, then tells the page.
func (e *Engine) store(info protocol.CheckpointInfo, data []byte, keep int) error {
	removed, err := e.pruned(info, keep)
	if err != nil {
		return err
	}
	if err := e.Checkpoints.Save(info, data, removed); err != nil {
		return err
	}
	e.post(protocol.Message{Payload: protocol.CheckpointSaved{Info: info, Removed: removed}})
	return nil
}

// restore makes run m.Run from a stored checkpoint: trained on at once when resuming, else
// kept for evaluation (phase restored). The current run is replaced only once the file has
// been read, decoded and loaded, so a refused restore changes nothing.
func (e *Engine) restore(m protocol.Message) {
	r, reason, err := e.runFromStore(m.Run, m.Payload.(protocol.RestoreRequest))
	if err == nil {
		err = e.joinGroup(r) // every worker of a group restores the same file (parallel.go)
	}
	if err != nil {
		e.fail(m.Run, protocol.WhereCheckpoint, err)
		return
	}
	if e.run != nil {
		e.run.close()
	}
	e.run = r
	r.lastReport = e.Now()
	s := r.settings
	e.post(protocol.Message{Run: r.id, Payload: protocol.RunState{Phase: r.phase, Step: r.step, Reason: reason, Settings: &s}})
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
		r, err = runFromCheckpoint(id, ck, req, e.data)
	}
	if err != nil {
		return nil, "", fmt.Errorf("checkpoint %s cannot be restored: %s", info.Name(), reason(err))
	}
	if req.Resume && ck.Resumable() && !info.Uploaded() {
		list, err := e.Checkpoints.List()
		if err == nil && wasm.NewestOfRun(list, info) {
			r.ckpt.group = info.Run // continue the run; from an older checkpoint, branch off
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

// runFromCheckpoint builds a run holding a decoded checkpoint's weights and optimizer state.
// A resumable file keeps its own preset, seed, batch and learning rate, so training continues
// exactly; a weights-only file starts a fresh optimizer at step 0 with the page's seed and
// batch (fine-tuning). Steps, SaveEvery and Keep are the page's.
func runFromCheckpoint(id int, ck *checkpoint.Checkpoint, req protocol.RestoreRequest, data *cifar.Data) (*run, error) {
	m, err := ck.NewModel()
	if err != nil {
		return nil, err
	}
	opt, err := ck.NewOptimizer(m)
	if err != nil {
		return nil, err
	}
	s, err := restoredSettings(ck, opt, req)
	if err != nil {
		return nil, err
	}
	r, err := assembleRun(id, s, m, opt, data)
	if err != nil {
		return nil, err
	}
	step := int(opt.Steps())
	r.step, r.first, r.ckpt.saved = step, step, step
	if !req.Resume {
		r.phase = protocol.PhaseRestored
	}
	return r, nil
}

// restoredSettings are the settings of a run made from ck (see runFromCheckpoint).
func restoredSettings(ck *checkpoint.Checkpoint, opt nn.Optimizer, req protocol.RestoreRequest) (protocol.Settings, error) {
	s := req.Settings
	step := opt.Steps()
	if ck.Resumable() {
		if ck.Run.Examples != step*int64(ck.Run.Batch) {
			return s, fmt.Errorf("its data position (%d examples after %d steps of %d) is not where this page resumes a run; restore it to evaluate", ck.Run.Examples, step, ck.Run.Batch)
		}
		s.Seed, s.Batch, s.LR = ck.Run.Seed, ck.Run.Batch, opt.Config().LR
	} else if s.Preset == ck.Spec.Name {
		opt.SetLearningRate(s.LR)
	} else {
		s.LR = opt.Config().LR
	}
	s.Preset = ck.Spec.Name
	switch {
	case !req.Resume:
		s.Steps = max(int(step), 1)
	case step >= int64(s.Steps):
		return s, fmt.Errorf("it is already at step %d; set Max steps above that to train on from it", step)
	}
	return s, s.Validate()
}

// upload checks an uploaded checkpoint file completely (decoded against the page's preset,
// then loaded into a model and optimizer as a restore would) and stores it as its own group.
// A refused file is explained in one sentence and nothing stored changes.
func (e *Engine) upload(m protocol.Message, files [][]byte) {
	req := m.Payload.(protocol.UploadRequest)
	name := "the file " + req.Name
	if req.Name == "" {
		name = "the uploaded file"
	}
	if len(files) != 1 {
		e.fail(0, protocol.WhereCheckpoint, fmt.Errorf("%s was not stored: the upload carried %d files", name, len(files)))
		return
	}
	if e.Checkpoints == nil {
		e.fail(0, protocol.WhereCheckpoint, fmt.Errorf("%s was not stored: %w", name, errNoStore))
		return
	}
	info, err := CheckUpload(files[0], req, e.Now())
	if err == nil {
		err = e.store(info, files[0], 1)
	}
	switch {
	case errors.Is(err, wasm.ErrStorageFull):
		e.fail(0, protocol.WhereCheckpoint, fmt.Errorf("%s was not stored because the browser's storage for this page is full; delete some checkpoints and upload it again", name))
	case err != nil:
		e.fail(0, protocol.WhereCheckpoint, fmt.Errorf("%s was not stored: %s", name, reason(err)))
	}
}

// CheckUpload validates an uploaded checkpoint file in full and returns its entry, stored at
// now as a group of its own. It accepts what the native trainer writes, what this page
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
	group := protocol.RunKey(true, now.UnixMilli())
	info := protocol.CheckpointInfo{
		ID: protocol.CheckpointID(group, ck.Step), Run: group, Step: ck.Step, Saved: now.UnixMilli(),
		Size: len(data), Preset: ck.Spec.Name, Seed: ck.Run.Seed, Batch: ck.Run.Batch,
		LR: opt.Config().LR, Loss: ck.Run.Loss, Upload: req.Name,
		Resumable: ck.Resumable() && ck.Run.Examples == ck.Step*int64(ck.Run.Batch),
	}
	return info, info.Validate()
}

// reason is an error of nn/checkpoint as the end of a sentence: without the package prefixes,
// and naming a damaged file as such.
func reason(err error) string {
	s := strings.TrimPrefix(err.Error(), "checkpoint: ")
	if rest, ok := strings.CutPrefix(s, "not a checkpoint file: safetensors: "); ok {
		return "it is not a complete safetensors checkpoint file (" + rest + ")"
	}
	return s
}
