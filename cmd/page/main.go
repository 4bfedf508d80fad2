// Command page is the user interface compiled to WebAssembly (web/app.wasm), loaded by the page
// the server prerenders.
package main

import (
	ui "cifar10/app"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

func main() {
	ui.Routes()
	app.RunWhenOnBrowser()
}
