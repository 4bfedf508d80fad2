package checkpoint

import (
	"fmt"
	"slices"

	"cifar10/nn"
	"cifar10/nn/safetensors"
)

// Decode reads a checkpoint from safetensors bytes (no file system involved, so the browser
// worker uses it on uploads and IndexedDB records). It is strict and safe on any bytes: every
// tensor the preset needs must be present as F32 with its exact shape and finite values,
// optimizer slots come complete or not at all, training-state numbers are in range and agree
// with the metadata, and nothing unexpected is in the file. Each failure is one sentence naming
// the tensor, metadata key or byte range.
//
// preset is the model the caller wants ("" accepts the file's own). A file naming another
// preset is refused with a message saying so. A weights-only file without metadata (for
// example exported from PyTorch or TensorFlow under the same names) is accepted; its preset is
// the wanted one, or else the first preset whose tensors it matches, "cifar10" by default.
func Decode(data []byte, preset string) (*Checkpoint, error) {
	f, err := safetensors.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: not a checkpoint file: %w", err)
	}
	return DecodeFile(f, preset)
}

// DecodeFile is Decode for a file already parsed, such as ReadFile's result.
func DecodeFile(f *safetensors.File, preset string) (*Checkpoint, error) {
	c, err := decode(f, preset)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return c, nil
}

// Load reads and decodes the checkpoint file at path, naming the file in any error.
func Load(path, preset string) (*Checkpoint, error) {
	f, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := decode(f, preset)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return c, nil
}

// decoder accumulates a Checkpoint from a parsed file, remembering which tensors it used so
// that anything left over can be refused.
type decoder struct {
	f      *safetensors.File
	byName map[string]*safetensors.Tensor
	h      header
	preset string
	c      *Checkpoint
	used   map[string]bool
}

// decode is Decode without the package prefix on errors.
func decode(f *safetensors.File, want string) (*Checkpoint, error) {
	h, err := readHeader(f.Metadata)
	if err != nil {
		return nil, err
	}
	byName := index(f)
	name, err := choosePreset(byName, h.preset, want)
	if err != nil {
		return nil, err
	}
	spec, layout, err := presetLayout(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file as preset %q: %w", name, err)
	}
	if h.recipe != nil {
		if err := h.recipe.Validate(spec.Input); err != nil {
			return nil, fmt.Errorf("metadata %s: %w", keyRecipe, err)
		}
		spec.Recipe = *h.recipe
	}
	d := &decoder{f: f, byName: byName, h: h, preset: name, used: map[string]bool{},
		c: &Checkpoint{Format: h.format, Spec: spec, Run: h.run, values: map[string][]float32{}}}
	if err := d.weights(layout); err != nil {
		return nil, err
	}
	if err := d.optimizer(layout); err != nil {
		return nil, err
	}
	if err := d.state(); err != nil {
		return nil, err
	}
	return d.c, d.leftovers()
}

// index maps tensor names to tensors, so lookups stay cheap in a file with many tensors.
func index(f *safetensors.File) map[string]*safetensors.Tensor {
	m := make(map[string]*safetensors.Tensor, len(f.Tensors))
	for i := range f.Tensors {
		m[f.Tensors[i].Name] = &f.Tensors[i]
	}
	return m
}

// choosePreset decides which preset the file is read as: the file's own (which must be the
// wanted one, if any), else the wanted one, else the first preset whose tensors match.
func choosePreset(tensors map[string]*safetensors.Tensor, inFile, want string) (string, error) {
	switch {
	case inFile != "" && want != "" && inFile != want:
		return "", fmt.Errorf("the file is a checkpoint of preset %s, not %s", inFile, want)
	case inFile != "":
		return inFile, nil
	case want != "":
		return want, nil
	}
	for _, name := range presetOrder() {
		if _, layout, err := presetLayout(name); err == nil && matches(tensors, layout) {
			return name, nil
		}
	}
	return defaultPreset, nil
}

// defaultPreset is what a file without metadata is read as when no preset matches it.
const defaultPreset = "cifar10"

// presetOrder lists the presets with the default first, so detection prefers it.
func presetOrder() []string {
	names := []string{defaultPreset}
	for _, n := range nn.PresetNames() {
		if n != defaultPreset {
			names = append(names, n)
		}
	}
	return names
}

// matches reports whether tensors has every tensor of layout as F32 with the right shape.
func matches(tensors map[string]*safetensors.Tensor, layout []tensorShape) bool {
	for _, ts := range layout {
		t, ok := tensors[ts.name]
		if !ok || t.DType != safetensors.DTypeF32 || !slices.Equal(t.Shape, ts.shape) {
			return false
		}
	}
	return true
}

