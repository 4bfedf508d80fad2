package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"syscall"
	"time"

	"cifar10/nn"
	"cifar10/nn/checkpoint"
	"cifar10/nn/cifar"
	"cifar10/nn/training"
	"cifar10/nn/training/seedlog"
)

// trainFlags are train's command line.
type trainFlags struct {
	commonFlags
	steps     int64
	seed      uint64
	lr        float64
	trainDir  string
	saveEvery int64
	keep      int
	resume    bool
	ckpt      string
	eval      bool
	exact     bool
	recipeFlags
	evalEvery  int64
	evalImages int
	set        map[string]bool // flags given explicitly
}

func parseTrainFlags(args []string, stdout io.Writer) (*trainFlags, bool, error) {
	f := &trainFlags{}
	fs := newFlagSet("train", "[flags]", &f.commonFlags, "cifar10")
	fs.Int64Var(&f.steps, "steps", 1000, "train until this many steps (updates) are done in total, as the script's max_steps")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the initialization, data order and augmentation")
	fs.Float64Var(&f.lr, "lr", 0, "learning rate (0: the preset's, 1e-3 for cifar10's Adam, 0.01 for cs231n's momentum; a resumed run keeps its own)")
	fs.StringVar(&f.trainDir, "train-dir", "", "save cifar10.ckpt-<step>.safetensors checkpoints in this folder (none when empty)")
	fs.Int64Var(&f.saveEvery, "save-every", 10, "save a checkpoint every this many steps (and at the end)")
	fs.IntVar(&f.keep, "keep", 5, "keep the newest this many checkpoints (0 keeps all)")
	fs.BoolVar(&f.resume, "resume", false, "continue from the newest checkpoint in -train-dir")
	fs.StringVar(&f.ckpt, "ckpt", "", "continue (or fine-tune) from this checkpoint file")
	fs.BoolVar(&f.eval, "eval", true, "evaluate on the test set at the end")
	fs.BoolVar(&f.exact, "exact", false, "compute each batch in the browser's fixed shards (nn/shard), so a build without GOEXPERIMENT=simd ends with the same bits as the tab; about a third slower")
	fs.StringVar(&f.recipe, "recipe", "", "train with this recipe instead of the preset's: "+nn.RecipeAirbench+" (Nesterov, triangular schedule, label smoothing, weight averaging, 32x32 flip + translate, test-time augmentation; presets with 32x32 inputs)")
	fs.Int64Var(&f.evalEvery, "eval-every", 0, "log the precision on the first -eval-images test images every this many steps (default: once an epoch for a preset with a recipe, else never)")
	fs.IntVar(&f.evalImages, "eval-images", 2000, "size of the test slice of -eval-every (0: the whole test set)")
	f.addTTAFlag(fs)
	set, help, err := parseFlags(fs, args, stdout, &f.commonFlags)
	if err != nil || help {
		return nil, help, err
	}
	f.set = set
	switch {
	case f.steps < 0 || f.saveEvery < 1 || f.keep < 0:
		err = fmt.Errorf("train: -steps %d, -save-every %d and -keep %d must not be negative (-save-every at least 1)", f.steps, f.saveEvery, f.keep)
	case f.lr < 0 || math.IsNaN(f.lr) || math.IsInf(f.lr, 0):
		err = fmt.Errorf("train: -lr %v must be a positive number (or 0 for the preset's)", f.lr)
	case f.resume && f.trainDir == "":
		err = errors.New("train: -resume needs -train-dir, the folder to resume from")
	case f.resume && f.ckpt != "":
		err = errors.New("train: give -resume (newest in -train-dir) or -ckpt FILE, not both")
	case f.evalEvery < 0 || f.evalImages < 0:
		err = fmt.Errorf("train: -eval-every %d and -eval-images %d must not be negative", f.evalEvery, f.evalImages)
	default:
		err = f.recipeFlags.check("train")
	}
	if err != nil {
		return nil, false, usageError{err}
	}
	return f, false, nil
}

