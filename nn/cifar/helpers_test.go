package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// record builds one record whose pixel (c, y, x) is pixel(c, y, x).
func record(label uint8, pixel func(c, y, x int) byte) []byte {
	r := make([]byte, RecordSize)
	r[0] = label
	for c := range 3 {
		for y := range Side {
			for x := range Side {
				r[1+c*Side*Side+y*Side+x] = pixel(c, y, x)
			}
		}
	}
	return r
}

// records builds len(labels) records; record i has every byte equal to byte(seed+i) and a
// few varying ones so images differ.
func records(seed int, labels ...uint8) []byte {
	var b []byte
	for i, l := range labels {
		v := seed + i
		b = append(b, record(l, func(c, y, x int) byte { return byte(v*7 + c*31 + y*3 + x) })...)
	}
	return b
}

// syntheticSet is n images with labels i%10 and varied pixels, for sampler tests.
func syntheticSet(t testing.TB, n int) *Set {
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i % NumClasses)
	}
	s, err := Parse("synthetic", records(0, labels...))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// smallFiles is a tiny complete data set: each train file i holds i+1 records labelled
// i+1.., the test file 3 records, and a meta file.
func smallFiles() map[string][]byte {
	files := map[string][]byte{}
	for i, f := range TrainFiles {
		labels := make([]uint8, i+1)
		for j := range labels {
			labels[j] = uint8(i + j)
		}
		files[f] = records(10*i, labels...)
	}
	files[TestFile] = records(100, 9, 8, 7)
	files[MetaFile] = []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n")
	return files
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	for name, data := range files {
		writeFile(t, dir, name, data)
	}
}

func tarGz(t testing.TB, prefix string, files map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: prefix, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	for _, name := range append(binFiles(), MetaFile) {
		data, ok := files[name]
		if !ok {
			continue
		}
		hdr := &tar.Header{Name: prefix + name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
