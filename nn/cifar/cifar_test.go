package cifar

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadersAgree(t *testing.T) {
	bad := records(0, 1, 2, 3)
	bad[2*RecordSize] = 12
	tests := []struct {
		name    string
		data    []byte
		records int
		err     []string // substrings the error must contain; nil means success
	}{
		{"one.bin", records(0, 3), 1, nil},
		{"three.bin", records(5, 0, 9, 4), 3, nil},
		{"empty.bin", nil, 0, []string{"empty.bin", "empty file"}},
		{"truncated.bin", records(0, 1, 2)[:2*RecordSize-5], 0,
			[]string{"truncated.bin", "6141 bytes is not a whole number of 3073-byte records", "1 records and 3068 bytes left over"}},
		{"short.bin", []byte{1, 2, 3}, 0, []string{"short.bin", "0 records and 3 bytes left over"}},
		{"badlabel.bin", bad, 0, []string{"badlabel.bin", "record 2 (byte 6146)", "label 12 is not in 0..9"}},
		{"label10.bin", records(0, 10), 0, []string{"record 0 (byte 0)", "label 10"}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, tt.name, tt.data)
			s, perr := Parse(tt.name, tt.data)
			checkErr(t, "Parse", perr, tt.err)
			r, rerr := ReadFile(path)
			checkErr(t, "ReadFile", rerr, tt.err)
			n, cerr := CheckFile(path)
			checkErr(t, "CheckFile", cerr, tt.err)
			if tt.err != nil {
				return
			}
			if s.Len() != tt.records || r.Len() != tt.records || n != tt.records {
				t.Fatalf("records: Parse %d, ReadFile %d, CheckFile %d, want %d", s.Len(), r.Len(), n, tt.records)
			}
			for i := range tt.records {
				rec := tt.data[i*RecordSize : (i+1)*RecordSize]
				if s.Labels[i] != rec[0] || !bytes.Equal(s.Image(i), rec[1:]) {
					t.Fatalf("record %d differs from the file", i)
				}
			}
			if !bytes.Equal(s.Pixels, r.Pixels) || !bytes.Equal(s.Labels, r.Labels) {
				t.Fatal("Parse and ReadFile disagree")
			}
		})
	}
}

func checkErr(t *testing.T, fn string, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s: no error, want one containing %q", fn, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not contain %q", fn, err, w)
		}
	}
}

func TestTruncatedMessage(t *testing.T) {
	// The exact sentence from the package contract, on a full-size test batch cut one byte short.
	err := checkSize("test_batch.bin", 30729999)
	want := "cifar: test_batch.bin: 30729999 bytes is not a whole number of 3073-byte records (9999 records and 3072 bytes left over: truncated?)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestStreamEndsEarly(t *testing.T) {
	// A file that shrinks while being read: the size promised 3 records, the stream has 1.5.
	data := records(0, 1, 2)[:RecordSize+RecordSize/2]
	err := decode("shrunk.bin", bytes.NewReader(data), 3*RecordSize, &Set{})
	checkErr(t, "decode", err, []string{"shrunk.bin", "record 1 (byte 4609)", "ended early"})
}

func TestCheckFileNotAFile(t *testing.T) {
	dir := t.TempDir()
	_, err := CheckFile(dir)
	checkErr(t, "CheckFile(dir)", err, []string{dir, "not a regular file"})
	missing := filepath.Join(dir, "nope.bin")
	_, err = CheckFile(missing)
	checkErr(t, "CheckFile(missing)", err, []string{missing})
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("CheckFile created a file")
	}
}

func TestConcat(t *testing.T) {
	a, _ := Parse("a", records(0, 1, 2))
	b, _ := Parse("b", records(50, 3))
	c := Concat(a, b, &Set{})
	if c.Len() != 3 || !bytes.Equal(c.Labels, []uint8{1, 2, 3}) {
		t.Fatalf("labels %v", c.Labels)
	}
	if !bytes.Equal(c.Image(2), b.Image(0)) || !bytes.Equal(c.Image(1), a.Image(1)) {
		t.Fatal("pixels not in order")
	}
	c.Pixels[0]++
	if a.Pixels[0] == c.Pixels[0] {
		t.Fatal("Concat shares memory with its input")
	}
	if Concat().Len() != 0 {
		t.Fatal("Concat() is not empty")
	}
}
