package checkpoint

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"cifar10/nn"
	"cifar10/nn/safetensors"
)

// header is what the metadata of a file in our format says. A foreign file's metadata is
// ignored: its header is the zero value, format "" marking it.
type header struct {
	format    string
	preset    string
	optimizer *nn.OptimizerConfig
	recipe    *nn.Recipe        // nil: the file does not say (the tutorial's zero recipe)
	numbers   map[string]string // step, seed, batch, examples as written, checked against tensors
	run       Run               // Time, Loss and Precision
}

// readHeader parses the metadata of a file in our format and checks every value it knows.
// Unknown keys are allowed (notes added by a person or another tool).
func readHeader(meta map[string]string) (header, error) {
	format := meta[keyFormat]
	if format != FormatVersion {
		if strings.HasPrefix(format, formatFamily) {
			return header{}, fmt.Errorf("metadata format %q is not %s, which this program reads (written by another version?)", format, FormatVersion)
		}
		return header{}, nil // foreign file: its tensors speak for themselves
	}
	h := header{format: format, preset: meta[keyPreset], numbers: map[string]string{}}
	if h.preset == "" {
		return header{}, fmt.Errorf("metadata has no %q, which every %s file names", keyPreset, FormatVersion)
	}
	for _, k := range []string{keyStep, keySeed, keyBatch, keyExamples} {
		if v, ok := meta[k]; ok {
			h.numbers[k] = v
		}
	}
	var err error
	if s, ok := meta[keyOptimizer]; ok {
		if h.optimizer, err = parseOptimizer(s); err != nil {
			return header{}, err
		}
	}
	if s, ok := meta[keyRecipe]; ok {
		h.recipe = new(nn.Recipe)
		if err := strictJSON(s, h.recipe); err != nil {
			return header{}, fmt.Errorf("metadata %s %q is not a recipe: %v", keyRecipe, s, err)
		}
	}
	if h.run, err = parseMeasurements(meta); err != nil {
		return header{}, err
	}
	return h, nil
}

// parseOptimizer decodes the "optimizer" metadata strictly: one JSON object with known fields
// only, whose values pass nn's validation.
func parseOptimizer(s string) (*nn.OptimizerConfig, error) {
	var cfg nn.OptimizerConfig
	err := strictJSON(s, &cfg)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("metadata %s %q is not a valid optimizer configuration: %v", keyOptimizer, s, err)
	}
	return &cfg, nil
}

// strictJSON decodes s into v: one JSON object with known fields only.
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = fmt.Errorf("text follows the JSON object")
	}
	return err
}

// parseMeasurements reads time, loss and precision when present.
func parseMeasurements(meta map[string]string) (Run, error) {
	var run Run
	if s, ok := meta[keyTime]; ok {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return Run{}, fmt.Errorf("metadata %s %q is not an RFC 3339 time", keyTime, s)
		}
		run.Time = t
	}
	for _, m := range []struct {
		key    string
		dst    **float64
		ok     func(float64) bool
		wanted string
	}{
		{keyLoss, &run.Loss, func(x float64) bool { return !math.IsInf(x, 0) }, "a finite number"},
		{keyPrecision, &run.Precision, func(x float64) bool { return x >= 0 && x <= 1 }, "a number in [0, 1]"},
	} {
		s, present := meta[m.key]
		if !present {
			continue
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || !m.ok(x) {
			return Run{}, fmt.Errorf("metadata %s %q is not %s", m.key, s, m.wanted)
		}
		*m.dst = &x
	}
	return run, nil
}

// state decodes the global step and the data position, checking their ranges and that the
// metadata says the same. A file with optimizer state in our format must have all of them.
func (d *decoder) state() error {
	need := d.h.format != "" && d.c.Optimizer != nil
	step, err := d.scalar(StepTensor, keyStep, need, 0)
	if err != nil {
		return err
	}
	d.c.Step = step
	dataNeeded := need
	for _, name := range []string{SeedTensor, BatchTensor, ExamplesTensor} {
		if _, ok := d.byName[name]; ok {
			dataNeeded = true // one data tensor calls for the others
		}
	}
	seed, err := d.scalar(SeedTensor, keySeed, dataNeeded, math.MinInt64)
	if err != nil {
		return err
	}
	batch, err := d.scalar(BatchTensor, keyBatch, dataNeeded, 1)
	if err != nil {
		return err
	}
	if batch > math.MaxInt32 {
		return fmt.Errorf("tensor %s is %d, too large for a batch size", BatchTensor, batch)
	}
	examples, err := d.scalar(ExamplesTensor, keyExamples, dataNeeded, 0)
	if err != nil {
		return err
	}
	d.c.Run.Seed, d.c.Run.Batch, d.c.Run.Examples = uint64(seed), int(batch), examples
	return d.strayNumbers()
}

// scalar decodes one I64 scalar, at least min, which must be present when required and must
// equal the metadata value under key when the file has one. An absent optional tensor gives 0.
func (d *decoder) scalar(name, key string, required bool, min int64) (int64, error) {
	t, ok := d.byName[name]
	if !ok {
		if required {
			return 0, fmt.Errorf("tensor %s is missing (a resumable checkpoint needs it)", name)
		}
		return 0, nil
	}
	d.used[name] = true
	if t.DType != safetensors.DTypeI64 || len(t.Shape) != 0 {
		return 0, fmt.Errorf("tensor %s is %s %v, want an I64 scalar (shape [])", name, t.DType, t.Shape)
	}
	v, err := t.Int64s()
	if err != nil {
		return 0, err
	}
	x := v[0]
	if x < min {
		return 0, fmt.Errorf("tensor %s is %d, want at least %d", name, x, min)
	}
	if meta, ok := d.h.numbers[key]; ok && meta != metaNumber(name, x) {
		return 0, fmt.Errorf("tensor %s is %d but the metadata says %q", name, x, meta)
	}
	return x, nil
}

// metaNumber is how Encode writes the value of a state tensor in the metadata (the seed is
// unsigned there, its tensor holds the same 64 bits).
func metaNumber(name string, x int64) string {
	if name == SeedTensor {
		return strconv.FormatUint(uint64(x), 10)
	}
	return strconv.FormatInt(x, 10)
}

// strayNumbers refuses a step or data-position metadata value whose tensor is absent, since
// the tensors are the authority and the two would disagree.
func (d *decoder) strayNumbers() error {
	tensorOf := map[string]string{keyStep: StepTensor, keySeed: SeedTensor, keyBatch: BatchTensor, keyExamples: ExamplesTensor}
	for _, k := range []string{keyStep, keySeed, keyBatch, keyExamples} {
		if v, ok := d.h.numbers[k]; ok && !d.used[tensorOf[k]] {
			return fmt.Errorf("metadata %s is %q but the file has no tensor %s", k, v, tensorOf[k])
		}
	}
	return nil
}
