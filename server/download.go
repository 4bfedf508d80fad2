package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// downloadClient fails fast when the host is unreachable or silent, but puts no limit on the
// whole transfer (170 MB on a slow line takes a while); the context cancels it on Ctrl-C.
var downloadClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	},
}

// download fetches src.URL into dst, printing a progress line to out, and verifies the size
// and md5. The bytes go to dst+".part", renamed to dst only once verified, so dst is either
// absent or a verified archive; a failed download removes the part file.
func download(ctx context.Context, src archiveSource, dst string, out io.Writer) (err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", src.URL, err)
	}
	resp, err := downloadClient.Do(req)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: HTTP %s", src.URL, resp.Status)
	}
	total := src.Size
	if resp.ContentLength >= 0 {
		if src.Size != 0 && resp.ContentLength != src.Size {
			return fmt.Errorf("download %s: the server announces %d bytes, the archive is %d bytes",
				src.URL, resp.ContentLength, src.Size)
		}
		total = resp.ContentLength
	}

	part := dst + ".part"
	f, err := os.Create(part)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(part)
		}
	}()
	sum := md5.New()
	p := newProgress(out, filepath.Base(dst), total)
	n, err := io.Copy(io.MultiWriter(f, sum, p), resp.Body)
	p.done()
	if err != nil {
		return fmt.Errorf("download %s: after %d bytes: %w", src.URL, n, err)
	}
	if src.Size != 0 && n != src.Size {
		return fmt.Errorf("download %s: got %d bytes, the archive is %d bytes (truncated?)", src.URL, n, src.Size)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); src.MD5 != "" && got != src.MD5 {
		return fmt.Errorf("download %s: md5 is %s, expected %s: the file is corrupt or not the CIFAR-10 archive",
			src.URL, got, src.MD5)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if err = os.Rename(part, dst); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	fmt.Fprintf(out, "dataset: %s verified (%d bytes, md5 %s)\n", dst, n, src.MD5)
	return nil
}

// progress prints "name: 12.3 MB of 170.1 MB (7.2%), 5.1 MB/s" on one terminal line,
// rewritten in place (carriage return) at most every progressEvery, and once at the end.
type progress struct {
	out   io.Writer
	name  string
	total int64
	n     int64
	start time.Time
	last  time.Time
}

// progressEvery limits progress updates; a terminal needs no more than a few a second.
const progressEvery = 250 * time.Millisecond

func newProgress(out io.Writer, name string, total int64) *progress {
	now := time.Now()
	return &progress{out: out, name: name, total: total, start: now, last: now}
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if now := time.Now(); now.Sub(p.last) >= progressEvery {
		p.last = now
		p.print("\r")
	}
	return len(b), nil
}

// done prints the final figures and ends the line.
func (p *progress) done() {
	p.print("\r")
	fmt.Fprintln(p.out)
}

func (p *progress) print(prefix string) {
	secs := time.Since(p.start).Seconds()
	speed := 0.0
	if secs > 0 {
		speed = float64(p.n) / secs
	}
	if p.total > 0 {
		fmt.Fprintf(p.out, "%sdownloading %s: %s of %s (%.1f%%), %s/s ", prefix, p.name,
			megabytes(p.n), megabytes(p.total), 100*float64(p.n)/float64(p.total), megabytes(int64(speed)))
		return
	}
	fmt.Fprintf(p.out, "%sdownloading %s: %s, %s/s ", prefix, p.name, megabytes(p.n), megabytes(int64(speed)))
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// fileMD5 returns the lowercase hex md5 of a file.
func fileMD5(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
