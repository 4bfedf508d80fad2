package app

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/png"

	"cifar10/nn/cifar"
	"cifar10/nn/cifar/picture"
)

// Pictures in the page: one's own picture made a 32x32 CIFAR-10 record for the worker to
// classify, and records (test images, that picture) drawn as PNG data: URLs. Plain Go, so it
// is tested natively; the page's wasm decodes the file itself and sends the worker only the
// 3,072 bytes the model sees.

// Limits on a picture to classify: the file's size, and its pixels, so that decoding it stays
// within the tab's memory (a 16-megapixel photo decodes to at most 64 MB).
const (
	MaxPictureBytes  = 32 << 20
	MaxPicturePixels = 1 << 24
)

// PictureRecord decodes a PNG or JPEG file and makes it what the model takes, as the native
// trainer's predict -image does (picture.Record: the central square shrunk to 32x32,
// transparent parts on white). It returns the 3,072 bytes in a CIFAR-10 record's layout
// (1,024 R, 1,024 G, 1,024 B, rows top to bottom), or an error of one sentence naming the file.
func PictureRecord(name string, data []byte) ([]byte, error) {
	rec, err := picture.Decode(data, MaxPicturePixels)
	var size *picture.SizeError
	switch {
	case err == nil:
		return rec, nil
	case errors.Is(err, picture.ErrNotPicture):
		return nil, errors.New(T(msgPicNotImage, name))
	case errors.As(err, &size):
		return nil, errors.New(T(msgPicTooLarge, name, size.Width, size.Height, MaxPicturePixels>>20))
	default:
		return nil, errors.New(T(msgPicBroken, name, err))
	}
}

// RecordImage is a 32x32 record (CHW bytes) as an image.
func RecordImage(rec []byte) *image.NRGBA {
	const side, plane = cifar.Side, cifar.Side * cifar.Side
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	for i := range plane {
		img.SetNRGBA(i%side, i/side, color.NRGBA{rec[i], rec[plane+i], rec[2*plane+i], 255})
	}
	return img
}

// RecordPNG returns a record as a PNG data: URL, for an <img>. A record that is not 3,072
// bytes gives "" (nothing is drawn).
func RecordPNG(rec []byte) string {
	if len(rec) != cifar.ImageBytes {
		return ""
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, RecordImage(rec)); err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}
