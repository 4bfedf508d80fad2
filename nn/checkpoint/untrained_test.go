package checkpoint

import (
	"slices"
	"strings"
	"testing"

	"cifar10/nn"
	"cifar10/nn/safetensors"
)

// TestSlotsOnlyForTrainedParams: a model with Fixed parameters and Statistics (the fast
// preset's whitening weights, batch normalization's running statistics) is saved with slots
// for its Trained parameters only, as nn.NewOptimizer keeps them, and decodes and restores
// from that file; a file missing a Trained parameter's slot is still refused.
func TestSlotsOnlyForTrainedParams(t *testing.T) {
	for _, kind := range []string{nn.OptAdam, nn.OptMomentum} {
		m, opt := newModelOpt(t, "fast", kind, 1)
		scramble(m, opt, 2)
		data := encode(t, m, opt, Run{Seed: 1, Batch: 32, Examples: 32 * opt.Steps()})
		f := parse(t, data)
		if _, ok := f.Metadata[keyOptimizer]; !ok {
			t.Fatalf("%s: no optimizer in the metadata", kind)
		}
		ck, err := Decode(data, "fast")
		if err != nil {
			t.Fatalf("%s: the file the encoder wrote is refused: %v", kind, err)
		}
		m2, err := ck.NewModel()
		if err != nil {
			t.Fatal(err)
		}
		opt2, err := ck.NewOptimizer(m2)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		sameParams(t, kind+" params", m2.Params(), m.Params())
		sameParams(t, kind+" slots", opt2.Slots(), opt.Slots())

		var trained string
		for _, p := range m.Params() {
			if p.Use == nn.Trained {
				trained = p.Name
				break
			}
		}
		slot := opt.Slots()[0].Name
		if !strings.HasPrefix(slot, trained+"/") {
			t.Fatalf("first slot %s is not of the first trained parameter %s", slot, trained)
		}
		f.Tensors = slices.DeleteFunc(f.Tensors, func(x safetensors.Tensor) bool { return x.Name == slot })
		if _, err := Decode(marshal(t, f), "fast"); err == nil || !strings.Contains(err.Error(), slot) {
			t.Fatalf("%s: a file without %s: %v, want an error naming it", kind, slot, err)
		}
	}
}
