package protocol

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"cifar10/nn/checkpoint/ckptname"
)

// CheckpointInfo is one stored checkpoint: its list entry in IndexedDB and its row in the
// checkpoints panel. Everything here was read from the file by the worker (which decoded and
// checked it) or is about where it came from.
type CheckpointInfo struct {
	// ID names the checkpoint's records: "<run>/<step, 12 digits>", so a run's checkpoints
	// sort by step and a step is saved once per run.
	ID string `json:"id"`
	// Run is the run key the checkpoint is stored under (RunKey): one training run's
	// ("r<unix ms>" of its first save) or one upload's ("u<unix ms>"); Keep applies per run.
	Run string `json:"run"`
	// Step is the global step (optimizer updates applied); the name follows from it.
	Step int64 `json:"step"`
	// Saved is when the checkpoint was stored, in Unix milliseconds; the newest is "latest".
	Saved int64 `json:"saved"`
	// Size is the file's length in bytes.
	Size int `json:"size"`
	// Preset, Seed, Batch and LR describe the run; Batch is 0 when the file has no data
	// position (a weights-only file).
	Preset string  `json:"preset"`
	Seed   uint64  `json:"seed,omitempty"`
	Batch  int     `json:"batch,omitempty"`
	LR     float64 `json:"lr,omitempty"`
	// Loss is the total loss of the last step before the save, when known.
	Loss *float64 `json:"loss,omitempty"`
	// Steps is the run's target when the checkpoint was saved (0 for uploads): a run whose
	// newest checkpoint is short of it was interrupted, and the page offers to resume it.
	Steps int `json:"steps,omitempty"`
	// Resumable says the file holds optimizer state and the data position, so training
	// continues from it exactly; otherwise it is weights only (evaluate or fine-tune).
	Resumable bool `json:"resumable"`
	// Upload is the uploaded file's name ("" for checkpoints saved by a run).
	Upload string `json:"upload,omitempty"`
}

// Name is the checkpoint's name, "cifar10.ckpt-<step>".
func (c CheckpointInfo) Name() string { return ckptname.Base(c.Step) }

// FileName is the name its download gets, the one the native trainer writes.
func (c CheckpointInfo) FileName() string { return ckptname.File(c.Step) }

// Uploaded reports whether the checkpoint came from a file rather than a run in this page.
func (c CheckpointInfo) Uploaded() bool { return strings.HasPrefix(c.Run, uploadKeyPrefix) }

// CheckpointID is the id of a run's checkpoint at a step.
func CheckpointID(run string, step int64) string { return fmt.Sprintf("%s/%012d", run, step) }

// RunKey is the key a training run's (or an upload's) checkpoints are stored under, made when
// its first checkpoint is stored at unixMilli: "r<ms>" for a run, "u<ms>" for an upload.
func RunKey(upload bool, unixMilli int64) string {
	if upload {
		return uploadKeyPrefix + strconv.FormatInt(unixMilli, 10)
	}
	return runKeyPrefix + strconv.FormatInt(unixMilli, 10)
}

// The first letter of a run key says where its checkpoints came from, so an upload is told
// from a run by its key alone (Uploaded).
const (
	runKeyPrefix    = "r" // a training run in this page
	uploadKeyPrefix = "u" // an uploaded checkpoint file
)

var (
	runKeyPattern = regexp.MustCompile(`^[` + runKeyPrefix + uploadKeyPrefix + `][0-9]{1,19}$`)
	idPattern     = regexp.MustCompile(`^[` + runKeyPrefix + uploadKeyPrefix + `][0-9]{1,19}/[0-9]{12,19}$`)
)

// Validate checks an entry read back from IndexedDB or carried in a message, so a damaged or
// foreign record is never listed.
func (c CheckpointInfo) Validate() error {
	switch {
	case !runKeyPattern.MatchString(c.Run):
		return fmt.Errorf("checkpoint entry: bad run key %q", c.Run)
	case c.Step < 0 || c.ID != CheckpointID(c.Run, c.Step) || !idPattern.MatchString(c.ID):
		return fmt.Errorf("checkpoint entry: id %q does not match run %q and step %d", c.ID, c.Run, c.Step)
	case c.Size <= 0 || c.Preset == "" || c.Batch < 0 || c.Steps < 0:
		return fmt.Errorf("checkpoint entry %s: size %d, preset %q, batch %d, steps %d", c.ID, c.Size, c.Preset, c.Batch, c.Steps)
	}
	return nil
}

// RestoreRequest asks the worker to load a stored checkpoint into a new run: for evaluation
// only (the seed script's has_trained = True), or to train on from it.
type RestoreRequest struct {
	ID     string `json:"id"`
	Resume bool   `json:"resume,omitempty"`
	// Settings are the page's controls. A resumed run trains until Settings.Steps and saves
	// by Settings.SaveEvery and Keep; its preset, seed, batch and learning rate are the
	// checkpoint's, so it continues exactly. A weights-only file fine-tunes with a fresh
	// optimizer from step 0 with the controls' seed and batch.
	Settings Settings `json:"settings"`
}

// UploadRequest sends a checkpoint file from the user's disk to the worker, which checks it
// completely before storing it. The file is the message's one attached buffer.
type UploadRequest struct {
	Name string `json:"name"` // the file's name on disk
	// Preset is the model the page has chosen: a file for another model is refused.
	Preset string `json:"preset"`
}

// CheckpointSaved reports a checkpoint stored in IndexedDB, by a run or from an upload, and
// the ids pruned in the same transaction.
type CheckpointSaved struct {
	Info    CheckpointInfo `json:"info"`
	Removed []string       `json:"removed,omitempty"`
}

// Kind implements Payload.
func (RestoreRequest) Kind() Kind { return KindCheckpointRestore }

// Kind implements Payload.
func (UploadRequest) Kind() Kind { return KindCheckpointUpload }

// Kind implements Payload.
func (CheckpointSaved) Kind() Kind { return KindCheckpoint }

// Validate refuses a malformed id (it becomes an IndexedDB key) and settings out of range.
func (r RestoreRequest) Validate([]FileRef) error {
	if !idPattern.MatchString(r.ID) {
		return fmt.Errorf("bad checkpoint id %q", r.ID)
	}
	return r.Settings.Validate()
}

// Validate wants the checkpoint file attached, alone.
func (UploadRequest) Validate(files []FileRef) error {
	if len(files) != 1 {
		return fmt.Errorf("%d files attached, want the checkpoint file", len(files))
	}
	return nil
}

// Validate checks the entry, which the page lists as it is.
func (c CheckpointSaved) Validate([]FileRef) error { return c.Info.Validate() }
