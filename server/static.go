package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"cifar10/wasm/protocol"
)

// errBadPath is returned by cleanPath for request paths that no honest client sends.
var errBadPath = errors.New("bad request path")

// cleanPath returns the request's decoded URL path if it is already canonical, and errBadPath
// otherwise. Instead of cleaning a hostile path into some other file, it refuses it: dot
// segments (also when sent as %2e), empty segments (//, which could make an absolute path),
// encoded slashes and backslashes (%2f, %5c: a segment must not hide a separator), backslashes,
// NUL and other control characters. Browsers never send any of these for our links.
func cleanPath(r *http.Request) (string, error) {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") {
		return "", errBadPath
	}
	raw := strings.ToLower(r.URL.EscapedPath())
	if strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") {
		return "", errBadPath
	}
	for _, c := range p {
		if c == '\\' || c == 0 || unicode.IsControl(c) || c == unicode.ReplacementChar {
			return "", errBadPath
		}
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		switch {
		case s == "." || s == "..":
			return "", errBadPath
		case s == "" && i != len(segs)-1: // only a trailing slash may leave an empty segment
			return "", errBadPath
		}
	}
	return p, nil
}

// staticDir serves the regular files below one folder and nothing else: no directory
// listings, no dot files, no symlink that leads out of the folder.
type staticDir struct {
	// dir is the folder on disk. It is opened per request (one syscall), so a folder created
	// or replaced while the server runs, e.g. by `make build`, is picked up.
	dir string
	// precompressed makes the server look for name.br and name.gz twins of a file and send
	// one of them when the client accepts it (see negotiate).
	precompressed bool
}

// serve answers a GET or HEAD for the file at rel, a slash-separated path relative to dir
// that cleanPath has already vetted.
func (d staticDir) serve(w http.ResponseWriter, r *http.Request, rel string) {
	if !servable(rel) {
		fail(w, http.StatusNotFound)
		return
	}
	// os.Root resolves rel inside dir and refuses to leave it, whether through ".." or a
	// symlink pointing outside; symlinks that stay inside are followed.
	root, err := os.OpenRoot(d.dir)
	if err != nil {
		fail(w, http.StatusNotFound)
		return
	}
	defer root.Close()
	f, fi, err := openRegular(root, rel)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			fail(w, http.StatusForbidden)
			return
		}
		fail(w, http.StatusNotFound)
		return
	}
	defer f.Close()

	h := w.Header()
	h.Set("Content-Type", contentType(rel))
	h.Set("Cache-Control", "no-cache") // revalidate every time: a rebuild must show at once
	content, modTime, suffix := f, fi.ModTime(), ""
	if d.precompressed {
		h.Add("Vary", "Accept-Encoding")
		h.Set(protocol.UncompressedLengthHeader, strconv.FormatInt(fi.Size(), 10))
		for _, enc := range negotiate(r.Header.Get("Accept-Encoding")) {
			cf, cfi, err := openRegular(root, rel+encodings[enc])
			if err != nil {
				continue
			}
			// A twin older than its source is stale (the file was rebuilt without running
			// scripts/compress.sh); the source is the truth. gzip -k and brotli copy the
			// source's time onto the twin, brotli only to the second, hence the Truncate.
			if cfi.ModTime().Before(fi.ModTime().Truncate(time.Second)) {
				cf.Close()
				continue
			}
			defer cf.Close()
			content, fi, modTime, suffix = cf, cfi, cfi.ModTime(), "-"+enc
			// ServeContent omits Content-Length when Content-Encoding is already set, so
			// the header is added as the status is written instead (see encodingWriter).
			w = &encodingWriter{ResponseWriter: w, encoding: enc}
			if strings.Contains(r.Header.Get("Range"), ",") {
				// Several ranges of an encoded body would come as a multipart body that
				// Content-Encoding seems to cover; ignoring Range (allowed) is clearer.
				r = r.Clone(r.Context())
				r.Header.Del("Range")
			}
			break
		}
	}
	h.Set("ETag", etag(fi.Size(), modTime, suffix))
	// ServeContent handles HEAD, If-None-Match / If-Modified-Since (304), If-Range and
	// Range (206, multipart for several ranges, 416), and sets Content-Length.
	http.ServeContent(w, r, path.Base(rel), modTime, content)
}

// encodingWriter adds Content-Encoding to 200 and 206 responses only, when their status is
// written: by then ServeContent has set Content-Length (and Content-Range) for the encoded
// bytes, and 304, 412 and 416 responses, which have no encoded body, stay without it.
type encodingWriter struct {
	http.ResponseWriter
	encoding string
	wrote    bool
}

func (w *encodingWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if code == http.StatusOK || code == http.StatusPartialContent {
			w.Header().Set("Content-Encoding", w.encoding)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *encodingWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps sendfile for the wasm body, as ServeContent copies with io.CopyN.
func (w *encodingWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
}

func (w *encodingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// servable reports whether rel may name a served file: a local path without dot files
// (which also keeps the temporary extraction folders and editor leftovers private).
func servable(rel string) bool {
	if rel == "" || !fs.ValidPath(rel) || !filepath.IsLocal(filepath.FromSlash(rel)) {
		return false
	}
	for _, s := range strings.Split(rel, "/") {
		if strings.HasPrefix(s, ".") {
			return false
		}
	}
	return true
}

// openRegular opens rel below root and checks that it is a regular file, so directories
// (no listings), devices and sockets are never served.
func openRegular(root *os.Root, rel string) (*os.File, fs.FileInfo, error) {
	f, err := root.Open(filepath.FromSlash(rel))
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: not a regular file", rel)
	}
	return f, fi, nil
}

// etag is strong and changes with the file: its size and modification time in nanoseconds,
// plus the encoding, since each encoding of a file is a different representation.
func etag(size int64, mod time.Time, suffix string) string {
	return `"` + strconv.FormatInt(size, 36) + "-" + strconv.FormatInt(mod.UnixNano(), 36) + suffix + `"`
}

// encodings maps the content codings we have twins for to the twin's file suffix.
var encodings = map[string]string{"br": ".br", "gzip": ".gz"}

// negotiate returns the codings to try, best first, from an Accept-Encoding header: br before
// gzip at equal quality (brotli wasm is about 25% smaller), none that the client refused with
// q=0 or did not list (a "*" entry counts for the codings not listed).
func negotiate(accept string) []string {
	q := map[string]float64{}
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		v := 1.0
		for _, p := range strings.Split(params, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				v = f
			}
		}
		if name == "x-gzip" {
			name = "gzip"
		}
		q[name] = v
	}
	quality := func(c string) float64 {
		if v, ok := q[c]; ok {
			return v
		}
		return q["*"]
	}
	var out []string
	br, gz := quality("br"), quality("gzip")
	switch {
	case br > 0 && br >= gz:
		out = append(out, "br")
		if gz > 0 {
			out = append(out, "gzip")
		}
	case gz > 0:
		out = append(out, "gzip")
		if br > 0 {
			out = append(out, "br")
		}
	}
	return out
}

// contentTypes are set explicitly rather than from the system's MIME tables, which differ
// between machines and may lack application/wasm (required by WebAssembly.instantiateStreaming).
var contentTypes = map[string]string{
	".wasm":        "application/wasm",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".html":        "text/html; charset=utf-8",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".png":         "image/png",
	".svg":         "image/svg+xml",
	".ico":         "image/x-icon",
	".woff2":       "font/woff2",
	".txt":         "text/plain; charset=utf-8",
	".gz":          "application/gzip",
}

// contentType returns the type for a file name, application/octet-stream when unknown (the
// dataset's .bin files are raw bytes).
func contentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
