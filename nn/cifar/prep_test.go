package cifar

import (
	"hash/fnv"
	"math"
	"strings"
	"testing"
)

// positionImage is a record whose red byte is the row and green byte the column of the pixel,
// so a preprocessed pixel says where it came from.
func positionImage() []byte {
	return record(0, func(c, y, x int) byte {
		switch c {
		case 0:
			return byte(y)
		case 1:
			return byte(x)
		}
		return 200
	})[1:]
}

// source returns the (row, column) a FlipTranslate output pixel was read from.
func source(t *testing.T, o []float32) (int, int) {
	t.Helper()
	find := func(c int, v float32) int {
		for b := range 256 {
			if normalized[c][b] == v {
				return b
			}
		}
		t.Fatalf("channel %d value %v is no normalized byte", c, v)
		return -1
	}
	return find(0, o[0]), find(1, o[1])
}

func TestNormalizeShiftsAndFlips(t *testing.T) {
	img := positionImage()
	dst := make([]float32, Side*Side*3)
	for _, c := range []struct {
		dy, dx     int
		flip       bool
		y, x       int
		wantY, wan int
	}{
		{0, 0, false, 5, 7, 5, 7},
		{-2, -2, false, 0, 0, 2, 2},   // reflected about the edge pixel: -2 -> 2
		{-1, 0, false, 0, 9, 1, 9},    // -1 -> 1
		{2, 2, false, 31, 31, 29, 29}, // 33 -> 29 (62 - 33)
		{1, -1, false, 31, 0, 30, 1},  // 32 -> 30, -1 -> 1
		{0, 0, true, 4, 0, 4, 31},     // mirror: column 0 shows 31
		{0, 2, true, 4, 0, 4, 29},     // shift, then mirror: column 0 shows the shifted 31, 33 -> 29
		{0, -2, true, 4, 31, 4, 2},    // column 31 shows the shifted 0, -2 -> 2
	} {
		normalize(dst, img, c.dy, c.dx, c.flip)
		o := dst[(c.y*Side+c.x)*3:]
		if gy, gx := source(t, o); gy != c.wantY || gx != c.wan {
			t.Errorf("shift (%d,%d) flip %v: pixel (%d,%d) shows (%d,%d), want (%d,%d)", c.dy, c.dx, c.flip, c.y, c.x, gy, gx, c.wantY, c.wan)
		}
		if want := float32((200.0/255 - ChannelMean[2]) / ChannelStd[2]); o[2] != want {
			t.Errorf("blue %v, want (200/255 - mean)/std = %v", o[2], want)
		}
	}
}

func TestNormalizedValues(t *testing.T) {
	for _, c := range []struct {
		c, v int
		want float64
	}{
		{0, 0, -0.4914 / 0.2470},
		{1, 255, (1 - 0.4822) / 0.2435},
		{2, 114, (114.0/255 - 0.4465) / 0.2616},
	} {
		if got := normalized[c.c][c.v]; math.Abs(float64(got)-c.want) > 1e-6 {
			t.Errorf("channel %d byte %d: %v, want %v", c.c, c.v, got, c.want)
		}
	}
}

