package nn

import (
	"strings"
	"testing"
	"unsafe"
)

// TestEveryKindIsChecked: tinySpec and tinyFastSpec, which TestModelGradients checks against finite differences
// of the float64 reference model (through the registry, as a Trainer builds layers), use every
// registered kind, so a new kind cannot arrive without a gradient check; and every kind says
// all that a model and a trainer need.
func TestEveryKindIsChecked(t *testing.T) {
	used := map[LayerKind]bool{}
	for _, l := range append(tinySpec().Layers, tinyFastSpec().Layers...) {
		used[l.Kind] = true
	}
	for name, k := range kinds {
		if !used[name] {
			t.Errorf("layer kind %s is not in tinySpec, so no test checks its gradients", name)
		}
		if k.outShape == nil || k.build == nil || (k.params == nil) != (k.init == nil) {
			t.Errorf("layer kind %s: outShape, build, and params with init must be set", name)
		}
	}
}

func TestUnknownKindNamesTheKnown(t *testing.T) {
	_, err := LayerSpec{Kind: "dropout", Name: "d"}.outShape([3]int{1, 1, 1})
	if err == nil {
		t.Fatal("unknown kind accepted")
	}
	for name := range kinds {
		if !strings.Contains(err.Error(), string(name)) {
			t.Errorf("error %q does not name kind %s", err, name)
		}
	}
}

// TestReLUHandOver: a convolution's ReLU moves to a max pool right after it, and only there.
func TestReLUHandOver(t *testing.T) {
	m := mustModel(t, tinySpec(), 1)
	tr := mustTrainer(t, m, 1, 1)
	defer tr.Close()
	// conv1 (ReLU, before conv2), conv2 (ReLU, before pool1: handed over), pool1 (takes it),
	// norm1, conv3 (ReLU, before pool2), pool2, local3 (ReLU), softmax_linear.
	want := []bool{true, false, true, false, false, true, true, false}
	for i, l := range m.spec.Layers {
		if got := tr.relu(i); got != want[i] {
			t.Errorf("layer %s applies ReLU %v, want %v", l.Name, got, want[i])
		}
	}
}

// TestParamsViewTheSlabs: every parameter's value and gradient is its part of the model's
// slabs, in Params order, and every optimizer slot its part of one slab per slot kind, so
// writing a slab is writing the parameters (what replica relies on to sum into Grads).
func TestParamsViewTheSlabs(t *testing.T) {
	m := mustModel(t, tinySpec(), 3)
	values, grads := m.Values(), m.Grads()
	if len(values) != m.NumParams() || len(grads) != m.NumParams() {
		t.Fatalf("slabs of %d and %d floats for %d parameters", len(values), len(grads), m.NumParams())
	}
	for i := range grads {
		grads[i] = float32(i)
	}
	off := 0
	for _, p := range m.Params() {
		n := p.Size()
		if v := p.Data(); len(v) != n || &v[0] != &values[off] {
			t.Errorf("%s values are not values[%d:%d]", p.Name, off, off+n)
		}
		if g := p.GradData(); len(g) != n || &g[0] != &grads[off] || g[n-1] != float32(off+n-1) {
			t.Errorf("%s gradient is not grads[%d:%d]", p.Name, off, off+n)
		}
		off += n
	}
	opt, err := NewOptimizer(DefaultAdam(), m.Params())
	if err != nil {
		t.Fatal(err)
	}
	// Adam's slots alternate m and v; each kind's follow one another in one slab.
	slots := opt.Slots()
	for i := 2; i < len(slots); i++ {
		prev := slots[i-2].Data()
		end := unsafe.Add(unsafe.Pointer(unsafe.SliceData(prev)), 4*len(prev))
		if unsafe.Pointer(&slots[i].Data()[0]) != end {
			t.Errorf("slot %s does not follow %s in its slab", slots[i].Name, slots[i-2].Name)
		}
	}
}
