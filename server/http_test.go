package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/wasm/protocol"
)

func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return b
}

// checkSecurityHeaders checks the headers every response must carry, errors included.
func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Embedder-Policy": "require-corp",
		"Cross-Origin-Resource-Policy": "same-origin",
		"X-Content-Type-Options":       "nosniff",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

func TestRoutes(t *testing.T) {
	s := newSite(t)
	testBin, _ := os.ReadFile(filepath.Join(s.batches, "test_batch.bin"))
	css, _ := os.ReadFile(filepath.Join(s.assets, "app.css"))
	tests := []struct {
		path, ctype string
		status      int
		check       func(t *testing.T, b []byte)
	}{
		{"/", "text/html", 200, func(t *testing.T, b []byte) {
			for _, want := range []string{"<title>CIFAR-10 trainer</title>", "/assets/app.css", "/assets/icon.svg", "/wasm_exec.js", "/app.js"} {
				if !bytes.Contains(b, []byte(want)) {
					t.Errorf("page lacks %q", want)
				}
			}
			if bytes.Contains(b, []byte(ui.ClientReadyID)) {
				t.Error("the prerendered page already holds the client-only marker")
			}
			if bytes.Contains(b, []byte("://")) && bytes.Contains(b, []byte("githubusercontent")) {
				t.Error("the page refers to go-app's remote icons, which COEP blocks")
			}
		}},
		{"/app.js", "application/javascript", 200, func(t *testing.T, b []byte) {
			for _, want := range []string{`"/web/app.wasm"`, `goappWasmContentLength = "` + strconv.Itoa(len(s.appWasm)) + `"`, `"X-Uncompressed-Length"`, "test-version"} {
				if !bytes.Contains(b, []byte(want)) {
					t.Errorf("app.js lacks %q", want)
				}
			}
		}},
		{"/wasm_exec.js", "application/javascript", 200, nil},
		{"/app-worker.js", "application/javascript", 200, func(t *testing.T, b []byte) {
			if !bytes.Contains(b, []byte(`"app-" + "test-version"`)) {
				t.Error("the service worker's cache is not keyed on the version")
			}
			if bytes.Contains(b, []byte("https://")) {
				t.Error("the service worker caches a remote resource")
			}
		}},
		{"/manifest.webmanifest", "application/manifest+json", 200, func(t *testing.T, b []byte) {
			var m struct{ Icons []struct{ Src string } }
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, ic := range m.Icons {
				if !strings.HasPrefix(ic.Src, "/assets/") {
					t.Errorf("manifest icon %q is not local", ic.Src)
				}
			}
		}},
		{"/app.css", "text/css", 200, nil},
		{"/web/app.wasm", "application/wasm", 200, func(t *testing.T, b []byte) {
			if !bytes.Equal(b, s.appWasm) {
				t.Error("app.wasm body differs")
			}
		}},
		{"/web/worker.wasm", "application/wasm", 200, nil},
		{"/assets/app.css", "text/css; charset=utf-8", 200, func(t *testing.T, b []byte) {
			if !bytes.Equal(b, css) {
				t.Error("app.css body differs")
			}
		}},
		{"/assets/icon-192.png", "image/png", 200, nil},
		{"/assets/icon-512.png", "image/png", 200, nil},
		{"/assets/icon.svg", "image/svg+xml", 200, nil},
		{"/data/cifar-10-batches-bin/test_batch.bin", "application/octet-stream", 200, func(t *testing.T, b []byte) {
			if !bytes.Equal(b, testBin) {
				t.Error("test_batch.bin body differs")
			}
		}},
		{"/data/cifar-10-batches-bin/data_batch_5.bin", "application/octet-stream", 200, nil},
		{"/data/cifar-10-batches-bin/batches.meta.txt", "text/plain; charset=utf-8", 200, nil},
		{"/nope", "", 404, nil},
		{"/robots.txt", "", 404, nil},
		{"/app.wasm", "", 404, nil},
		{"/web/missing.wasm", "", 404, nil},
		{"/assets/missing.css", "", 404, nil},
		{"/data/cifar-10-batches-bin/missing.bin", "", 404, nil},
		{"/data/other.bin", "", 404, nil},
		{"/secret.txt", "", 404, nil},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp := s.get(t, tc.path)
			b := body(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			checkSecurityHeaders(t, tc.path, resp.Header)
			if tc.ctype != "" {
				if got := resp.Header.Get("Content-Type"); got != tc.ctype {
					t.Errorf("Content-Type %q, want %q", got, tc.ctype)
				}
			}
			if tc.status == 200 && resp.Header.Get("ETag") == "" && resp.Header.Get("Last-Modified") == "" {
				t.Error("no ETag or Last-Modified")
			}
			if tc.status != 200 && bytes.Contains(b, []byte(secret)) {
				t.Error("error body leaks the secret")
			}
			if tc.check != nil {
				tc.check(t, b)
			}
		})
	}
}

