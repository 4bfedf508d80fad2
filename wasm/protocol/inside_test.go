package protocol

import (
	"math"
	"strings"
	"testing"

	"cifar10/nn/summary"
)

// sampleInside is a valid inside message of a small model: a 4x4x3 input, one conv layer of 2
// channels and a dense layer of 3 classes.
func sampleInside() Message {
	return Message{Run: 3, Payload: Inside{Step: 20, Image: 7, Label: 2, Input: [3]int{4, 4, 3},
		Filters: &FilterShape{Layer: "conv1", Shape: [4]int{2, 3, 3, 3}},
		Layers: []summary.Layer{{Name: "conv1", Kind: "conv", Output: [3]int{4, 4, 2}, Params: 56},
			{Name: "out", Kind: "dense", Output: [3]int{1, 1, 3}, Params: 99}},
		Probs: []float32{0.25, 0.5, 0.25}},
		Files: []FileRef{{Name: FileFilters, Size: 4 * 54}, {Name: FileInput, Size: 4 * 48}, {Name: FileMaps, Size: 4 * 35}}}
}

// TestInsideRefuses: buffers that do not match the shapes, and shapes out of range, are refused
// before the page reads a byte.
func TestInsideRefuses(t *testing.T) {
	edit := func(f func(p *Inside, files []FileRef) []FileRef) Message {
		m := sampleInside()
		p := m.Payload.(Inside)
		f2 := append([]FileRef(nil), m.Files...)
		m.Files = f(&p, f2)
		m.Payload = p
		return m
	}
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"maps too short", edit(func(p *Inside, f []FileRef) []FileRef { f[2].Size -= 4; return f }), "attached files"},
		{"no filters buffer", edit(func(p *Inside, f []FileRef) []FileRef { return f[1:] }), "attached files"},
		{"buffers swapped", edit(func(p *Inside, f []FileRef) []FileRef { f[1], f[2] = f[2], f[1]; return f }), "attached files"},
		{"zero channel", edit(func(p *Inside, f []FileRef) []FileRef {
			p.Layers = append([]summary.Layer(nil), p.Layers...)
			p.Layers[0].Output[2] = 0
			return f
		}), `layer "conv1": shape`},
		{"huge layer", edit(func(p *Inside, f []FileRef) []FileRef {
			p.Layers = append([]summary.Layer(nil), p.Layers...)
			p.Layers[0].Output = [3]int{4096, 4096, 64}
			return f
		}), "more than"},
		{"probabilities not the classes", edit(func(p *Inside, f []FileRef) []FileRef { p.Probs = p.Probs[:2]; return f }), "2 probabilities"},
		{"probability not a number", edit(func(p *Inside, f []FileRef) []FileRef {
			p.Probs = []float32{float32(math.NaN()), 0.5, 0.5}
			return f
		}), "probability 0"},
		{"bad filter shape", edit(func(p *Inside, f []FileRef) []FileRef {
			p.Filters = &FilterShape{Layer: "conv1", Shape: [4]int{2, 0, 3, 3}}
			return f
		}), "filter shape"},
		{"label out of range", edit(func(p *Inside, f []FileRef) []FileRef { p.Label = MaxClasses; return f }), "label"},
		{"inspect nothing", Message{Payload: InspectRequest{Image: NoImage}}, "neither filters nor an image"},
		{"inspect a bad index", Message{Payload: InspectRequest{Image: -2}}, "image -2"},
		{"inspect a test image and a picture", Message{Payload: InspectRequest{Image: 3}, Files: []FileRef{{Name: "a.png", Size: 3072}}}, "at most one picture"},
		{"inspect a picture of the wrong size", Message{Payload: InspectRequest{Image: NoImage}, Files: []FileRef{{Name: "a.png", Size: 3071}}}, "at most one picture"},
		{"precision above total", Message{Payload: Precision{Step: 1, Correct: 11, Total: 10}}, "11 correct of 10"},
		{"precision of nothing", Message{Payload: Precision{Step: 1}}, "0 correct of 0"},
		{"no checkpoints", Message{Payload: EvalCheckpoints{Images: 10}}, "0 checkpoints"},
		{"bad checkpoint id", Message{Payload: EvalCheckpoints{IDs: []string{"../x"}, Images: 10}}, "bad checkpoint id"},
		{"slice too large", Message{Payload: EvalCheckpoints{IDs: []string{"r1/000000000001"}, Images: MaxEvalImages + 1}}, "images 10001"},
	}
	for _, tt := range tests {
		_, err := Encode(tt.m)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

// TestFloat32Bytes: values cross the attached buffers bit for bit, including the ones JSON
// cannot carry.
func TestFloat32Bytes(t *testing.T) {
	in := []float32{0, -1.5, math.SmallestNonzeroFloat32, math.MaxFloat32, float32(math.Inf(-1)), 1.0 / 3}
	b := Float32Bytes(nil, in)
	if len(b) != 4*len(in) || b[4] != 0 || b[7] != 0xbf {
		t.Fatalf("bytes %x are not little-endian float32", b)
	}
	out := Float32s(append(b, 1, 2)) // a trailing partial value is ignored
	if len(out) != len(in) {
		t.Fatalf("%d values back for %d", len(out), len(in))
	}
	for i := range in {
		if math.Float32bits(out[i]) != math.Float32bits(in[i]) {
			t.Errorf("value %d: %x became %x", i, math.Float32bits(in[i]), math.Float32bits(out[i]))
		}
	}
}

// TestSettingsEval: the precision-over-time settings are checked like the others.
func TestSettingsEval(t *testing.T) {
	s := DefaultSettings()
	if s.EvalEvery != 100 || s.EvalImages != 1000 {
		t.Fatalf("defaults %d every, %d images; want 100 and 1000", s.EvalEvery, s.EvalImages)
	}
	for _, bad := range []func(*Settings){
		func(s *Settings) { s.EvalEvery = -1 },
		func(s *Settings) { s.EvalImages = MaxEvalImages + 1 },
		func(s *Settings) { s.EvalImages = -1 },
	} {
		c := DefaultSettings()
		bad(&c)
		if c.Validate() == nil {
			t.Errorf("settings with eval_every %d, eval_images %d accepted", c.EvalEvery, c.EvalImages)
		}
	}
	off := DefaultSettings()
	off.EvalEvery, off.EvalImages = 0, 0
	if err := off.Validate(); err != nil {
		t.Errorf("precision over time off: %v", err)
	}
}
