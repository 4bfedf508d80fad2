//go:build !js

package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Server is the built server binary running as a child process on a loopback port, with
// request logging (-log) into its own file.
type Server struct {
	// URL is the base address without a trailing slash, e.g. "http://127.0.0.1:41234".
	URL string
	// LogPath is the file holding the server's stdout and stderr: dataset messages, then one
	// line per request.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // the process's exit status, valid once done is closed
}

// readyPath is requested while waiting for the server to answer; Requests ignores it.
const readyPath = "/e2e-ready"

// serverCount numbers the servers of a run, for their log file names.
var serverCount atomic.Int32

// StartServer builds (once per run) and starts the server with the synthetic dataset, the
// built web folder and the repository's assets, and waits until it answers HTTP. It is
// stopped (SIGTERM, then SIGKILL after 5 s) when the test ends; if the test failed, its log
// is copied to artifacts/<Test>-server.log. Extra flags are appended after the harness's and
// so override them, e.g. StartServer(t, "-data", otherDir).
func StartServer(tb testing.TB, extraFlags ...string) *Server {
	tb.Helper()
	b := Built(tb)
	data := DataDir(tb)
	addr := freeAddr(tb)
	for i, f := range extraFlags { // -addr: the same address again, e.g. for a restart
		if f == "-addr" && i+1 < len(extraFlags) {
			addr = extraFlags[i+1]
		}
	}
	s := &Server{
		URL:     "http://" + addr,
		LogPath: filepath.Join(workDir, fmt.Sprintf("server-%d.log", serverCount.Add(1))),
		done:    make(chan struct{}),
	}
	logFile, err := os.Create(s.LogPath)
	if err != nil {
		tb.Fatalf("e2e: server log: %v", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	args := append([]string{"-addr", addr, "-data", data, "-web", b.Web, "-assets", b.Assets, "-log"}, extraFlags...)
	s.cmd = exec.Command(b.Server, args...)
	s.cmd.Dir = workDir
	// An *os.File (not a pipe) as output: go test would otherwise wait for the child's pipe.
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("e2e: starting %s: %v", b.Server, err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	tb.Cleanup(func() { s.stop(tb) })
	if err := s.waitReady(30 * time.Second); err != nil {
		tb.Fatalf("e2e: server %s %s: %v\n%s", b.Server, strings.Join(args, " "), err, tail(s.LogPath, 40))
	}
	return s
}

// freeAddr picks a free loopback port by listening on port 0 and closing. Another process
// could take it before the server does; that shows as a clear "address in use" failure.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("e2e: finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitReady polls until the server answers any HTTP response, the process exits, or the time
// is up. The server checks the dataset before it serves, which is quick for the synthetic set.
func (s *Server) waitReady(limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for {
		resp, err := client.Head(s.URL + readyPath)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited before answering: %v", s.err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %v: %v", limit, err)
		}
	}
}

// stop ends the process and, when the test failed, keeps its log as an artifact.
func (s *Server) stop(tb testing.TB) {
	select {
	case <-s.done:
	default:
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	if tb.Failed() {
		dst := ArtifactPath(tb, tb.Name()+"-server.log")
		if data, err := os.ReadFile(s.LogPath); err == nil && os.WriteFile(dst, data, 0o644) == nil {
			tb.Logf("e2e: server log copied to %s", dst)
		}
	}
}

// Request is one line of the server's request log.
type Request struct {
	Method   string // GET or HEAD (the server refuses the others with 405, logged too)
	Path     string // the request URI: path and query, e.g. "/data/cifar-10-batches-bin/test_batch.bin"
	Status   int    // 200, 206, 304, 404...
	Bytes    int64  // body bytes sent
	Encoding string // Content-Encoding sent ("gzip", "br"), "-" for none
}

// Log returns the requests the server has logged so far, oldest first, without the harness's
// readiness probes. A request is logged once its response is complete.
func (s *Server) Log() []Request {
	f, err := os.Open(s.LogPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var reqs []Request
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if r, ok := parseRequestLine(sc.Text()); ok && r.Path != readyPath {
			reqs = append(reqs, r)
		}
	}
	return reqs
}

// Requests counts the logged requests whose path starts with prefix, e.g. "/data/" for the
// dataset files or "/web/app.wasm" for the page's wasm. A 304 revalidation counts as a
// request; use Log to tell them apart.
func (s *Server) Requests(prefix string) int {
	n := 0
	for _, r := range s.Log() {
		if strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// parseRequestLine reads a line written by the server's withLog (server/headers.go):
//
//	2025/01/02 15:04:05 127.0.0.1:5555 GET "/web/app.wasm" 200 3456789B gzip 1.234ms
//
// Other lines (dataset and startup messages) report false.
func parseRequestLine(line string) (Request, bool) {
	q := strings.IndexByte(line, '"')
	if q < 0 {
		return Request{}, false
	}
	head := strings.Fields(line[:q])
	quoted, err := strconv.QuotedPrefix(line[q:])
	if err != nil || len(head) < 4 {
		return Request{}, false
	}
	path, _ := strconv.Unquote(quoted)
	tail := strings.Fields(line[q+len(quoted):])
	if len(tail) < 3 || !strings.HasSuffix(tail[1], "B") {
		return Request{}, false
	}
	status, err1 := strconv.Atoi(tail[0])
	size, err2 := strconv.ParseInt(strings.TrimSuffix(tail[1], "B"), 10, 64)
	if err1 != nil || err2 != nil {
		return Request{}, false
	}
	return Request{Method: head[len(head)-1], Path: path, Status: status, Bytes: size, Encoding: tail[2]}, true
}
