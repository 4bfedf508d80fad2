//go:build !js

package e2e

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cifar10/wasm/protocol"
)

// Build is the output of the run's one build of the server and the two wasm binaries.
type Build struct {
	Server string // the server binary
	Web    string // the folder served at /web/: app.wasm, worker.wasm and their .gz twins
	Assets string // <repo>/assets, served at /assets/
}

var (
	buildOnce   sync.Once
	buildResult *Build
	buildErr    error
)

// Built builds once per run and returns the result; a build error fails the calling test
// (and every later one) with the go command's output.
func Built(tb testing.TB) *Build {
	tb.Helper()
	root := repoRoot(tb)
	buildOnce.Do(func() {
		start := time.Now()
		buildResult, buildErr = build(root, workDir)
		if buildErr == nil {
			tb.Logf("e2e: built the server, app.wasm and worker.wasm in %v", time.Since(start).Round(time.Millisecond))
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return buildResult
}

// goBuild is one `go build` of the repository: what to build, where, the environment
// variables that differ from the test's, and extra flags.
type goBuild struct {
	pkg, out string
	env      []string
	flags    []string
}

// FirstBuild is the build id (wasm/protocol.Build) of the run's one build; BuildWeb makes
// others.
const FirstBuild = "e2e-first"

// wasmBuilds are the two wasm binaries of build id, into the folder web.
func wasmBuilds(web, id string) []goBuild {
	flags := []string{"-ldflags", "-X " + protocol.BuildVar + "=" + id}
	return []goBuild{
		{"./cmd/page", filepath.Join(web, "app.wasm"), []string{"GOOS=js", "GOARCH=wasm"}, flags},
		{"./cmd/worker", filepath.Join(web, "worker.wasm"), []string{"GOOS=js", "GOARCH=wasm", "GOEXPERIMENT=simd"}, flags},
	}
}

// BuildWeb builds the page's and the worker's wasm again with another build id, into a new
// folder to serve with -web: a new version of the app as a server update would bring.
func BuildWeb(tb testing.TB, id string) string {
	tb.Helper()
	web := filepath.Join(workDir, "web-"+id)
	if err := runBuilds(repoRoot(tb), wasmBuilds(web, id)); err != nil {
		tb.Fatal(err)
	}
	return web
}

// build runs the three builds in parallel (the go command shares its cache safely), then
// writes the gzip twins of the wasm files.
func build(root, dir string) (*Build, error) {
	b := &Build{
		Server: filepath.Join(dir, "bin", "server"),
		Web:    filepath.Join(dir, "web"),
		Assets: filepath.Join(root, "assets"),
	}
	builds := append([]goBuild{{"./server", b.Server, nil, nil}}, wasmBuilds(b.Web, FirstBuild)...)
	if err := runBuilds(root, builds); err != nil {
		return nil, err
	}
	return b, nil
}

// runBuilds runs the builds in parallel and writes the gzip twins of the wasm files.
func runBuilds(root string, builds []goBuild) error {
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, gb := range builds {
		wg.Go(func() {
			if errs[i] = runGoBuild(root, gb); errs[i] == nil && strings.HasSuffix(gb.out, ".wasm") {
				errs[i] = gzipTwin(gb.out)
			}
		})
	}
	wg.Wait()
	var msgs []string
	for _, err := range errs {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("e2e: build failed:\n%s", strings.Join(msgs, "\n"))
	}
	return nil
}

// runGoBuild runs one build from the repository root and returns an error holding the exact
// command and its output.
func runGoBuild(root string, gb goBuild) error {
	args := append(append([]string{"build"}, gb.flags...), "-o", gb.out, gb.pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), gb.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s go %s (in %s): %v\n%s", strings.Join(gb.env, " "), strings.Join(args, " "), root, err, out)
	}
	return nil
}

// gzipTwin writes path.gz next to path. BestSpeed: the twin is served over loopback, so its
// size matters less than the second a higher level would add to every run.
func gzipTwin(path string) error {
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("gzip twin: %w", err)
	}
	defer in.Close()
	out, err := os.Create(path + ".gz")
	if err != nil {
		return fmt.Errorf("gzip twin: %w", err)
	}
	zw, _ := gzip.NewWriterLevel(out, gzip.BestSpeed)
	_, err = io.Copy(zw, in)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("gzip twin of %s: %w", path, err)
	}
	return nil
}
