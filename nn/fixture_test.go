package nn

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureDir is the TF reference of the cifar10 model (see its README), beside the repository.
const fixtureDir = "../../shared/reference/tf-cifar10-fixture"

// readFixture reads a headerless little-endian float32 (or int32, returned as raw bits) file.
func readFixture(t testing.TB, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func skipWithoutFixture(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(fixtureDir, "manifest.json")); err != nil {
		t.Skipf("TF reference fixture not found at %s (shared/ beside the repository): %v", fixtureDir, err)
	}
}

// fixtureTrainer builds the cifar10 model with the fixture's parameters and runs the fixture
// batch through Gradients, returning the trainer and the cross-entropy it reported.
func fixtureTrainer(t *testing.T, threads int) (*Trainer, float32) {
	skipWithoutFixture(t)
	spec, _ := Preset("cifar10")
	m, err := NewModel(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if err := p.Set(readFixture(t, "params/"+fileName(p.Name))); err != nil {
			t.Fatal(err)
		}
	}
	opt, err := NewOptimizer(spec.Optimizer, m.Params())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, opt, 8, threads)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	images := readFixture(t, "input/images.f32")
	raw := readFixture(t, "input/labels.i32")
	labels := make([]uint8, len(raw))
	for i, v := range raw {
		labels[i] = uint8(math.Float32bits(v))
	}
	xent := tr.Gradients(images, labels, 1/float32(len(labels)))
	return tr, xent
}

func fileName(param string) string { return strings.ReplaceAll(param, "/", "_") + ".f32" }

func TestFixtureForward(t *testing.T) {
	tr, xent := fixtureTrainer(t, 1)
	// conv1's ReLU runs inside pool1 (they commute), so conv1's buffer holds pre-activations.
	conv1 := append([]float32(nil), tr.activation("conv1")[:24*24*64]...)
	reluGo(conv1)
	checkClose(t, "activations/conv1", conv1, readFixture(t, "activations/conv1.f32"), 2e-5, 0)
	for _, name := range []string{"pool1", "norm1", "conv2", "norm2", "pool2"} {
		want := readFixture(t, "activations/"+name+".f32")
		checkClose(t, "activations/"+name, tr.activation(name)[:len(want)], want, 2e-5, 0)
	}
	for name, layer := range map[string]string{"fc3": "local3", "fc4": "local4"} {
		want := readFixture(t, "activations/"+name+".f32")
		checkClose(t, "activations/"+name, tr.activation(layer)[:len(want)], want, 2e-5, 0)
	}
	want := readFixture(t, "forward/logits.f32")
	checkClose(t, "logits", tr.activation("softmax_linear")[:len(want)], want, 1e-6, 0)

	decay := tr.DecayLoss()
	for _, c := range []struct {
		name string
		got  float32
	}{{"cross_entropy", xent}, {"l2_loss", decay}, {"total_loss", xent + decay}} {
		want := readFixture(t, "forward/"+c.name+".f32")[0]
		if rel := math.Abs(float64(c.got-want)) / math.Abs(float64(want)); rel > 1e-6 {
			t.Errorf("%s = %.8g, want %.8g (relative error %.2g > 1e-6)", c.name, c.got, want, rel)
		}
	}
}

func TestFixtureGradientsAndAdam(t *testing.T) {
	tr, _ := fixtureTrainer(t, 1)
	tr.WeightDecay()
	m := tr.Model()
	for _, p := range m.Params() {
		want := readFixture(t, "grads/"+fileName(p.Name))
		checkClose(t, "grads/"+p.Name, p.GradData(), want, 1e-6, 1e-5)
	}
	grads := map[string][]float32{}
	for _, p := range m.Params() {
		grads[p.Name] = append([]float32(nil), p.GradData()...)
	}
	tr.Apply()
	if s := tr.Optimizer().Steps(); s != 1 {
		t.Errorf("optimizer steps after one update = %d, want 1", s)
	}
	for _, p := range m.Params() {
		want := readFixture(t, "adam_tf1/"+fileName(p.Name))
		g := grads[p.Name]
		worst := [2]float64{}
		for i, w := range want {
			d := math.Abs(float64(p.Data()[i] - w))
			k := 0
			if math.Abs(float64(g[i])) <= 1e-5 {
				k = 1
			}
			worst[k] = max(worst[k], d)
		}
		if worst[0] > 1e-6 || worst[1] > 1e-4 {
			t.Errorf("adam_tf1/%s: max |Δ| %.3g where |g|>1e-5 (tolerance 1e-6), %.3g elsewhere (tolerance 1e-4)", p.Name, worst[0], worst[1])
		}
	}
}

// checkClose fails when |got-want| > abs + rel*|want| anywhere, reporting the worst entry.
func checkClose(t testing.TB, what string, got, want []float32, abs, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	worst, at := 0.0, -1
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if excess := d - (abs + rel*math.Abs(float64(want[i]))); excess > 0 && d > worst {
			worst, at = d, i
		}
	}
	if at >= 0 {
		t.Errorf("%s: entry %d = %.8g, want %.8g (|Δ| %.3g > %g + %g·|want|)", what, at, got[at], want[at], worst, abs, rel)
	}
}
