package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parse decodes a safetensors file strictly. Any input is safe: Parse never panics, allocates at
// most in proportion to the header it was given, and rejects everything the format does not
// allow (bad lengths, malformed or duplicate-key JSON, unknown dtypes, shapes that disagree with
// offsets, overlapping tensors, bytes that belong to no tensor) with one sentence saying what is
// wrong and where. The returned tensors are in data order and their Data slices share memory
// with data, which must not change while they are in use.
func Parse(data []byte) (*File, error) {
	header, body, err := split(data)
	if err != nil {
		return nil, err
	}
	meta, entries, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if err := checkLayout(entries, int64(len(body)), 8+int64(len(header))); err != nil {
		return nil, err
	}
	f := &File{Metadata: meta, Tensors: make([]Tensor, len(entries))}
	for i, e := range entries {
		f.Tensors[i] = Tensor{Name: e.name, DType: e.dtype, Shape: e.shape, Data: body[e.begin:e.end:e.end]}
	}
	return f, nil
}

// bad builds a Parse error: one sentence with the package prefix.
func bad(format string, args ...any) error {
	return fmt.Errorf("safetensors: "+format, args...)
}

// split checks the length prefix and returns the header bytes and the data section.
func split(data []byte) (header, body []byte, err error) {
	if len(data) < 8 {
		return nil, nil, bad("file is %d bytes, too short for the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, nil, bad("header length %d (file bytes 0..8) is over the %d-byte limit", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, nil, bad("header length %d (file bytes 0..8) is more than the %d bytes that follow it", n, len(data)-8)
	}
	return data[8 : 8+n], data[8+n:], nil
}

// entry is one tensor as the header describes it.
type entry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end int64
}

// headerReader walks the header's JSON tokens, turning decoder errors into clear messages.
type headerReader struct {
	dec *json.Decoder
	end int64 // file offset just past the header
}

// token returns the next JSON token or an error naming the file byte where the JSON broke.
func (r *headerReader) token() (json.Token, error) {
	tok, err := r.dec.Token()
	if err == nil {
		return tok, nil
	}
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn) && !strings.Contains(syn.Error(), "unexpected end"):
		// Offset counts the bytes read, including the one that broke the JSON.
		return nil, bad("header is not valid JSON at file byte %d: %s", 8+max(syn.Offset-1, 0), syn.Error())
	case syn != nil, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, bad("header JSON ends before it is complete at file byte %d", r.end)
	default:
		return nil, bad("header is not valid JSON near file byte %d: %v", 8+r.dec.InputOffset(), err)
	}
}

// kind names a JSON token's type for error messages.
func kind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// parseHeader decodes the header JSON object into metadata and tensor entries, rejecting
// duplicate keys, unknown fields and anything but space padding after the object.
func parseHeader(header []byte) (map[string]string, []entry, error) {
	end := 8 + int64(len(header))
	if !utf8.Valid(header) {
		return nil, nil, bad("header (file bytes 8..%d) is not valid UTF-8", end)
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	r := &headerReader{dec: dec, end: end}
	tok, err := r.token()
	if err != nil {
		return nil, nil, err
	}
	if tok != json.Delim('{') {
		return nil, nil, bad("header (file bytes 8..%d) is %s in JSON, not an object", end, kind(tok))
	}
	if header[0] != '{' {
		return nil, nil, bad("header (file bytes 8..%d) starts with white space; it must start with '{'", end)
	}
	meta := map[string]string{}
	var entries []entry
	seen := map[string]bool{}
	for dec.More() {
		tok, err := r.token()
		if err != nil {
			return nil, nil, err
		}
		key, ok := tok.(string)
		if !ok { // the decoder yields only strings in key position; this is a safety net
			return nil, nil, bad("header has a key that is %s, not a string", kind(tok))
		}
		if seen[key] {
			return nil, nil, bad("header has duplicate key %q", key)
		}
		seen[key] = true
		if key == metadataKey {
			if meta, err = r.metadata(); err != nil {
				return nil, nil, err
			}
			continue
		}
		e, err := r.entry(key)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := r.token(); err != nil { // the closing '}'
		return nil, nil, err
	}
	if err := checkPadding(header, dec.InputOffset()); err != nil {
		return nil, nil, err
	}
	return meta, entries, nil
}

// checkPadding accepts only JSON white space (Python pads with spaces) after the header object.
func checkPadding(header []byte, at int64) error {
	for i := at; i < int64(len(header)); i++ {
		switch header[i] {
		case ' ', '\t', '\r', '\n':
		default:
			return bad("header has data after its JSON object at file byte %d; only space padding may follow", 8+i)
		}
	}
	return nil
}

// metadata reads the "__metadata__" object, which must map strings to strings.
func (r *headerReader) metadata() (map[string]string, error) {
	tok, err := r.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, bad("%s is %s, not an object of strings", metadataKey, kind(tok))
	}
	meta := map[string]string{}
	for r.dec.More() {
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, bad("%s has a key that is %s, not a string", metadataKey, kind(tok))
		}
		if _, dup := meta[key]; dup {
			return nil, bad("%s has duplicate key %q", metadataKey, key)
		}
		if tok, err = r.token(); err != nil {
			return nil, err
		}
		v, ok := tok.(string)
		if !ok {
			return nil, bad("%s value for key %q is %s, not a string", metadataKey, key, kind(tok))
		}
		meta[key] = v
	}
	_, err = r.token() // the closing '}'
	return meta, err
}

