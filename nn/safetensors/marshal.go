package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"unicode/utf8"
)

// Marshal encodes f as a safetensors file. The output depends only on the content of f (header
// keys sorted, tensor order in f irrelevant), so equal checkpoints give equal bytes. Like Python's
// writer it lays data out by decreasing element size, then by name, so every tensor is aligned to
// its element size, and pads the header with spaces to a multiple of 8 bytes. It refuses tensors
// that Parse would refuse: empty, duplicate or reserved names, unknown dtypes, negative dimensions,
// and data whose length does not match the shape.
func Marshal(f *File) ([]byte, error) { return AppendMarshal(nil, f) }

// AppendMarshal is Marshal appending the file to dst, so that a caller that writes files of
// the same size again and again (a training run's checkpoints) can reuse one buffer: a fresh
// 12.8 MB buffer costs its pages' first-touch faults, ten times the copy itself.
func AppendMarshal(dst []byte, f *File) ([]byte, error) {
	if f == nil {
		return nil, errors.New("safetensors: cannot write a nil File")
	}
	if err := checkMetadata(f.Metadata); err != nil {
		return nil, err
	}
	if err := checkTensors(f.Tensors); err != nil {
		return nil, err
	}
	layout := dataOrder(f.Tensors)
	offsets := make([][2]int, len(f.Tensors))
	total := 0
	for _, i := range layout {
		offsets[i] = [2]int{total, total + len(f.Tensors[i].Data)}
		total += len(f.Tensors[i].Data)
	}
	header := encodeHeader(f, offsets)
	if len(header) > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header would be %d bytes, over the %d-byte limit readers accept", len(header), MaxHeaderSize)
	}
	out := slices.Grow(dst, 8+len(header)+total)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(header)))
	out = append(out, header...)
	for _, i := range layout {
		out = append(out, f.Tensors[i].Data...)
	}
	return out, nil
}

// checkMetadata refuses metadata that JSON cannot carry unchanged (invalid UTF-8).
func checkMetadata(meta map[string]string) error {
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("safetensors: cannot write metadata key %q: key and value must be valid UTF-8", k)
		}
	}
	return nil
}

// checkTensors validates every tensor so that Marshal never writes a file Parse would reject.
func checkTensors(ts []Tensor) error {
	seen := make(map[string]bool, len(ts))
	for i := range ts {
		t := &ts[i]
		switch {
		case t.Name == "":
			return fmt.Errorf("safetensors: cannot write tensor #%d: its name is empty", i)
		case t.Name == metadataKey:
			return fmt.Errorf("safetensors: cannot write tensor #%d: %q is reserved for metadata", i, metadataKey)
		case !utf8.ValidString(t.Name):
			return fmt.Errorf("safetensors: cannot write tensor %q: its name is not valid UTF-8", t.Name)
		case seen[t.Name]:
			return fmt.Errorf("safetensors: cannot write tensor %q twice", t.Name)
		}
		seen[t.Name] = true
		size, err := byteSize(t.DType, t.Shape)
		if err != nil {
			return fmt.Errorf("safetensors: cannot write tensor %q: it %v", t.Name, err)
		}
		if size != int64(len(t.Data)) {
			return fmt.Errorf("safetensors: cannot write tensor %q: shape %v of %s needs %d bytes but Data has %d",
				t.Name, t.Shape, t.DType, size, len(t.Data))
		}
	}
	return nil
}

// dataOrder returns tensor indices in the order their data is written: larger elements first,
// then by name, as Python's writer does, so that every tensor starts at a multiple of its size.
func dataOrder(ts []Tensor) []int {
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ta, tb := &ts[order[a]], &ts[order[b]]
		if sa, sb := ta.DType.Size(), tb.DType.Size(); sa != sb {
			return sa > sb
		}
		return ta.Name < tb.Name
	})
	return order
}

// encodeHeader writes the JSON header: metadata first (as Python does), then tensors sorted by
// name, then spaces up to a multiple of 8 bytes.
func encodeHeader(f *File, offsets [][2]int) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	sep := ""
	if len(f.Metadata) > 0 {
		writeString(&b, metadataKey)
		b.WriteString(":{")
		keys := make([]string, 0, len(f.Metadata))
		for k := range f.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(&b, k)
			b.WriteByte(':')
			writeString(&b, f.Metadata[k])
		}
		b.WriteByte('}')
		sep = ","
	}
	byName := make([]int, len(f.Tensors))
	for i := range byName {
		byName[i] = i
	}
	sort.Slice(byName, func(a, b int) bool { return f.Tensors[byName[a]].Name < f.Tensors[byName[b]].Name })
	for _, i := range byName {
		t := &f.Tensors[i]
		b.WriteString(sep)
		sep = ","
		writeString(&b, t.Name)
		fmt.Fprintf(&b, `:{"dtype":"%s","shape":[`, t.DType)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, d)
		}
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, offsets[i][0], offsets[i][1])
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes()
}

// writeString appends s as a JSON string without HTML escaping, so names stay readable.
func writeString(b *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	b.Write(bytes.TrimSuffix(tmp.Bytes(), []byte{'\n'}))
}
