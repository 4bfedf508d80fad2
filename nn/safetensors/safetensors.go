// Package safetensors reads and writes the safetensors file format, which is how the trainer's
// checkpoints travel between the native trainer, the browser and Python.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON describing each tensor
// (dtype, shape, data_offsets) plus an optional string-to-string "__metadata__", then the raw
// little-endian tensor data. Files may be uploaded by anyone, so Parse is strict: it accepts any
// bytes without panicking or allocating more than the input's size, and says in one sentence what
// is wrong and where. Marshal writes what Python's safetensors writes: a header padded with spaces
// to a multiple of 8 bytes and data ordered so that every tensor is aligned to its element size.
package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unsafe"
)

// MaxHeaderSize is the largest header accepted, the same limit as the reference implementation,
// so a hostile length prefix cannot make us read or allocate without bound.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key holding the file's string-to-string metadata.
const metadataKey = "__metadata__"

// DType names an element type as the header spells it; only the types below are understood.
type DType string

// The element types of the safetensors format that this package reads and writes.
// (The names carry a DType prefix because F32 and I64 are the tensor constructors.)
const (
	DTypeF64  DType = "F64"
	DTypeF32  DType = "F32"
	DTypeF16  DType = "F16"
	DTypeBF16 DType = "BF16"
	DTypeI64  DType = "I64"
	DTypeI32  DType = "I32"
	DTypeI16  DType = "I16"
	DTypeI8   DType = "I8"
	DTypeU64  DType = "U64"
	DTypeU32  DType = "U32"
	DTypeU16  DType = "U16"
	DTypeU8   DType = "U8"
	DTypeBOOL DType = "BOOL"
)

// dtypeSizes maps each known dtype to its element size in bytes.
var dtypeSizes = map[DType]int{
	DTypeF64: 8, DTypeF32: 4, DTypeF16: 2, DTypeBF16: 2,
	DTypeI64: 8, DTypeI32: 4, DTypeI16: 2, DTypeI8: 1,
	DTypeU64: 8, DTypeU32: 4, DTypeU16: 2, DTypeU8: 1,
	DTypeBOOL: 1,
}

// Size returns the size of one element in bytes, or 0 for a dtype this package does not know,
// so callers can both validate a dtype and compute byte lengths with one call.
func (d DType) Size() int { return dtypeSizes[d] }

// Tensor is one named array: its element type, its shape (empty for a scalar) and its raw
// little-endian bytes. Tensors returned by Parse share Data with the parsed buffer.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// File is the whole content of a safetensors file: free-form metadata and the tensors.
// Parse returns tensors in the order of their data in the file.
type File struct {
	Metadata map[string]string
	Tensors  []Tensor
}

// Tensor finds a tensor by name, so callers can pick out parameters without caring about order.
func (f *File) Tensor(name string) (*Tensor, bool) {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], true
		}
	}
	return nil, false
}

// numElements returns the number of elements the shape describes (1 for a scalar), or an error
// when a dimension is negative or the count overflows, so sizes are never computed wrongly.
func numElements(shape []int) (int64, error) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("has negative dimension %d in shape %v", d, shape)
		}
		if d == 0 {
			n = 0
		}
	}
	if n == 0 {
		return 0, nil
	}
	for _, d := range shape {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("has shape %v whose element count overflows", shape)
		}
		n = lo
	}
	return int64(n), nil
}

// byteSize returns the number of data bytes a tensor of this dtype and shape must have,
// with the same overflow checks as numElements.
func byteSize(dt DType, shape []int) (int64, error) {
	size := dt.Size()
	if size == 0 {
		return 0, fmt.Errorf("has unknown dtype %q", string(dt))
	}
	n, err := numElements(shape)
	if err != nil {
		return 0, err
	}
	hi, lo := bits.Mul64(uint64(n), uint64(size))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, fmt.Errorf("has shape %v whose byte size overflows", shape)
	}
	return int64(lo), nil
}

// F32 builds a float32 tensor from values, copying them to little-endian bytes.
// The shape is not checked here; Marshal rejects a shape that does not match len(v).
func F32(name string, shape []int, v []float32) Tensor {
	data := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: DTypeF32, Shape: cloneShape(shape), Data: data}
}

// F32View is F32 without the copy, for writing a file at once: on a little-endian machine
// (wasm, amd64, arm64: the file's byte order) Data is v's own memory, so marshal the tensor
// before v changes and never write to Data. A checkpoint's 12.8 MB then cost one copy instead
// of an element-by-element conversion into a second buffer.
func F32View(name string, shape []int, v []float32) Tensor {
	if !littleEndian || len(v) == 0 {
		return F32(name, shape, v)
	}
	data := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
	return Tensor{Name: name, DType: DTypeF32, Shape: cloneShape(shape), Data: data}
}

// littleEndian reports whether this machine stores numbers as safetensors files do.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// I64 builds an int64 tensor from values (e.g. the global step), copying them to bytes.
// The shape is not checked here; Marshal rejects a shape that does not match len(v).
func I64(name string, shape []int, v []int64) Tensor {
	data := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(x))
	}
	return Tensor{Name: name, DType: DTypeI64, Shape: cloneShape(shape), Data: data}
}

// Float32s decodes an F32 tensor into a new slice; it fails when the dtype is not F32 or the
// data length does not match the shape, so a wrong tensor never silently becomes weights.
func (t *Tensor) Float32s() ([]float32, error) {
	n, err := t.checkDecode(DTypeF32)
	if err != nil {
		return nil, err
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return v, nil
}

// Int64s decodes an I64 tensor into a new slice, with the same checks as Float32s.
func (t *Tensor) Int64s() ([]int64, error) {
	n, err := t.checkDecode(DTypeI64)
	if err != nil {
		return nil, err
	}
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return v, nil
}

// checkDecode verifies that t has dtype want and that its data matches its shape,
// returning the element count.
func (t *Tensor) checkDecode(want DType) (int, error) {
	if t.DType != want {
		return 0, fmt.Errorf("safetensors: tensor %q is %s, not %s", t.Name, t.DType, want)
	}
	size, err := byteSize(t.DType, t.Shape)
	if err != nil {
		return 0, fmt.Errorf("safetensors: tensor %q %v", t.Name, err)
	}
	if size != int64(len(t.Data)) {
		return 0, fmt.Errorf("safetensors: tensor %q has shape %v (%d bytes of %s) but %d bytes of data",
			t.Name, t.Shape, size, t.DType, len(t.Data))
	}
	return len(t.Data) / want.Size(), nil
}

// cloneShape copies a shape so that a Tensor never aliases the caller's slice;
// a nil or empty shape (a scalar) becomes an empty, non-nil slice.
func cloneShape(shape []int) []int {
	return append([]int{}, shape...)
}
