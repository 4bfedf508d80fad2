package checkpoint

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"cifar10/nn"
	"cifar10/nn/safetensors"
)

// Encode writes a checkpoint as safetensors bytes (no file system involved, so the browser
// worker uses it too). The file holds m's parameters under their TensorFlow names and the
// metadata format and preset, and the model's recipe (how its inputs are made and its loss
// smoothed, which evaluation and resuming need) unless both it and the preset's are the
// tutorial's zero recipe, so the tutorial's files stay as they were. With an optimizer it also holds the slots, the global step, the
// data position of run (whose Batch must then be positive) and the optimizer's hyperparameters,
// which is everything an exact resume needs. With opt nil it is a weights-only export.
// run's Time, Loss and Precision are written when set. Encode refuses NaN or infinite values
// (and a loss or precision that is not a finite measure), so a diverged run can never be saved
// over a good checkpoint.
func Encode(m *nn.Model, opt nn.Optimizer, run Run) ([]byte, error) {
	return AppendEncode(nil, m, opt, run)
}

// AppendEncode is Encode appending the file to dst (safetensors.AppendMarshal), for a caller
// that saves again and again into one buffer.
func AppendEncode(dst []byte, m *nn.Model, opt nn.Optimizer, run Run) ([]byte, error) {
	spec := m.Spec()
	preset, err := nn.Preset(spec.Name)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: cannot save model %q: only preset models can be saved (%v)", spec.Name, err)
	}
	meta := map[string]string{keyFormat: FormatVersion, keyPreset: spec.Name}
	if spec.Recipe != (nn.Recipe{}) || preset.Recipe != (nn.Recipe{}) {
		recipe, err := json.Marshal(spec.Recipe)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: cannot save the recipe: %w", err)
		}
		meta[keyRecipe] = string(recipe)
	}
	tensors, err := floatTensors(m.Params())
	if err != nil {
		return nil, err
	}
	if opt != nil {
		slots, err := floatTensors(opt.Slots())
		if err != nil {
			return nil, err
		}
		state, err := trainingState(opt, run, meta)
		if err != nil {
			return nil, err
		}
		tensors = append(append(tensors, slots...), state...)
	}
	if err := measurements(run, meta); err != nil {
		return nil, err
	}
	return safetensors.AppendMarshal(dst, &safetensors.File{Metadata: meta, Tensors: tensors})
}

// floatTensors converts parameters (or slots) to F32 tensors, refusing non-finite values.
func floatTensors(ps []*nn.Param) ([]safetensors.Tensor, error) {
	out := make([]safetensors.Tensor, 0, len(ps))
	for _, p := range ps {
		if i, v, ok := firstNonFinite(p.Data()); !ok {
			return nil, fmt.Errorf("checkpoint: cannot save %s: it holds %v at index %d (training diverged?)", p.Name, v, i)
		}
		out = append(out, safetensors.F32View(p.Name, p.Shape(), p.Data())) // marshalled before Encode returns
	}
	return out, nil
}

// firstNonFinite finds the first NaN or infinity in v; ok is true when there is none.
func firstNonFinite(v []float32) (index int, value float32, ok bool) {
	for i, x := range v {
		if x-x != 0 { // NaN - NaN and Inf - Inf are NaN; every finite x gives 0
			return i, x, false
		}
	}
	return 0, 0, true
}

// trainingState makes the I64 scalars (global step and data position) and writes the
// optimizer's hyperparameters and the same numbers to meta.
func trainingState(opt nn.Optimizer, run Run, meta map[string]string) ([]safetensors.Tensor, error) {
	if run.Batch < 1 || run.Examples < 0 {
		return nil, fmt.Errorf("checkpoint: cannot save a data position with batch %d and %d examples consumed", run.Batch, run.Examples)
	}
	cfg, err := json.Marshal(opt.Config())
	if err != nil {
		return nil, fmt.Errorf("checkpoint: cannot save the optimizer configuration: %w", err)
	}
	step := opt.Steps()
	meta[keyOptimizer] = string(cfg)
	meta[keyStep] = strconv.FormatInt(step, 10)
	meta[keySeed] = strconv.FormatUint(run.Seed, 10)
	meta[keyBatch] = strconv.Itoa(run.Batch)
	meta[keyExamples] = strconv.FormatInt(run.Examples, 10)
	return []safetensors.Tensor{
		safetensors.I64(StepTensor, nil, []int64{step}),
		safetensors.I64(SeedTensor, nil, []int64{int64(run.Seed)}),
		safetensors.I64(BatchTensor, nil, []int64{int64(run.Batch)}),
		safetensors.I64(ExamplesTensor, nil, []int64{run.Examples}),
	}, nil
}

// measurements writes the time, loss and precision of run to meta when they are known.
func measurements(run Run, meta map[string]string) error {
	if !run.Time.IsZero() {
		meta[keyTime] = run.Time.UTC().Format(time.RFC3339)
	}
	if run.Loss != nil {
		if math.IsNaN(*run.Loss) || math.IsInf(*run.Loss, 0) {
			return fmt.Errorf("checkpoint: cannot save a loss of %v (training diverged?)", *run.Loss)
		}
		meta[keyLoss] = strconv.FormatFloat(*run.Loss, 'g', -1, 64)
	}
	if run.Precision != nil {
		if p := *run.Precision; !(p >= 0 && p <= 1) {
			return fmt.Errorf("checkpoint: cannot save a precision of %v, want a value in [0, 1]", p)
		}
		meta[keyPrecision] = strconv.FormatFloat(*run.Precision, 'g', -1, 64)
	}
	return nil
}
