package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/nn/cifar"
)

// binBytes makes a valid .bin file of n records: label k%10, pixels derived from k.
func binBytes(n int) []byte {
	b := make([]byte, 0, n*cifar.RecordSize)
	for k := 0; k < n; k++ {
		b = append(b, byte(k%10))
		for i := 0; i < cifar.ImageBytes; i++ {
			b = append(b, byte(k+i))
		}
	}
	return b
}

const metaText = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"

// writeDataset writes a complete small dataset (n records a file) into dataDir/cifar-10-batches-bin.
func writeDataset(t *testing.T, dataDir string, n int) string {
	t.Helper()
	dir := filepath.Join(dataDir, cifar.DirName)
	mustMkdir(t, dir)
	for _, name := range binFiles() {
		mustWrite(t, filepath.Join(dir, name), binBytes(n))
	}
	mustWrite(t, filepath.Join(dir, cifar.MetaFile), []byte(metaText))
	return dir
}

type tarEntry struct {
	name string
	data []byte
	typ  byte // tar.TypeReg when 0
}

// tarGz builds a .tar.gz in memory.
func tarGz(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: int64(len(e.data))}
		if typ == tar.TypeDir {
			hdr.Mode, hdr.Size = 0o755, 0
		}
		if typ == tar.TypeSymlink {
			hdr.Linkname, hdr.Size = string(e.data), 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				t.Fatal(err)
			}
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

// syntheticArchive is a small stand-in for cifar-10-binary.tar.gz, laid out like it.
func syntheticArchive(t *testing.T, n int) []byte {
	entries := []tarEntry{{name: cifar.DirName + "/", typ: tar.TypeDir}}
	for _, name := range binFiles() {
		entries = append(entries, tarEntry{name: cifar.DirName + "/" + name, data: binBytes(n)})
	}
	entries = append(entries,
		tarEntry{name: cifar.DirName + "/" + cifar.MetaFile, data: []byte(metaText)},
		tarEntry{name: cifar.DirName + "/readme.html", data: []byte("<p>readme</p>")})
	return tarGz(t, entries)
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func mustWrite(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

// site is a served tree in a temporary folder:
//
//	root/secret.txt                 a file outside every served folder
//	root/web/app.wasm, worker.wasm  fake wasm
//	root/assets/...                 the repository's real assets
//	root/data/cifar-10-batches-bin  a small dataset
type site struct {
	root, web, assets, data, batches string
	handler                          http.Handler
	appWasm                          []byte
}

const secret = "TOP-SECRET-DO-NOT-SERVE"

func newSite(t *testing.T) *site {
	t.Helper()
	root := t.TempDir()
	s := &site{
		root:   root,
		web:    filepath.Join(root, "web"),
		assets: filepath.Join(root, "assets"),
		data:   filepath.Join(root, "data"),
	}
	mustWrite(t, filepath.Join(root, "secret.txt"), []byte(secret))
	mustMkdir(t, s.web)
	mustMkdir(t, s.assets)
	s.appWasm = append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("app-wasm "), 1000)...)
	mustWrite(t, filepath.Join(s.web, "app.wasm"), s.appWasm)
	mustWrite(t, filepath.Join(s.web, "worker.wasm"), []byte("\x00asm\x01\x00\x00\x00worker"))
	for _, name := range []string{"app.css", "icon-192.png", "icon-512.png", "icon.svg"} {
		b, err := os.ReadFile(filepath.Join("..", "assets", name))
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(s.assets, name), b)
	}
	s.batches = writeDataset(t, s.data, 20)
	ui.Routes()
	c := config{webDir: s.web, assets: s.assets, dataDir: s.data}
	s.handler = newHandler(c, ui.Handler(ui.Config{Version: "test-version", WasmSize: int64(len(s.appWasm))}))
	return s
}

// get serves one request through the handler.
func (s *site) get(t *testing.T, target string, header ...string) *http.Response {
	t.Helper()
	return s.do(t, http.MethodGet, target, header...)
}

func (s *site) do(t *testing.T, method, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec.Result()
}

var timeZero time.Time