// weights decodes every parameter of the preset. When they do not fit but those of another
// preset do, the error says which one the file holds.
func (d *decoder) weights(layout []tensorShape) error {
	for _, ts := range layout {
		if err := d.floats(ts.name, ts.shape, false); err != nil {
			if other := d.otherPreset(); other != "" {
				return fmt.Errorf("%v; the file holds a %s model, not %s", err, other, d.preset)
			}
			return err
		}
	}
	return nil
}

// otherPreset names a preset other than d's whose parameters the file matches, or "".
func (d *decoder) otherPreset() string {
	for _, name := range presetOrder() {
		if name == d.preset {
			continue
		}
		if _, layout, err := presetLayout(name); err == nil && matches(d.byName, layout) {
			return name
		}
	}
	return ""
}

// floats decodes one F32 tensor of the given shape into the checkpoint, refusing NaN and
// infinities (and negative values when nonNegative, as for Adam's second moments).
func (d *decoder) floats(name string, shape []int, nonNegative bool) error {
	t, ok := d.byName[name]
	if !ok {
		return fmt.Errorf("tensor %s is missing (preset %s needs it)", name, d.preset)
	}
	d.used[name] = true
	if t.DType != safetensors.DTypeF32 {
		return fmt.Errorf("tensor %s is %s, want F32", name, t.DType)
	}
	if !slices.Equal(t.Shape, shape) {
		return fmt.Errorf("tensor %s has shape %v, preset %s needs %v", name, t.Shape, d.preset, shape)
	}
	v, err := t.Float32s()
	if err != nil {
		return err
	}
	if i, x, ok := firstNonFinite(v); !ok {
		return fmt.Errorf("tensor %s holds %v at index %d", name, x, i)
	}
	if nonNegative {
		if i := slices.IndexFunc(v, func(x float32) bool { return x < 0 }); i >= 0 {
			return fmt.Errorf("tensor %s holds %v at index %d, but it must not be negative", name, v[i], i)
		}
	}
	d.c.values[name] = v
	return nil
}

// optimizer decodes the slots, for the optimizer the metadata names or, in a foreign file, the
// one whose slots are present (with its default hyperparameters). Slots must be complete.
func (d *decoder) optimizer(layout []tensorShape) error {
	cfg := d.h.optimizer
	if d.h.format == "" {
		cfg = d.inferOptimizer(layout)
	}
	if cfg == nil {
		return nil
	}
	for _, ts := range layout {
		if !ts.trained {
			continue // a whitening layer's weights, running statistics: no slots
		}
		for _, suffix := range slotSuffixes(*cfg) {
			if err := d.floats(ts.name+"/"+suffix, ts.shape, suffix == "Adam_1"); err != nil {
				return fmt.Errorf("%s optimizer state: %w", cfg.Kind, err)
			}
		}
	}
	d.c.Optimizer = cfg
	return nil
}

// inferOptimizer finds the optimizer whose first slot a foreign file holds, or nil: the
// preset's own when its slots are there (Nesterov and momentum share TF's slot name), unless
// it needs a run's length (a schedule or an average), which a foreign file does not give.
func (d *decoder) inferOptimizer(layout []tensorShape) *nn.OptimizerConfig {
	own := d.c.Spec.Optimizer
	first := layout[slices.IndexFunc(layout, func(ts tensorShape) bool { return ts.trained })].name
	if own.Schedule == nil && own.Average == nil {
		if _, ok := d.byName[first+"/"+kindSlots[own.Kind][0]]; ok {
			return &own
		}
	}
	for _, kind := range []string{nn.OptAdam, nn.OptMomentum} {
		if _, ok := d.byName[first+"/"+kindSlots[kind][0]]; ok {
			cfg := nn.DefaultAdam()
			if kind == nn.OptMomentum {
				cfg = nn.DefaultMomentum()
			}
			return &cfg
		}
	}
	return nil
}

// leftovers refuses tensors that are neither parameters, slots nor training state, so a file
// for another model or a mangled one never loads partly.
func (d *decoder) leftovers() error {
	for _, t := range d.f.Tensors {
		if d.used[t.Name] || tfAdamPowers[t.Name] {
			continue
		}
		if d.c.Optimizer == nil {
			return fmt.Errorf("unexpected tensor %q: it is neither a parameter of preset %s nor training state, and the file declares no optimizer whose slot it could be", t.Name, d.preset)
		}
		return fmt.Errorf("unexpected tensor %q: it is neither a parameter of preset %s, a slot of its %s optimizer nor training state", t.Name, d.preset, d.c.Optimizer.Kind)
	}
	return nil
}
