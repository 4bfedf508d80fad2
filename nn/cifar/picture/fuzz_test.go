package picture

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// fuzzMaxPixels keeps the fuzzer's pictures small, so it tries many files a second; the
// limit's own check is the same for any value.
const fuzzMaxPixels = 1 << 16

// FuzzDecode checks that any bytes give a record of Bytes bytes or one of Decode's errors, never
// a panic, and that a picture over the pixel limit is refused by its header.
func FuzzDecode(f *testing.F) {
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 13)
	}
	var p, j, g bytes.Buffer
	png.Encode(&p, img)
	jpeg.Encode(&j, img, &jpeg.Options{Quality: 80})
	gray := image.NewGray(image.Rect(0, 0, 3, 300))
	gray.SetGray(1, 1, color.Gray{200})
	png.Encode(&g, gray)
	for _, seed := range [][]byte{p.Bytes(), j.Bytes(), g.Bytes(), p.Bytes()[:p.Len()/2], []byte("hello"), nil} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := Decode(data, fuzzMaxPixels)
		if err == nil {
			if len(rec) != Bytes {
				t.Fatalf("a record of %d bytes", len(rec))
			}
			return
		}
		var size *SizeError
		switch {
		case errors.Is(err, ErrNotPicture):
		case errors.As(err, &size):
			if size.Width >= 1 && size.Height >= 1 && size.Width*size.Height <= fuzzMaxPixels {
				t.Fatalf("refused %dx%d as too large", size.Width, size.Height)
			}
		default:
			if msg := err.Error(); !strings.HasPrefix(msg, "picture: ") || strings.Contains(msg, "\n") {
				t.Fatalf("malformed error %q", msg)
			}
		}
	})
}
