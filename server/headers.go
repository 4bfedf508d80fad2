package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"time"
)

// withHeaders sets the headers every response needs, errors and 304s included:
//   - COOP same-origin + COEP require-corp make the page and its workers cross-origin
//     isolated, which is what unlocks SharedArrayBuffer for the training workers;
//   - CORP same-origin states that our files are for this origin only (COEP requires
//     subresources to opt in, and it keeps other sites from embedding them);
//   - nosniff stops browsers second-guessing the Content-Type we send.
//
// Without isolate (-no-isolation) COOP and COEP are left out, as on a host that cannot set
// them; the page then trains with one worker.
func withHeaders(isolate bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if isolate {
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cross-Origin-Embedder-Policy", "require-corp")
		}
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// withLog logs one line per request after it is served: client, method, path, status, bytes
// sent, content encoding and duration. It is off by default (flag -log): the terminal is for
// the dataset progress and the URL to open.
func withLog(next http.Handler, logger *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		lw := &loggingWriter{ResponseWriter: w}
		next.ServeHTTP(lw, r)
		if lw.status == 0 {
			lw.status = http.StatusOK
		}
		enc := w.Header().Get("Content-Encoding")
		if enc == "" {
			enc = "-"
		}
		logger.Printf("%s %s %q %d %dB %s %s", r.RemoteAddr, r.Method, r.URL.RequestURI(),
			lw.status, lw.bytes, enc, time.Since(start).Round(time.Microsecond))
	})
}

// loggingWriter records the status and the body size. It forwards ReadFrom so that
// http.ServeContent keeps using sendfile, and Unwrap for http.ResponseController.
type loggingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *loggingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *loggingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *loggingWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

func (w *loggingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// fail writes a short plain-text error. Bodies never echo the request path or a file system
// path, so an error cannot tell a client where the served folders are.
func fail(w http.ResponseWriter, code int) {
	http.Error(w, fmt.Sprintf("%d %s", code, http.StatusText(code)), code)
}
