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

// recipeFlags choose the recipe and the test-time augmentation of a command.
type recipeFlags struct {
	recipe string // "" (the preset's) or nn.RecipeAirbench
	tta    int    // -1: the recipe's
}

// addTTAFlag registers -tta.
func (f *recipeFlags) addTTAFlag(fs *flag.FlagSet) {
	fs.IntVar(&f.tta, "tta", -1, "test-time augmentation of the final evaluation, reported beside the plain precision: 0 none, 1 flip, 2 flip and translate (default: the recipe's)")
}

// check refuses an unknown recipe or augmentation level.
func (f *recipeFlags) check(cmd string) error {
	switch {
	case f.recipe != "" && f.recipe != nn.RecipeAirbench:
		return fmt.Errorf("%s: -recipe %q is not a recipe (want %s, or none for the preset's)", cmd, f.recipe, nn.RecipeAirbench)
	case f.tta < -1 || f.tta > int(nn.TTAFlipTranslate):
		return fmt.Errorf("%s: -tta %d, want 0, 1 or 2", cmd, f.tta)
	}
	return nil
}

// recipeOf is the recipe a run trains with: -recipe's for batches of batch, else own.
func (f *recipeFlags) recipeOf(own nn.Recipe, batch int) nn.Recipe {
	if f.recipe == nn.RecipeAirbench {
		r, _ := nn.Airbench(batch)
		return r
	}
	return own
}

// level is the test-time augmentation to evaluate tr's model with: -tta, else its recipe's.
func (f *recipeFlags) level(tr *nn.Trainer) nn.TTA {
	if f.tta >= 0 {
		return nn.TTA(f.tta)
	}
	return tr.Model().Spec().Recipe.TTA
}

// printPrecision prints the line the tutorial ends with, then one per level of test-time
// augmentation evaluated.
func printPrecision(w io.Writer, evs []nn.Evaluation) {
	fmt.Fprintln(w, seedlog.Precision(evs[0].Precision()))
	for l, ev := range evs[1:] {
		fmt.Fprintln(w, seedlog.PrecisionWith(nn.TTA(l+1).String(), ev.Precision()))
	}
}
