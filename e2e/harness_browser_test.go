//go:build !js

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// chromiumPaths are tried in order; the Debian wrapper /usr/bin/chromium works but prints a
// shell warning, so the real binary comes first.
var chromiumPaths = []string{"/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome"}

// missingChromium is the message for a machine without Chromium.
const missingChromium = "e2e: Chromium not found (looked for /usr/lib/chromium/chromium, then chromium, chromium-browser and google-chrome on PATH); `make deps` installs it"

// RequireChromium returns Chromium's path. Without it the test is skipped, or fails when the
// environment variable CI is set, since a CI run that silently skips tests proves nothing.
func RequireChromium(tb testing.TB) string {
	tb.Helper()
	for _, p := range chromiumPaths {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatal(missingChromium)
	}
	tb.Skip(missingChromium)
	return ""
}

// browserConfig is what BrowserOptions set.
type browserConfig struct {
	profile       string
	timeout       time.Duration
	width, height int
}

// BrowserOption changes how NewBrowser starts Chromium.
type BrowserOption func(*browserConfig)

// Profile makes the browser use dir as its user data folder (cookies, IndexedDB, service
// worker caches) instead of a fresh one, for tests of what survives a reload or a second
// visit. Close the previous browser using dir with CloseBrowser first.
func Profile(dir string) BrowserOption { return func(c *browserConfig) { c.profile = dir } }

// Timeout sets the deadline of the context NewBrowser returns (default 60 s); training tests
// need more.
func Timeout(d time.Duration) BrowserOption { return func(c *browserConfig) { c.timeout = d } }

// WindowSize sets the window and viewport, and so the screenshot, size (default 1280x900).
func WindowSize(width, height int) BrowserOption {
	return func(c *browserConfig) { c.width, c.height = width, height }
}

// NewProfile returns an empty user data folder, removed after the test, to pass to Profile
// in several NewBrowser calls.
func NewProfile(tb testing.TB) string {
	tb.Helper()
	return tb.TempDir()
}

// browser is what the harness keeps about one Chromium, stored in the context NewBrowser
// returns.
type browser struct {
	mu       sync.Mutex
	messages []string // console calls, uncaught exceptions and log entries, in order
	logPath  string   // Chromium's own stdout and stderr

	tabCtx    context.Context // the tab without the test deadline, for cleanup screenshots
	closeOnce sync.Once
	closeFn   func()
}

type browserKey struct{}

// browserCount numbers the browsers of a run, for their log file names.
var browserCount atomic.Int32

// NewBrowser starts headless Chromium with one tab and returns the tab's chromedp context,
// with a deadline (Timeout, default 60 s). The page's console messages, uncaught exceptions
// and browser log entries (such as blocked requests) are collected: Console returns them, and
// they are logged if the test fails, with a screenshot artifacts/<Test>-failure.png. The
// browser is closed when the test ends, or earlier by CloseBrowser.
func NewBrowser(tb testing.TB, opts ...BrowserOption) context.Context {
	tb.Helper()
	exe := RequireChromium(tb)
	c := browserConfig{timeout: 60 * time.Second, width: 1280, height: 900}
	for _, o := range opts {
		o(&c)
	}
	if c.profile == "" {
		c.profile = tb.TempDir()
	}
	b := &browser{logPath: filepath.Join(workDir, fmt.Sprintf("chromium-%d.log", browserCount.Add(1)))}
	logFile, err := os.Create(b.logPath)
	if err != nil {
		tb.Fatalf("e2e: browser log: %v", err)
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), execOptions(exe, c, logFile)...)
	tabCtx, _ := chromedp.NewContext(allocCtx)
	b.tabCtx = tabCtx
	b.closeFn = func() {
		// Graceful close lets Chromium flush the profile (IndexedDB) before a reuse.
		done := make(chan struct{})
		go func() { chromedp.Cancel(tabCtx); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		cancelAlloc() // kills the process if it is still there
		logFile.Close()
	}
	chromedp.ListenTarget(tabCtx, b.collect)
	// The first Run starts the browser; it must get tabCtx itself, since a browser started
	// from a context with a deadline would be killed when that deadline passes.
	// New headless Chromium keeps room for a window frame it does not draw, so the viewport
	// is set explicitly: screenshots are then exactly width x height.
	if err := chromedp.Run(tabCtx, chromedp.EmulateViewport(int64(c.width), int64(c.height))); err != nil {
		b.closeFn()
		tb.Fatalf("e2e: starting %s: %v\n%s", exe, err, tail(b.logPath, 20))
	}
	ctx, cancel := context.WithTimeout(tabCtx, c.timeout)
	ctx = context.WithValue(ctx, browserKey{}, b)
	tb.Cleanup(func() {
		if tb.Failed() {
			b.report(tb)
		}
		cancel()
		b.close()
	})
	return ctx
}

