package checkpoint

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"cifar10/nn/checkpoint/ckptname"
	"cifar10/nn/safetensors"
)

// ckptData returns a small valid safetensors file recording step.
func ckptData(t *testing.T, step int64) []byte {
	t.Helper()
	data, err := safetensors.Marshal(&safetensors.File{
		Metadata: map[string]string{"step": ckptname.File(step)},
		Tensors:  []safetensors.Tensor{safetensors.I64("global_step", nil, []int64{step})},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// touch creates a file with some content.
func touch(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// steps lists the checkpoint steps in dir.
func steps(t *testing.T, dir string) []int64 {
	t.Helper()
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := []int64{}
	for _, e := range list {
		s = append(s, e.Step)
	}
	return s
}

// names lists every file name in dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, de := range des {
		n = append(n, de.Name())
	}
	return n
}

func TestListOrdersByStepAndIgnoresOthers(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []int64{10, 9, 100, 2} {
		touch(t, dir, ckptname.File(s), ckptData(t, s))
	}
	touch(t, dir, ".cifar10.ckpt-500.safetensors.tmp-123", []byte("half"))
	touch(t, dir, "cifar10.ckpt-600.index", nil)
	touch(t, dir, "cifar10.ckpt-007.safetensors", nil)
	touch(t, dir, "checkpoint", nil)
	touch(t, dir, "notes.txt", nil)
	if err := os.Mkdir(filepath.Join(dir, ckptname.File(700)), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, want := steps(t, dir), []int64{2, 9, 10, 100}; !reflect.DeepEqual(got, want) {
		t.Fatalf("steps = %v, want %v", got, want)
	}
	list, _ := List(dir)
	e := list[1]
	if e.Path != filepath.Join(dir, ckptname.File(9)) || e.Size != int64(len(ckptData(t, 9))) || e.ModTime.IsZero() {
		t.Errorf("entry = %+v", e)
	}
	latest, err := Latest(dir)
	if err != nil || latest.Step != 100 {
		t.Errorf("Latest = %+v, %v; want step 100", latest, err)
	}
}

func TestLatestEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, ".cifar10.ckpt-5.safetensors.tmp-1", []byte("partial"))
	_, err := Latest(dir)
	if !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("Latest error %v does not match ErrNoCheckpoint", err)
	}
	if want := "checkpoint: no checkpoint cifar10.ckpt-*.safetensors in " + dir; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := List(dir)
	checkMissing(t, "List", err, "checkpoint: cannot list checkpoint folder "+dir)
	_, err = Latest(dir)
	checkMissing(t, "Latest", err, "checkpoint: cannot list checkpoint folder "+dir)
	path, err := WriteAtomic(dir, 1, ckptData(t, 1), 5)
	checkMissing(t, "WriteAtomic", err, "checkpoint: cannot use checkpoint folder "+dir)
	if path != "" {
		t.Errorf("WriteAtomic returned path %q for a missing folder", path)
	}
	_, err = ReadFile(filepath.Join(dir, ckptname.File(1)))
	checkMissing(t, "ReadFile", err, "checkpoint: cannot read "+dir)
}

// checkMissing checks an error for a missing folder: clear prefix, path once, ErrNotExist.
func checkMissing(t *testing.T, what string, err error, prefix string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error for a missing folder", what)
	}
	if !strings.HasPrefix(err.Error(), prefix) || !errors.Is(err, fs.ErrNotExist) || strings.Count(err.Error(), "nope") != 1 {
		t.Errorf("%s: error %q (want prefix %q, ErrNotExist, the path once)", what, err, prefix)
	}
}

func TestFolderIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	touch(t, filepath.Dir(file), "file", nil)
	if _, err := WriteAtomic(file, 1, ckptData(t, 1), 0); err == nil || !strings.Contains(err.Error(), "it is not a folder") {
		t.Errorf("WriteAtomic into a file: %v", err)
	}
}

func TestWriteAtomicWritesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	data := ckptData(t, 7)
	path, err := WriteAtomic(dir, 7, data, 5)
	if err != nil || path != filepath.Join(dir, ckptname.File(7)) {
		t.Fatalf("WriteAtomic = %q, %v", path, err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file holds %d bytes, %v; want the %d written", len(got), err, len(data))
	}
	// Writing the same step again replaces the file whole.
	data2, _ := safetensors.Marshal(&safetensors.File{Tensors: []safetensors.Tensor{safetensors.F32("w", []int{3}, []float32{1, 2, 3})}})
	if _, err := WriteAtomic(dir, 7, data2, 5); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Tensor("w"); !ok {
		t.Error("second write of step 7 did not replace the first")
	}
	if n := names(t, dir); !reflect.DeepEqual(n, []string{ckptname.File(7)}) {
		t.Errorf("folder holds %v", n)
	}
}

