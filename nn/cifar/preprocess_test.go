package cifar

import (
	"math"
	"testing"
)

// at is the HWC index of (y, x, c) in a crop x crop image.
func at(crop, y, x, c int) int { return (y*crop+x)*3 + c }

func TestCropFlip(t *testing.T) {
	// Distinct values at known places of a zero image, then check where they land.
	img := make([]byte, ImageBytes)
	set := func(c, y, x int, v byte) { img[c*Side*Side+y*Side+x] = v }
	set(0, 4, 4, 200)
	set(1, 4, 4, 201)
	set(2, 4, 4, 202)
	set(0, 27, 27, 7) // last pixel of the central 24x24 window
	set(0, 3, 3, 99)  // just outside it
	set(2, 4, 5, 50)  // right of (4,4)

	tests := []struct {
		name   string
		oy, ox int
		flip   bool
		want   map[[3]int]float32 // (y, x, c) -> value; every other value must be 0
	}{
		{"central", 4, 4, false, map[[3]int]float32{
			{0, 0, 0}: 200, {0, 0, 1}: 201, {0, 0, 2}: 202, {23, 23, 0}: 7, {0, 1, 2}: 50}},
		{"central flipped", 4, 4, true, map[[3]int]float32{
			{0, 23, 0}: 200, {0, 23, 1}: 201, {0, 23, 2}: 202, {23, 0, 0}: 7, {0, 22, 2}: 50}},
		{"top left", 0, 0, false, map[[3]int]float32{
			{4, 4, 0}: 200, {4, 4, 1}: 201, {4, 4, 2}: 202, {3, 3, 0}: 99, {4, 5, 2}: 50}},
		{"offset 3,1 flipped", 3, 1, true, map[[3]int]float32{
			{1, 20, 0}: 200, {1, 20, 1}: 201, {1, 20, 2}: 202, {0, 21, 0}: 99, {1, 19, 2}: 50}},
	}
	const crop = 24
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]float32, crop*crop*3)
			cropFlip(dst, img, tt.oy, tt.ox, crop, tt.flip)
			for y := range crop {
				for x := range crop {
					for c := range 3 {
						if got, want := dst[at(crop, y, x, c)], tt.want[[3]int{y, x, c}]; got != want {
							t.Errorf("(y=%d, x=%d, c=%d) = %v, want %v", y, x, c, got, want)
						}
					}
				}
			}
		})
	}
}

func TestCropFull(t *testing.T) {
	// crop 32 (the cs231n preset) is the whole image, only reordered CHW -> HWC.
	img := record(0, func(c, y, x int) byte { return byte(c*80 + y + x) })[1:]
	dst := make([]float32, Side*Side*3)
	cropFlip(dst, img, 0, 0, Side, false)
	for _, p := range [][3]int{{0, 0, 0}, {31, 31, 2}, {5, 9, 1}} {
		if got, want := dst[at(Side, p[0], p[1], p[2])], float32(p[2]*80+p[0]+p[1]); got != want {
			t.Errorf("%v = %v, want %v", p, got, want)
		}
	}
}

