package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"cifar10/nn/cifar"
)

func TestCheckDataset(t *testing.T) {
	t.Run("complete", func(t *testing.T) {
		dir := t.TempDir()
		writeDataset(t, dir, officialRecords)
		ds, err := checkDataset(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.records) != 6 || ds.records["test_batch.bin"] != officialRecords || len(ds.warnings) != 0 {
			t.Errorf("records %v, warnings %v", ds.records, ds.warnings)
		}
	})
	t.Run("small set warns", func(t *testing.T) {
		dir := t.TempDir()
		writeDataset(t, dir, 7)
		ds, err := checkDataset(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.warnings) != 6 || !strings.Contains(ds.warnings[0], "data_batch_1.bin holds 7 records, fewer than the official 10000") {
			t.Errorf("warnings %q", ds.warnings)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		dir := t.TempDir()
		b := writeDataset(t, dir, 3)
		os.Remove(filepath.Join(b, "data_batch_4.bin"))
		_, err := checkDataset(dir)
		var derr *datasetError
		if !errors.As(err, &derr) || len(derr.missing) != 1 || derr.missing[0] != "data_batch_4.bin" {
			t.Fatalf("err %v", err)
		}
		if !strings.Contains(err.Error(), "missing data_batch_4.bin") || !strings.Contains(err.Error(), b) {
			t.Errorf("error does not name the file and folder: %v", err)
		}
	})
	t.Run("truncated file", func(t *testing.T) {
		dir := t.TempDir()
		b := writeDataset(t, dir, 3)
		p := filepath.Join(b, "data_batch_2.bin")
		os.Truncate(p, 2*cifar.RecordSize+100)
		_, err := checkDataset(dir)
		if err == nil || !strings.Contains(err.Error(), "data_batch_2.bin is invalid") || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("err %v, want data_batch_2.bin named as truncated", err)
		}
	})
	t.Run("bad label", func(t *testing.T) {
		dir := t.TempDir()
		b := writeDataset(t, dir, 3)
		bad := binBytes(3)
		bad[cifar.RecordSize] = 42
		mustWrite(t, filepath.Join(b, "test_batch.bin"), bad)
		if _, err := checkDataset(dir); err == nil || !strings.Contains(err.Error(), "test_batch.bin") {
			t.Fatalf("err %v, want test_batch.bin named", err)
		}
	})
	t.Run("empty folder", func(t *testing.T) {
		_, err := checkDataset(t.TempDir())
		var derr *datasetError
		if !errors.As(err, &derr) || len(derr.missing) != 6 {
			t.Fatalf("err %v", err)
		}
	})
}

// assertNoDataset checks a failed run left nothing a later start could take for a dataset.
func assertNoDataset(t *testing.T, dataDir string) {
	t.Helper()
	if _, err := checkDataset(dataDir); err == nil {
		t.Error("a failed run left a dataset that looks valid")
	}
	entries, _ := os.ReadDir(dataDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), extractingPrefix) || strings.HasSuffix(e.Name(), ".part") || e.Name() == cifar.DirName {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestExtract(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "set.tar.gz")
	mustWrite(t, archive, syntheticArchive(t, 5))
	data := filepath.Join(dir, "data")
	var out bytes.Buffer
	ds, err := extract(archive, data, &out)
	if err != nil {
		t.Fatal(err)
	}
	if ds.records["data_batch_3.bin"] != 5 || len(ds.records) != 6 {
		t.Errorf("records %v", ds.records)
	}
	for _, name := range []string{cifar.MetaFile, "readme.html"} {
		if _, err := os.Stat(filepath.Join(data, cifar.DirName, name)); err != nil {
			t.Error(err)
		}
	}
	if _, err := checkDataset(data); err != nil {
		t.Errorf("the next start does not find the dataset: %v", err)
	}
	entries, _ := os.ReadDir(data)
	if len(entries) != 1 {
		t.Errorf("data folder holds %d entries, want only %s", len(entries), cifar.DirName)
	}
}

