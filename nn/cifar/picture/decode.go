package picture

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // one's own picture may be a JPEG
	_ "image/png"  // or a PNG
)

// ErrNotPicture is Decode's error for bytes that are not a PNG or JPEG file at all, which the
// callers tell apart from a picture that is too large or broken inside.
var ErrNotPicture = errors.New("picture: not a PNG or JPEG file")

// SizeError is Decode's error for a picture whose header gives more pixels than the caller
// allows (or none): the file is refused before its pixels are decoded, so a small file that
// claims a huge picture cannot exhaust memory.
type SizeError struct {
	Width, Height, MaxPixels int
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("picture: %dx%d pixels, want between 1 and %d pixels", e.Width, e.Height, e.MaxPixels)
}

// Decode turns an uploaded picture's bytes into a record: it reads the PNG or JPEG header,
// refuses a picture of more than maxPixels pixels (a *SizeError), decodes it and shrinks it with
// Record. The page and the native trainer both call it, so any file is accepted or refused
// alike; its errors are ErrNotPicture, a *SizeError, or one line starting "picture: " for a
// file whose header is fine but whose pixels are broken.
func Decode(data []byte, maxPixels int) ([]byte, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, ErrNotPicture
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxPixels || cfg.Height > maxPixels || cfg.Width*cfg.Height > maxPixels {
		return nil, &SizeError{Width: cfg.Width, Height: cfg.Height, MaxPixels: maxPixels}
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("picture: cannot decode the %s picture: %v", format, err)
	}
	return Record(img), nil
}