// session is the command's side of a training run (nn/training): where it saves, what it
// saved last and where it prints.
type session struct {
	f        *trainFlags
	run      *training.Run
	test     *cifar.Set // the test set, for the evaluations
	saved    int64      // step of the last checkpoint this run wrote, -1 for none
	lastGood string     // path of the newest checkpoint known good: the start or the last save
	stdout   io.Writer
	stderr   io.Writer
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	f, help, err := parseTrainFlags(args, stdout)
	if err != nil || help {
		return err
	}
	s, err := startSession(f, stdout, stderr)
	if err != nil {
		return err
	}
	defer s.run.Close()
	if err := s.checkTrainDir(); err != nil {
		return err
	}
	data, err := loadData(f.data)
	if err != nil {
		return err
	}
	if err := s.run.SetTrain(data.Train); err != nil {
		return err
	}
	s.test = data.Test
	if err := s.loop(); err != nil {
		return err
	}
	if err := s.finalSave(); err != nil {
		return err
	}
	if !f.eval {
		return nil
	}
	return s.evaluate(data.Test)
}

// startSession makes the run: from a checkpoint (-resume, -ckpt) or fresh.
func startSession(f *trainFlags, stdout, stderr io.Writer) (*session, error) {
	s := &session{f: f, saved: -1, stdout: stdout, stderr: stderr}
	ck, err := s.startCheckpoint()
	if err != nil {
		return nil, err
	}
	if ck == nil {
		spec, err := nn.Preset(f.preset)
		if err != nil {
			return nil, err
		}
		f.defaults(f.recipeOf(spec.Recipe, f.batch), 0)
		s.run, err = training.New(s.config())
		return s, err
	}
	if err := s.restore(ck); err != nil {
		return nil, err
	}
	return s, nil
}

// config is the run the flags describe. Without -exact, batches are trained whole: the
// fastest use of the cores, whose results differ from the tab's sharded sums only by float
// rounding. With it they are computed in shards, as the browser's workers compute them, so a
// seed gives the same weights here as in a tab with any number of workers (nn/shard).
func (s *session) config() training.Config {
	cfg := training.Config{
		Preset: s.f.preset, Seed: s.f.seed, Batch: s.f.batch, Steps: s.f.steps,
		SaveEvery: s.f.saveEvery, Keep: s.f.keep, Threads: s.f.threads, WholeBatch: !s.f.exact,
		EvalEvery: s.f.evalEvery, EvalImages: s.f.evalImages,
	}
	if s.f.set["lr"] {
		cfg.LR = s.f.lr
	}
	if s.f.recipe == nn.RecipeAirbench {
		r, o := nn.Airbench(s.f.batch)
		cfg.Recipe, cfg.Optimizer = &r, &o
	}
	return cfg
}

// defaults fills in what the flags left to the recipe: its batch, its length in epochs (or,
// resuming, the length steps of the run's schedule) and a precision log once an epoch.
func (f *trainFlags) defaults(r nn.Recipe, steps int64) {
	if !f.set["batch"] && r.Batch > 0 {
		f.batch = r.Batch
	}
	switch {
	case f.set["steps"]:
	case steps > 0:
		f.steps = steps
	case r.Epochs > 0:
		f.steps = int64(math.Ceil(r.Epochs * cifar.TrainImages / float64(f.batch)))
	}
	if !f.set["eval-every"] && r != (nn.Recipe{}) {
		f.evalEvery = int64(math.Ceil(cifar.TrainImages / float64(f.batch)))
	}
}

