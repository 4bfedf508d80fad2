package nn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// padCrop is the view airbench takes, written its way: pad the image (h x w x c) by one pixel
// of reflection on every side, then crop the h x w window at (oy, ox) of the padded image.
func padCrop(src []float32, h, w, c, oy, ox int) []float32 {
	ph, pw := h+2, w+2
	pad := make([]float32, ph*pw*c)
	for y := range ph {
		for x := range pw {
			sy, sx := y-1, x-1
			if sy < 0 {
				sy = 1
			} else if sy == h {
				sy = h - 2
			}
			if sx < 0 {
				sx = 1
			} else if sx == w {
				sx = w - 2
			}
			copy(pad[(y*pw+x)*c:], src[(sy*w+sx)*c:(sy*w+sx+1)*c])
		}
	}
	out := make([]float32, h*w*c)
	for y := range h {
		for x := range w {
			copy(out[(y*w+x)*c:], pad[((y+oy)*pw+x+ox)*c:((y+oy)*pw+x+ox+1)*c])
		}
	}
	return out
}

// mirror flips an h x w x c image left-right.
func mirror(src []float32, h, w, c int) []float32 {
	out := make([]float32, len(src))
	for y := range h {
		for x := range w {
			copy(out[(y*w+x)*c:], src[(y*w+w-1-x)*c:(y*w+w-x)*c])
		}
	}
	return out
}

func TestShiftFlip(t *testing.T) {
	const h, w, c = 4, 5, 2
	src := make([]float32, h*w*c)
	for i := range src {
		src[i] = float32(i)
	}
	dst := make([]float32, len(src))
	for _, tc := range []struct {
		dy, dx int
		flip   bool
		want   []float32
	}{
		{0, 0, false, src},
		{0, 0, true, mirror(src, h, w, c)},
		{-1, -1, false, padCrop(src, h, w, c, 0, 0)},
		{1, 1, false, padCrop(src, h, w, c, 2, 2)},
		{-1, -1, true, mirror(padCrop(src, h, w, c, 0, 0), h, w, c)}, // the mirror of the shifted view
		{1, 1, true, mirror(padCrop(src, h, w, c, 2, 2), h, w, c)},
	} {
		shiftFlip(dst, src, h, w, c, tc.dy, tc.dx, tc.flip)
		if !slices.Equal(dst, tc.want) {
			t.Errorf("shift (%d,%d) flip %v:\n got %v\nwant %v", tc.dy, tc.dx, tc.flip, dst, tc.want)
		}
	}
}

// TestEvaluateTTA compares every level with logits computed view by view from airbench's
// description (pad-and-crop views, means of logits), on a small model, and checks that the
// plain figure is Evaluate's.
func TestEvaluateTTA(t *testing.T) {
	spec := tinySpec()
	m, err := NewModel(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, nil, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	const total = 11 // three batches, the last one short
	rng := rand.New(rand.NewPCG(4, 4))
	images, labels := randBatch(rng, spec, total)
	size := m.InputSize()
	fill := func(start int, im []float32, lab []uint8) error {
		copy(im, images[start*size:])
		copy(lab, labels[start:])
		return nil
	}
	got, err := tr.EvaluateTTA(TTAFlipTranslate, total, fill, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := tr.Evaluate(total, fill, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, w, c, k := spec.Input[0], spec.Input[1], spec.Input[2], spec.Classes
	logits := func(x []float32) []float64 { return to64(tr.Logits(x)[:k]) }
	want := make([]Evaluation, 3)
	for l := range want {
		want[l].Confusion = make([][]int, k)
		for i := range want[l].Confusion {
			want[l].Confusion[i] = make([]int, k)
		}
	}
	for e := range total {
		x := images[e*size : (e+1)*size]
		mirrored := func(v []float32) []float64 {
			a, b := logits(v), logits(mirror(v, h, w, c))
			for i := range a {
				a[i] = (a[i] + b[i]) / 2
			}
			return a
		}
		z0 := logits(x)
		z1 := mirrored(x)
		ul, dr := mirrored(padCrop(x, h, w, c, 0, 0)), mirrored(padCrop(x, h, w, c, 2, 2))
		z2 := make([]float64, k)
		for i := range z2 {
			z2[i] = z1[i]/2 + (ul[i]+dr[i])/4
		}
		for l, z := range [][]float64{z0, z1, z2} {
			want[l].count(toF32(z), labels[e:e+1])
		}
	}
	for l := range want {
		if got[l].Correct != want[l].Correct || !slices.EqualFunc(got[l].Confusion, want[l].Confusion, slices.Equal) {
			t.Errorf("level %v: %d correct, confusion %v; want %d, %v", TTA(l), got[l].Correct, got[l].Confusion, want[l].Correct, want[l].Confusion)
		}
		if got[l].Total != total {
			t.Errorf("level %v: total %d, want %d", TTA(l), got[l].Total, total)
		}
	}
	if plain.Correct != got[0].Correct || !slices.EqualFunc(plain.Confusion, got[0].Confusion, slices.Equal) {
		t.Errorf("EvaluateTTA's plain figure %d differs from Evaluate's %d", got[0].Correct, plain.Correct)
	}
	if _, err := tr.EvaluateTTA(TTA(3), total, fill, nil); err == nil {
		t.Error("level 3 accepted")
	}
}