// TestFlipTranslateSampler: the stream is a pure function of (seed, k) (Fill and Example
// agree, in any order), shifts cover -2..2 on both axes, and each image's flip alternates
// from one epoch to the next.
func TestFlipTranslateSampler(t *testing.T) {
	const n = 12
	s := syntheticSet(t, n)
	a := FlipTranslate.NewSampler(s, 3, Side)
	b := FlipTranslate.NewSampler(s, 3, Side)
	size := Side * Side * 3
	const count = 5 * n
	images, labels := fill(a, 0, count)
	one := make([]float32, size)
	for k := int64(count - 1); k >= 0; k-- { // backwards: another epoch cached every time
		i := b.Index(k)
		b.Example(one, s.Image(i), k)
		if !sameBits(one, images[k*int64(size):(k+1)*int64(size)]) || labels[k] != s.Labels[i] {
			t.Fatalf("example %d: Example differs from Fill", k)
		}
	}
	if c, _ := fill(FlipTranslate.NewSampler(s, 4, Side), 0, count); sameBits(c, images) {
		t.Error("seeds 3 and 4 give the same examples")
	}
	shifts := map[[2]int]bool{}
	flips := map[int][]bool{} // image -> its flip in epochs 0..4
	for k := int64(0); k < 200*n; k++ {
		tr := drawTranslation(a, k)
		if tr.dy < -maxShift || tr.dy > maxShift || tr.dx < -maxShift || tr.dx > maxShift {
			t.Fatalf("example %d: shift (%d,%d) beyond %d", k, tr.dy, tr.dx, maxShift)
		}
		shifts[[2]int{tr.dy, tr.dx}] = true
	}
	if len(shifts) != 25 {
		t.Errorf("%d distinct shifts in 2,400 examples, want all 25", len(shifts))
	}
	// The flip of example k is read back from the output: the one shift and flip that
	// reproduce it.
	for k := range int64(count) {
		i := a.Index(k)
		ex := images[k*int64(size) : (k+1)*int64(size)]
		flipped := false
		for dy := -maxShift; dy <= maxShift; dy++ {
			for dx := -maxShift; dx <= maxShift; dx++ {
				for _, f := range []bool{false, true} {
					normalize(one, s.Image(i), dy, dx, f)
					if sameBits(one, ex) {
						flipped = f
					}
				}
			}
		}
		flips[i] = append(flips[i], flipped)
	}
	heads := 0
	for i, f := range flips {
		for e := 1; e < len(f); e++ {
			if f[e] == f[e-1] {
				t.Fatalf("image %d: flips by epoch %v do not alternate", i, f)
			}
		}
		if f[0] {
			heads++
		}
	}
	if heads == 0 || heads == n {
		t.Errorf("%d of %d images flipped in epoch 0: the coins are not random", heads, n)
	}
}

func TestPrepEvalIsPlainNormalization(t *testing.T) {
	s := syntheticSet(t, 3)
	got := make([]float32, 3*Side*Side*3)
	labels := make([]uint8, 3)
	FlipTranslate.EvalBatch(s, 0, 3, Side, got, labels)
	want := make([]float32, Side*Side*3)
	for j := range 3 {
		normalize(want, s.Image(j), 0, 0, false)
		if !sameBits(got[j*len(want):(j+1)*len(want)], want) || labels[j] != s.Labels[j] {
			t.Fatalf("image %d: evaluation input is not the normalized image", j)
		}
	}
	// Tutorial's methods are the package functions.
	tut := make([]float32, 24*24*3)
	ref := make([]float32, 24*24*3)
	Tutorial.EvalPixels(tut, s.Image(1), 24)
	EvalPixels(ref, s.Image(1), 24)
	if !sameBits(tut, ref) {
		t.Error("Tutorial.EvalPixels differs from EvalPixels")
	}
	a, _ := fill(Tutorial.NewSampler(s, 5, 24), 0, 7)
	b, _ := fill(NewSampler(s, 5, 24), 0, 7)
	if !sameBits(a, b) {
		t.Error("Tutorial.NewSampler differs from NewSampler")
	}
}

func TestPrepCheck(t *testing.T) {
	for _, c := range []struct {
		p    Prep
		side int
		want string
	}{
		{Tutorial, 24, ""},
		{Tutorial, 32, ""},
		{Tutorial, 33, "crop 33"},
		{FlipTranslate, 32, ""},
		{FlipTranslate, 24, "not 24x24"},
		{"mixup", 32, `unknown preprocessing "mixup"`},
	} {
		err := c.p.Check(c.side)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%q.Check(%d) = %v, want %q", c.p, c.side, err, c.want)
		}
	}
}

func TestFlipTranslateGolden(t *testing.T) {
	// Pins FlipTranslate's stream as TestSamplerGolden pins the tutorial's: checkpoints store
	// only (seed, examples consumed), so a change here breaks exact resume of existing runs
	// and between native and browser training. Same hash on every platform.
	sp := FlipTranslate.NewSampler(syntheticSet(t, 50), 42, Side)
	images, labels := fill(sp, 45, 16)
	h := fnv.New64a()
	for _, v := range images {
		b := math.Float32bits(v)
		h.Write([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24)})
	}
	h.Write(labels)
	const wantHash = 0x45e46fddf3077757
	if got := h.Sum64(); got != wantHash {
		t.Fatalf("stream changed: hash %#x, want %#x", got, uint64(wantHash))
	}
}
