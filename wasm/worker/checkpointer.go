package worker

import (
	"errors"
	"time"

	"cifar10/nn/training"
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

// errNoStore is the reason nothing can be saved when the browser gave the worker no IndexedDB.
var errNoStore = errors.New("this browser does not let the page keep checkpoints (no IndexedDB)")

// checkpointer stores a run's checkpoints: it encodes them (nn/training, into the run's reused
// buffer), lists what each removes beyond Keep, and saves them at once or, when the store can,
// in the background. It says what became of each save and leaves it to the run to tell the
// page and to pause.
type checkpointer struct {
	store   CheckpointStore // nil: nothing can be saved (no IndexedDB)
	key     string          // the run key its checkpoints are stored under; "" until the first save
	saved   int             // step of the newest checkpoint stored, or restored from
	full    bool            // the last save found the storage full: retried when the run resumes
	pending *pendingSave    // the save being committed in the background, or nil
}

// pendingSave is a checkpoint handed to a BackgroundSaver whose outcome is not yet known.
type pendingSave struct {
	info    protocol.CheckpointInfo
	removed []string
	outcome func(wait bool) (done bool, err error)
}

// outcome is what became of a save.
type outcome int

const (
	notSaved    outcome = iota // there is no store: nothing to say (the page says it once)
	saved                      // stored, with the run's checkpoints beyond Keep removed
	storageFull                // refused: the browser's storage for the page is full
	saveFailed                 // not stored for another reason
)

// A saveResult is the outcome of one checkpoint's save.
type saveResult struct {
	outcome outcome
	step    int
	info    protocol.CheckpointInfo // its entry
	removed []string                // the entries its transaction removed
	err     error                   // why it was not saved
}

// background reports whether saves can be committed while training goes on.
func (c *checkpointer) background() bool {
	_, ok := c.store.(BackgroundSaver)
	return ok
}

// save stores the checkpoint of r's current state, with s's entry, and waits for the outcome.
func (c *checkpointer) save(r *training.Run, s protocol.Settings, now time.Time) saveResult {
	if c.store == nil {
		return saveResult{outcome: notSaved, step: int(r.StepsDone()), err: errNoStore}
	}
	info, file, removed, err := c.prepare(r, s, now)
	if err == nil {
		err = c.store.Save(info, file, removed)
	}
	return c.result(int(r.StepsDone()), info, removed, err)
}

// start begins the save of r's current state in the background (the store must be a
// BackgroundSaver); settle gives its outcome. A checkpoint that could not be made has its
// outcome at once (done).
func (c *checkpointer) start(r *training.Run, s protocol.Settings, now time.Time) (res saveResult, done bool) {
	info, file, removed, err := c.prepare(r, s, now)
	if err != nil {
		return c.result(int(r.StepsDone()), info, removed, err), true
	}
	c.pending = &pendingSave{info: info, removed: removed, outcome: c.store.(BackgroundSaver).StartSave(info, file, removed)}
	return saveResult{}, false
}

// settle returns the outcome of the background save once it is known (done); with wait it
// waits for it. Without one open, done is false.
func (c *checkpointer) settle(wait bool) (res saveResult, done bool) {
	p := c.pending
	if p == nil {
		return saveResult{}, false
	}
	if ok, err := p.outcome(wait); ok {
		c.pending = nil
		return c.result(int(p.info.Step), p.info, p.removed, err), true
	}
	return saveResult{}, false
}

// result is the outcome of a save of step that ended with err.
func (c *checkpointer) result(step int, info protocol.CheckpointInfo, removed []string, err error) saveResult {
	res := saveResult{outcome: saved, step: step, info: info, removed: removed, err: err}
	switch {
	case errors.Is(err, wasm.ErrStorageFull):
		res.outcome = storageFull
	case err != nil:
		res.outcome = saveFailed
	default:
		c.saved = step
	}
	c.full = res.outcome == storageFull
	return res
}

// prepare makes the checkpoint of r's current state and its entry, and lists the run's
// checkpoints its save removes (those beyond Keep). The run's key is made at its first save.
func (c *checkpointer) prepare(r *training.Run, s protocol.Settings, now time.Time) (protocol.CheckpointInfo, []byte, []string, error) {
	if c.key == "" {
		c.key = protocol.RunKey(false, now.UnixMilli())
	}
	file, err := r.Encode(now, nil)
	if err != nil {
		return protocol.CheckpointInfo{}, nil, nil, err
	}
	step := r.StepsDone()
	info := protocol.CheckpointInfo{
		ID: protocol.CheckpointID(c.key, step), Run: c.key, Step: step, Saved: now.UnixMilli(),
		Size: len(file), Preset: s.Preset, Seed: s.Seed, Batch: s.Batch, LR: s.LR,
		Steps: s.Steps, Resumable: true,
	}
	if loss, ok := r.Loss(); ok {
		l := float64(loss)
		info.Loss = &l
	}
	removed, err := c.pruned(info, s.Keep)
	return info, file, removed, err
}

// pruned lists the checkpoints that storing info removes: its run's beyond keep.
func (c *checkpointer) pruned(info protocol.CheckpointInfo, keep int) ([]string, error) {
	list, err := c.store.List()
	if err != nil {
		return nil, err
	}
	return wasm.PruneCheckpoints(list, info, keep), nil
}

// put stores a file that is not the run's (an upload) and prunes its run to keep
// checkpoints, returning what it removed.
func (c *checkpointer) put(info protocol.CheckpointInfo, file []byte, keep int) ([]string, error) {
	removed, err := c.pruned(info, keep)
	if err != nil {
		return nil, err
	}
	return removed, c.store.Save(info, file, removed)
}