// startCheckpoint returns the checkpoint to start from, or nil to start fresh.
func (s *session) startCheckpoint() (*checkpoint.Checkpoint, error) {
	want := ""
	if s.f.set["preset"] {
		want = s.f.preset
	}
	path := s.f.ckpt
	if s.f.resume {
		path = s.f.trainDir
		if _, err := checkpoint.Latest(path); errors.Is(err, checkpoint.ErrNoCheckpoint) || errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(s.stderr, "no checkpoint in %s yet: starting from step 0\n", path)
			return nil, nil
		}
	}
	if path == "" {
		return nil, nil
	}
	ck, file, err := openCheckpoint(path, want)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(s.stderr, "starting from %s (preset %s, step %d)\n", file, ck.Spec.Name, ck.Step)
	s.lastGood = file
	return ck, nil
}

// restore continues a run exactly from a resumable checkpoint, or fine-tunes the weights of a
// weights-only one with a fresh optimizer. Flags that contradict a resumable run are refused.
func (s *session) restore(ck *checkpoint.Checkpoint) error {
	if ck.Resumable() {
		for _, c := range []struct {
			flag       string
			given, own any
		}{{"seed", s.f.seed, ck.Run.Seed}, {"batch", s.f.batch, ck.Run.Batch}} {
			if s.f.set[c.flag] && c.given != c.own {
				return usageError{fmt.Errorf("train: -%s %v differs from the checkpoint's %v; drop -%s to resume the run exactly", c.flag, c.given, c.own, c.flag)}
			}
		}
		if s.f.recipe != "" && !s.f.sameRecipe(ck) {
			return usageError{fmt.Errorf("train: the checkpoint's run was not trained with -recipe %s; drop -recipe to resume it exactly", s.f.recipe)}
		}
	}
	var steps int64
	if ck.Optimizer != nil {
		steps = ck.Optimizer.Steps
	}
	batch := s.f.batch
	if ck.Resumable() {
		batch = ck.Run.Batch
	}
	recipe := ck.Spec.Recipe
	if ck.Optimizer == nil {
		recipe = s.f.recipeOf(recipe, batch)
	}
	s.f.defaults(recipe, steps)
	run, err := training.FromCheckpoint(ck, s.config())
	if err != nil {
		return err
	}
	s.run = run
	if !ck.Resumable() {
		fmt.Fprintf(s.stderr, "the checkpoint holds weights only: fine-tuning them with a fresh %s optimizer from step 0\n", run.Optimizer().Config().Kind)
	}
	return nil
}

// sameRecipe reports whether ck's run trains with -recipe's recipe and optimizer (at its
// learning rate and length, which -lr and -steps may have set), so repeating the command line
// that started a run, plus -resume, continues it.
func (f *trainFlags) sameRecipe(ck *checkpoint.Checkpoint) bool {
	r, o := nn.Airbench(ck.Run.Batch)
	saved := *ck.Optimizer
	o.LR, o.Steps = saved.LR, saved.Steps
	return r == ck.Spec.Recipe && reflect.DeepEqual(o, saved)
}

// checkTrainDir creates the checkpoint folder and refuses to start when it already holds
// checkpoints beyond the starting step: they would be overwritten or pruned, and nothing is
// ever lost silently.
func (s *session) checkTrainDir() error {
	dir := s.f.trainDir
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create -train-dir: %w", err)
	}
	list, err := checkpoint.List(dir)
	if err != nil {
		return err
	}
	start := s.run.StepsDone()
	for _, e := range list {
		if e.Step > start {
			newest := list[len(list)-1].Path
			if start == 0 {
				return fmt.Errorf("%s already holds checkpoints (newest %s); pass -resume to continue from it, or choose another -train-dir (nothing was changed)", dir, filepath.Base(newest))
			}
			return fmt.Errorf("%s holds checkpoints newer than step %d (newest %s) that this run would overwrite; move them away or choose another -train-dir (nothing was changed)", dir, start, filepath.Base(newest))
		}
	}
	return nil
}

