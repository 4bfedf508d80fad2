package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
)

// allDTypes lists every dtype the package supports, for round trips.
var allDTypes = []DType{
	DTypeF64, DTypeF32, DTypeF16, DTypeBF16, DTypeI64, DTypeI32, DTypeI16, DTypeI8,
	DTypeU64, DTypeU32, DTypeU16, DTypeU8, DTypeBOOL,
}

// sampleFile builds a file with one tensor of every dtype (odd shapes, a scalar and empty
// tensors included) and metadata that needs JSON escaping.
func sampleFile() *File {
	f := &File{Metadata: map[string]string{
		"format":  "cifar10-checkpoint/1",
		"quote":   `he said "hi" \ <b>&</b>`,
		"unicode": "précision ✓ 精度",
		"":        "empty key",
		"control": "tab\tnewline\n",
	}}
	shapes := [][]int{{3}, {2, 3}, {}, {1, 1, 5}, {0, 4}, {7}, {3, 0}}
	for i, dt := range allDTypes {
		shape := shapes[i%len(shapes)]
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]byte, n*dt.Size())
		for j := range data {
			data[j] = byte(i*31 + j*7)
		}
		if dt == DTypeBOOL {
			for j := range data {
				data[j] &= 1
			}
		}
		f.Tensors = append(f.Tensors, Tensor{Name: "layer" + string(rune('a'+i)) + "/" + string(dt), DType: dt, Shape: shape, Data: data})
	}
	return f
}

// sameContent reports whether two files hold the same metadata and tensors, ignoring order.
func sameContent(t *testing.T, want, got *File) {
	t.Helper()
	if len(want.Metadata) != len(got.Metadata) {
		t.Fatalf("metadata has %d keys, want %d: %v", len(got.Metadata), len(want.Metadata), got.Metadata)
	}
	for k, v := range want.Metadata {
		if got.Metadata[k] != v {
			t.Fatalf("metadata[%q] = %q, want %q", k, got.Metadata[k], v)
		}
	}
	if len(want.Tensors) != len(got.Tensors) {
		t.Fatalf("%d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for _, w := range want.Tensors {
		g, ok := got.Tensor(w.Name)
		if !ok {
			t.Fatalf("tensor %q missing", w.Name)
		}
		if g.DType != w.DType || !reflect.DeepEqual(append([]int{}, g.Shape...), append([]int{}, w.Shape...)) || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("tensor %q = %s %v %x, want %s %v %x", w.Name, g.DType, g.Shape, g.Data, w.DType, w.Shape, w.Data)
		}
	}
}

func TestRoundTripEveryDType(t *testing.T) {
	f := sampleFile()
	out, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(out)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	got, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	sameContent(t, f, got)
	_, entries, err := parseHeader(out[8 : 8+n])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.begin%int64(e.dtype.Size()) != 0 {
			t.Errorf("tensor %q starts at data byte %d, not aligned to %d", e.name, e.begin, e.dtype.Size())
		}
	}

	// Same content in another order gives the same bytes.
	rev := &File{Metadata: f.Metadata}
	for i := len(f.Tensors) - 1; i >= 0; i-- {
		rev.Tensors = append(rev.Tensors, f.Tensors[i])
	}
	out2, err := Marshal(rev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, out2) {
		t.Error("Marshal output depends on tensor order")
	}
}