func TestExtractReplacesInvalidFolder(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	b := writeDataset(t, data, 2)
	os.Remove(filepath.Join(b, "test_batch.bin"))
	archive := filepath.Join(dir, "set.tar.gz")
	mustWrite(t, archive, syntheticArchive(t, 4))
	var out bytes.Buffer
	ds, err := ensureDataset(context.Background(), datasetOptions{dataDir: data, archive: archive, source: official, out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if ds.records["test_batch.bin"] != 4 {
		t.Errorf("records %v", ds.records)
	}
	if !strings.Contains(out.String(), "moved the invalid folder") || !strings.Contains(out.String(), "not the official archive") {
		t.Errorf("output: %s", out.String())
	}
	matches, _ := filepath.Glob(filepath.Join(data, cifar.DirName+".invalid-*", "data_batch_1.bin"))
	if len(matches) != 1 {
		t.Error("the invalid folder was not kept aside")
	}
}

func TestExtractFailures(t *testing.T) {
	good := syntheticArchive(t, 5)
	truncatedBin := binBytes(5)[:3*cifar.RecordSize+7]
	tests := []struct {
		name    string
		archive []byte
		want    string
	}{
		{"truncated archive", good[:len(good)/2], "truncated or corrupt"},
		{"truncated gzip tail", good[:len(good)-6], "truncated or corrupt"},
		{"not gzip", []byte("<html>captive portal</html>"), "not a gzip file"},
		{"missing file", tarGz(t, []tarEntry{{name: cifar.DirName + "/data_batch_1.bin", data: binBytes(2)}}), "missing data_batch_2.bin"},
		{"truncated member", tarGz(t, append(entriesExcept(t, "data_batch_5.bin"),
			tarEntry{name: cifar.DirName + "/data_batch_5.bin", data: truncatedBin})), "data_batch_5.bin is invalid"},
		{"escaping entry", tarGz(t, []tarEntry{{name: "../evil.bin", data: binBytes(1)}}), "unsafe entry"},
		{"absolute entry", tarGz(t, []tarEntry{{name: "/tmp/evil.bin", data: binBytes(1)}}), "unsafe entry"},
		{"nothing inside", tarGz(t, []tarEntry{{name: "other/data_batch_1.bin", data: binBytes(1)}}), "no files under"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			archive := filepath.Join(dir, "set.tar.gz")
			mustWrite(t, archive, tc.archive)
			data := filepath.Join(dir, "data")
			_, err := extract(archive, data, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), archive) {
				t.Fatalf("err %v, want it to name %s and say %q", err, archive, tc.want)
			}
			assertNoDataset(t, data)
			if _, err := os.Stat(filepath.Join(dir, "evil.bin")); err == nil {
				t.Error("an escaping entry was written")
			}
		})
	}
}

// entriesExcept is the synthetic archive's entries without one file.
func entriesExcept(t *testing.T, skip string) []tarEntry {
	var out []tarEntry
	for _, name := range binFiles() {
		if name != skip {
			out = append(out, tarEntry{name: cifar.DirName + "/" + name, data: binBytes(5)})
		}
	}
	return out
}

