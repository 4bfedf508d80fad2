//go:build !js && !wasip1

package safetensors

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// pythonScript loads the file we wrote with Python's safetensors (low-level API, so neither numpy
// nor torch is needed), prints what it found as JSON, and writes a file of its own for us to read.
const pythonScript = `
import json, struct, sys
import safetensors
from safetensors import deserialize, serialize

ours, theirs = sys.argv[1], sys.argv[2]
with open(ours, "rb") as fh:
    data = fh.read()
tensors = {name: {"dtype": t["dtype"], "shape": list(t["shape"]), "data": bytes(t["data"]).hex()}
           for name, t in deserialize(data)}
try:
    with safetensors.safe_open(ours, framework="numpy") as fh:
        metadata = fh.metadata()
except ImportError:
    metadata = None  # safe_open needs numpy on some versions; tensors were still checked
print(json.dumps({"tensors": tensors, "metadata": metadata, "version": safetensors.__version__}))

out = serialize({
    "conv1/weights": {"dtype": "F32", "shape": [2, 2], "data": struct.pack("<4f", 1, -2, 0.5, 3)},
    "global_step": {"dtype": "I64", "shape": [], "data": struct.pack("<q", 1234)},
    "mask": {"dtype": "U8", "shape": [3], "data": bytes([1, 2, 3])},
}, metadata={"format": "cifar10/1", "preset": "tutorial"})
with open(theirs, "wb") as fh:
    fh.write(out)
`

// TestPythonInterop has Python's safetensors read a file we wrote and write one we read.
// It is skipped when python3 or its safetensors module is absent (Debian 12 does not package
// it; "pip install safetensors" makes this test run).
func TestPythonInterop(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("skipping: python3 is not installed")
	}
	if err := exec.Command(python, "-c", "import safetensors").Run(); err != nil {
		t.Skip("skipping: the Python module safetensors is not installed (pip install safetensors)")
	}
	dir := t.TempDir()
	ours, theirs := filepath.Join(dir, "ours.safetensors"), filepath.Join(dir, "theirs.safetensors")
	f := sampleFile()
	data, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ours, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", pythonScript, ours, theirs)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 could not handle our file: %v", err)
	}
	checkPythonView(t, f, stdout)
	checkPythonFile(t, theirs)
}

// checkPythonView compares what Python read from our file with what we wrote.
func checkPythonView(t *testing.T, f *File, stdout []byte) {
	t.Helper()
	var view struct {
		Tensors map[string]struct {
			DType string `json:"dtype"`
			Shape []int  `json:"shape"`
			Data  string `json:"data"`
		} `json:"tensors"`
		Metadata map[string]string `json:"metadata"`
		Version  string            `json:"version"`
	}
	if err := json.Unmarshal(stdout, &view); err != nil {
		t.Fatalf("python output %q: %v", stdout, err)
	}
	t.Logf("Python safetensors %s read our file", view.Version)
	got := &File{Metadata: f.Metadata}
	if view.Metadata != nil {
		got.Metadata = view.Metadata
	} else {
		t.Log("safe_open needs numpy here: metadata not checked from Python")
	}
	for name, v := range view.Tensors {
		raw, err := hex.DecodeString(v.Data)
		if err != nil {
			t.Fatalf("python output for %q: %v", name, err)
		}
		got.Tensors = append(got.Tensors, Tensor{Name: name, DType: DType(v.DType), Shape: v.Shape, Data: raw})
	}
	sameContent(t, f, got)
}

// checkPythonFile parses the file Python wrote and checks every value.
func checkPythonFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data)
	if err != nil {
		t.Fatalf("we cannot read Python's file: %v", err)
	}
	if want := map[string]string{"format": "cifar10/1", "preset": "tutorial"}; !reflect.DeepEqual(f.Metadata, want) {
		t.Errorf("metadata = %v, want %v", f.Metadata, want)
	}
	w, ok := f.Tensor("conv1/weights")
	if !ok {
		t.Fatal("conv1/weights missing from Python's file")
	}
	if v, err := w.Float32s(); err != nil || !reflect.DeepEqual(v, []float32{1, -2, 0.5, 3}) || !reflect.DeepEqual(w.Shape, []int{2, 2}) {
		t.Errorf("conv1/weights = %v %v, %v", w.Shape, v, err)
	}
	s, _ := f.Tensor("global_step")
	if v, err := s.Int64s(); err != nil || !reflect.DeepEqual(v, []int64{1234}) {
		t.Errorf("global_step = %v, %v", v, err)
	}
	m, _ := f.Tensor("mask")
	if m == nil || m.DType != DTypeU8 || string(m.Data) != "\x01\x02\x03" {
		t.Errorf("mask = %+v", m)
	}
}