func TestMethods(t *testing.T) {
	s := newSite(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions, "PROPFIND"} {
		resp := s.do(t, m, "/web/app.wasm")
		body(t, resp)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: status %d Allow %q, want 405 GET, HEAD", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
		checkSecurityHeaders(t, m, resp.Header)
	}
	resp := s.do(t, http.MethodHead, "/data/cifar-10-batches-bin/test_batch.bin")
	if b := body(t, resp); resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(20*3073) {
		t.Errorf("HEAD: status %d, %d body bytes, Content-Length %q", resp.StatusCode, len(b), resp.Header.Get("Content-Length"))
	}
}

func TestConditional(t *testing.T) {
	s := newSite(t)
	for _, p := range []string{"/web/app.wasm", "/assets/app.css", "/data/cifar-10-batches-bin/test_batch.bin", "/", "/app.js"} {
		t.Run(p, func(t *testing.T) {
			first := s.get(t, p)
			body(t, first)
			tag := first.Header.Get("ETag")
			if tag == "" {
				t.Fatal("no ETag")
			}
			resp := s.get(t, p, "If-None-Match", tag)
			if b := body(t, resp); resp.StatusCode != http.StatusNotModified || len(b) != 0 {
				t.Errorf("If-None-Match: status %d with %d bytes, want 304 and no body", resp.StatusCode, len(b))
			}
			checkSecurityHeaders(t, p+" 304", resp.Header)
			resp = s.get(t, p, "If-None-Match", `"something-else"`)
			if body(t, resp); resp.StatusCode != http.StatusOK {
				t.Errorf("other ETag: status %d, want 200", resp.StatusCode)
			}
			if lm := first.Header.Get("Last-Modified"); lm != "" {
				resp = s.get(t, p, "If-Modified-Since", lm)
				if body(t, resp); resp.StatusCode != http.StatusNotModified {
					t.Errorf("If-Modified-Since: status %d, want 304", resp.StatusCode)
				}
				old := time.Unix(0, 0).UTC().Format(http.TimeFormat)
				resp = s.get(t, p, "If-Modified-Since", old)
				if body(t, resp); resp.StatusCode != http.StatusOK {
					t.Errorf("If-Modified-Since 1970: status %d, want 200", resp.StatusCode)
				}
			} else if strings.HasPrefix(p, "/web/") || strings.HasPrefix(p, "/assets/") || strings.HasPrefix(p, "/data/") {
				t.Error("no Last-Modified on a file")
			}
		})
	}
	// Touching the file changes its ETag: a rebuilt wasm is never answered with a stale 304.
	first := s.get(t, "/web/app.wasm")
	body(t, first)
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(s.web, "app.wasm"), later, later)
	resp := s.get(t, "/web/app.wasm", "If-None-Match", first.Header.Get("ETag"))
	if body(t, resp); resp.StatusCode != http.StatusOK {
		t.Errorf("after a rebuild: status %d, want 200", resp.StatusCode)
	}
}

