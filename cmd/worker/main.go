// Command worker is the training Web Worker (web/worker.wasm), started by assets/worker.js. It
// owns the dataset and the engine; the page drives it with the messages of wasm/protocol.
package main

import "cifar10/wasm/worker"

func main() {
	worker.Run()
}
