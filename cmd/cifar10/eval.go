package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"cifar10/nn"
	"cifar10/nn/training"
)

// evalFlags are the flags of eval and predict: which checkpoint and data.
type evalFlags struct {
	commonFlags
	recipeFlags
	ckpt string
	set  map[string]bool
}

// addCheckpointFlag registers -ckpt, required by eval and predict.
func (f *evalFlags) addCheckpointFlag(fs *flag.FlagSet) {
	fs.StringVar(&f.ckpt, "ckpt", "", "checkpoint file, or a folder whose newest checkpoint is used (the script's has_trained = True)")
}

// restoreModel opens the checkpoint of -ckpt and makes an evaluation-only trainer for it.
func (f *evalFlags) restoreModel(cmd string, stderr io.Writer) (*nn.Trainer, error) {
	if f.ckpt == "" {
		return nil, usageError{fmt.Errorf("%s: -ckpt FILE|DIR is required (the checkpoint to use)", cmd)}
	}
	want := ""
	if f.set["preset"] {
		want = f.preset
	}
	ck, path, err := openCheckpoint(f.ckpt, want)
	if err != nil {
		return nil, err
	}
	m, err := ck.NewModel()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "restored %s (preset %s, step %d)\n", path, ck.Spec.Name, ck.Step)
	return nn.NewTrainer(m, nil, f.batch, f.threads)
}

func runEval(args []string, stdout, stderr io.Writer) error {
	f := &evalFlags{}
	fs := newFlagSet("eval", "-ckpt FILE|DIR [flags]", &f.commonFlags, "")
	f.addCheckpointFlag(fs)
	f.addTTAFlag(fs)
	set, help, err := parseFlags(fs, args, stdout, &f.commonFlags)
	if err != nil || help {
		return err
	}
	if err := f.check("eval"); err != nil {
		return usageError{err}
	}
	f.set = set
	tr, err := f.restoreModel("eval", stderr)
	if err != nil {
		return err
	}
	defer tr.Close()
	data, err := loadData(f.data)
	if err != nil {
		return err
	}
	evs, err := training.Evaluate(tr, data.Test, 0, f.level(tr), nil)
	if err != nil {
		return err
	}
	printPrecision(stdout, evs)
	printClasses(stdout, evs[0], data.ClassNames)
	return nil
}

// printClasses prints the per-class accuracy and the confusion matrix.
func printClasses(w io.Writer, ev nn.Evaluation, names []string) {
	fmt.Fprintf(w, "correct: %d of %d\n\nper-class accuracy:\n", ev.Correct, ev.Total)
	for c, row := range ev.Confusion {
		total := 0
		for _, n := range row {
			total += n
		}
		acc := 0.0
		if total > 0 {
			acc = float64(row[c]) / float64(total)
		}
		fmt.Fprintf(w, "  %-10s %.4f  (%d of %d)\n", names[c], acc, row[c], total)
	}
	fmt.Fprintf(w, "\nconfusion matrix (rows: true class, columns: predicted class):\n%-10s", "")
	for c := range ev.Confusion {
		fmt.Fprintf(w, " %6s", short(names[c]))
	}
	fmt.Fprintln(w)
	for c, row := range ev.Confusion {
		fmt.Fprintf(w, "%-10s", names[c])
		for _, n := range row {
			fmt.Fprintf(w, " %6d", n)
		}
		fmt.Fprintln(w)
	}
}

// short abbreviates a class name to a matrix column.
func short(name string) string {
	if len(name) > 6 {
		return strings.TrimSpace(name[:6])
	}
	return name
}