// archiveHost stands in for the Toronto server.
func archiveHost(t *testing.T, archive []byte) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/~kriz/cifar-10-binary.tar.gz" {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "cifar-10-binary.tar.gz", timeZero, bytes.NewReader(archive))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestDownload(t *testing.T) {
	archive := syntheticArchive(t, 6)
	srv, hits := archiveHost(t, archive)
	data := filepath.Join(t.TempDir(), "data")
	src := archiveSource{URL: srv.URL + "/~kriz/cifar-10-binary.tar.gz", MD5: md5Hex(archive), Size: int64(len(archive))}
	var out bytes.Buffer
	ds, err := ensureDataset(context.Background(), datasetOptions{dataDir: data, source: src, out: &out, command: "./bin/server"})
	if err != nil {
		t.Fatal(err)
	}
	if ds.records["test_batch.bin"] != 6 {
		t.Errorf("records %v", ds.records)
	}
	o := out.String()
	for _, want := range []string{"downloading cifar-10-binary.tar.gz:", "(100.0%)", "MB/s", "verified", "md5 " + src.MD5, "extracted into"} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	if _, err := os.Stat(filepath.Join(data, archiveName)); err != nil {
		t.Errorf("the verified archive is not kept: %v", err)
	}
	// The next start finds the dataset and touches no network.
	srv.Close()
	before := hits.Load()
	if _, err := ensureDataset(context.Background(), datasetOptions{dataDir: data, source: src, out: &out}); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != before {
		t.Error("second start went to the network")
	}
	// With the folder gone but the archive kept, the archive is reused, still offline.
	os.RemoveAll(filepath.Join(data, cifar.DirName))
	out.Reset()
	if _, err := ensureDataset(context.Background(), datasetOptions{dataDir: data, source: src, out: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "kept from an earlier run") {
		t.Errorf("output: %s", out.String())
	}
}

func TestDownloadFailures(t *testing.T) {
	archive := syntheticArchive(t, 6)
	good := archiveSource{MD5: md5Hex(archive), Size: int64(len(archive))}
	tests := []struct {
		name  string
		serve []byte
		src   func(string) archiveSource
		want  string
	}{
		{"md5 mismatch", archive, func(u string) archiveSource {
			s := good
			s.URL, s.MD5 = u, strings.Repeat("0", 32)
			return s
		}, "md5 is " + good.MD5 + ", expected 00000000"},
		{"wrong size announced", archive[:len(archive)-10], func(u string) archiveSource { s := good; s.URL = u; return s }, "announces"},
		{"short body", archive[:len(archive)-10], func(u string) archiveSource {
			s := good
			s.URL, s.Size = u, 0
			return s
		}, "md5 is"},
		{"not found", archive, func(u string) archiveSource { s := good; s.URL = u + "/missing"; return s }, "404"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := archiveHost(t, tc.serve)
			data := filepath.Join(t.TempDir(), "data")
			var out bytes.Buffer
			_, err := ensureDataset(context.Background(), datasetOptions{dataDir: data, source: tc.src(srv.URL + "/~kriz/cifar-10-binary.tar.gz"), out: &out, command: "./bin/server"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			assertNoDataset(t, data)
			if _, err := os.Stat(filepath.Join(data, archiveName)); err == nil {
				t.Error("an unverified archive was kept")
			}
		})
	}
}

func TestOfflineMessage(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/~kriz/cifar-10-binary.tar.gz"
	srv.Close() // connection refused, like a machine without network
	data := filepath.Join(t.TempDir(), "data")
	var out bytes.Buffer
	_, err := ensureDataset(context.Background(), datasetOptions{dataDir: data, source: archiveSource{URL: url, MD5: official.MD5, Size: official.Size}, out: &out, command: "./bin/server"})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"missing data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin",
		"downloading it failed", "connection refused",
		"./bin/server -data " + data + " -archive /path/to/cifar-10-binary.tar.gz",
		"./bin/server -data /path/to/folder",
		"170052171 bytes, md5 c32a1d4ab5d03f1284b67883e8d87530",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("offline message lacks %q:\n%s", want, msg)
		}
	}
	assertNoDataset(t, data)
}

func TestDownloadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		cancel() // Ctrl-C in the middle of the download
		<-r.Context().Done()
	}))
	defer srv.Close()
	data := filepath.Join(t.TempDir(), "data")
	_, err := ensureDataset(ctx, datasetOptions{dataDir: data, source: archiveSource{URL: srv.URL, MD5: official.MD5}, out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err %v, want interrupted", err)
	}
	assertNoDataset(t, data)
}
