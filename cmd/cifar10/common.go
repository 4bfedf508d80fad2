package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"cifar10/nn"
	"cifar10/nn/checkpoint"
	"cifar10/nn/cifar"
	"cifar10/nn/training/seedlog"
)

// defaultData is the parent of the seed script's data_dir; Load also takes the folder itself.
const defaultData = "/tmp/cifar10_data"

// commonFlags are the flags every command shares.
type commonFlags struct {
	data    string
	preset  string
	batch   int
	threads int
}

// newFlagSet makes a flag set that reports errors to us instead of printing them, so that a
// bad flag is one line on stderr.
func newFlagSet(name, synopsis string, c *commonFlags, defaultPreset string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: cifar10 %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.data, "data", defaultData, "CIFAR-10 binary data: the folder with the .bin files, its parent, or a cifar-10-binary*.tar.gz archive")
	fs.StringVar(&c.preset, "preset", defaultPreset, "model preset: "+strings.Join(nn.PresetNames(), " or "))
	fs.IntVar(&c.batch, "batch", 128, "examples per batch")
	fs.IntVar(&c.threads, "threads", runtime.NumCPU(), "threads the engine computes with")
	return fs
}

// parseFlags parses args and returns the names of the flags given. With -h it prints the usage
// to stdout and reports help = true, so the command returns without doing anything.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer, c *commonFlags) (set map[string]bool, help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, true, nil
		}
		return nil, false, usageError{fmt.Errorf("%s: %v (see cifar10 %s -h)", fs.Name(), err, fs.Name())}
	}
	if fs.NArg() > 0 {
		return nil, false, usageError{fmt.Errorf("%s: unexpected argument %q (flags come as -name value)", fs.Name(), fs.Arg(0))}
	}
	set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.batch < 1 || c.threads < 1 {
		return nil, false, usageError{fmt.Errorf("%s: -batch %d and -threads %d must be at least 1", fs.Name(), c.batch, c.threads)}
	}
	if c.preset != "" {
		if _, err := nn.Preset(c.preset); err != nil {
			return nil, false, usageError{fmt.Errorf("%s: -preset %q is not a preset (want %s)", fs.Name(), c.preset, strings.Join(nn.PresetNames(), " or "))}
		}
	}
	return set, false, nil
}

// loadData reads the data set, adding how to get it to the error.
func loadData(src string) (*cifar.Data, error) {
	d, err := cifar.Load(src)
	if err != nil {
		return nil, fmt.Errorf("%v; run `make data`, or pass -data with the folder of .bin files or a cifar-10-binary.tar.gz archive", err)
	}
	return d, nil
}

// openCheckpoint loads path, a checkpoint file or a folder whose newest checkpoint is used.
// When that newest one is unusable, the error names it and the older ones: another one is only
// used when the user names it, so nothing is silently skipped.
func openCheckpoint(path, preset string) (*checkpoint.Checkpoint, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", fmt.Errorf("checkpoint %s: %w", path, errors.Unwrap(err))
	}
	if !st.IsDir() {
		ck, err := checkpoint.Load(path, preset)
		return ck, path, err
	}
	latest, err := checkpoint.Latest(path)
	if err != nil {
		return nil, "", err
	}
	ck, err := checkpoint.Load(latest.Path, preset)
	if err != nil {
		return nil, "", fmt.Errorf("the newest checkpoint is unusable: %v%s", err, olderHint(path, latest.Step))
	}
	return ck, latest.Path, nil
}

// olderHint lists the checkpoints of dir older than step, for an error about the newest.
func olderHint(dir string, step int64) string {
	list, err := checkpoint.List(dir)
	if err != nil {
		return ""
	}
	var older []string
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Step < step {
			older = append(older, filepath.Base(list[i].Path))
		}
	}
	if len(older) == 0 {
		return " (there is no older checkpoint in " + dir + ")"
	}
	return fmt.Sprintf(" (older ones in %s: %s; pass one with -ckpt to use it)", dir, strings.Join(older, ", "))
}

// evaluate runs tr over the whole test set: the tutorial's precision@1, counted exactly.
func evaluate(tr *nn.Trainer, test *cifar.Set) (nn.Evaluation, error) {
	crop := tr.Model().Spec().Input[0]
	return tr.Evaluate(test.Len(), func(start int, images []float32, labels []uint8) error {
		cifar.EvalBatch(test, start, len(labels), crop, images, labels)
		return nil
	}, nil)
}

// printPrecision prints the line the tutorial ends with.
func printPrecision(w io.Writer, ev nn.Evaluation) {
	fmt.Fprintln(w, seedlog.Precision(ev.Precision()))
}
