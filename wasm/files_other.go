//go:build !(js && wasm)

package wasm

// ReadInputFile fails outside a browser.
func ReadInputFile(inputID string, limit int64) (name string, data []byte, err error) {
	return "", nil, ErrNotInBrowser
}
