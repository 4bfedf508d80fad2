package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cifar10/nn/checkpoint"
	"cifar10/nn/checkpoint/ckptname"
	"cifar10/nn/cifar"
	"cifar10/nn/safetensors"
)

// Test data: 64 training records spread over the five files and 32 test records.
const (
	trainRecords = 64
	testRecords  = 32
)

// synthFiles returns the contents of a small CIFAR-10 binary data set by file name.
func synthFiles() map[string][]byte {
	r := rand.New(rand.NewPCG(42, 42))
	record := func() []byte {
		b := make([]byte, cifar.RecordSize)
		b[0] = byte(r.IntN(cifar.NumClasses))
		for i := 1; i < len(b); i++ {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	files := map[string][]byte{}
	for i, name := range cifar.TrainFiles {
		n := trainRecords / len(cifar.TrainFiles)
		if i < trainRecords%len(cifar.TrainFiles) {
			n++
		}
		for range n {
			files[name] = append(files[name], record()...)
		}
	}
	for range testRecords {
		files[cifar.TestFile] = append(files[cifar.TestFile], record()...)
	}
	files[cifar.MetaFile] = []byte(strings.Join(cifar.ClassNames, "\n") + "\n\n")
	return files
}

// dataDir writes the synthetic set into a new cifar-10-batches-bin folder and returns its
// parent, as -data is usually given.
func dataDir(t *testing.T) string {
	t.Helper()
	parent := t.TempDir()
	dir := filepath.Join(parent, cifar.DirName)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range synthFiles() {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return parent
}

// dataArchive writes the synthetic set as a cifar-10-binary.tar.gz archive.
func dataArchive(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	files := synthFiles()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		hdr := &tar.Header{Name: cifar.DirName + "/" + name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cifar-10-binary.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCmd runs a command line in-process and returns stdout, stderr and the error.
func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// mustRun runs a command line that must succeed and returns its stdout.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, err := runCmd(t, args...)
	if err != nil {
		t.Fatalf("cifar10 %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr)
	}
	return stdout
}

// train runs `train` on the small set with a small batch, plus extra flags.
func train(t *testing.T, data string, extra ...string) string {
	t.Helper()
	return mustRun(t, append([]string{"train", "-data", data, "-batch", "4", "-seed", "1", "-threads", "2"}, extra...)...)
}

// steps lists the checkpoint steps in dir.
func steps(t *testing.T, dir string) []int64 {
	t.Helper()
	list, err := checkpoint.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var s []int64
	for _, e := range list {
		s = append(s, e.Step)
	}
	return s
}

// ckptPath is the path of the checkpoint at step in dir.
func ckptPath(dir string, step int64) string {
	return filepath.Join(dir, ckptname.File(step))
}

// readCkpt parses a checkpoint file.
func readCkpt(t *testing.T, path string) *safetensors.File {
	t.Helper()
	f, err := checkpoint.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// readBytes returns a file's bytes.
func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
