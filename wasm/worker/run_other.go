//go:build !(js && wasm)

package worker

import (
	"fmt"
	"os"
)

// Run needs a browser's Web Worker; natively it says so and exits.
func Run() {
	fmt.Fprintln(os.Stderr, "worker: this program runs as web/worker.wasm in a browser's Web Worker")
	os.Exit(2)
}
