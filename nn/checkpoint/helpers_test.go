package checkpoint

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/cifar/cifartest"
	"cifar10/nn/safetensors"
)

// synthSet makes n random CIFAR-10 records, enough to drive the sampler in tests.
func synthSet(n int, seed uint64) *cifar.Set {
	return cifartest.Random(n, seed, 7)
}

// newModelOpt builds a preset model from seed with the optimizer of the given kind
// (its default hyperparameters).
func newModelOpt(t testing.TB, preset, kind string, seed uint64) (*nn.Model, nn.Optimizer) {
	t.Helper()
	spec, err := nn.Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.NewModel(spec, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m, newOpt(t, m, kind)
}

func newOpt(t testing.TB, m *nn.Model, kind string) nn.Optimizer {
	t.Helper()
	cfg := nn.DefaultAdam()
	if kind == nn.OptMomentum {
		cfg = nn.DefaultMomentum()
	}
	opt, err := nn.NewOptimizer(cfg, m.Params())
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// scramble gives every parameter and slot distinct random values (second moments
// non-negative) and sets the step, so a round trip is checked on every element.
func scramble(m *nn.Model, opt nn.Optimizer, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 9))
	for _, p := range m.Params() {
		for i := range p.Data() {
			p.Data()[i] = float32(r.NormFloat64())
		}
	}
	if opt == nil {
		return
	}
	for _, s := range opt.Slots() {
		for i := range s.Data() {
			v := float32(r.NormFloat64())
			if strings.HasSuffix(s.Name, "/Adam_1") {
				v = float32(math.Abs(float64(v)))
			}
			s.Data()[i] = v
		}
	}
	opt.SetSteps(int64(r.IntN(1000)))
}

// sameParams fails unless got and want hold bit-identical values, tensor by tensor.
func sameParams(t *testing.T, what string, got, want []*nn.Param) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d tensors, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || !slices.Equal(got[i].Shape(), want[i].Shape()) {
			t.Fatalf("%s: tensor %d is %s %v, want %s %v", what, i, got[i].Name, got[i].Shape(), want[i].Name, want[i].Shape())
		}
		if !sameBits(got[i].Data(), want[i].Data()) {
			t.Fatalf("%s: tensor %s differs", what, want[i].Name)
		}
	}
}

// sameBits compares float32 slices bit for bit (so NaN payloads and -0 count).
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// encode is Encode that fails the test on error.
func encode(t testing.TB, m *nn.Model, opt nn.Optimizer, run Run) []byte {
	t.Helper()
	data, err := Encode(m, opt, run)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// parse is safetensors.Parse that fails the test on error.
func parse(t testing.TB, data []byte) *safetensors.File {
	t.Helper()
	f, err := safetensors.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// marshal is safetensors.Marshal that fails the test on error.
func marshal(t testing.TB, f *safetensors.File) []byte {
	t.Helper()
	data, err := safetensors.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// weightsOnly writes m's parameters alone, with the given metadata (nil: none), as a file
// exported from another framework would be.
func weightsOnly(t testing.TB, m *nn.Model, meta map[string]string) []byte {
	t.Helper()
	f := &safetensors.File{Metadata: meta}
	for _, p := range m.Params() {
		f.Tensors = append(f.Tensors, safetensors.F32(p.Name, p.Shape(), p.Data()))
	}
	return marshal(t, f)
}

func ptr(x float64) *float64 { return &x }
