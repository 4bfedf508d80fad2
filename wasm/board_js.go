//go:build js && wasm

package wasm

import (
	"fmt"
	"syscall/js"
	"time"
	"unsafe"

	"cifar10/nn/shard"
)

// SharedBoard is a run's board (board.go) over its SharedArrayBuffer: the control words through
// Atomics on an Int32Array, the floats copied between Go memory and the buffer (Go's wasm
// memory is its own, so published sums are copied in once and read out once per worker).
type SharedBoard struct {
	buf, words, atomics, u8 js.Value
	tmp                     []float32
}

// NewBoard makes the board of a run with layout l (the page does, for each run).
func NewBoard(l BoardLayout) (*SharedBoard, error) {
	buf, err := NewShared(l.Bytes())
	if err != nil {
		return nil, err
	}
	return OpenBoard(buf, l)
}

// OpenBoard uses v, a SharedArrayBuffer received with a start or restore message, as the
// board of a run with layout l.
func OpenBoard(v js.Value, l BoardLayout) (*SharedBoard, error) {
	sab := js.Global().Get("SharedArrayBuffer")
	if sab.Type() != js.TypeFunction || !v.InstanceOf(sab) {
		return nil, fmt.Errorf("the run's shared memory did not arrive (got %s)", v.Type())
	}
	if n := v.Get("byteLength").Int(); n != l.Bytes() {
		return nil, fmt.Errorf("the run's shared memory has %d bytes, want %d for %d workers", n, l.Bytes(), l.Workers)
	}
	g := js.Global()
	return &SharedBoard{buf: v, words: g.Get("Int32Array").New(v, 0, BoardWords),
		atomics: g.Get("Atomics"), u8: g.Get("Uint8Array").New(v)}, nil
}

// Buffer is the SharedArrayBuffer (a js.Value), to send to the workers.
func (b *SharedBoard) Buffer() any { return b.buf }

// Load reads a word.
func (b *SharedBoard) Load(word int) int32 {
	return int32(b.atomics.Call("load", b.words, word).Int())
}

// Store sets a word and rings the bell.
func (b *SharedBoard) Store(word int, v int32) {
	b.atomics.Call("store", b.words, word, v)
	b.ring()
}

// Add adds to a word and rings the bell.
func (b *SharedBoard) Add(word int, delta int32) {
	b.atomics.Call("add", b.words, word, delta)
	b.ring()
}

func (b *SharedBoard) ring() {
	b.atomics.Call("add", b.words, WordBell, 1)
	b.atomics.Call("notify", b.words, WordBell)
}

// Wait blocks the worker while word holds old, at most d (Atomics.wait: never on the page).
func (b *SharedBoard) Wait(word int, old int32, d time.Duration) {
	b.atomics.Call("wait", b.words, word, old, float64(d)/float64(time.Millisecond))
}

// ReadFloats copies (or, with add, adds) the floats at off into dst.
func (b *SharedBoard) ReadFloats(off int, dst []float32, add bool) {
	if !add {
		js.CopyBytesToGo(floatBytes(dst), b.view(off, len(dst)))
		return
	}
	if cap(b.tmp) < len(dst) {
		b.tmp = make([]float32, len(dst))
	}
	tmp := b.tmp[:len(dst)]
	js.CopyBytesToGo(floatBytes(tmp), b.view(off, len(dst)))
	shard.AddTo(dst, tmp)
}

// WriteFloats copies src to the floats at off.
func (b *SharedBoard) WriteFloats(off int, src []float32) {
	js.CopyBytesToJS(b.view(off, len(src)), floatBytes(src))
}

// view is the bytes of n floats at off, after the control block.
func (b *SharedBoard) view(off, n int) js.Value {
	start := 4*BoardWords + 4*off
	return b.u8.Call("subarray", start, start+4*n)
}

// floatBytes is f's memory as bytes (wasm and JavaScript typed arrays are little-endian).
func floatBytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), 4*len(f))
}
