// Package gentest holds generated source files to their generator: a test runs the generator
// (a //go:build ignore program that go generate runs) and compares what it writes with the
// committed files, so a generated file edited by hand, or a generator changed without running
// go generate, fails the package's tests.
package gentest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Check runs "go run generator" (a file of the package under test) in a temporary directory and
// compares every file it writes there with the file of that name in the package's directory.
// It skips where the test cannot run the go command (js/wasm, wasip1, or no go on PATH).
func Check(t *testing.T, generator string) {
	t.Helper()
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skipf("no go command on %s", runtime.GOOS)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	gen, err := filepath.Abs(generator)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(goCmd, "run", gen)
	cmd.Dir = dir // the generator writes its files into its working directory
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run %s: %v\n%s", generator, err, out)
	}
	written, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) == 0 {
		t.Fatalf("go run %s wrote no file", generator)
	}
	for _, f := range written {
		want, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f.Name())
		if err != nil {
			t.Errorf("%s writes %s, which is not committed: %v", generator, f.Name(), err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what %s writes: run go generate", f.Name(), generator)
		}
	}
}
