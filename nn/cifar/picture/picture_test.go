package picture

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

// at returns a record's (r, g, b) at x, y.
func at(rec []byte, x, y int) [3]byte {
	i := y*Side + x
	return [3]byte{rec[i], rec[Side*Side+i], rec[2*Side*Side+i]}
}

func TestRecord(t *testing.T) {
	flat := func(r image.Rectangle) image.Image {
		img := image.NewRGBA(r)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				img.Set(x, y, color.RGBA{255, 128, 3, 255})
			}
		}
		return img
	}
	// Columns alternately black and white: each output pixel averages two of each.
	stripes := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			stripes.SetGray(x, y, color.Gray{uint8(255 * (x % 2))})
		}
	}
	// Wide: red bands either side of a blue central square, which the crop keeps alone.
	wide := image.NewNRGBA(image.Rect(0, 0, 96, 64))
	for y := range 64 {
		for x := range 96 {
			c := color.NRGBA{200, 0, 0, 255}
			if x >= 16 && x < 80 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			wide.SetNRGBA(x, y, c)
		}
	}
	tiny := image.NewNRGBA(image.Rect(0, 0, 2, 2)) // enlarged; transparent becomes white
	tiny.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	big := flat(image.Rect(0, 0, 1000, 700)) // sampled, not every pixel read: still exact
	tests := []struct {
		name string
		img  image.Image
		want map[[2]int][3]byte
	}{
		{"flat 100x64", flat(image.Rect(0, 0, 100, 64)), map[[2]int][3]byte{{0, 0}: {255, 128, 3}, {31, 31}: {255, 128, 3}}},
		{"flat offset 7x3", flat(image.Rect(3, 5, 10, 8)), map[[2]int][3]byte{{0, 0}: {255, 128, 3}, {31, 31}: {255, 128, 3}}},
		{"big", big, map[[2]int][3]byte{{0, 0}: {255, 128, 3}, {17, 9}: {255, 128, 3}}},
		{"stripes", stripes, map[[2]int][3]byte{{0, 0}: {128, 128, 128}, {31, 31}: {128, 128, 128}}},
		{"wide", wide, map[[2]int][3]byte{{0, 0}: {0, 0, 255}, {31, 31}: {0, 0, 255}}},
		{"tiny", tiny, map[[2]int][3]byte{{0, 0}: {255, 0, 0}, {15, 15}: {255, 0, 0}, {16, 0}: {255, 255, 255}, {31, 31}: {255, 255, 255}}},
	}
	for _, tc := range tests {
		rec := Record(tc.img)
		if len(rec) != Bytes {
			t.Fatalf("%s: %d bytes", tc.name, len(rec))
		}
		for p, want := range tc.want {
			if got := at(rec, p[0], p[1]); got != want {
				t.Errorf("%s: pixel %v = %v, want %v", tc.name, p, got, want)
			}
		}
	}
}

func TestDecode(t *testing.T) {
	var small, wide bytes.Buffer
	png.Encode(&small, image.NewGray(image.Rect(0, 0, 8, 8)))
	png.Encode(&wide, image.NewGray(image.Rect(0, 0, 300, 1)))
	tests := []struct {
		name string
		data []byte
		max  int
		err  string
	}{
		{"small", small.Bytes(), 64, ""},
		{"text", []byte("hello"), 64, ErrNotPicture.Error()},
		{"too many pixels", small.Bytes(), 63, "picture: 8x8 pixels, want between 1 and 63 pixels"},
		{"too wide", wide.Bytes(), 299, "picture: 300x1 pixels"},
		{"cut", small.Bytes()[:small.Len()-20], 64, "picture: cannot decode the png picture"},
	}
	for _, tc := range tests {
		rec, err := Decode(tc.data, tc.max)
		if tc.err == "" {
			if err != nil || len(rec) != Bytes {
				t.Errorf("%s: %d bytes, %v", tc.name, len(rec), err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.err)
		}
	}
}
