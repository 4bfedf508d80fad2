package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The app's icons are generated here, once, and committed under assets/: go-app's defaults
// live on an outside host, which Cross-Origin-Embedder-Policy blocks (and which is unreachable
// offline). Regenerate with: go test ./server -run TestIcons -update-icons
var updateIcons = flag.Bool("update-icons", false, "rewrite the icons in ../assets")

// iconPalette: background, then nine tiles standing for CIFAR-10 images.
var iconPalette = color.Palette{
	color.RGBA{0x1e, 0x22, 0x28, 0xff},
	color.RGBA{0xe0, 0x6c, 0x75, 0xff}, color.RGBA{0xe5, 0xc0, 0x7b, 0xff}, color.RGBA{0x98, 0xc3, 0x79, 0xff},
	color.RGBA{0x56, 0xb6, 0xc2, 0xff}, color.RGBA{0x61, 0xaf, 0xef, 0xff}, color.RGBA{0xc6, 0x78, 0xdd, 0xff},
	color.RGBA{0xd1, 0x9a, 0x66, 0xff}, color.RGBA{0xab, 0xb2, 0xbf, 0xff}, color.RGBA{0xbe, 0x50, 0x46, 0xff},
}

// iconTiles places a 3x3 grid of tiles inside the middle 60% of the square, the safe zone of
// a maskable icon, as fractions of the side: start, tile size and gap.
const (
	iconStart = 0.2
	iconTile  = 0.18
	iconGap   = 0.03
)

func iconPNG(side int) []byte {
	img := image.NewPaletted(image.Rect(0, 0, side, side), iconPalette)
	for ty := 0; ty < 3; ty++ {
		for tx := 0; tx < 3; tx++ {
			x0 := int(float64(side) * (iconStart + float64(tx)*(iconTile+iconGap)))
			y0 := int(float64(side) * (iconStart + float64(ty)*(iconTile+iconGap)))
			n := int(float64(side) * iconTile)
			for y := y0; y < y0+n; y++ {
				for x := x0; x < x0+n; x++ {
					img.SetColorIndex(x, y, uint8(1+ty*3+tx))
				}
			}
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func iconSVG() []byte {
	var b strings.Builder
	hex := func(c color.Color) string {
		r, g, bl, _ := c.RGBA()
		return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, bl>>8)
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect width="100" height="100" rx="12" fill="%s"/>`, hex(iconPalette[0]))
	for ty := 0; ty < 3; ty++ {
		for tx := 0; tx < 3; tx++ {
			fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="%s"/>`,
				100*(iconStart+float64(tx)*(iconTile+iconGap)), 100*(iconStart+float64(ty)*(iconTile+iconGap)),
				100*iconTile, 100*iconTile, hex(iconPalette[1+ty*3+tx]))
		}
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// TestIcons checks the committed icons are there with the sizes the manifest announces
// (192 and 512 pixels, and an SVG), and rewrites them with -update-icons.
func TestIcons(t *testing.T) {
	dir := filepath.Join("..", "assets")
	files := map[string][]byte{
		"icon-192.png": iconPNG(192),
		"icon-512.png": iconPNG(512),
		"icon.svg":     iconSVG(),
	}
	if *updateIcons {
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, side := range map[string]int{"icon-192.png": 192, "icon-512.png": 512} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%v (regenerate with -update-icons)", err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cfg.Width != side || cfg.Height != side {
			t.Errorf("%s is %dx%d, want %dx%d", name, cfg.Width, cfg.Height, side, side)
		}
	}
	svg, err := os.ReadFile(filepath.Join(dir, "icon.svg"))
	if err != nil || !bytes.HasPrefix(svg, []byte("<svg ")) {
		t.Errorf("icon.svg: %v (regenerate with -update-icons)", err)
	}
}
