//go:build !js

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// workDir is this run's temporary folder for builds, the dataset, logs and profiles that
// outlive a single test. TestMain removes it after the last test.
var workDir string

// TestMain owns the run-wide temporary folder, so the build and the dataset made by the first
// test that needs them serve every later test. Feature tests must not define another one.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cifar10-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: creating the work folder:", err)
		os.Exit(1)
	}
	workDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the folder holding this module's go.mod, found upward from the working
// directory (go test runs in the package folder, but the test binary may be run elsewhere).
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("e2e: working directory: %v", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		mod, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(mod), []byte("module cifar10\n")) {
			return d
		}
		if filepath.Dir(d) == d {
			tb.Fatalf("e2e: no go.mod of module cifar10 in %s or above it", dir)
		}
	}
}

// ArtifactPath returns <repo>/artifacts/<name>, creating the folder. Screenshots, failure
// screenshots and server logs go there so they survive the run's temporary folder.
func ArtifactPath(tb testing.TB, name string) string {
	tb.Helper()
	dir := filepath.Join(repoRoot(tb), "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("e2e: creating %s: %v", dir, err)
	}
	return filepath.Join(dir, safeName(name))
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName turns a test name such as "TestX/sub case" into a file name ("TestX_sub_case").
func safeName(name string) string { return unsafeChars.ReplaceAllString(name, "_") }
