package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"cifar10/nn/checkpoint/ckptname"
	"cifar10/nn/safetensors"
)

// Entry is one checkpoint file found in a folder.
type Entry struct {
	Path    string    // folder joined with the file name
	Step    int64     // training step, from the file name
	Size    int64     // bytes
	ModTime time.Time // last write
}

// ErrNoCheckpoint is matched (errors.Is) by Latest's error for a folder without checkpoints, so
// a caller can start fresh instead of failing.
var ErrNoCheckpoint = errors.New("checkpoint: no checkpoint")

// noCheckpointError says which folder had no checkpoint and matches ErrNoCheckpoint.
type noCheckpointError struct{ dir string }

func (e *noCheckpointError) Error() string {
	return fmt.Sprintf("checkpoint: no checkpoint %s*%s in %s", ckptname.Prefix, ckptname.Ext, e.dir)
}

func (e *noCheckpointError) Is(target error) bool { return target == ErrNoCheckpoint }

// List returns the checkpoints in dir, oldest first by step (numerically: step 9 before 10).
// Temporary files, folders and any other names are ignored, so leftovers of an interrupted
// write or unrelated files never pass for checkpoints.
func List(dir string) ([]Entry, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: cannot list checkpoint folder %s: %w", dir, pathErr(err))
	}
	var list []Entry
	for _, de := range des {
		step, ok := ckptname.Parse(de.Name())
		if !ok || !de.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, de.Name())
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("checkpoint: cannot stat %s: %w", path, pathErr(err))
		}
		list = append(list, Entry{Path: path, Step: step, Size: info.Size(), ModTime: info.ModTime()})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Step < list[j].Step })
	return list, nil
}

// Latest returns the checkpoint with the highest step in dir: what "restore latest" loads.
// Without any, its error names the folder and matches ErrNoCheckpoint.
func Latest(dir string) (Entry, error) {
	list, err := List(dir)
	if err != nil {
		return Entry{}, err
	}
	if len(list) == 0 {
		return Entry{}, &noCheckpointError{dir: dir}
	}
	return list[len(list)-1], nil
}

// ReadFile reads and strictly parses a checkpoint file, naming the file in any error, so a
// truncated or foreign upload is reported clearly before anything is restored from it.
func ReadFile(path string) (*safetensors.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: cannot read %s: %w", path, pathErr(err))
	}
	f, err := safetensors.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s is not a valid checkpoint file: %w", path, err)
	}
	return f, nil
}

// testHookBeforeRename runs after the temporary file is written and synced, just before it is
// renamed into place; tests use it to look at the folder mid-write or to simulate a crash.
var testHookBeforeRename = func(tmpPath string) error { return nil }

// WriteAtomic saves data as the checkpoint for step in dir and returns its path. The data goes
// to a temporary file in the same folder, is synced, renamed to ckptname.File(step) and the folder is
// synced, so the file appears whole or not at all: a crash leaves at most a temporary file, which
// List and Latest ignore and the next WriteAtomic removes. Only then are old checkpoints pruned so
// that at most keep remain (keep <= 0 keeps all); the file just written is never pruned, even if
// older-numbered than the rest. Data that is not a valid safetensors file is refused, so a bug
// can never push good checkpoints out. If an error happens after the rename (folder sync or
// pruning), the returned path is set: the checkpoint exists. One writer per folder is assumed.
func WriteAtomic(dir string, step int64, data []byte, keep int) (string, error) {
	name := ckptname.File(step)
	if step < 0 {
		return "", fmt.Errorf("checkpoint: cannot write step %d in %s: steps start at 0", step, dir)
	}
	if _, err := safetensors.Parse(data); err != nil {
		return "", fmt.Errorf("checkpoint: refusing to write %s in %s, the data is not a valid file: %w", name, dir, err)
	}
	if err := checkFolder(dir); err != nil {
		return "", err
	}
	tmp, err := writeTemp(dir, step, data)
	if err != nil {
		return "", err
	}
	final := filepath.Join(dir, name)
	if err := testHookBeforeRename(tmp); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("checkpoint: cannot move the temporary file to %s: %w", final, linkErr(err))
	}
	if err := syncDir(dir); err != nil {
		return final, err
	}
	return final, prune(dir, step, keep)
}

// checkFolder makes sure dir exists and is a folder, for a clear error before any write.
func checkFolder(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("checkpoint: cannot use checkpoint folder %s: %w", dir, pathErr(err))
	}
	if !info.IsDir() {
		return fmt.Errorf("checkpoint: cannot use checkpoint folder %s: it is not a folder", dir)
	}
	return nil
}

// writeTemp writes data to a new synced temporary file in dir and returns its path; on failure
// nothing is left behind.
func writeTemp(dir string, step int64, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, tempPattern(step))
	if err != nil {
		return "", fmt.Errorf("checkpoint: cannot create a temporary file in %s: %w", dir, pathErr(err))
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644) // a checkpoint is an ordinary file, as TensorFlow's are
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("checkpoint: cannot write %s: %w", f.Name(), pathErr(err))
	}
	return f.Name(), nil
}

// syncDir flushes the folder entry of the renamed file to disk, so the rename survives a power
// loss. Windows cannot sync a folder and makes renames durable by itself.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err == nil {
		err = d.Sync()
		if cerr := d.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("checkpoint: cannot sync checkpoint folder %s: %w", dir, pathErr(err))
	}
	return nil
}

// prune removes leftover temporary files, then the oldest checkpoints other than step until at
// most keep remain (keep <= 0: none are removed).
func prune(dir string, step int64, keep int) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("checkpoint: saved %s but cannot list %s to prune it: %w", ckptname.File(step), dir, pathErr(err))
	}
	for _, de := range des {
		if isTempName(de.Name()) && de.Type().IsRegular() {
			if err := remove(filepath.Join(dir, de.Name())); err != nil {
				return fmt.Errorf("checkpoint: saved %s but %w", ckptname.File(step), err)
			}
		}
	}
	if keep <= 0 {
		return nil
	}
	list, err := List(dir)
	if err != nil {
		return err
	}
	var others []Entry
	for _, e := range list {
		if e.Step != step {
			others = append(others, e)
		}
	}
	for len(others) > keep-1 {
		if err := remove(others[0].Path); err != nil {
			return fmt.Errorf("checkpoint: saved %s but %w", ckptname.File(step), err)
		}
		others = others[1:]
	}
	return nil
}

// remove deletes a file, treating one that is already gone as removed.
func remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot remove old file %s: %w", path, pathErr(err))
	}
	return nil
}

// pathErr drops the path from an *fs.PathError, whose text our messages already hold, keeping
// the cause (so errors.Is(err, fs.ErrNotExist) still works).
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// linkErr drops the paths from an *os.LinkError (from Rename), keeping the cause.
func linkErr(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
