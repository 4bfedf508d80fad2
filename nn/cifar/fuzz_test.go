package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"testing"
)

// checkFuzzErr fails unless err is one line with the package prefix (the form every caller
// shows to a person).
func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); !strings.HasPrefix(msg, "cifar: ") || strings.Contains(msg, "\n") {
		t.Fatalf("malformed error %q", msg)
	}
}

// FuzzParse checks that Parse never panics on any bytes, that its errors keep their form, that
// whatever it accepts is exactly the file's records (labels 0..9), and that Check accepts and
// refuses the same bytes with the same labels.
func FuzzParse(f *testing.F) {
	bad := records(0, 1, 2, 3)
	bad[2*RecordSize] = 12
	for _, seed := range [][]byte{records(0, 3), records(5, 0, 9, 4), nil, {1, 2, 3}, bad, records(0, 1, 2)[:2*RecordSize-5]} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.bin", data)
		labels, cerr := Check("fuzz.bin", bytes.NewReader(data), int64(len(data)))
		if (err == nil) != (cerr == nil) {
			t.Fatalf("Parse: %v, Check: %v", err, cerr)
		}
		if err != nil {
			checkFuzzErr(t, err)
			if err.Error() != cerr.Error() {
				t.Fatalf("Parse says %q, Check %q", err, cerr)
			}
			return
		}
		if s.Len() != len(data)/RecordSize || len(data)%RecordSize != 0 || len(s.Pixels) != s.Len()*ImageBytes {
			t.Fatalf("%d bytes gave %d labels and %d pixel bytes", len(data), s.Len(), len(s.Pixels))
		}
		if !bytes.Equal(labels, s.Labels) {
			t.Fatal("Check's labels differ from Parse's")
		}
		for i := range s.Len() {
			rec := data[i*RecordSize : (i+1)*RecordSize]
			if rec[0] >= NumClasses || s.Labels[i] != rec[0] || !bytes.Equal(s.Image(i), rec[1:]) {
				t.Fatalf("record %d differs from the file (label %d)", i, rec[0])
			}
		}
	})
}

// FuzzArchive checks that reading a tar.gz data set never panics or hangs on any bytes, and
// that memory follows the bytes actually present, not the sizes the archive claims: a set
// it accepts holds every required file's records, and an error has the package's form. With
// tarOnly the input is the tar stream, wrapped in gzip here (stored blocks), so the fuzzer's
// changes reach the tar headers and records instead of breaking the compressed stream;
// otherwise the input is read as the whole file.
func FuzzArchive(f *testing.F) {
	noTest := smallFiles()
	delete(noTest, TestFile)
	for _, seed := range [][]byte{tarGz(f, "cifar-10-batches-bin/", smallFiles()), tarGz(f, "", smallFiles()), tarGz(f, "x/", noTest), hugeEntry(f)} {
		f.Add(seed, false)
		f.Add(gunzip(f, seed), true)
	}
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, false)
	f.Add([]byte("not an archive"), false)
	f.Fuzz(func(t *testing.T, data []byte, tarOnly bool) {
		if tarOnly {
			data = storedGzip(data)
		}
		d, err := readArchive("fuzz.tar.gz", bytes.NewReader(data))
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		if d.Train.Len() == 0 || d.Test.Len() == 0 || len(d.ClassNames) != NumClasses {
			t.Fatalf("accepted a set of %d train and %d test images, %d class names", d.Train.Len(), d.Test.Len(), len(d.ClassNames))
		}
		for _, s := range []*Set{d.Train, d.Test} {
			if len(s.Pixels) != s.Len()*ImageBytes || slices.Max(s.Labels) >= NumClasses {
				t.Fatalf("a set of %d labels has %d pixel bytes or a label out of range", s.Len(), len(s.Pixels))
			}
		}
	})
}

// hugeEntry is an archive whose test_batch.bin header claims 30 TB (a whole number of records)
// but holds one record: reading it must fail as ended early, having reserved little memory.
func hugeEntry(tb testing.TB) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	hdr := &tar.Header{Name: TestFile, Typeflag: tar.TypeReg, Mode: 0o644, Size: RecordSize * 10_000_000_000}
	if err := tw.WriteHeader(hdr); err != nil {
		tb.Fatal(err)
	}
	if _, err := tw.Write(records(0, 1)); err != nil {
		tb.Fatal(err)
	}
	tw.Flush() // the entry stays short: no Close, which would complain
	zw.Close()
	return buf.Bytes()
}

func gunzip(tb testing.TB, data []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// storedGzip wraps data in a gzip file of stored (uncompressed) deflate blocks: cheap enough
// to run on every fuzz input, which a compressing writer is not.
func storedGzip(data []byte) []byte {
	sum, size := crc32.ChecksumIEEE(data), uint32(len(data))
	out := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	for first := true; first || len(data) > 0; first = false {
		n := min(len(data), 0xffff)
		final := byte(0)
		if n == len(data) {
			final = 1
		}
		out = append(out, final)
		out = binary.LittleEndian.AppendUint16(out, uint16(n))
		out = binary.LittleEndian.AppendUint16(out, ^uint16(n))
		out = append(out, data[:n]...)
		data = data[n:]
	}
	out = binary.LittleEndian.AppendUint32(out, sum)
	return binary.LittleEndian.AppendUint32(out, size)
}