func TestStandardize(t *testing.T) {
	r3 := float32(math.Sqrt(3))
	tests := []struct {
		name     string
		in, want []float32
	}{
		// mean 1, stddev sqrt(3) above the floor 1/sqrt(4) = 0.5
		{"stddev", []float32{0, 0, 0, 4}, []float32{-1 / r3, -1 / r3, -1 / r3, r3}},
		// mean 0.025, stddev 0.0433 below the floor: divide by 0.5
		{"floor", []float32{0, 0, 0, 0.1}, []float32{-0.05, -0.05, -0.05, 0.15}},
		{"constant", []float32{128, 128, 128}, []float32{0, 0, 0}},
		{"two values", []float32{10, 20}, []float32{-1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := append([]float32(nil), tt.in...)
			Standardize(got)
			for i := range got {
				if math.Abs(float64(got[i]-tt.want[i])) > 1e-6 {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// meanStd is over all values of an image.
func meanStd(v []float32) (mean, std float64) {
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

func TestEvalImage(t *testing.T) {
	const crop, n = 24, 24 * 24 * 3
	single := func(y, x int) []byte { // 255 at (y, x) in all channels, 0 elsewhere
		return record(0, func(c, yy, xx int) byte {
			if yy == y && xx == x {
				return 255
			}
			return 0
		})
	}
	varied := record(3, func(c, y, x int) byte { return byte(c*50 + y*5 + x*3) })
	s, err := Parse("eval", append(append(append(single(4, 4), single(3, 3)...), varied...), record(1, func(int, int, int) byte { return 77 })...))
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, n)

	// Image 0: one bright pixel inside the window at (0,0) of the crop. Three of the N
	// values are v, the rest 0: z = (v - 3v/N) / (v*sqrt(3(N-3))/N) for the bright ones.
	EvalImage(dst, s, 0, crop)
	hi := (1 - 3.0/n) / (math.Sqrt(3*(n-3)) / n)
	lo := -(3.0 / n) / (math.Sqrt(3*(n-3)) / n)
	for i, v := range dst {
		want := lo
		if i < 3 {
			want = hi
		}
		if math.Abs(float64(v)-want) > 1e-4 {
			t.Fatalf("bright pixel image: value %d = %v, want %v", i, v, want)
		}
	}
	// Image 1: the bright pixel is just outside the central window: a constant crop, and
	// the 1/sqrt(N) floor gives zeros, not NaN.
	// Image 3: a constant image, same.
	for _, i := range []int{1, 3} {
		EvalImage(dst, s, i, crop)
		for j, v := range dst {
			if v != 0 {
				t.Fatalf("image %d: value %d = %v, want 0", i, j, v)
			}
		}
	}
	// Image 2: a varied image comes out with mean 0 and stddev 1.
	EvalImage(dst, s, 2, crop)
	if m, sd := meanStd(dst); math.Abs(m) > 1e-5 || math.Abs(sd-1) > 1e-5 {
		t.Fatalf("mean %v stddev %v", m, sd)
	}
}

func TestEvalBatch(t *testing.T) {
	s := syntheticSet(t, 5)
	const crop, n = 24, 24 * 24 * 3
	images := make([]float32, 3*n)
	labels := make([]uint8, 3)
	EvalBatch(s, 2, 3, crop, images, labels)
	one := make([]float32, n)
	for j := range 3 {
		EvalImage(one, s, 2+j, crop)
		for i := range one {
			if images[j*n+i] != one[i] {
				t.Fatalf("batch image %d differs from EvalImage", j)
			}
		}
		if labels[j] != s.Labels[2+j] {
			t.Fatalf("label %d = %d", j, labels[j])
		}
	}
	EvalBatch(s, 0, 1, crop, images, nil) // labels are optional
}

func TestBrightness(t *testing.T) {
	img := []float32{0, 10, 255, -3}
	brightness(img, 63)
	want := []float32{63, 73, 318, 60} // no clipping
	for i := range img {
		if img[i] != want[i] {
			t.Fatalf("got %v, want %v", img, want)
		}
	}
}

func TestContrast(t *testing.T) {
	tests := []struct {
		name     string
		factor   float32
		in, want []float32
	}{
		// two HWC pixels; channel means R=5, G=20, B=30
		{"double", 2, []float32{0, 10, 20, 10, 30, 40}, []float32{-5, 0, 10, 15, 40, 50}},
		{"halve", 0.5, []float32{0, 10, 20, 10, 30, 40}, []float32{2.5, 15, 25, 7.5, 25, 35}},
		{"identity", 1, []float32{1, 2, 3, 4, 5, 6}, []float32{1, 2, 3, 4, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := append([]float32(nil), tt.in...)
			contrast(got, tt.factor)
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestContrastKeepsChannelMeans(t *testing.T) {
	s := syntheticSet(t, 1)
	img := make([]float32, Side*Side*3)
	cropFlip(img, s.Image(0), 0, 0, Side, false)
	before := channelMeans(img)
	contrast(img, 1.7)
	after := channelMeans(img)
	for c := range 3 {
		if math.Abs(before[c]-after[c]) > 1e-3 {
			t.Fatalf("channel %d mean %v -> %v", c, before[c], after[c])
		}
	}
}

func channelMeans(img []float32) [3]float64 {
	var m [3]float64
	for i, v := range img {
		m[i%3] += float64(v)
	}
	for c := range m {
		m[c] /= float64(len(img) / 3)
	}
	return m
}
