package checkpoint

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"cifar10/nn"
	"cifar10/nn/safetensors"
)

// TestWeightsOnly: a file with the parameters and nothing else (no metadata, no optimizer
// state) is valid for evaluation and fine-tuning and defaults to the cifar10 preset.
func TestWeightsOnly(t *testing.T) {
	m, _ := newModelOpt(t, "cifar10", nn.OptAdam, 3)
	for _, meta := range []map[string]string{nil, {"format": "pt"}, {"format": "tf", "note": "exported"}} {
		ck, err := Decode(weightsOnly(t, m, meta), "")
		if err != nil {
			t.Fatalf("metadata %v: %v", meta, err)
		}
		if ck.Format != "" || ck.Spec.Name != "cifar10" || ck.Optimizer != nil || ck.Step != 0 || ck.Run != (Run{}) || ck.Resumable() {
			t.Errorf("metadata %v: decoded %q %q %v %d %+v", meta, ck.Format, ck.Spec.Name, ck.Optimizer, ck.Step, ck.Run)
		}
		m2, err := ck.NewModel()
		if err != nil {
			t.Fatal(err)
		}
		sameParams(t, "weights-only parameters", m2.Params(), m.Params())
		opt, err := ck.NewOptimizer(m2)
		if err != nil {
			t.Fatal(err)
		}
		if opt.Config() != nn.DefaultAdam() || opt.Steps() != 0 {
			t.Errorf("fine-tuning optimizer %+v at step %d, want a fresh default Adam", opt.Config(), opt.Steps())
		}
		if err := ck.Restore(m2, opt); err == nil || !strings.Contains(err.Error(), "weights only") {
			t.Errorf("restoring optimizer state from a weights-only file: %v", err)
		}
	}
}

// TestWeightsOnlyOtherPreset: a cs231n weights-only file is recognized when no preset is asked
// for, and refused with a message naming both presets when cifar10 is.
func TestWeightsOnlyOtherPreset(t *testing.T) {
	m, _ := newModelOpt(t, "cs231n", nn.OptMomentum, 4)
	data := weightsOnly(t, m, nil)
	ck, err := Decode(data, "")
	if err != nil || ck.Spec.Name != "cs231n" {
		t.Fatalf("cs231n weights without metadata: preset %v, error %v", ck, err)
	}
	_, err = Decode(data, "cifar10")
	wantError(t, err, "conv1/weights", "shape [3 3 3 32]", "cs231n model, not cifar10")
}

// TestEncodeWeightsOnly: Encode without an optimizer exports weights, preset and format only.
func TestEncodeWeightsOnly(t *testing.T) {
	m, _ := newModelOpt(t, "cs231n", nn.OptMomentum, 5)
	data := encode(t, m, nil, Run{Time: when, Precision: ptr(0.5)})
	f := parse(t, data)
	if len(f.Tensors) != len(m.Params()) || f.Metadata["preset"] != "cs231n" || f.Metadata["optimizer"] != "" || f.Metadata["step"] != "" {
		t.Fatalf("export has %d tensors and metadata %v", len(f.Tensors), f.Metadata)
	}
	ck, err := Decode(data, "cs231n")
	if err != nil || ck.Optimizer != nil || ck.Run.Time != when || *ck.Run.Precision != 0.5 {
		t.Fatalf("decoded %+v, %v", ck, err)
	}
}

// TestForeignAdamFile: a TensorFlow-style export with Adam slots, global_step and TF's beta
// powers is read with the optimizer's default hyperparameters.
func TestForeignAdamFile(t *testing.T) {
	m, opt := newModelOpt(t, "cifar10", nn.OptAdam, 6)
	scramble(m, opt, 6)
	f := parse(t, encode(t, m, opt, Run{Batch: 128}))
	f.Metadata = nil
	f.Tensors = slices.DeleteFunc(f.Tensors, func(ts safetensors.Tensor) bool { return strings.HasPrefix(ts.Name, "data/") })
	f.Tensors = append(f.Tensors, safetensors.F32("beta1_power", nil, []float32{0.5}), safetensors.F32("beta2_power", nil, []float32{0.9}))
	ck, err := Decode(marshal(t, f), "")
	if err != nil {
		t.Fatal(err)
	}
	if ck.Optimizer == nil || *ck.Optimizer != nn.DefaultAdam() || ck.Step != opt.Steps() || ck.Run.Batch != 0 {
		t.Fatalf("optimizer %v step %d run %+v", ck.Optimizer, ck.Step, ck.Run)
	}
	m2, _ := ck.NewModel()
	opt2, err := ck.NewOptimizer(m2)
	if err != nil {
		t.Fatal(err)
	}
	sameParams(t, "slots", opt2.Slots(), opt.Slots())
}

