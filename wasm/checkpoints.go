package wasm

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Checkpoints in the browser live in IndexedDB, database DBName, object store
// StoreCheckpoints, as two records per checkpoint written in one transaction:
//
//	"file/<id>"  the checkpoint file's bytes (an ArrayBuffer), exactly what Download gives
//	"meta/<id>"  its CheckpointInfo as JSON: the list's row
//
// The list reads only "meta/" records, and a meta record is written in the same transaction
// as its file (and removed in the same transaction as it), so every listed checkpoint is
// complete: a reload, a crash or a full quota in the middle of a write leaves the
// transaction uncommitted, and IndexedDB drops all of it. Pruning the run's older
// checkpoints happens in that same transaction, so they go only once the new one is in.
//
// This file is the plain-Go part (names, ids, pruning, ordering), tested natively; the
// IndexedDB calls are in checkpointdb_js.go.

// The database shared by the page and the worker. Both open it with the same version and
// stores, so neither ever has to wait for the other to upgrade it.
const (
	DBName           = "cifar10"
	DBVersion        = 1
	StoreDataset     = "dataset"     // the dataset files (wasm/worker/dataset_js.go)
	StoreCheckpoints = "checkpoints" // checkpoint files and their list entries
)

// Key prefixes of the two records of a checkpoint in StoreCheckpoints.
const (
	metaPrefix = "meta/"
	filePrefix = "file/"
)

// CheckpointInfo is one stored checkpoint: its list entry in IndexedDB and its row in the
// checkpoints panel. Everything here was read from the file by the worker (which decoded and
// checked it) or is about where it came from.
type CheckpointInfo struct {
	// ID names the checkpoint's records: "<run>/<step, 12 digits>", so a run's checkpoints
	// sort by step and a step is saved once per run.
	ID string `json:"id"`
	// Run groups the checkpoints of one training run ("r<unix ms>" of its first save) or one
	// upload ("u<unix ms>"); Keep applies per run.
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

// CheckpointName is the name TensorFlow's Saver gives the checkpoint of a step, as the
// seed script's files were named: "cifar10.ckpt-<step>".
func CheckpointName(step int64) string { return "cifar10.ckpt-" + strconv.FormatInt(step, 10) }

// CheckpointFileName is the file name the native trainer writes for a step,
// "cifar10.ckpt-<step>.safetensors" (nn/checkpoint.FileName; a test keeps them equal).
func CheckpointFileName(step int64) string { return CheckpointName(step) + ".safetensors" }

// Name is the checkpoint's name, "cifar10.ckpt-<step>".
func (c CheckpointInfo) Name() string { return CheckpointName(c.Step) }

// FileName is the name its download gets.
func (c CheckpointInfo) FileName() string { return CheckpointFileName(c.Step) }

// Uploaded reports whether the checkpoint came from a file rather than a run in this page.
func (c CheckpointInfo) Uploaded() bool { return strings.HasPrefix(c.Run, "u") }

// CheckpointID is the id of a run's checkpoint at a step.
func CheckpointID(run string, step int64) string { return fmt.Sprintf("%s/%012d", run, step) }

// RunKey is the key of a run or upload group whose first checkpoint is stored at unixMilli.
func RunKey(upload bool, unixMilli int64) string {
	if upload {
		return "u" + strconv.FormatInt(unixMilli, 10)
	}
	return "r" + strconv.FormatInt(unixMilli, 10)
}

var (
	runKeyPattern = regexp.MustCompile(`^[ru][0-9]{1,19}$`)
	idPattern     = regexp.MustCompile(`^[ru][0-9]{1,19}/[0-9]{12,19}$`)
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

// MetaKey and FileKey are the IndexedDB keys of a checkpoint's two records.
func MetaKey(id string) string { return metaPrefix + id }

// FileKey is the key of a checkpoint's file bytes.
func FileKey(id string) string { return filePrefix + id }

// SortCheckpoints orders a list newest first: by the time stored, then by step, then by id,
// so the order is total and the first entry is the latest.
func SortCheckpoints(list []CheckpointInfo) {
	slices.SortStableFunc(list, func(a, b CheckpointInfo) int {
		return cmp.Or(cmp.Compare(b.Saved, a.Saved), cmp.Compare(b.Step, a.Step), cmp.Compare(b.ID, a.ID))
	})
}

// PruneCheckpoints returns the ids to remove when added is stored with keep checkpoints per
// run, as TensorFlow's Saver keeps max_to_keep: the run's checkpoints other than added, by
// step from the highest, beyond the keep-1 that stay with it. Other runs and uploads are
// never touched.
func PruneCheckpoints(list []CheckpointInfo, added CheckpointInfo, keep int) []string {
	var same []CheckpointInfo
	for _, c := range list {
		if c.Run == added.Run && c.ID != added.ID {
			same = append(same, c)
		}
	}
	slices.SortFunc(same, func(a, b CheckpointInfo) int { return cmp.Compare(b.Step, a.Step) })
	var out []string
	for i, c := range same {
		if i >= max(keep, 1)-1 {
			out = append(out, c.ID)
		}
	}
	return out
}

// NewestOfRun reports whether no checkpoint of c's run has a higher step: resuming from it
// continues the run (its next checkpoints join the same group); resuming from an older one
// starts a new group, so the run's later checkpoints are never overwritten.
func NewestOfRun(list []CheckpointInfo, c CheckpointInfo) bool {
	for _, o := range list {
		if o.Run == c.Run && o.Step > c.Step {
			return false
		}
	}
	return true
}

// ErrStorageFull is what storing a checkpoint returns when the browser's quota for the page
// is used up (IndexedDB's QuotaExceededError). Nothing stored before is lost.
var ErrStorageFull = errors.New("the browser's storage for this page is full")

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

// validate checks the checkpoint payloads of a message.
func (m Message) validateCheckpoint() error {
	switch {
	case m.Checkpoint != nil:
		return m.Checkpoint.Info.Validate()
	case m.Restore != nil:
		if !idPattern.MatchString(m.Restore.ID) {
			return fmt.Errorf("%s message: bad checkpoint id %q", m.Type, m.Restore.ID)
		}
		return m.Restore.Settings.Validate()
	case m.Upload != nil:
		if len(m.Files) != 1 {
			return fmt.Errorf("%s message: %d files attached, want the checkpoint file", m.Type, len(m.Files))
		}
	}
	return nil
}
