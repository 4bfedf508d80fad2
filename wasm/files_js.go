//go:build js && wasm

package wasm

import (
	"errors"
	"fmt"
	"syscall/js"
)

// ReadInputFile reads the file chosen in the <input type=file> with id inputID into Go memory,
// refusing files larger than limit bytes, and clears the input, so choosing the same file
// again reads it again. The page decodes small files itself (one's own picture to classify).
func ReadInputFile(inputID string, limit int64) (name string, data []byte, err error) {
	file, name, size, err := chosenFile(inputID)
	if err != nil {
		return "", nil, err
	}
	if size > limit {
		return name, nil, fmt.Errorf("the file %s is %d bytes, more than the %d this page reads", name, size, limit)
	}
	buf, err := fileBuffer(file, name)
	if err != nil {
		return name, nil, err
	}
	return name, BytesFromJS(nil, buf), nil
}

// chosenFile is the file chosen in the <input type=file> with id inputID, its name and size.
// The input is cleared, so choosing the same file again is a new choice.
func chosenFile(inputID string) (file js.Value, name string, size int64, err error) {
	input := js.Global().Get("document").Call("getElementById", inputID)
	if !input.Truthy() || input.Get("files").Length() == 0 {
		return js.Undefined(), "", 0, errors.New("no file was chosen")
	}
	file = input.Get("files").Index(0)
	input.Set("value", "")
	return file, file.Get("name").String(), int64(file.Get("size").Float()), nil
}

// fileBuffer reads a chosen file (named name) into an ArrayBuffer.
func fileBuffer(file js.Value, name string) (js.Value, error) {
	buf, err := Await(file.Call("arrayBuffer"))
	if err != nil {
		return js.Undefined(), fmt.Errorf("the file %s could not be read: %w", name, err)
	}
	return buf, nil
}
