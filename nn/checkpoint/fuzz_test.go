package checkpoint

import (
	"strings"
	"testing"

	"cifar10/nn"
	"cifar10/nn/safetensors"
)

// FuzzDecode checks that Decode never panics on any bytes, that its errors are one line with
// the package prefix, and that whatever it accepts restores into a model and optimizer and
// encodes and decodes again to the same values.
func FuzzDecode(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, preset := range []string{"", "cs231n"} {
			ck, err := Decode(data, preset)
			if err != nil {
				if msg := err.Error(); !strings.HasPrefix(msg, "checkpoint: ") || strings.Contains(msg, "\n") {
					t.Fatalf("malformed error %q", msg)
				}
				continue
			}
			checkAccepted(t, ck)
		}
	})
}

// checkAccepted restores an accepted checkpoint and round-trips it once more.
func checkAccepted(t *testing.T, ck *Checkpoint) {
	m, err := ck.NewModel()
	if err != nil {
		t.Fatalf("accepted file does not make a model: %v", err)
	}
	opt, err := ck.NewOptimizer(m)
	if err != nil {
		t.Fatalf("accepted file does not make an optimizer: %v", err)
	}
	if !ck.Resumable() {
		opt = nil
	}
	data, err := Encode(m, opt, ck.Run)
	if err != nil {
		t.Fatalf("accepted file does not encode again: %v", err)
	}
	again, err := Decode(data, ck.Spec.Name)
	if err != nil {
		t.Fatalf("re-encoded file is refused: %v", err)
	}
	m2, err := again.NewModel()
	if err != nil {
		t.Fatal(err)
	}
	sameParams(t, "re-encoded parameters", m2.Params(), m.Params())
}

// fuzzSeeds are valid files (weights-only, full Adam, full momentum; the small cs231n preset
// keeps inputs near a megabyte so the fuzzer stays fast) and broken ones.
func fuzzSeeds(tb testing.TB) [][]byte {
	m, adam := newModelOpt(tb, "cs231n", nn.OptAdam, 21)
	mom := newOpt(tb, m, nn.OptMomentum)
	run := Run{Seed: 3, Batch: 4, Examples: 40, Time: when, Loss: ptr(1.5), Precision: ptr(0.25)}
	seeds := [][]byte{
		weightsOnly(tb, m, nil),
		encode(tb, m, nil, run),
		encode(tb, m, adam, run),
		encode(tb, m, mom, run),
		nil,
		[]byte("{}"),
	}
	small := &safetensors.File{Metadata: map[string]string{"format": FormatVersion, "preset": "cs231n", "step": "1"},
		Tensors: []safetensors.Tensor{safetensors.I64(StepTensor, nil, []int64{1}), safetensors.F32("conv1/biases", []int{32}, make([]float32, 32))}}
	seeds = append(seeds, marshal(tb, small))
	for _, c := range brokenCases {
		base := seeds[3]
		if c.kind == nn.OptAdam {
			base = seeds[2]
		}
		f := parse(tb, base)
		if c.edit != nil {
			c.edit(f)
		}
		seeds = append(seeds, marshal(tb, f))
	}
	return seeds
}