// execOptions is how Chromium is started: headless, without the sandbox (containers lack the
// namespaces it needs), GPU, first-run UI, background traffic or QUIC, with /tmp instead of a
// small /dev/shm, and its output in the browser's log file.
func execOptions(exe string, c browserConfig, out *os.File) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(c.profile),
		chromedp.WindowSize(c.width, c.height),
		chromedp.CombinedOutput(out),
	}
	for _, f := range []string{"headless", "no-sandbox", "disable-gpu", "no-first-run",
		"no-default-browser-check", "disable-background-networking", "disable-component-update",
		"disable-sync", "disable-dev-shm-usage", "disable-quic", "hide-scrollbars"} {
		opts = append(opts, chromedp.Flag(f, true))
	}
	return opts
}

// CloseBrowser closes the browser of ctx now, gracefully, so that another browser can open
// its profile. The test's cleanup then has nothing left to do.
func CloseBrowser(ctx context.Context) {
	if b := browserOf(ctx); b != nil {
		b.close()
	}
}

func (b *browser) close() { b.closeOnce.Do(b.closeFn) }

func browserOf(ctx context.Context) *browser {
	b, _ := ctx.Value(browserKey{}).(*browser)
	return b
}

// Console returns the messages collected so far in the browser of ctx: console calls as
// "console.<type>: <args>", uncaught exceptions as "exception: ..." and browser log entries
// (blocked or failed requests, interventions) as "log.<level>: ...". Messages from Web
// Workers and the service worker come prefixed with "[worker <url>] " or
// "[service worker <url>] ".
func Console(ctx context.Context) []string {
	b := browserOf(ctx)
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.messages...)
}

// collect is the page's ListenTarget callback. It must not block: it runs on chromedp's
// event loop.
func (b *browser) collect(ev any) {
	if a, ok := ev.(*target.EventAttachedToTarget); ok && strings.Contains(a.TargetInfo.Type, "worker") {
		go b.attachWorker(a.TargetInfo)
		return
	}
	b.record("", ev)
}

// attachWorker opens a second DevTools session on a Web Worker (or go-app's service worker)
// that chromedp's auto-attach announced, so its console and exceptions are collected too,
// prefixed with "[worker <url>] ". Enabling Runtime replays what the worker logged before.
func (b *browser) attachWorker(info *target.Info) {
	prefix := "[" + strings.ReplaceAll(info.Type, "_", " ") + " " + info.URL + "] "
	wctx, _ := chromedp.NewContext(b.tabCtx, chromedp.WithTargetID(info.TargetID))
	chromedp.ListenTarget(wctx, func(ev any) { b.record(prefix, ev) })
	if err := chromedp.Run(wctx); err != nil && b.tabCtx.Err() == nil {
		b.add(prefix + "e2e: could not attach to collect its console: " + err.Error())
	}
}

// record keeps console calls, exceptions and log entries; other events are ignored.
func (b *browser) record(prefix string, ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		args := make([]string, len(ev.Args))
		for i, a := range ev.Args {
			args[i] = remoteString(a)
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		if d.URL != "" {
			msg += fmt.Sprintf(" (%s:%d:%d)", d.URL, d.LineNumber+1, d.ColumnNumber+1)
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		msg = "log." + string(e.Level) + ": " + e.Text
		if e.URL != "" {
			msg += " (" + e.URL + ")"
		}
	default:
		return
	}
	b.add(prefix + msg)
}

func (b *browser) add(msg string) {
	b.mu.Lock()
	b.messages = append(b.messages, msg)
	b.mu.Unlock()
}

// remoteString renders one console argument: strings as they are, other values as JSON or
// as DevTools describes them (objects, errors).
func remoteString(a *runtime.RemoteObject) string {
	if len(a.Value) > 0 {
		var s string
		if json.Unmarshal(a.Value, &s) == nil {
			return s
		}
		return string(a.Value)
	}
	if a.Description != "" {
		return a.Description
	}
	return string(a.Type)
}

// report logs what the browser collected and keeps a screenshot and Chromium's output as
// artifacts, unless the test failed before the browser opened any page (a build error).
func (b *browser) report(tb testing.TB) {
	b.mu.Lock()
	msgs := append([]string(nil), b.messages...)
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.tabCtx, 5*time.Second)
	defer cancel()
	var url string
	if err := chromedp.Run(ctx, chromedp.Location(&url)); err == nil && url == "about:blank" && len(msgs) == 0 {
		return
	}
	tb.Logf("e2e: browser console (%d messages) on %s:\n%s", len(msgs), url, strings.Join(msgs, "\n"))
	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err == nil {
		p := ArtifactPath(tb, tb.Name()+"-failure.png")
		if os.WriteFile(p, png, 0o644) == nil {
			tb.Logf("e2e: failure screenshot %s", p)
		}
	}
	if data, err := os.ReadFile(b.logPath); err == nil && len(data) > 0 {
		p := ArtifactPath(tb, tb.Name()+"-chromium.log")
		if os.WriteFile(p, data, 0o644) == nil {
			tb.Logf("e2e: Chromium's own output copied to %s", p)
		}
	}
}

// tail is the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%s unreadable: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return path + ":\n" + strings.Join(lines, "\n")
}