// loop trains until -steps updates are done, logging like the tutorial and saving when a
// checkpoint is due. A NaN or infinite loss stops it before anything more is saved; an
// interrupt (Ctrl-C) stops it after the current step and saves.
func (s *session) loop() error {
	ctx, stop := interruptContext()
	defer stop()
	r := s.run
	if r.Finished() {
		fmt.Fprintf(s.stderr, "already at step %d (-steps %d): nothing to train\n", r.StepsDone(), s.f.steps)
	}
	var trained int64
	var seconds float64 // of the steps alone: no evaluation, no saving
	for !r.Finished() {
		step := r.StepsDone()
		start := time.Now()
		loss := r.Step()
		duration := time.Since(start).Seconds()
		trained, seconds = trained+1, seconds+duration
		if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
			return s.diverged(step, loss)
		}
		if r.LogDue() {
			fmt.Fprintln(s.stdout, seedlog.Line(step, loss, float64(r.Config().Batch)/duration, duration))
		}
		if r.EvalDue() {
			if err := s.logPrecision(); err != nil {
				return err
			}
		}
		if r.CheckpointDue() {
			if err := s.save(nil); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return s.interrupted()
		}
	}
	if trained > 0 {
		examples := trained * int64(r.Config().Batch)
		fmt.Fprintf(s.stderr, "trained %d steps (%d examples) in %.1f s: %.1f examples/sec\n", trained, examples, seconds, float64(examples)/seconds)
	}
	return nil
}

// interruptContext is done when the user interrupts training; tests replace it.
var interruptContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// diverged reports a NaN or infinite loss; the model is not saved.
func (s *session) diverged(step int64, loss float32) error {
	last := "nothing was saved"
	if s.lastGood != "" {
		last = "nothing was saved after " + s.lastGood
	}
	return fmt.Errorf("training diverged: the loss is %v at step %d (try a lower -lr); %s", loss, step, last)
}

// interrupted saves the state reached (when there is a -train-dir) and reports the stop.
func (s *session) interrupted() error {
	if err := s.finalSave(); err != nil {
		return err
	}
	if s.saved == s.run.StepsDone() {
		return fmt.Errorf("interrupted with %d steps done; saved %s, continue with -resume", s.saved, s.lastGood)
	}
	return fmt.Errorf("interrupted with %d steps done (nothing saved without -train-dir)", s.run.StepsDone())
}

// finalSave saves the end state unless it was just saved or nothing was trained.
func (s *session) finalSave() error {
	if _, trained := s.run.Loss(); s.saved == s.run.StepsDone() || !trained {
		return nil
	}
	return s.save(nil)
}

// save writes the checkpoint of the current step to -train-dir (nothing without one).
func (s *session) save(precision *float64) error {
	if s.f.trainDir == "" {
		return nil
	}
	step := s.run.StepsDone()
	data, err := s.run.Encode(time.Now(), precision)
	if err != nil {
		return fmt.Errorf("step %d not saved: %w", step, err)
	}
	path, err := checkpoint.WriteAtomic(s.f.trainDir, step, data, s.run.Config().Keep)
	if err != nil {
		return err
	}
	s.saved, s.lastGood = step, path
	return nil
}

// evaluate prints the test precision (and with test-time augmentation, when the recipe or
// -tta asks for it) and records the plain one in the final checkpoint written by this run
// (rewritten atomically with the same tensors).
func (s *session) evaluate(test *cifar.Set) error {
	tr := s.run.Trainer()
	evs, err := training.Evaluate(tr, test, 0, s.f.level(tr), nil)
	if err != nil {
		return err
	}
	printPrecision(s.stdout, evs)
	if s.saved >= 0 && s.saved == s.run.StepsDone() {
		return s.save(ptr(evs[0].Precision()))
	}
	return nil
}

// logPrecision prints the precision on the run's fixed slice of the test set (plain: it is a
// progress figure).
func (s *session) logPrecision() error {
	evs, err := training.Evaluate(s.run.Trainer(), s.test, s.f.evalImages, nn.TTANone, nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(s.stdout, seedlog.SlicePrecision(s.run.StepsDone(), evs[0].Total, evs[0].Precision()))
	return nil
}

func ptr(x float64) *float64 { return &x }
