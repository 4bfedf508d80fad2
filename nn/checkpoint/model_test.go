package checkpoint

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cifar10/nn"
	"cifar10/nn/safetensors"
)

var when = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// TestRoundTrip checks every tensor and metadata field through Encode and Decode, for both
// optimizers on both presets.
func TestRoundTrip(t *testing.T) {
	for _, c := range []struct{ preset, kind string }{
		{"cifar10", nn.OptAdam}, {"cifar10", nn.OptMomentum}, {"cs231n", nn.OptMomentum}, {"cs231n", nn.OptAdam},
	} {
		t.Run(c.preset+"/"+c.kind, func(t *testing.T) {
			m, opt := newModelOpt(t, c.preset, c.kind, 1)
			scramble(m, opt, 2)
			opt.SetLearningRate(0.00123)
			run := Run{Seed: math.MaxUint64 - 5, Batch: 4, Examples: 4*opt.Steps() + 3, Time: when, Loss: ptr(2.345678901234), Precision: ptr(0.8125)}
			data := encode(t, m, opt, run)
			checkFileLayout(t, parse(t, data), m, opt, run)

			ck, err := Decode(data, "")
			if err != nil {
				t.Fatal(err)
			}
			cfg := opt.Config()
			if ck.Format != FormatVersion || ck.Spec.Name != c.preset || !reflect.DeepEqual(ck.Optimizer, &cfg) ||
				ck.Step != opt.Steps() || !reflect.DeepEqual(ck.Run, run) || !ck.Resumable() {
				t.Fatalf("decoded format %q preset %q optimizer %+v step %d run %+v; want %q %q %+v %d %+v",
					ck.Format, ck.Spec.Name, ck.Optimizer, ck.Step, ck.Run, FormatVersion, c.preset, cfg, opt.Steps(), run)
			}
			m2, err := ck.NewModel()
			if err != nil {
				t.Fatal(err)
			}
			opt2, err := ck.NewOptimizer(m2)
			if err != nil {
				t.Fatal(err)
			}
			sameParams(t, "parameters", m2.Params(), m.Params())
			sameParams(t, "slots", opt2.Slots(), opt.Slots())
			if opt2.Steps() != opt.Steps() || opt2.Config() != opt.Config() {
				t.Errorf("optimizer step %d config %+v, want %d %+v", opt2.Steps(), opt2.Config(), opt.Steps(), opt.Config())
			}
		})
	}
}

// checkFileLayout checks the tensor names, dtypes and shapes and the metadata of an encoded
// file against what the format promises (TF names, HWIO and [in,out], I64 scalars).
func checkFileLayout(t *testing.T, f *safetensors.File, m *nn.Model, opt nn.Optimizer, run Run) {
	t.Helper()
	want := map[string][]int{StepTensor: {}, SeedTensor: {}, BatchTensor: {}, ExamplesTensor: {}}
	for _, p := range append(slices.Clone(m.Params()), opt.Slots()...) {
		want[p.Name] = p.Shape()
	}
	if len(f.Tensors) != len(want) {
		t.Errorf("file has %d tensors, want %d", len(f.Tensors), len(want))
	}
	for _, ts := range f.Tensors {
		shape, ok := want[ts.Name]
		dt := safetensors.DTypeF32
		if len(shape) == 0 {
			dt = safetensors.DTypeI64
		}
		if !ok || ts.DType != dt || !slices.Equal(ts.Shape, shape) {
			t.Errorf("tensor %s %s %v unexpected (want %s %v)", ts.Name, ts.DType, ts.Shape, dt, shape)
		}
	}
	if w, ok := f.Tensor("conv1/weights"); !ok || w.Shape[0] != m.Param("conv1/weights").Shape()[0] || w.Shape[2] != 3 {
		t.Errorf("conv1/weights is not stored HWIO")
	}
	meta := map[string]string{
		"format": FormatVersion, "preset": m.Spec().Name, "step": itoa(opt.Steps()),
		"seed": "18446744073709551610", "batch": "4", "examples": itoa(run.Examples),
		"time": "2025-03-14T15:09:26Z", "loss": "2.345678901234", "precision": "0.8125",
	}
	for k, v := range meta {
		if f.Metadata[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, f.Metadata[k], v)
		}
	}
	if !strings.Contains(f.Metadata["optimizer"], `"kind":"`+opt.Config().Kind+`"`) || !strings.Contains(f.Metadata["optimizer"], `"lr":0.00123`) {
		t.Errorf("metadata optimizer = %s", f.Metadata["optimizer"])
	}
	if gs, _ := f.Tensor(StepTensor); gs != nil {
		if v, _ := gs.Int64s(); len(v) != 1 || v[0] != opt.Steps() {
			t.Errorf("global_step tensor holds %v, want %d", v, opt.Steps())
		}
	}
}

func itoa(x int64) string { return strconv.FormatInt(x, 10) }
