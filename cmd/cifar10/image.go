package main

import (
	"fmt"
	"image"
	_ "image/jpeg" // predict -image reads JPEG
	_ "image/png"  // and PNG pictures
	"os"

	"cifar10/nn/cifar/picture"
)

// maxImagePixels bounds the picture predict decodes, so a huge or hostile file cannot exhaust
// memory (a 64-megapixel photo is still accepted).
const maxImagePixels = 1 << 26

// readImage decodes a PNG or JPEG file and makes it a 32x32 CIFAR record (CHW bytes) as the
// page does with one's own picture (picture.Record: the central square, averaged down,
// transparent parts on white), so both classify a picture alike.
func readImage(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-image: %w", err)
	}
	defer file.Close()
	cfg, format, err := image.DecodeConfig(file)
	if err != nil {
		return nil, fmt.Errorf("-image %s: not a PNG or JPEG picture: %v", path, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > maxImagePixels {
		return nil, fmt.Errorf("-image %s: %dx%d pixels, want between 1 and %d pixels", path, cfg.Width, cfg.Height, maxImagePixels)
	}
	if _, err := file.Seek(0, 0); err != nil {
		return nil, fmt.Errorf("-image %s: %w", path, err)
	}
	img, _, err := image.Decode(file)
	if err != nil {
		return nil, fmt.Errorf("-image %s: cannot decode the %s picture: %v", path, format, err)
	}
	return picture.Record(img), nil
}
