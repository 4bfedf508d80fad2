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
	input := js.Global().Get("document").Call("getElementById", inputID)
	if !input.Truthy() || input.Get("files").Length() == 0 {
		return "", nil, errors.New("no file was chosen")
	}
	file := input.Get("files").Index(0)
	input.Set("value", "")
	name = file.Get("name").String()
	if size := int64(file.Get("size").Float()); size > limit {
		return name, nil, fmt.Errorf("the file %s is %d bytes, more than the %d this page reads", name, size, limit)
	}
	buf, err := Await(file.Call("arrayBuffer"))
	if err != nil {
		return name, nil, fmt.Errorf("the file %s could not be read: %w", name, err)
	}
	return name, BytesFromJS(nil, buf), nil
}