func TestRanges(t *testing.T) {
	s := newSite(t)
	const p = "/data/cifar-10-batches-bin/test_batch.bin"
	full, _ := os.ReadFile(filepath.Join(s.batches, "test_batch.bin"))

	resp := s.get(t, p, "Range", "bytes=3073-6145")
	b := body(t, resp)
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, full[3073:6146]) {
		t.Fatalf("single range: status %d, %d bytes", resp.StatusCode, len(b))
	}
	if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes 3073-6145/%d", len(full)); got != want {
		t.Errorf("Content-Range %q, want %q", got, want)
	}
	if resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Error("no Accept-Ranges: bytes")
	}
	checkSecurityHeaders(t, "206", resp.Header)

	resp = s.get(t, p, "Range", "bytes=-100")
	if b := body(t, resp); resp.StatusCode != 206 || !bytes.Equal(b, full[len(full)-100:]) {
		t.Errorf("suffix range: status %d, %d bytes", resp.StatusCode, len(b))
	}

	resp = s.get(t, p, "Range", "bytes=0-9,100-109")
	b = body(t, resp)
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != 206 || err != nil || mt != "multipart/byteranges" {
		t.Fatalf("multiple ranges: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(b), params["boundary"])
	for _, want := range [][2]int{{0, 10}, {100, 110}} {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(part)
		if !bytes.Equal(got, full[want[0]:want[1]]) {
			t.Errorf("part %v differs", want)
		}
	}

	resp = s.get(t, p, "Range", fmt.Sprintf("bytes=%d-", len(full)+10))
	body(t, resp)
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("unsatisfiable range: status %d, want 416", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes */%d", len(full)); got != want {
		t.Errorf("416 Content-Range %q, want %q", got, want)
	}
	checkSecurityHeaders(t, "416", resp.Header)

	// If-Range with a stale validator gets the whole file.
	resp = s.get(t, p, "Range", "bytes=0-9", "If-Range", `"stale"`)
	if b := body(t, resp); resp.StatusCode != 200 || len(b) != len(full) {
		t.Errorf("stale If-Range: status %d, %d bytes", resp.StatusCode, len(b))
	}
}

// writeTwins writes fake precompressed twins, newer than the source as `make build` leaves them.
func writeTwins(t *testing.T, s *site) (br []byte, gz []byte) {
	br = []byte("fake-brotli-bytes")
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(s.appWasm)
	zw.Close()
	gz = buf.Bytes()
	mustWrite(t, filepath.Join(s.web, "app.wasm.br"), br)
	mustWrite(t, filepath.Join(s.web, "app.wasm.gz"), gz)
	// As scripts/compress.sh leaves them: gzip -k copies the source's time, brotli copies it
	// truncated to the second.
	fi, err := os.Stat(filepath.Join(s.web, "app.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	mod := fi.ModTime().Add(-time.Duration(fi.ModTime().Nanosecond()) + 7)
	os.Chtimes(filepath.Join(s.web, "app.wasm"), mod, mod)
	os.Chtimes(filepath.Join(s.web, "app.wasm.br"), mod.Truncate(time.Second), mod.Truncate(time.Second))
	os.Chtimes(filepath.Join(s.web, "app.wasm.gz"), mod, mod)
	return br, gz
}

func TestCompression(t *testing.T) {
	s := newSite(t)
	br, gz := writeTwins(t, s)
	tests := []struct {
		accept, encoding string
		want             []byte
	}{
		{"gzip, deflate, br, zstd", "br", br},
		{"br", "br", br},
		{"gzip", "gzip", gz},
		{"br;q=0, gzip", "gzip", gz},
		{"gzip;q=1.0, br;q=0.5", "gzip", gz},
		{"*", "br", br},
		{"*;q=0, gzip", "gzip", gz},
		{"", "", s.appWasm},
		{"identity", "", s.appWasm},
		{"deflate", "", s.appWasm},
		{"br;q=0, gzip;q=0", "", s.appWasm},
	}
	tags := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.accept, func(t *testing.T) {
			resp := s.get(t, "/web/app.wasm", "Accept-Encoding", tc.accept)
			b := body(t, resp)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			h := resp.Header
			if h.Get("Content-Encoding") != tc.encoding {
				t.Errorf("Content-Encoding %q, want %q", h.Get("Content-Encoding"), tc.encoding)
			}
			if !bytes.Equal(b, tc.want) {
				t.Errorf("body is %d bytes, want the %d bytes of the %q variant", len(b), len(tc.want), tc.encoding)
			}
			if h.Get("Content-Length") != strconv.Itoa(len(tc.want)) {
				t.Errorf("Content-Length %q, want %d", h.Get("Content-Length"), len(tc.want))
			}
			if h.Get("Content-Type") != "application/wasm" {
				t.Errorf("Content-Type %q", h.Get("Content-Type"))
			}
			if h.Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary %q", h.Get("Vary"))
			}
			if h.Get(protocol.UncompressedLengthHeader) != strconv.Itoa(len(s.appWasm)) {
				t.Errorf("%s %q, want %d", protocol.UncompressedLengthHeader, h.Get(protocol.UncompressedLengthHeader), len(s.appWasm))
			}
			checkSecurityHeaders(t, tc.accept, h)
			tags[tc.encoding] = h.Get("ETag")
		})
	}
	if len(tags) != 3 || tags["br"] == tags["gzip"] || tags["br"] == tags[""] || tags["gzip"] == tags[""] {
		t.Errorf("each encoding needs its own ETag: %v", tags)
	}
	// A 304 for the brotli variant, and no cross-variant 304.
	resp := s.get(t, "/web/app.wasm", "Accept-Encoding", "br", "If-None-Match", tags["br"])
	if body(t, resp); resp.StatusCode != 304 {
		t.Errorf("br If-None-Match: status %d, want 304", resp.StatusCode)
	}
	resp = s.get(t, "/web/app.wasm", "Accept-Encoding", "gzip", "If-None-Match", tags["br"])
	if body(t, resp); resp.StatusCode != 200 {
		t.Errorf("gzip request with the br ETag: status %d, want 200", resp.StatusCode)
	}
	// Ranges apply to the encoded bytes; several ranges of an encoded body are ignored.
	resp = s.get(t, "/web/app.wasm", "Accept-Encoding", "br", "Range", "bytes=5-9")
	if b := body(t, resp); resp.StatusCode != 206 || !bytes.Equal(b, br[5:10]) || resp.Header.Get("Content-Encoding") != "br" ||
		resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 5-9/%d", len(br)) || resp.Header.Get("Content-Length") != "5" {
		t.Errorf("br range: status %d, body %q, headers %v", resp.StatusCode, b, resp.Header)
	}
	resp = s.get(t, "/web/app.wasm", "Accept-Encoding", "br", "Range", "bytes=0-1,5-9")
	if b := body(t, resp); resp.StatusCode != 200 || !bytes.Equal(b, br) {
		t.Errorf("br multiple ranges: status %d, want the whole br body with 200", resp.StatusCode)
	}
	resp = s.get(t, "/web/app.wasm", "Accept-Encoding", "br", "Range", "bytes=1000-")
	if body(t, resp); resp.StatusCode != 416 || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("br 416: status %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	resp = s.get(t, "/web/app.wasm", "Accept-Encoding", "br", "If-None-Match", tags["br"])
	if body(t, resp); resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Length") != "" {
		t.Errorf("304 carries Content-Encoding %q / Content-Length %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Length"))
	}
	// The real gzip twin decodes to the wasm.
	resp = s.get(t, "/web/app.wasm", "Accept-Encoding", "gzip")
	zr, err := gzip.NewReader(bytes.NewReader(body(t, resp)))
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := io.ReadAll(zr); !bytes.Equal(plain, s.appWasm) {
		t.Error("gzip twin does not decode to app.wasm")
	}
	// A file without twins is sent as is, still with Vary.
	resp = s.get(t, "/web/worker.wasm", "Accept-Encoding", "br, gzip")
	if body(t, resp); resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("worker.wasm without twins: Content-Encoding %q, Vary %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	// Dataset files are never sent compressed.
	resp = s.get(t, "/data/cifar-10-batches-bin/test_batch.bin", "Accept-Encoding", "br, gzip")
	if body(t, resp); resp.Header.Get("Content-Encoding") != "" {
		t.Error("dataset file sent with a Content-Encoding")
	}
	// A twin older than its source (rebuilt without compress.sh) is stale and ignored.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(s.web, "app.wasm"), later, later)
	resp = s.get(t, "/web/app.wasm", "Accept-Encoding", "br, gzip")
	if b := body(t, resp); resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(b, s.appWasm) {
		t.Errorf("stale twins: Content-Encoding %q, want identity", resp.Header.Get("Content-Encoding"))
	}
}

