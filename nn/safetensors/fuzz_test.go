package safetensors

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics on any bytes, that its errors keep their form, and
// that whatever it accepts re-marshals and re-parses to the same content, byte for byte stable.
func FuzzParse(f *testing.F) {
	if out, err := Marshal(sampleFile()); err == nil {
		f.Add(out)
	}
	if out, err := Marshal(&File{Tensors: []Tensor{F32("w", []int{2, 2}, []float32{1, 2, 3, 4}), I64("global_step", nil, []int64{10})}}); err == nil {
		f.Add(out)
	}
	for _, data := range acceptCases {
		f.Add(data)
	}
	for _, c := range brokenCases {
		f.Add(c.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "safetensors: ") || strings.Contains(msg, "\n") {
				t.Fatalf("malformed error %q", msg)
			}
			return
		}
		out, err := Marshal(file)
		if err != nil {
			t.Fatalf("Parse accepted a file that Marshal refuses: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Marshal wrote a file that Parse refuses: %v", err)
		}
		sameContent(t, file, again)
		out2, err := Marshal(again)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("re-marshal differs (err %v)", err)
		}
	})
}
