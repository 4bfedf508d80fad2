package wasm

import (
	"cmp"
	"errors"
	"slices"

	"cifar10/wasm/protocol"
)

// Checkpoints in the browser live in IndexedDB, database DBName, object store
// StoreCheckpoints, as two records per checkpoint written in one transaction:
//
//	"file/<id>"  the checkpoint file's bytes (an ArrayBuffer), exactly what Download gives
//	"meta/<id>"  its protocol.CheckpointInfo as JSON: the list's row
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

// MetaKey and FileKey are the IndexedDB keys of a checkpoint's two records.
func MetaKey(id string) string { return metaPrefix + id }

// FileKey is the key of a checkpoint's file bytes.
func FileKey(id string) string { return filePrefix + id }

// SortCheckpoints orders a list newest first: by the time stored, then by step, then by id,
// so the order is total and the first entry is the latest.
func SortCheckpoints(list []protocol.CheckpointInfo) {
	slices.SortStableFunc(list, func(a, b protocol.CheckpointInfo) int {
		return cmp.Or(cmp.Compare(b.Saved, a.Saved), cmp.Compare(b.Step, a.Step), cmp.Compare(b.ID, a.ID))
	})
}

// PruneCheckpoints returns the ids to remove when added is stored with keep checkpoints per
// run, as TensorFlow's Saver keeps max_to_keep: the run's checkpoints other than added, by
// step from the highest, beyond the keep-1 that stay with it. Other runs and uploads are
// never touched.
func PruneCheckpoints(list []protocol.CheckpointInfo, added protocol.CheckpointInfo, keep int) []string {
	var same []protocol.CheckpointInfo
	for _, c := range list {
		if c.Run == added.Run && c.ID != added.ID {
			same = append(same, c)
		}
	}
	slices.SortFunc(same, func(a, b protocol.CheckpointInfo) int { return cmp.Compare(b.Step, a.Step) })
	var out []string
	for i, c := range same {
		if i >= max(keep, 1)-1 {
			out = append(out, c.ID)
		}
	}
	return out
}

// NewestOfRun reports whether no checkpoint of c's run has a higher step: resuming from it
// continues the run (its next checkpoints are stored under the same run key); resuming from
// an older one starts a new run key, so the run's later checkpoints are never overwritten.
func NewestOfRun(list []protocol.CheckpointInfo, c protocol.CheckpointInfo) bool {
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