// brokenCase edits a valid file; Decode must refuse the result with an error naming the thing.
type brokenCase struct {
	name   string
	kind   string // optimizer of the base file
	preset string // preset asked for ("" = the file's)
	edit   func(f *safetensors.File)
	want   []string // substrings of the error
}

var brokenCases = []brokenCase{
	{name: "missing weights", edit: drop("conv2/biases"), want: []string{"conv2/biases", "missing"}},
	{name: "wrong shape", edit: reshape("softmax_linear/weights", []int{2048, 5}), want: []string{"softmax_linear/weights", "shape [2048 5]", "[2048 10]"}},
	{name: "NaN", edit: setFloat("conv1/weights", 7, float32(math.NaN())), want: []string{"conv1/weights", "NaN", "index 7"}},
	{name: "Inf in slot", edit: setFloat("conv6/biases/Momentum", 0, float32(math.Inf(1))), want: []string{"conv6/biases/Momentum", "+Inf"}},
	{name: "-Inf in adam slot", kind: nn.OptAdam, edit: setFloat("conv3/weights/Adam", 2, float32(math.Inf(-1))), want: []string{"conv3/weights/Adam", "-Inf"}},
	{name: "negative second moment", kind: nn.OptAdam, edit: setFloat("conv1/biases/Adam_1", 1, -1), want: []string{"conv1/biases/Adam_1", "negative"}},
	{name: "missing slot", kind: nn.OptAdam, edit: drop("conv4/weights/Adam_1"), want: []string{"conv4/weights/Adam_1", "missing", "adam"}},
	{name: "wrong preset asked", preset: "cifar10", want: []string{"preset cs231n, not cifar10"}},
	{name: "unknown preset", edit: setMeta("preset", "resnet"), want: []string{`"resnet"`, "preset"}},
	{name: "unknown optimizer", edit: setMeta("optimizer", `{"kind":"rmsprop","lr":0.1}`), want: []string{"optimizer", "rmsprop"}},
	{name: "bad optimizer JSON", edit: setMeta("optimizer", `{"kind":"momentum","lr":0.1,"decay":1}`), want: []string{"optimizer", "decay"}},
	{name: "no optimizer metadata", edit: setMeta("optimizer", ""), want: []string{"/Momentum", "unexpected", "no optimizer"}},
	{name: "F16 weights", edit: retype("conv1/biases", safetensors.DTypeF16), want: []string{"conv1/biases", "F16", "F32"}},
	{name: "missing global_step", edit: drop(StepTensor), want: []string{"global_step", "missing"}},
	{name: "global_step vector", edit: reshapeI64(StepTensor), want: []string{"global_step", "scalar"}},
	{name: "step disagrees", edit: setMeta("step", "99"), want: []string{"global_step", `"99"`}},
	{name: "negative examples", edit: setI64(ExamplesTensor, -1), want: []string{"data/examples", "-1"}},
	{name: "zero batch", edit: setI64(BatchTensor, 0), want: []string{"data/batch", "at least 1"}},
	{name: "missing seed", edit: drop(SeedTensor), want: []string{"data/seed", "missing"}},
	{name: "extra tensor", edit: add(safetensors.F32("conv7/weights", []int{1}, []float32{1})), want: []string{`"conv7/weights"`, "unexpected"}},
	{name: "other slot kind", edit: add(safetensors.F32("conv1/biases/Adam", []int{32}, make([]float32, 32))), want: []string{"conv1/biases/Adam", "unexpected"}},
	{name: "newer format", edit: setMeta("format", "cifar10-go/2"), want: []string{`"cifar10-go/2"`, "format"}},
	{name: "no preset", edit: setMeta("preset", ""), want: []string{"preset"}},
	{name: "bad time", edit: setMeta("time", "yesterday"), want: []string{"time", `"yesterday"`}},
	{name: "bad loss", edit: setMeta("loss", "NaN"), want: []string{"loss", `"NaN"`}},
	{name: "bad precision", edit: setMeta("precision", "1.5"), want: []string{"precision", `"1.5"`}},
}