func TestNegotiate(t *testing.T) {
	tests := map[string]string{
		"":                       "",
		"br":                     "br",
		"gzip":                   "gzip",
		"x-gzip":                 "gzip",
		"GZIP, BR":               "br,gzip",
		"gzip, br":               "br,gzip",
		"gzip;q=0.9, br;q=0.8":   "gzip,br",
		"br;q=0":                 "",
		"*":                      "br,gzip",
		"*;q=0":                  "",
		"br;q=0, *":              "gzip",
		"gzip;q=bogus, br":       "br",
		"identity;q=1, deflate":  "",
		"br ; q = 0.5 , gzip;q=": "br",
	}
	for in, want := range tests {
		if got := strings.Join(negotiate(in), ","); got != want {
			t.Errorf("negotiate(%q) = %q, want %q", in, got, want)
		}
	}
}

// rawGet sends a request line byte for byte, so no client library cleans or re-encodes the
// path on the way, and returns the status and body.
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

func TestHostilePaths(t *testing.T) {
	s := newSite(t)
	// Symlinks inside the data folder that lead out of it: a file and a folder.
	if err := os.Symlink(filepath.Join(s.root, "secret.txt"), filepath.Join(s.batches, "leak.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(s.root, filepath.Join(s.batches, "outside")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(s.root, "secret.txt"), filepath.Join(s.assets, "leak.css")); err != nil {
		t.Fatal(err)
	}
	// A symlink that stays inside its folder is fine.
	if err := os.Symlink("test_batch.bin", filepath.Join(s.batches, "alias.bin")); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(s.batches, ".hidden"), []byte(secret))

	srv := httptest.NewServer(s.handler)
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	hostile := []string{
		"/web/../secret.txt",
		"/web/%2e%2e/secret.txt",
		"/web/%2E%2E/secret.txt",
		"/web/%2e%2e%2fsecret.txt",
		"/web/..%2fsecret.txt",
		"/web/..%2Fsecret.txt",
		"/web/..%5csecret.txt",
		`/web/..\secret.txt`,
		"/web/.%2e/secret.txt",
		"/assets/../../secret.txt",
		"/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
		"/assets/leak.css",
		"/assets/app.css%00.png",
		"/assets/%00",
		"/data/cifar-10-batches-bin/../../secret.txt",
		"/data/cifar-10-batches-bin/%2e%2e/%2e%2e/secret.txt",
		"/data/cifar-10-batches-bin/leak.bin",
		"/data/cifar-10-batches-bin/outside/secret.txt",
		"/data/cifar-10-batches-bin/.hidden",
		"/data/../secret.txt",
		"/data/cifar-10-batches-bin/" + s.root + "/secret.txt",
		"//" + s.root + "/secret.txt",
		"/web/" + s.root + "/secret.txt",
		"/web//etc/passwd",
		"/web/%252e%252e/secret.txt",
		"/web/C:%5cWindows%5cwin.ini",
		"/../../../../etc/passwd",
		"/%2e%2e/%2e%2e/etc/passwd",
		"/web/./app.wasm",
		"/web/app.wasm/.",
		"/data/cifar-10-batches-bin/test_batch.bin/",
		"/data/cifar-10-batches-bin/test_batch.bin%00",
		"/data/cifar-10-batches-bin/test%0a_batch.bin",
		"http://" + addr + "/web/../secret.txt",
	}
	if len(hostile) < 15 {
		t.Fatal("the table needs at least 15 paths")
	}
	for _, p := range hostile {
		status, b := rawGet(t, addr, p)
		if status != 400 && status != 403 && status != 404 {
			t.Errorf("%s: status %d, want 400, 403 or 404", p, status)
		}
		if strings.Contains(b, secret) || strings.Contains(b, "root:") || strings.Contains(b, s.root) {
			t.Errorf("%s: body leaks: %q", p, b)
		}
	}
	// The in-folder symlink and plain files still work.
	for _, p := range []string{"/data/cifar-10-batches-bin/alias.bin", "/web/app.wasm", "/assets/app.css"} {
		if status, _ := rawGet(t, addr, p); status != 200 {
			t.Errorf("%s: status %d, want 200", p, status)
		}
	}
}

