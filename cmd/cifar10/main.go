// Command cifar10 trains and evaluates the TensorFlow 1.x CIFAR-10 tutorial network natively,
// reproducing the tutorial script: `train` logs "Step %d, loss = %.2f (...)" every 10 steps,
// saves checkpoints and ends with the precision over the 10,000 test images; `eval` restores a
// checkpoint instead of training (the script's has_trained = True); `predict` prints what the
// network sees in test images or in one's own picture.
//
// Usage:
//
//	cifar10 train   [-data DIR|ARCHIVE] [-steps 1000] [-batch 128] [-seed 1] [-preset cifar10]
//	                [-lr 0] [-threads N] [-train-dir DIR] [-save-every 10] [-keep 5]
//	                [-resume] [-ckpt FILE] [-eval=true]
//	cifar10 eval    -ckpt FILE|DIR [-data DIR|ARCHIVE] [-preset P] [-batch 128] [-threads N]
//	cifar10 predict -ckpt FILE|DIR [-data DIR|ARCHIVE] [-n 10] [-json] [-image FILE]
//
// Errors are one line on stderr and a non-zero exit status (2 for bad usage).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cifar10: "+err.Error())
		if errors.As(err, new(usageError)) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// commands maps each subcommand to its function and one line of help.
var commands = map[string]struct {
	run  func(args []string, stdout, stderr io.Writer) error
	help string
}{
	"train":   {runTrain, "train the network, log every 10 steps, save checkpoints, print the test precision"},
	"eval":    {runEval, "restore a checkpoint and print its test precision, per-class accuracy and confusion matrix"},
	"predict": {runPredict, "print the predictions for test images (-n, -json) or for one's own picture (-image)"},
}

// run executes one command line (without the program name). Tests call it in-process.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing command: train, eval or predict (see cifar10 help)")}
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "-help" || name == "--help" {
		usage(stdout)
		return nil
	}
	cmd, ok := commands[name]
	if !ok {
		return usageError{fmt.Errorf("unknown command %q (want train, eval or predict; see cifar10 help)", name)}
	}
	return cmd.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: cifar10 <command> [flags]   (cifar10 <command> -h for the flags)")
	for _, name := range []string{"train", "eval", "predict"} {
		fmt.Fprintf(w, "  %-8s %s\n", name, commands[name].help)
	}
}

// usageError marks a bad command line, which exits with status 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }
