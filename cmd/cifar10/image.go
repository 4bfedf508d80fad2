package main

import (
	"fmt"
	"image"
	_ "image/jpeg" // predict -image reads JPEG
	_ "image/png"  // and PNG pictures
	"os"

	"cifar10/nn/cifar"
)

// maxImagePixels bounds the picture predict decodes, so a huge or hostile file cannot exhaust
// memory (a 64-megapixel photo is still accepted).
const maxImagePixels = 1 << 26

// readImage decodes a PNG or JPEG file and shrinks it to a 32x32 CIFAR record (CHW bytes):
// each output pixel is the average of the source pixels it covers, the image being stretched
// to a square, which is simple and good enough for a 32x32 network.
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
	return shrink(img), nil
}

// shrink averages img down to Side x Side and returns the planes R, G, B as a record stores them.
func shrink(img image.Image) []byte {
	const side = cifar.Side
	b := img.Bounds()
	out := make([]byte, cifar.ImageBytes)
	for y := range side {
		y0, y1 := span(y, b.Min.Y, b.Dy())
		for x := range side {
			x0, x1 := span(x, b.Min.X, b.Dx())
			var sum [3]uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					r, g, bl, _ := img.At(sx, sy).RGBA()
					sum[0], sum[1], sum[2] = sum[0]+uint64(r), sum[1]+uint64(g), sum[2]+uint64(bl)
				}
			}
			n := uint64((y1 - y0) * (x1 - x0))
			for c := range 3 { // the average of 16-bit values, as 8 bits, rounded
				out[c*side*side+y*side+x] = byte((sum[c]*255 + n*65535/2) / (n * 65535))
			}
		}
	}
	return out
}

// span is the source range [lo, hi) that output index i of cifar.Side covers in a dimension of
// size n starting at first; it holds at least one pixel, so small pictures are enlarged.
func span(i, first, n int) (lo, hi int) {
	lo = first + i*n/cifar.Side
	hi = first + (i+1)*n/cifar.Side
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi
}
