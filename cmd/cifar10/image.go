package main

import (
	"fmt"
	"os"

	"cifar10/nn/cifar/picture"
)

// maxImagePixels bounds the picture predict decodes, so a huge or hostile file cannot exhaust
// memory (a 64-megapixel photo is still accepted).
const maxImagePixels = 1 << 26

// maxImageBytes bounds the file predict reads (a 64-megapixel PNG is far smaller).
const maxImageBytes = 1 << 30

// readImage decodes a PNG or JPEG file and makes it a 32x32 CIFAR record (CHW bytes) with
// picture.Decode, as the page does with one's own picture, so both classify a picture alike.
func readImage(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("-image: %w", err)
	}
	if st.Size() > maxImageBytes {
		return nil, fmt.Errorf("-image %s: %d bytes, more than the %d this command reads", path, st.Size(), maxImageBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-image: %w", err)
	}
	rec, err := picture.Decode(data, maxImagePixels)
	if err != nil {
		return nil, fmt.Errorf("-image %s: %w", path, err)
	}
	return rec, nil
}
