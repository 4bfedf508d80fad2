// Command server serves the CIFAR-10 trainer: the page (go-app), its two wasm binaries, the
// static assets and the dataset, with the headers the app needs (cross-origin isolation for
// SharedArrayBuffer), precompressed wasm, and nothing else. At start it finds, extracts or
// downloads the dataset, then prints the URL to open.
//
// URLs and the folders behind them:
//
//	/web/<file>                      -web DIR (default web): app.wasm, worker.wasm and their .br/.gz twins
//	/assets/<file>                   -assets DIR (default assets): styles, icons, scripts
//	/data/cifar-10-batches-bin/<f>   -data DIR (default /tmp/cifar10_data) + /cifar-10-batches-bin
//	/, /app.js, /wasm_exec.js, /app-worker.js, /manifest.webmanifest, /app.css: go-app
//
// Usage:
//
//	go run ./server [-addr 127.0.0.1:8080] [-data DIR] [-archive FILE] [-web DIR] [-assets DIR] [-url URL] [-log] [-no-isolation]
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	ui "cifar10/app"
	"cifar10/nn/cifar"
)

// config holds the command line.
type config struct {
	addr    string
	dataDir string
	archive string
	webDir  string
	assets  string
	url     string
	log     bool
	// noIsolation leaves out COOP and COEP, as a host that cannot set them would: the page
	// then has no SharedArrayBuffer and trains with one worker (and says why).
	noIsolation bool
}

func parseFlags(args []string, errOut io.Writer) (config, error) {
	var c config
	fl := flag.NewFlagSet("server", flag.ContinueOnError)
	fl.SetOutput(errOut)
	fl.StringVar(&c.addr, "addr", "127.0.0.1:8080", "`host:port` to listen on; 127.0.0.1 keeps the server private to this machine")
	fl.StringVar(&c.dataDir, "data", "/tmp/cifar10_data", "`folder` holding cifar-10-batches-bin/ (created, downloaded or extracted into when missing)")
	fl.StringVar(&c.archive, "archive", "", "local cifar-10-binary.tar.gz `file` to extract when -data lacks the dataset")
	fl.StringVar(&c.webDir, "web", "web", "build output `folder` served at /web/ (app.wasm, worker.wasm and their .br/.gz twins)")
	fl.StringVar(&c.assets, "assets", "assets", "static `folder` served at /assets/ (styles, icons, scripts)")
	fl.StringVar(&c.url, "url", official.URL, "`URL` of cifar-10-binary.tar.gz to download when the dataset is missing")
	fl.BoolVar(&c.log, "log", false, "log one line per request")
	fl.BoolVar(&c.noIsolation, "no-isolation", false, "leave out the COOP/COEP headers (as a host that cannot set them would): the page trains with one worker")
	if err := fl.Parse(args); err != nil {
		return c, err
	}
	if fl.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fl.Args(), " "))
	}
	return c, nil
}

func main() {
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run listens first (a busy port fails before a long download), then makes sure the dataset
// is there, then serves until ctx is cancelled and shuts down gracefully.
func run(ctx context.Context, c config, out io.Writer) error {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", c.addr, err)
	}
	defer ln.Close()
	if warn := exposureWarning(ln.Addr()); warn != "" {
		fmt.Fprintln(out, warn)
	}

	src := official
	src.URL = c.url
	ds, err := ensureDataset(ctx, datasetOptions{
		dataDir: c.dataDir, archive: c.archive, source: src, out: out, command: commandName(),
	})
	if err != nil {
		return err
	}
	total := 0
	for _, n := range ds.records {
		total += n
	}
	fmt.Fprintf(out, "dataset: %s, %d images in %d files\n", ds.dir, total, len(ds.records))
	for _, w := range ds.warnings {
		fmt.Fprintln(out, "dataset: warning:", w)
	}

	b := inspectBuild(c.webDir, c.assets)
	for _, w := range b.warnings {
		fmt.Fprintln(out, "build: warning:", w)
	}
	ui.Routes()
	h := newHandler(c, ui.Handler(ui.Config{Version: b.version, WasmSize: b.appWasmSize}))
	if c.log {
		h = withLog(h, log.New(out, "", log.LstdFlags))
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0), // TLS probes and resets are not our business
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(out, "serving version %s; open %s (Ctrl-C to stop)\n", b.version, openURL(ln.Addr()))

	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// newHandler is the whole HTTP surface, without logging; tests drive it with httptest.
func newHandler(c config, goapp http.Handler) http.Handler {
	return withHeaders(!c.noIsolation, &router{
		web:    staticDir{dir: c.webDir, precompressed: true},
		assets: staticDir{dir: c.assets, precompressed: true},
		data:   staticDir{dir: filepath.Join(c.dataDir, cifar.DirName)},
		app:    goapp,
	})
}

// exposureWarning warns when the server is reachable from other machines: it serves files
// and has no authentication.
func exposureWarning(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || ta.IP.IsLoopback() {
		return ""
	}
	if ta.IP.IsUnspecified() {
		return fmt.Sprintf("warning: listening on all interfaces (%s): any machine that can reach this one can use the server; use -addr 127.0.0.1:%d to keep it private", a, ta.Port)
	}
	return fmt.Sprintf("warning: listening on %s, reachable from other machines; use -addr 127.0.0.1:%d to keep it private", a, ta.Port)
}

// openURL is the address to print: a browser cannot open 0.0.0.0, so an unspecified address
// is shown as the loopback one.
func openURL(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String() + "/"
	}
	host := ta.IP.String()
	if ta.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(ta.Port)) + "/"
}

// commandName is how to start the server again, for the offline message: the binary as typed,
// or "go run ./server" when running from go run's temporary folder.
func commandName() string {
	name := os.Args[0]
	if strings.Contains(name, "go-build") {
		return "go run ./server"
	}
	return name
}

// build describes the files the page is built from.
type build struct {
	version     string // content hash of the wasm binaries and assets
	appWasmSize int64  // uncompressed size of app.wasm, 0 when missing
	warnings    []string
}

// inspectBuild hashes web/app.wasm, web/worker.wasm and every file under assets/ into the
// go-app Version. go-app's service worker serves the app cache-first from a cache named after
// the version, so a rebuilt app or a changed stylesheet must change it, and an unchanged
// rebuild should not (the browser would fetch 13 MB again for nothing).
func inspectBuild(webDir, assetsDir string) build {
	var b build
	h := sha256.New()
	for _, name := range []string{"app.wasm", "worker.wasm"} {
		p := filepath.Join(webDir, name)
		n, err := hashFile(h, p)
		if err != nil {
			b.warnings = append(b.warnings, fmt.Sprintf("%s: %v; run `make build`", p, err))
			continue
		}
		if name == "app.wasm" {
			b.appWasmSize = n
		}
		if _, err := os.Stat(p + ".br"); err != nil {
			b.warnings = append(b.warnings, fmt.Sprintf("%s.br is missing: the wasm will be sent uncompressed; run `make build`", p))
		}
	}
	var files []string
	filepath.WalkDir(assetsDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		b.warnings = append(b.warnings, fmt.Sprintf("no files in %s: the page will lack its styles and icons (is the server started from the repository root?)", assetsDir))
	}
	sort.Strings(files)
	for _, p := range files {
		rel, _ := filepath.Rel(assetsDir, p)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		hashFile(h, p)
	}
	b.version = hex.EncodeToString(h.Sum(nil))[:12]
	return b
}

func hashFile(w io.Writer, p string) (int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}