func TestNoDirectoryListing(t *testing.T) {
	s := newSite(t)
	mustMkdir(t, filepath.Join(s.web, "sub"))
	mustWrite(t, filepath.Join(s.web, "sub", "x.js"), []byte("x"))
	for _, p := range []string{"/web", "/web/", "/web/sub", "/web/sub/", "/assets", "/assets/",
		"/data", "/data/", "/data/cifar-10-batches-bin", "/data/cifar-10-batches-bin/"} {
		resp := s.get(t, p)
		b := body(t, resp)
		if resp.StatusCode != 404 {
			t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
		}
		for _, name := range []string{"app.wasm", "x.js", "test_batch.bin", "app.css", "<a href"} {
			if bytes.Contains(b, []byte(name)) {
				t.Errorf("%s: body lists %q", p, name)
			}
		}
		checkSecurityHeaders(t, p, resp.Header)
	}
}

func TestMissingFolders(t *testing.T) {
	root := t.TempDir()
	c := config{webDir: filepath.Join(root, "noweb"), assets: filepath.Join(root, "noassets"), dataDir: filepath.Join(root, "nodata")}
	h := newHandler(c, ui.Handler(ui.Config{Version: "v"}))
	for _, p := range []string{"/web/app.wasm", "/assets/app.css", "/data/cifar-10-batches-bin/test_batch.bin"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != 404 {
			t.Errorf("%s with its folder missing: status %d, want 404", p, rec.Code)
		}
	}
}

