package nn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFiltersAreTheFirstConvWeights: tile o, pixel (y, x), channel c is conv1/weights[y, x, c, o],
// and the tiles are a copy (changing them leaves the model alone).
func TestFiltersAreTheFirstConvWeights(t *testing.T) {
	for _, preset := range PresetNames() {
		spec, _ := Preset(preset)
		m := mustModel(t, spec, 3)
		name, shape, tiles, ok := m.Filters()
		var w *Param
		w = m.Param(name + "/weights")
		if !ok || spec.Layers[firstConv(spec)].Name != name || w == nil {
			t.Fatalf("%s: Filters() = %q, ok %v", preset, name, ok)
		}
		ws := w.Value.Shape()
		if shape != [4]int{ws[3], ws[0], ws[1], ws[2]} || len(tiles) != w.Size() {
			t.Fatalf("%s: shape %v with %d values, weights %v", preset, shape, len(tiles), ws)
		}
		for o := range shape[0] {
			for y := range shape[1] {
				for x := range shape[2] {
					for c := range shape[3] {
						got := tiles[((o*shape[1]+y)*shape[2]+x)*shape[3]+c]
						want, _ := w.Value.At(y, x, c, o)
						if got != want.(float32) {
							t.Fatalf("%s: filter %d (%d,%d,%d) = %v, weights say %v", preset, o, y, x, c, got, want)
						}
					}
				}
			}
		}
		before := slices.Clone(w.Data())
		tiles[0]++
		if !slices.Equal(before, w.Data()) {
			t.Fatalf("%s: changing the filters changed the weights", preset)
		}
	}
}

// TestActivationsAreTheEngines: one example's maps equal the engine's activation buffers for
// the same image inside a batch, with the ReLU a pooling layer took over applied; the last
// layer's are the logits.
func TestActivationsAreTheEngines(t *testing.T) {
	for _, preset := range PresetNames() {
		spec, _ := Preset(preset)
		m := mustModel(t, spec, 5)
		rng := rand.New(rand.NewPCG(1, 2))
		n := m.InputSize()
		batch := make([]float32, 3*n)
		for i := range batch {
			batch[i] = float32(rng.NormFloat64())
		}
		one := evalTrainer(t, m, 1)
		got := one.Activations(nil, batch[2*n:])
		logits := slices.Clone(one.Logits(batch[2*n:]))

		tr := evalTrainer(t, m, 3)
		tr.Logits(batch)
		at := 0
		for i, l := range spec.Layers {
			s := m.Summary()[i].Output
			size := s[0] * s[1] * s[2]
			want := slices.Clone(tr.activation(l.Name)[2*size : 3*size])
			if l.ReLU && !tr.relu(i) {
				for j := range want {
					want[j] = max(want[j], 0)
				}
			}
			if !slices.Equal(got[at:at+size], want) {
				t.Fatalf("%s: layer %s differs from the engine's activations", preset, l.Name)
			}
			if l.ReLU && slices.Min(got[at:at+size]) < 0 {
				t.Errorf("%s: layer %s has a ReLU but negative maps", preset, l.Name)
			}
			at += size
		}
		if at != len(got) || !slices.Equal(got[at-len(logits):], logits) {
			t.Fatalf("%s: %d values for %d, last layer not the logits", preset, len(got), at)
		}
	}
}

// firstConv is the index of spec's first convolution (the fast preset's is after its
// whitening layer), whose filters the page draws.
func firstConv(spec Spec) int {
	for i, l := range spec.Layers {
		if l.Kind == KindConv {
			return i
		}
	}
	return -1
}

// evalTrainer is a forward-only trainer, as the page's views use (a preset with a schedule has
// no optimizer before a run gives it its length).
func evalTrainer(t testing.TB, m *Model, batch int) *Trainer {
	t.Helper()
	tr, err := NewTrainer(m, nil, batch, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}