// TestDecodeRejects: each broken file is refused with one sentence naming what is wrong.
func TestDecodeRejects(t *testing.T) {
	base := map[string][]byte{}
	for _, kind := range []string{nn.OptMomentum, nn.OptAdam} {
		m, opt := newModelOpt(t, "cs231n", kind, 7)
		scramble(m, opt, 7)
		base[kind] = encode(t, m, opt, Run{Seed: 1, Batch: 4, Examples: 8, Time: when, Loss: ptr(2), Precision: ptr(0.5)})
	}
	for _, c := range brokenCases {
		t.Run(c.name, func(t *testing.T) {
			kind := c.kind
			if kind == "" {
				kind = nn.OptMomentum
			}
			f := parse(t, base[kind])
			if c.edit != nil {
				c.edit(f)
			}
			_, err := Decode(marshal(t, f), c.preset)
			wantError(t, err, c.want...)
		})
	}
}

// TestDecodeGarbage: bytes that are not safetensors are refused by the codec's message.
func TestDecodeGarbage(t *testing.T) {
	_, err := Decode([]byte("not a checkpoint at all"), "")
	wantError(t, err, "not a checkpoint file", "header length")
}

// wantError fails unless err is one line starting "checkpoint: " and holds every substring.
func wantError(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want an error mentioning %q", want)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "checkpoint: ") || strings.Contains(msg, "\n") {
		t.Errorf("error is not one line with the package prefix: %q", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
}

func drop(name string) func(*safetensors.File) {
	return func(f *safetensors.File) {
		f.Tensors = slices.DeleteFunc(f.Tensors, func(ts safetensors.Tensor) bool { return ts.Name == name })
	}
}

func add(ts safetensors.Tensor) func(*safetensors.File) {
	return func(f *safetensors.File) { f.Tensors = append(f.Tensors, ts) }
}

func reshape(name string, shape []int) func(*safetensors.File) {
	return func(f *safetensors.File) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		drop(name)(f)
		f.Tensors = append(f.Tensors, safetensors.F32(name, shape, make([]float32, n)))
	}
}

func retype(name string, dt safetensors.DType) func(*safetensors.File) {
	return func(f *safetensors.File) {
		ts, _ := f.Tensor(name)
		ts.DType = dt
		ts.Data = ts.Data[:len(ts.Data)/2]
	}
}

func reshapeI64(name string) func(*safetensors.File) {
	return func(f *safetensors.File) {
		ts, _ := f.Tensor(name)
		ts.Shape = []int{1}
	}
}

// setFloat changes one element of an F32 tensor (on a copy of the data).
func setFloat(name string, i int, v float32) func(*safetensors.File) {
	return func(f *safetensors.File) {
		ts, _ := f.Tensor(name)
		ts.Data = slices.Clone(ts.Data)
		binary.LittleEndian.PutUint32(ts.Data[4*i:], math.Float32bits(v))
	}
}

// setI64 replaces an I64 scalar and keeps the metadata mirror in step with it, so that only
// the range check can fire.
func setI64(name string, v int64) func(*safetensors.File) {
	return func(f *safetensors.File) {
		drop(name)(f)
		f.Tensors = append(f.Tensors, safetensors.I64(name, nil, []int64{v}))
		key := map[string]string{ExamplesTensor: "examples", BatchTensor: "batch", StepTensor: "step", SeedTensor: "seed"}[name]
		f.Metadata[key] = itoa(v)
	}
}

// setMeta sets a metadata key ("" deletes it).
func setMeta(key, value string) func(*safetensors.File) {
	return func(f *safetensors.File) {
		if value == "" {
			delete(f.Metadata, key)
			return
		}
		f.Metadata[key] = value
	}
}