func TestRequestLog(t *testing.T) {
	s := newSite(t)
	var buf bytes.Buffer
	h := withLog(s.handler, log.New(&buf, "", 0))
	srv := httptest.NewServer(h)
	req, _ := http.NewRequest("GET", srv.URL+"/data/cifar-10-batches-bin/test_batch.bin", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n := len(body(t, resp))
	srv.Close() // waits for the handler, which logs after the response is sent
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one log line, got %q", buf.String())
	}
	for _, want := range []string{"GET", `"/data/cifar-10-batches-bin/test_batch.bin"`, " 200 ", fmt.Sprintf(" %dB ", n)} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %q lacks %q", lines[0], want)
		}
	}
}

// TestNoIsolation: -no-isolation leaves out COOP and COEP only, as a host that cannot set them.
func TestNoIsolation(t *testing.T) {
	s := newSite(t)
	h := newHandler(config{webDir: s.web, assets: s.assets, dataDir: s.data, noIsolation: true}, ui.Handler(ui.Config{Version: "v"}))
	for _, target := range []string{"/", "/assets/app.css", "/missing"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		hd := rec.Result().Header
		if hd.Get("Cross-Origin-Opener-Policy") != "" || hd.Get("Cross-Origin-Embedder-Policy") != "" {
			t.Errorf("%s: COOP %q, COEP %q", target, hd.Get("Cross-Origin-Opener-Policy"), hd.Get("Cross-Origin-Embedder-Policy"))
		}
		if hd.Get("Cross-Origin-Resource-Policy") != "same-origin" || hd.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: lost the other headers: %v", target, hd)
		}
	}
}