func TestRoundTripEmpty(t *testing.T) {
	out, err := Marshal(&File{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "\x08\x00\x00\x00\x00\x00\x00\x00{}      "; string(out) != want {
		t.Fatalf("empty file = %q, want %q", out, want)
	}
	f, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 0 || f.Metadata == nil || len(f.Metadata) != 0 {
		t.Fatalf("empty file parsed as %+v", f)
	}
}

// TestF32View checks that the copy-free tensor marshals to the same bytes as F32's copy.
func TestF32View(t *testing.T) {
	fv := []float32{0, float32(math.Copysign(0, -1)), 1.5, -2.25, float32(math.Inf(-1)), math.SmallestNonzeroFloat32, 3e38}
	for _, v := range [][]float32{fv, nil} {
		want, err := Marshal(&File{Tensors: []Tensor{F32("w", []int{len(v)}, v)}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := Marshal(&File{Tensors: []Tensor{F32View("w", []int{len(v)}, v)}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d floats: F32View marshals to %x, F32 to %x", len(v), got, want)
		}
	}
}

func TestFloat32sInt64s(t *testing.T) {
	fv := []float32{0, float32(math.Copysign(0, -1)), 1.5, -2.25, float32(math.Inf(1)), math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.NaN())}
	iv := []int64{0, -1, 42, math.MaxInt64, math.MinInt64, 1 << 40}
	out, err := Marshal(&File{Tensors: []Tensor{F32("w", []int{2, 4}, fv), I64("global_step", []int{6}, iv)}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := f.Tensor("w")
	gotF, err := w.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	for i := range fv {
		if math.Float32bits(gotF[i]) != math.Float32bits(fv[i]) {
			t.Errorf("w[%d] = %v, want %v (bit for bit)", i, gotF[i], fv[i])
		}
	}
	s, _ := f.Tensor("global_step")
	gotI, err := s.Int64s()
	if err != nil || !reflect.DeepEqual(gotI, iv) {
		t.Errorf("global_step = %v, %v; want %v", gotI, err, iv)
	}
	if _, err := w.Int64s(); err == nil || !strings.Contains(err.Error(), `tensor "w" is F32, not I64`) {
		t.Errorf("Int64s of F32 tensor: %v", err)
	}
	short := F32("short", []int{3}, []float32{1, 2})
	if _, err := short.Float32s(); err == nil || !strings.Contains(err.Error(), "12 bytes of F32) but 8 bytes") {
		t.Errorf("Float32s of short tensor: %v", err)
	}
	if _, ok := f.Tensor("nope"); ok {
		t.Error("Tensor found a name that is not there")
	}
}

// lengthPrefix returns the 8-byte little-endian length of a header of n bytes.
func lengthPrefix(n int) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	return b[:]
}

// TestGoldenRead parses a file written byte by byte from the format description, not by Marshal.
func TestGoldenRead(t *testing.T) {
	header := `{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}`
	header += strings.Repeat(" ", (8-len(header)%8)%8)
	var file []byte
	file = append(file, byte(len(header)), 0, 0, 0, 0, 0, 0, 0) // header length < 256
	file = append(file, header...)
	file = append(file,
		0x00, 0x00, 0x80, 0x3f, // 1.0f
		0x00, 0x00, 0x20, 0xc0, // -2.5f
		0x07, 0, 0, 0, 0, 0, 0, 0, // int64 7
	)
	f, err := Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["format"] != "pt" || len(f.Metadata) != 1 {
		t.Errorf("metadata = %v", f.Metadata)
	}
	if len(f.Tensors) != 2 || f.Tensors[0].Name != "a" || f.Tensors[1].Name != "b" {
		t.Fatalf("tensors not in data order: %+v", f.Tensors)
	}
	a, _ := f.Tensor("a")
	if v, err := a.Float32s(); err != nil || !reflect.DeepEqual(v, []float32{1, -2.5}) || !reflect.DeepEqual(a.Shape, []int{2}) {
		t.Errorf("a = %v %v, %v", a.Shape, v, err)
	}
	b, _ := f.Tensor("b")
	if v, err := b.Int64s(); err != nil || !reflect.DeepEqual(v, []int64{7}) || len(b.Shape) != 0 {
		t.Errorf("b = %v %v, %v", b.Shape, v, err)
	}
}

// TestGoldenWrite pins Marshal's exact bytes: sorted keys, metadata first, 8-byte data (I64)
// before 4-byte data (F32), space padding.
func TestGoldenWrite(t *testing.T) {
	f := &File{
		Metadata: map[string]string{"format": "pt"},
		Tensors:  []Tensor{F32("a", []int{2}, []float32{1, -2.5}), I64("b", nil, []int64{7})},
	}
	header := `{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"b":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`
	header += strings.Repeat(" ", (8-len(header)%8)%8)
	want := append(lengthPrefix(len(header)), header...)
	want = append(want, 7, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0)
	got, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal =\n%q\nwant\n%q", got, want)
	}
}

// rawFile builds a file from a literal header (no padding added) and data bytes.
func rawFile(header string, data ...byte) []byte {
	return append(append(lengthPrefix(len(header)), header...), data...)
}

// okA is the header entry of a valid 2-byte tensor "a", for building broken files briefly.
const okA = `"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}`

// brokenCases are invalid files and a fragment of the error each must produce.
var brokenCases = []struct {
	name string
	data []byte
	want string
}{
	{"empty", nil, "file is 0 bytes, too short"},
	{"truncated length", []byte{8, 0, 0}, "file is 3 bytes, too short for the 8-byte header length"},
	{"header over limit", append(lengthPrefix(MaxHeaderSize+1), "{}"...), "header length 100000001 (file bytes 0..8) is over the 100000000-byte limit"},
	{"header past end", append(lengthPrefix(100), "{}"...), "header length 100 (file bytes 0..8) is more than the 2 bytes that follow it"},
	{"length all ones", append([]byte{255, 255, 255, 255, 255, 255, 255, 255}, "{}"...), "is over the 100000000-byte limit"},
	{"empty header", rawFile(""), "header JSON ends before it is complete"},
	{"not JSON", rawFile("hello"), "header is not valid JSON at file byte 8: invalid character 'h'"},
	{"JSON array", rawFile(`[1,2]`), "header (file bytes 8..13) is an array in JSON, not an object"},
	{"JSON string", rawFile(`"x"`), "is a string in JSON, not an object"},
	{"not UTF-8", rawFile("{\"\xff\":1}"), "header (file bytes 8..15) is not valid UTF-8"},
	{"leading space", rawFile(` {}`), "starts with white space; it must start with '{'"},
	{"unclosed object", rawFile(`{"a":{"dtype":"U8"`), "header JSON ends before it is complete at file byte 26"},
	{"bad last byte", rawFile(`{"a":x`), "header is not valid JSON at file byte 13: invalid character 'x'"},
	{"trailing garbage", rawFile(`{}  x`), "header has data after its JSON object at file byte 12; only space padding"},
	{"trailing NUL", rawFile("{}\x00"), "header has data after its JSON object at file byte 10"},
	{"unknown dtype", rawFile(`{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, 0), `tensor "a" has unknown dtype "F8"`},
	{"dtype not string", rawFile(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,1]}}`, 0), `tensor "a" has a dtype that is a number, not a string`},
	{"shape offset mismatch", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 0, 0, 0, 0), `tensor "a" has shape [2] of F32 (8 bytes) but data_offsets [0, 4] span 4 bytes`},
	{"negative dim", rawFile(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`), `tensor "a" has negative dimension -1 in its shape`},
	{"fractional dim", rawFile(`{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}`, 0), `tensor "a" has shape holding 1.5, which is not a 64-bit integer`},
	{"dim too big", rawFile(`{"a":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,1]}}`, 0), "which is not a 64-bit integer"},
	{"element count overflow", rawFile(`{"a":{"dtype":"U8","shape":[4294967296,4294967296,4],"data_offsets":[0,1]}}`, 0), `tensor "a" has shape [4294967296 4294967296 4] whose element count overflows`},
	{"byte size overflow", rawFile(`{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,1]}}`, 0), "whose byte size overflows"},
	{"shape not array", rawFile(`{"a":{"dtype":"U8","shape":3,"data_offsets":[0,3]}}`, 0, 0, 0), `tensor "a" has shape that is a number, not an array of integers`},
	{"three offsets", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, 0, 0), `tensor "a" has 3 data_offsets; it needs exactly [begin, end]`},
	{"reversed offsets", rawFile(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[2,1]}}`, 0, 0), `tensor "a" has data_offsets [2, 1], which is not a valid byte range`},
	{"negative offset", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, 0), `data_offsets [-1, 0], which is not a valid byte range`},
	{"offsets past end", rawFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, 0, 0), `tensor "a" has data_offsets [0, 4] past the end of the 2-byte data section`},
	{"overlap", rawFile(`{`+okA+`,"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, 0, 0, 0), `tensors "a" (data bytes 0..2) and "b" (data bytes 1..3) overlap`},
	{"same range twice", rawFile(`{`+okA+`,"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, 0, 0), `tensors "a" (data bytes 0..2) and "b" (data bytes 0..2) overlap`},
	{"hole", rawFile(`{`+okA+`,"b":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}}`, 0, 0, 0, 0), `data bytes 2..3 (file bytes 115..116) before tensor "b" belong to no tensor`},
	{"hole at start", rawFile(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 0, 0), `data bytes 0..1 (file bytes 61..62) before tensor "b" belong to no tensor`},
	{"trailing data", rawFile(`{`+okA+`}`, 0, 0, 9, 9), `data bytes 2..4 (file bytes 63..65) at the end of the file belong to no tensor`},
	{"data without tensors", rawFile(`{}`, 1), `data bytes 0..1 (file bytes 10..11) at the end of the file belong to no tensor`},
	{"duplicate tensor", rawFile(`{`+okA+`,`+okA+`}`, 0, 0), `header has duplicate key "a"`},
	{"duplicate metadata", rawFile(`{"__metadata__":{},"__metadata__":{}}`), `header has duplicate key "__metadata__"`},
	{"duplicate metadata key", rawFile(`{"__metadata__":{"k":"1","k":"2"}}`), `__metadata__ has duplicate key "k"`},
	{"metadata non-string", rawFile(`{"__metadata__":{"k":1}}`), `__metadata__ value for key "k" is a number, not a string`},
	{"metadata null value", rawFile(`{"__metadata__":{"k":null}}`), `__metadata__ value for key "k" is null, not a string`},
	{"metadata array", rawFile(`{"__metadata__":["k"]}`), `__metadata__ is an array, not an object of strings`},
	{"metadata null", rawFile(`{"__metadata__":null}`), `__metadata__ is null, not an object of strings`},
	{"empty name", rawFile(`{"":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`), "header has a tensor with an empty name"},
	{"tensor not object", rawFile(`{"a":[1]}`), `tensor "a" is an array, not an object with dtype, shape and data_offsets`},
	{"missing shape", rawFile(`{"a":{"dtype":"U8","data_offsets":[0,0]}}`), `tensor "a" has no "shape"`},
	{"missing offsets", rawFile(`{"a":{"dtype":"U8","shape":[0]}}`), `tensor "a" has no "data_offsets"`},
	{"unknown field", rawFile(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"foo":1}}`), `tensor "a" has unknown field "foo"`},
	{"duplicate field", rawFile(`{"a":{"dtype":"U8","dtype":"U8","shape":[0],"data_offsets":[0,0]}}`), `tensor "a" has duplicate field "dtype"`},
}

func TestParseBroken(t *testing.T) {
	if len(brokenCases) < 15 {
		t.Fatalf("only %d broken cases", len(brokenCases))
	}
	for _, c := range brokenCases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.data)
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", f)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "safetensors: ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line prefixed with safetensors:", msg)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q\ndoes not contain %q", msg, c.want)
			}
		})
	}
}

// acceptCases are valid corner cases that a too-strict reader might refuse.
var acceptCases = map[string][]byte{
	"zero-size tensors share an offset": rawFile(`{"z":{"dtype":"F32","shape":[0,3],"data_offsets":[2,2]},"y":{"dtype":"U8","shape":[0],"data_offsets":[2,2]},`+okA+`}`, 1, 2),
	"zero-size with huge dims":          rawFile(`{"z":{"dtype":"F64","shape":[0,4611686018427387904],"data_offsets":[0,0]}}`),
	"newline padding":                   rawFile("{}\n\t\r "),
	"unicode escapes":                   rawFile(`{"\u00e9\ud83d\ude00":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]}}`, 1),
	"metadata after tensors":            rawFile(`{`+okA+`,"__metadata__":{"a":"b"}}`, 0, 0),
	"offsets out of order":              rawFile(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},`+okA+`}`, 0, 0, 0),
}

