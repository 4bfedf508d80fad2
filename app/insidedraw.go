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

// gapLevel is the grey between tiles.
const gapLevel = 0x88

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

// scale maps values in lo..hi to the levels 0..255 (all to the middle grey when the range
// is empty).
type scale struct{ lo, k float32 }

func newScale(lo, hi float32) scale {
	if !(hi > lo) {
		return scale{lo: lo}
	}
	return scale{lo: lo, k: 255 / (hi - lo)}
}

// level is v's level.
func (s scale) level(v float32) uint8 {
	if s.k == 0 {
		return 128
	}
	return uint8(min(max((v-s.lo)*s.k, 0), 255) + 0.5)
}

// FiltersSheet draws filters [out, kh, kw, in] (3 input channels: RGB; otherwise channel 0,
// grey) as one colour tile each, each scaled on its own: its most negative weight black, its
// most positive full colour, so a tile shows its pattern whatever its size.
func FiltersSheet(shape [4]int, tiles []float32) (string, sheet) {
	s := newSheet(shape[0], shape[1], shape[2])
	img := s.colourImage()
	per := shape[1] * shape[2] * shape[3]
	for o := range shape[0] {
		f := tiles[o*per : (o+1)*per]
		sc := newScale(rangeOf(f))
		x0, y0 := s.origin(o)
		for y := range shape[1] {
			row := img.Pix[(y0+y)*img.Stride+4*x0:]
			for x := range shape[2] {
				p := f[(y*shape[2]+x)*shape[3]:]
				r, g, b := sc.level(p[0]), sc.level(p[0]), sc.level(p[0])
				if shape[3] == 3 {
					g, b = sc.level(p[1]), sc.level(p[2])
				}
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = r, g, b, 255
			}
		}
	}
	return pngURL(img), s
}

// MapsSheet draws a layer's maps [h, w, c] as one grey tile per channel, all on the layer's
// one scale: black its smallest value, white its largest, so channels compare.
func MapsSheet(shape [3]int, v []float32) (string, sheet) {
	s := newSheet(shape[2], shape[0], shape[1])
	img := s.greyImage()
	sc := newScale(rangeOf(v))
	c := shape[2]
	for y := range shape[0] {
		for x := range shape[1] {
			px := v[(y*shape[1]+x)*c : (y*shape[1]+x+1)*c]
			for ch, val := range px {
				x0, y0 := s.origin(ch)
				img.Pix[(y0+y)*img.Stride+x0+x] = sc.level(val)
			}
		}
	}
	return pngURL(img), s
}

// InputImage draws the image the network sees ([h, w, 3] after preprocessing) in colour,
// scaled from its smallest value (black) to its largest (white).
func InputImage(shape [3]int, v []float32) string {
	img := image.NewNRGBA(image.Rect(0, 0, shape[1], shape[0]))
	sc := newScale(rangeOf(v))
	for y := range shape[0] {
		for x := range shape[1] {
			p := v[(y*shape[1]+x)*shape[2]:]
			r, g, b := sc.level(p[0]), sc.level(p[0]), sc.level(p[0])
			if shape[2] >= 3 {
				g, b = sc.level(p[1]), sc.level(p[2])
			}
			img.SetNRGBA(x, y, color.NRGBA{r, g, b, 255})
		}
	}
	return pngURL(img)
}

// barsHeight is the height of a dense layer's bars, in pixels.
const barsHeight = 40

// BarsImage draws a dense layer's units as bars one pixel wide from a baseline: up for
// positive values, down for negative ones, scaled by the largest magnitude.
func BarsImage(v []float32) string {
	img := image.NewGray(image.Rect(0, 0, len(v), barsHeight))
	lo, hi := rangeOf(v)
	top := max(hi, -lo)
	base := barsHeight
	if lo < 0 {
		base = int(math.Round(barsHeight * float64(hi) / float64(hi-lo)))
	}
	const bar = 0xc8
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
				img.Pix[y*img.Stride+i] = bar
			}
		}
	}
	return pngURL(img)
}

// colourImage is a blank colour sheet, gaps drawn.
func (s sheet) colourImage() *image.NRGBA {
	w, h := s.Size()
	img := image.NewNRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	for y := range h {
		for x := range w {
			if s.gap(x, y) {
				img.SetNRGBA(x, y, color.NRGBA{gapLevel, gapLevel, gapLevel, 255})
			}
		}
	}
	return img
}

// greyImage is a blank grey sheet (a byte a pixel: a quarter of a colour one to encode, send
// and decode), gaps drawn.
func (s sheet) greyImage() *image.Gray {
	w, h := s.Size()
	img := image.NewGray(image.Rect(0, 0, max(w, 1), max(h, 1)))
	for y := range h {
		for x := range w {
			if s.gap(x, y) {
				img.Pix[y*img.Stride+x] = gapLevel
			}
		}
	}
	return img
}

// gap reports whether pixel x, y lies between tiles.
func (s sheet) gap(x, y int) bool { return x%(s.W+1) == s.W || y%(s.H+1) == s.H }

// pngEncoder writes the views' PNGs, reusing its buffers (the compressor's among them) from
// one redraw to the next.
var pngEncoder = png.Encoder{CompressionLevel: png.NoCompression, BufferPool: &reuse{}}

// reuse is a png.EncoderBufferPool of one buffer: the page draws on one goroutine.
type reuse struct{ b *png.EncoderBuffer }

func (r *reuse) Get() *png.EncoderBuffer  { b := r.b; r.b = nil; return b }
func (r *reuse) Put(b *png.EncoderBuffer) { r.b = b }

// pngURL is img as an uncompressed PNG data: URL.
func pngURL(img image.Image) string {
	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, img); err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}
