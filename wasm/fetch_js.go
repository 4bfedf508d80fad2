//go:build js && wasm

package wasm

import (
	"fmt"
	"strconv"
	"syscall/js"

	"cifar10/wasm/protocol"
)

// Fetch downloads url and returns its body as a Uint8Array that stays in JavaScript memory
// (it can go to IndexedDB and be copied into Go once). size is called once with the body size
// from Content-Length (or protocol.UncompressedLengthHeader when the body is encoded), or -1 when the
// server gave none; chunk is called with the byte count of every piece as it arrives, for a
// progress bar. A status other than 200, or a body of another size than announced, is an error.
func Fetch(url string, size func(total int64), chunk func(n int)) (js.Value, error) {
	resp, err := Await(js.Global().Call("fetch", url, map[string]any{"cache": "no-store"}))
	if err != nil {
		return js.Undefined(), fmt.Errorf("fetching %s: %w", url, err)
	}
	if status := resp.Get("status").Int(); status != 200 {
		return js.Undefined(), &HTTPError{URL: url, Status: status, Text: resp.Get("statusText").String()}
	}
	total := contentLength(resp)
	size(total)
	reader := resp.Get("body").Call("getReader")
	var chunks []js.Value
	var n int64
	for {
		r, err := Await(reader.Call("read"))
		if err != nil {
			return js.Undefined(), fmt.Errorf("reading %s after %d bytes: %w", url, n, err)
		}
		if r.Get("done").Bool() {
			break
		}
		v := r.Get("value")
		k := v.Get("byteLength").Int()
		chunks = append(chunks, v)
		n += int64(k)
		chunk(k)
	}
	if total >= 0 && n != total {
		return js.Undefined(), fmt.Errorf("fetching %s: got %d bytes, the server announced %d", url, n, total)
	}
	out := js.Global().Get("Uint8Array").New(n)
	var off int64
	for _, c := range chunks {
		out.Call("set", c, off)
		off += int64(c.Get("byteLength").Int())
	}
	return out, nil
}

// HTTPError is a response other than 200 OK.
type HTTPError struct {
	URL    string
	Status int
	Text   string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("fetching %s: HTTP %d %s", e.URL, e.Status, e.Text)
}

// contentLength is the size of the decoded body, or -1 when unknown.
func contentLength(resp js.Value) int64 {
	h := resp.Get("headers")
	name := "Content-Length"
	if enc := h.Call("get", "Content-Encoding"); enc.Type() == js.TypeString && enc.String() != "identity" {
		name = protocol.UncompressedLengthHeader
	}
	v := h.Call("get", name)
	if v.Type() != js.TypeString {
		return -1
	}
	n, err := strconv.ParseInt(v.String(), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
