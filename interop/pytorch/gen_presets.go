//go:build ignore

// gen_presets writes presets.json (go generate ./interop/pytorch); TestPresetsUpToDate holds
// the committed file to its output.
package main

import (
	"log"
	"os"

	"cifar10/interop/pytorch"
)

func main() {
	b, err := pytorch.PresetsJSON()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(pytorch.PresetsFile, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