// entry reads one tensor's description and checks that its dtype, shape and offsets agree.
func (r *headerReader) entry(name string) (entry, error) {
	e := entry{name: name}
	if name == "" {
		return e, bad("header has a tensor with an empty name")
	}
	tok, err := r.token()
	if err != nil {
		return e, err
	}
	if tok != json.Delim('{') {
		return e, bad("tensor %q is %s, not an object with dtype, shape and data_offsets", name, kind(tok))
	}
	var offsets []int64
	has := map[string]bool{}
	for r.dec.More() {
		tok, err := r.token()
		if err != nil {
			return e, err
		}
		field, ok := tok.(string)
		if !ok {
			return e, bad("tensor %q has a field name that is %s, not a string", name, kind(tok))
		}
		if has[field] {
			return e, bad("tensor %q has duplicate field %q", name, field)
		}
		has[field] = true
		switch field {
		case "dtype":
			err = r.dtype(&e)
		case "shape":
			err = r.shape(&e)
		case "data_offsets":
			offsets, err = r.ints(name, field)
		default:
			err = bad("tensor %q has unknown field %q", name, field)
		}
		if err != nil {
			return e, err
		}
	}
	if _, err := r.token(); err != nil { // the closing '}'
		return e, err
	}
	for _, field := range []string{"dtype", "shape", "data_offsets"} {
		if !has[field] {
			return e, bad("tensor %q has no %q", name, field)
		}
	}
	return e, checkEntry(&e, offsets)
}

// dtype reads a tensor's dtype, which must be one this package knows.
func (r *headerReader) dtype(e *entry) error {
	tok, err := r.token()
	if err != nil {
		return err
	}
	s, ok := tok.(string)
	if !ok {
		return bad("tensor %q has a dtype that is %s, not a string", e.name, kind(tok))
	}
	if DType(s).Size() == 0 {
		return bad("tensor %q has unknown dtype %q", e.name, s)
	}
	e.dtype = DType(s)
	return nil
}

// shape reads a tensor's shape, whose dimensions must be non-negative integers.
func (r *headerReader) shape(e *entry) error {
	dims, err := r.ints(e.name, "shape")
	if err != nil {
		return err
	}
	e.shape = make([]int, len(dims))
	for i, d := range dims {
		if d < 0 {
			return bad("tensor %q has negative dimension %d in its shape", e.name, d)
		}
		if d > math.MaxInt {
			return bad("tensor %q has dimension %d, too large for this platform", e.name, d)
		}
		e.shape[i] = int(d)
	}
	return nil
}

// ints reads a JSON array of integers (a shape or data_offsets).
func (r *headerReader) ints(name, field string) ([]int64, error) {
	tok, err := r.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, bad("tensor %q has %s that is %s, not an array of integers", name, field, kind(tok))
	}
	v := []int64{}
	for r.dec.More() {
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, bad("tensor %q has %s holding %s, not an integer", name, field, kind(tok))
		}
		n, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil {
			return nil, bad("tensor %q has %s holding %s, which is not a 64-bit integer", name, field, num)
		}
		v = append(v, n)
	}
	_, err = r.token() // the closing ']'
	return v, err
}

// checkEntry checks a tensor's offsets against its dtype and shape.
func checkEntry(e *entry, offsets []int64) error {
	if len(offsets) != 2 {
		return bad("tensor %q has %d data_offsets; it needs exactly [begin, end]", e.name, len(offsets))
	}
	e.begin, e.end = offsets[0], offsets[1]
	if e.begin < 0 || e.end < e.begin {
		return bad("tensor %q has data_offsets [%d, %d], which is not a valid byte range", e.name, e.begin, e.end)
	}
	size, err := byteSize(e.dtype, e.shape)
	if err != nil {
		return bad("tensor %q %v", e.name, err)
	}
	if size != e.end-e.begin {
		return bad("tensor %q has shape %v of %s (%d bytes) but data_offsets [%d, %d] span %d bytes",
			e.name, e.shape, e.dtype, size, e.begin, e.end, e.end-e.begin)
	}
	return nil
}

// checkLayout sorts entries by offset and checks that they tile the data section exactly:
// inside it, no overlaps, no holes, nothing left over. dataStart is the file offset of the data.
func checkLayout(entries []entry, dataLen, dataStart int64) error {
	for _, e := range entries {
		if e.end > dataLen {
			return bad("tensor %q has data_offsets [%d, %d] past the end of the %d-byte data section",
				e.name, e.begin, e.end, dataLen)
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.begin != b.begin {
			return a.begin < b.begin
		}
		if a.end != b.end {
			return a.end < b.end
		}
		return a.name < b.name
	})
	var prev *entry
	pos := int64(0)
	for i := range entries {
		e := &entries[i]
		if e.begin < pos {
			return bad("tensors %q (data bytes %d..%d) and %q (data bytes %d..%d) overlap",
				prev.name, prev.begin, prev.end, e.name, e.begin, e.end)
		}
		if e.begin > pos {
			return bad("data bytes %d..%d (file bytes %d..%d) before tensor %q belong to no tensor",
				pos, e.begin, dataStart+pos, dataStart+e.begin, e.name)
		}
		prev, pos = e, e.end
	}
	if pos < dataLen {
		return bad("data bytes %d..%d (file bytes %d..%d) at the end of the file belong to no tensor",
			pos, dataLen, dataStart+pos, dataStart+dataLen)
	}
	return nil
}