// TestParseAccepts checks that valid corner cases parse and re-marshal.
func TestParseAccepts(t *testing.T) {
	cases := acceptCases
	for name, data := range cases {
		f, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := Marshal(f); err != nil {
			t.Errorf("%s: re-marshal: %v", name, err)
		}
	}
	f, _ := Parse(cases["unicode escapes"])
	if f.Tensors[0].Name != "é😀" {
		t.Errorf("escaped name = %q", f.Tensors[0].Name)
	}
	f, _ = Parse(cases["offsets out of order"])
	if f.Tensors[0].Name != "a" || f.Tensors[1].Name != "b" {
		t.Errorf("tensors not returned in data order: %q %q", f.Tensors[0].Name, f.Tensors[1].Name)
	}
}

func TestMarshalRejects(t *testing.T) {
	ok := F32("w", []int{1}, []float32{1})
	cases := []struct {
		name string
		f    *File
		want string
	}{
		{"nil", nil, "cannot write a nil File"},
		{"empty name", &File{Tensors: []Tensor{F32("", []int{1}, []float32{1})}}, "tensor #0: its name is empty"},
		{"reserved name", &File{Tensors: []Tensor{F32(metadataKey, []int{1}, []float32{1})}}, `"__metadata__" is reserved`},
		{"duplicate", &File{Tensors: []Tensor{ok, ok}}, `cannot write tensor "w" twice`},
		{"bad UTF-8 name", &File{Tensors: []Tensor{F32("\xff", []int{1}, []float32{1})}}, "not valid UTF-8"},
		{"bad UTF-8 metadata", &File{Metadata: map[string]string{"k": "\xff"}}, `metadata key "k"`},
		{"unknown dtype", &File{Tensors: []Tensor{{Name: "x", DType: "F8", Data: []byte{1}}}}, `tensor "x": it has unknown dtype "F8"`},
		{"negative dim", &File{Tensors: []Tensor{{Name: "x", DType: DTypeU8, Shape: []int{-2}}}}, "negative dimension -2"},
		{"size mismatch", &File{Tensors: []Tensor{F32("x", []int{2, 2}, []float32{1, 2, 3})}}, `tensor "x": shape [2 2] of F32 needs 16 bytes but Data has 12`},
	}
	for _, c := range cases {
		_, err := Marshal(c.f)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "safetensors: ") {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

// TestParsedDataCannotGrowIntoNeighbour checks that appending to one tensor's Data never
// overwrites the next tensor, although Data shares the input buffer.
func TestParsedDataCannotGrowIntoNeighbour(t *testing.T) {
	out, err := Marshal(&File{Tensors: []Tensor{{Name: "a", DType: DTypeU8, Shape: []int{1}, Data: []byte{1}}, {Name: "b", DType: DTypeU8, Shape: []int{1}, Data: []byte{2}}}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(f.Tensors[0].Data, 99)
	if b, _ := f.Tensor("b"); b.Data[0] != 2 {
		t.Fatal("append to tensor a overwrote tensor b")
	}
}

// TestAppendMarshal: the file appended to a buffer is Marshal's, after what the buffer held,
// and a buffer with room for it is used as it is, not reallocated.
func TestAppendMarshal(t *testing.T) {
	f := sampleFile()
	want, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range [][]byte{nil, {}, []byte("prefix")} {
		got, err := AppendMarshal(bytes.Clone(prefix), f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
			t.Errorf("prefix %q: appended %d bytes, not Marshal's %d", prefix, len(got)-len(prefix), len(want))
		}
	}
	buf := make([]byte, 0, len(want))
	got, err := AppendMarshal(buf, f)
	if err != nil || &got[0] != &buf[:1][0] || !bytes.Equal(got, want) {
		t.Errorf("a buffer with room was not reused (err %v)", err)
	}
	if _, err := AppendMarshal(buf, &File{Tensors: []Tensor{{Name: "bad", DType: DTypeF32, Shape: []int{2}, Data: []byte{1}}}}); err == nil {
		t.Error("a tensor whose data does not match its shape was appended")
	}
}
