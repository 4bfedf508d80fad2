package app

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"math"
)

// Drawing the views inside the network: filters and feature maps as sprite sheets (one PNG
// per layer, tiles in a grid with a one-pixel gap), dense layers as bars. Plain Go, tested
// natively. The page redraws them at most once a second while training, so the PNGs are
// written without compression: building them costs less than squeezing them.

// sheet is a grid of count tiles of h x w pixels, cols a row, one pixel apart.
type sheet struct {
	Count, H, W, Cols int
}

// newSheet lays out count tiles of h x w in rows of at most 16.
func newSheet(count, h, w int) sheet {
	return sheet{Count: count, H: h, W: w, Cols: min(count, 16)}
}

// Rows is the number of rows of tiles.
func (s sheet) Rows() int { return (s.Count + s.Cols - 1) / max(s.Cols, 1) }

// Size is the sheet's size in pixels.
func (s sheet) Size() (w, h int) { return s.Cols*(s.W+1) - 1, s.Rows()*(s.H+1) - 1 }

// origin is the top-left pixel of tile i.
func (s sheet) origin(i int) (x, y int) { return (i % s.Cols) * (s.W + 1), (i / s.Cols) * (s.H + 1) }

// gapColor is the colour between tiles.
var gapColor = color.NRGBA{0x88, 0x88, 0x88, 255}

// rangeOf is the smallest and largest of v, ignoring values that are not finite.
func rangeOf(v []float32) (lo, hi float32) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, x := range v {
		if !math.IsInf(float64(x), 0) && !math.IsNaN(float64(x)) {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}

// level maps v in lo..hi to 0..255 (the middle grey when the range is empty).
func level(v, lo, hi float32) uint8 {
	if !(hi > lo) {
		return 128
	}
	t := (float64(v) - float64(lo)) / (float64(hi) - float64(lo))
	return uint8(math.Round(255 * min(max(t, 0), 1)))
}

// FiltersSheet draws filters [out, kh, kw, in] (3 input channels: RGB; otherwise channel 0,
// grey) as one colour tile each, each scaled on its own: its most negative weight black, its
// most positive full colour, so a tile shows its pattern whatever its size.
func FiltersSheet(shape [4]int, tiles []float32) (string, sheet) {
	s := newSheet(shape[0], shape[1], shape[2])
	img := s.image()
	per := shape[1] * shape[2] * shape[3]
	for o := range shape[0] {
		f := tiles[o*per : (o+1)*per]
		lo, hi := rangeOf(f)
		x0, y0 := s.origin(o)
		for y := range shape[1] {
			for x := range shape[2] {
				p := f[(y*shape[2]+x)*shape[3]:]
				c := color.NRGBA{level(p[0], lo, hi), level(p[0], lo, hi), level(p[0], lo, hi), 255}
				if shape[3] == 3 {
					c.G, c.B = level(p[1], lo, hi), level(p[2], lo, hi)
				}
				img.SetNRGBA(x0+x, y0+y, c)
			}
		}
	}
	return pngURL(img), s
}

// MapsSheet draws a layer's maps [h, w, c] as one grey tile per channel, all on the layer's
// one scale: black its smallest value, white its largest, so channels compare.
func MapsSheet(shape [3]int, v []float32) (string, sheet) {
	s := newSheet(shape[2], shape[0], shape[1])
	img := s.image()
	lo, hi := rangeOf(v)
	c := shape[2]
	for ch := range c {
		x0, y0 := s.origin(ch)
		for y := range shape[0] {
			for x := range shape[1] {
				g := level(v[(y*shape[1]+x)*c+ch], lo, hi)
				img.SetNRGBA(x0+x, y0+y, color.NRGBA{g, g, g, 255})
			}
		}
	}
	return pngURL(img), s
}

// InputImage draws the image the network sees ([h, w, 3] after preprocessing) in colour,
// scaled from its smallest value (black) to its largest (white).
func InputImage(shape [3]int, v []float32) string {
	img := image.NewNRGBA(image.Rect(0, 0, shape[1], shape[0]))
	lo, hi := rangeOf(v)
	for y := range shape[0] {
		for x := range shape[1] {
			p := v[(y*shape[1]+x)*shape[2]:]
			c := color.NRGBA{level(p[0], lo, hi), level(p[0], lo, hi), level(p[0], lo, hi), 255}
			if shape[2] >= 3 {
				c.G, c.B = level(p[1], lo, hi), level(p[2], lo, hi)
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return pngURL(img)
}

// barsHeight is the height of a dense layer's bars, in pixels.
const barsHeight = 40

// BarsImage draws a dense layer's units as bars one pixel wide from a baseline: up for
// positive values, down for negative ones, scaled by the largest magnitude.
func BarsImage(v []float32) string {
	img := image.NewNRGBA(image.Rect(0, 0, len(v), barsHeight))
	lo, hi := rangeOf(v)
	top := max(hi, -lo)
	base := barsHeight
	if lo < 0 {
		base = int(math.Round(barsHeight * float64(hi) / float64(hi-lo)))
	}
	bar := color.NRGBA{0x2b, 0x6c, 0xb0, 255}
	for i, x := range v {
		if !(top > 0) || math.IsNaN(float64(x)) {
			continue
		}
		n := int(math.Round(float64(barsHeight) * math.Abs(float64(x)) / float64(hi-min(lo, 0))))
		for k := range n {
			y := base - 1 - k
			if x < 0 {
				y = base + k
			}
			if y >= 0 && y < barsHeight {
				img.SetNRGBA(i, y, bar)
			}
		}
	}
	return pngURL(img)
}

// image is a blank sheet, gaps drawn.
func (s sheet) image() *image.NRGBA {
	w, h := s.Size()
	img := image.NewNRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	for y := range h {
		for x := range w {
			if x%(s.W+1) == s.W || y%(s.H+1) == s.H {
				img.SetNRGBA(x, y, gapColor)
			}
		}
	}
	return img
}

// pngURL is img as an uncompressed PNG data: URL.
func pngURL(img image.Image) string {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.NoCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}
