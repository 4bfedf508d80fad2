// Package picture makes one's own photo what the model takes: a 32x32 CIFAR-10 record. The
// page (which decodes the file in the tab) and the native trainer's `predict -image` share it,
// so a picture is classified the same way in both (Decode: a file's bytes to a record). It
// imports only the image packages and the dataset's layout (nn/cifar), so the page's wasm links
// nothing of the engine for it.
package picture

import (
	"image"

	"cifar10/nn/cifar"
)

// Side is the side of a record's square image, and Bytes its size: 1,024 R, 1,024 G, then
// 1,024 B bytes, rows top to bottom (CIFAR-10's layout without the label byte).
const (
	Side  = cifar.Side
	Bytes = cifar.ImageBytes
)

// Record shrinks img to a record: its central square (the longer side cropped evenly at both
// ends, as the dataset's photos are centred on their object), each output pixel the average of
// the source pixels it covers (at most 8x8 of them, sampled evenly, which keeps large photos
// fast; a picture smaller than 32x32 is enlarged), transparent parts on white.
func Record(img image.Image) []byte {
	b := img.Bounds()
	n := min(b.Dx(), b.Dy())
	x0, y0 := b.Min.X+(b.Dx()-n)/2, b.Min.Y+(b.Dy()-n)/2
	out := make([]byte, Bytes)
	for y := range Side {
		ylo, yhi := span(y, y0, n)
		for x := range Side {
			xlo, xhi := span(x, x0, n)
			var sum [3]uint64
			count := uint64(0)
			for sy := ylo; sy < yhi; sy += max(1, (yhi-ylo)/8) {
				for sx := xlo; sx < xhi; sx += max(1, (xhi-xlo)/8) {
					r, g, bl, a := img.At(sx, sy).RGBA() // premultiplied: add white where transparent
					sum[0] += uint64(r + 0xffff - a)
					sum[1] += uint64(g + 0xffff - a)
					sum[2] += uint64(bl + 0xffff - a)
					count++
				}
			}
			for c := range 3 { // the average of 16-bit values, as 8 bits, rounded
				out[c*Side*Side+y*Side+x] = byte((sum[c]*255 + count*65535/2) / (count * 65535))
			}
		}
	}
	return out
}

// span is the source range [lo, hi) that output index i covers in a square of n pixels
// starting at first; it holds at least one pixel.
func span(i, first, n int) (lo, hi int) {
	lo = first + i*n/Side
	hi = first + (i+1)*n/Side
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi
}
