package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRun starts the whole server on a free port with a small dataset and no network, loads
// a few URLs, then stops it the way Ctrl-C does.
func TestRun(t *testing.T) {
	s := newSite(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	c := config{addr: "127.0.0.1:0", dataDir: s.data, webDir: s.web, assets: s.assets, url: "http://127.0.0.1:1/unreachable", log: true}
	done := make(chan error, 1)
	go func() { done <- run(ctx, c, &out) }()

	re := regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/) \(Ctrl-C to stop\)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no URL printed:\n%s", out.String())
	}
	for _, p := range []string{"", "web/app.wasm", "data/cifar-10-batches-bin/test_batch.bin"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Cross-Origin-Embedder-Policy") != "require-corp" {
			t.Errorf("/%s: status %d, headers %v", p, resp.StatusCode, resp.Header)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	o := out.String()
	for _, want := range []string{"dataset: " + s.batches + ", 120 images in 6 files", "fewer than the official", "shutting down", `"/web/app.wasm" 200`} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	if n := strings.Count(o, `"/data/cifar-10-batches-bin/test_batch.bin"`); n != 1 {
		t.Errorf("%d log lines for one request", n)
	}
}

func TestRunBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = run(context.Background(), config{addr: ln.Addr().String(), dataDir: t.TempDir()}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listening on "+ln.Addr().String()) {
		t.Fatalf("err %v", err)
	}
}

func TestFlags(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{addr: "127.0.0.1:8080", dataDir: "/tmp/cifar10_data", webDir: "web", assets: "assets", url: official.URL}
	if c != want {
		t.Errorf("defaults %+v, want %+v", c, want)
	}
	c, err = parseFlags([]string{"-addr", ":9000", "-data", "d", "-archive", "a.tar.gz", "-web", "w", "-assets", "s", "-url", "http://x/y", "-log"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want = config{addr: ":9000", dataDir: "d", archive: "a.tar.gz", webDir: "w", assets: "s", url: "http://x/y", log: true}
	if c != want {
		t.Errorf("parsed %+v, want %+v", c, want)
	}
	if _, err := parseFlags([]string{"extra"}, io.Discard); err == nil {
		t.Error("stray argument accepted")
	}
}

func TestExposure(t *testing.T) {
	tests := []struct {
		ip         string
		warn, open string
	}{
		{"127.0.0.1", "", "http://127.0.0.1:8080/"},
		{"::1", "", "http://[::1]:8080/"},
		{"0.0.0.0", "all interfaces", "http://127.0.0.1:8080/"},
		{"::", "all interfaces", "http://127.0.0.1:8080/"},
		{"192.168.1.5", "reachable from other machines", "http://192.168.1.5:8080/"},
	}
	for _, tc := range tests {
		a := &net.TCPAddr{IP: net.ParseIP(tc.ip), Port: 8080}
		w := exposureWarning(a)
		if (tc.warn == "") != (w == "") || !strings.Contains(w, tc.warn) {
			t.Errorf("%s: warning %q, want %q", tc.ip, w, tc.warn)
		}
		if got := openURL(a); got != tc.open {
			t.Errorf("%s: URL %q, want %q", tc.ip, got, tc.open)
		}
	}
}

func TestInspectBuild(t *testing.T) {
	s := newSite(t)
	b1 := inspectBuild(s.web, s.assets)
	if b1.appWasmSize != int64(len(s.appWasm)) || len(b1.version) != 12 {
		t.Errorf("%+v", b1)
	}
	if b2 := inspectBuild(s.web, s.assets); b2.version != b1.version {
		t.Error("the version changes without a change")
	}
	mustWrite(t, s.assets+"/app.css", []byte("body{}"))
	if b3 := inspectBuild(s.web, s.assets); b3.version == b1.version {
		t.Error("a changed stylesheet keeps the version: browsers would keep the old one")
	}
	b4 := inspectBuild(t.TempDir(), t.TempDir())
	if len(b4.warnings) < 3 || !strings.Contains(strings.Join(b4.warnings, "\n"), "make build") {
		t.Errorf("warnings %q", b4.warnings)
	}
}