func TestWriteAtomicKeepsLastK(t *testing.T) {
	dir := t.TempDir()
	for s := int64(1); s <= 12; s++ {
		if _, err := WriteAtomic(dir, s, ckptData(t, s), 3); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := steps(t, dir), []int64{10, 11, 12}; !reflect.DeepEqual(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
	// keep <= 0 keeps everything.
	for s := int64(13); s <= 15; s++ {
		if _, err := WriteAtomic(dir, s, ckptData(t, s), 0); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := steps(t, dir), []int64{10, 11, 12, 13, 14, 15}; !reflect.DeepEqual(got, want) {
		t.Fatalf("keep 0 kept %v, want %v", got, want)
	}
}

func TestWriteAtomicNeverPrunesWhatItWrote(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []int64{10, 20, 30} {
		if _, err := WriteAtomic(dir, s, ckptData(t, s), 2); err != nil {
			t.Fatal(err)
		}
	}
	// A restarted run saving step 5 keeps step 5 and the newest other one.
	if _, err := WriteAtomic(dir, 5, ckptData(t, 5), 2); err != nil {
		t.Fatal(err)
	}
	if got, want := steps(t, dir), []int64{5, 30}; !reflect.DeepEqual(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
}

func TestLeftoverTempIgnoredThenCleaned(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteAtomic(dir, 10, ckptData(t, 10), 5); err != nil {
		t.Fatal(err)
	}
	// A crash while writing step 20 left half a temporary file.
	leftover := ".cifar10.ckpt-20.safetensors.tmp-98765"
	touch(t, dir, leftover, ckptData(t, 20)[:9])
	if e, err := Latest(dir); err != nil || e.Step != 10 {
		t.Fatalf("Latest = %+v, %v; want step 10", e, err)
	}
	if _, err := WriteAtomic(dir, 20, ckptData(t, 20), 5); err != nil {
		t.Fatal(err)
	}
	if n := names(t, dir); !reflect.DeepEqual(n, []string{ckptname.File(10), ckptname.File(20)}) {
		t.Errorf("after the next write the folder holds %v", n)
	}
}

func TestWriteAtomicNeverExposesPartialFile(t *testing.T) {
	dir := t.TempDir()
	old := ckptData(t, 10)
	if _, err := WriteAtomic(dir, 10, old, 5); err != nil {
		t.Fatal(err)
	}
	defer func(h func(string) error) { testHookBeforeRename = h }(testHookBeforeRename)

	// Mid-write, the new data is only in a temporary file; the latest is still the old one.
	var sawTemp bool
	testHookBeforeRename = func(tmp string) error {
		sawTemp = isTempName(filepath.Base(tmp)) && filepath.Dir(tmp) == dir
		if e, err := Latest(dir); err != nil || e.Step != 10 {
			t.Errorf("mid-write Latest = %+v, %v; want step 10", e, err)
		}
		if _, err := os.Stat(filepath.Join(dir, ckptname.File(20))); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("final file exists before the rename: %v", err)
		}
		return nil
	}
	if _, err := WriteAtomic(dir, 20, ckptData(t, 20), 5); err != nil {
		t.Fatal(err)
	}
	if !sawTemp {
		t.Error("the data was not written to a temporary file in the folder first")
	}

	// A crash just before the rename: nothing new appears, nothing old is lost.
	testHookBeforeRename = func(string) error { return errors.New("simulated crash") }
	path, err := WriteAtomic(dir, 30, ckptData(t, 30), 1)
	if err == nil || path != "" {
		t.Fatalf("WriteAtomic = %q, %v; want the simulated failure", path, err)
	}
	if got, want := steps(t, dir), []int64{10, 20}; !reflect.DeepEqual(got, want) {
		t.Errorf("after a failed write the steps are %v, want %v", got, want)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, ckptname.File(10))); !bytes.Equal(got, old) {
		t.Error("a failed write damaged an existing checkpoint")
	}
	if n := names(t, dir); len(n) != 2 {
		t.Errorf("a failed write left files behind: %v", n)
	}
}

func TestWriteAtomicRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteAtomic(dir, 10, ckptData(t, 10), 1); err != nil {
		t.Fatal(err)
	}
	_, err := WriteAtomic(dir, 11, []byte("not a checkpoint"), 1)
	if err == nil || !strings.Contains(err.Error(), "refusing to write cifar10.ckpt-11.safetensors in "+dir) || !strings.Contains(err.Error(), "safetensors: ") {
		t.Errorf("garbage data: %v", err)
	}
	_, err = WriteAtomic(dir, -1, ckptData(t, 1), 1)
	if err == nil || !strings.Contains(err.Error(), "cannot write step -1") {
		t.Errorf("negative step: %v", err)
	}
	if got := steps(t, dir); !reflect.DeepEqual(got, []int64{10}) {
		t.Errorf("refused writes changed the folder: %v", got)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path, err := WriteAtomic(dir, 3, ckptData(t, 3), 0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := f.Tensor("global_step")
	if v, err := g.Int64s(); !ok || err != nil || v[0] != 3 {
		t.Errorf("global_step = %v, %v", v, err)
	}
	bad := filepath.Join(dir, ckptname.File(4))
	touch(t, dir, ckptname.File(4), ckptData(t, 4)[:20])
	if _, err := ReadFile(bad); err == nil || !strings.HasPrefix(err.Error(), "checkpoint: "+bad+" is not a valid checkpoint file: safetensors: ") {
		t.Errorf("truncated file: %v", err)
	}
}
