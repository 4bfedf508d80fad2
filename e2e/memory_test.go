//go:build !js

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/chromedp"
)

// Memory is the memory of a tab's renderer processes, in bytes.
type Memory struct {
	// Private is what the tab alone holds (private clean + dirty pages: the heaps, the wasm
	// memories, the SharedArrayBuffers, compiled code), roughly Chromium's "memory footprint".
	Private int64
	// PSS adds each process's share of the pages it shares with others (Chromium's libraries).
	PSS int64
	// RSS counts every resident page, shared libraries in full.
	RSS       int64
	Processes int
	// Page is the private memory of the largest renderer process: the one holding the page,
	// its dedicated workers and their shared memory (the others run the service worker, or
	// wait as spares).
	Page int64
}

func (m Memory) String() string {
	return fmt.Sprintf("%.0f MB private in the page's process; all %d renderer processes: %.0f MB private, %.0f MB proportional, %.0f MB resident",
		float64(m.Page)/1e6, m.Processes, float64(m.Private)/1e6, float64(m.PSS)/1e6, float64(m.RSS)/1e6)
}

// TabMemory is the memory of the page in ctx as the operating system sees it: that of its
// browser's renderer processes, which hold the page, its Web Workers (Go's wasm memories and
// JavaScript heaps) and the SharedArrayBuffers they share. The browser process and its helper
// processes (network, storage) are not counted.
func TabMemory(tb testing.TB, ctx context.Context) Memory {
	tb.Helper()
	c := chromedp.FromContext(ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		tb.Fatal("e2e: TabMemory needs a browser started by NewBrowser")
	}
	var m Memory
	for _, pid := range descendants(c.Browser.Process().Pid) {
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.Contains(string(cmd), "--type=renderer") {
			continue
		}
		rollup := fmt.Sprintf("/proc/%d/smaps_rollup", pid)
		m.Processes++
		m.RSS += procField(rollup, "Rss:")
		m.PSS += procField(rollup, "Pss:")
		private := procField(rollup, "Private_Clean:") + procField(rollup, "Private_Dirty:")
		m.Private += private
		m.Page = max(m.Page, private)
	}
	if m.Processes == 0 {
		tb.Fatal("e2e: no renderer process found")
	}
	return m
}

// CollectGarbage runs a full garbage collection in the page of ctx and in each of its Web
// Workers (DevTools' HeapProfiler.collectGarbage), so that TabMemory measures what is live
// rather than how lazily V8 has collected (a worker that computes in wasm may not collect its
// JavaScript garbage for a long time).
func CollectGarbage(tb testing.TB, ctx context.Context) {
	tb.Helper()
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		tb.Fatalf("e2e: listing targets: %v", err)
	}
	if err := chromedp.Run(ctx, heapprofiler.CollectGarbage()); err != nil {
		tb.Fatalf("e2e: collecting the page's garbage: %v", err)
	}
	for _, ti := range targets {
		if ti.Type != "worker" {
			continue
		}
		wctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(ti.TargetID))
		err := chromedp.Run(wctx, heapprofiler.CollectGarbage())
		cancel()
		if err != nil {
			tb.Fatalf("e2e: collecting the garbage of worker %s: %v", ti.URL, err)
		}
	}
}

// descendants lists every process below pid.
func descendants(pid int) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after its closing paren.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		self, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			children[ppid] = append(children[ppid], self)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, children[p]...)
		queue = append(queue, children[p]...)
	}
	return out
}

// procField reads a "Name:   1234 kB" line of a /proc file, in bytes (0 when absent).
func procField(path, name string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// PageMemory is performance.measureUserAgentSpecificMemory() of the page (cross-origin isolated
// pages have it): the bytes of the page's and its workers' JavaScript heaps, wasm memories and
// shared buffers, as the browser attributes them; -1 when it gives no answer within 30 s
// (Chromium measures at its next garbage collection).
func PageMemory(tb testing.TB, ctx context.Context) int64 {
	tb.Helper()
	return int64(Eval[float64](tb, ctx, `Promise.race([
		performance.measureUserAgentSpecificMemory ? performance.measureUserAgentSpecificMemory().then(r => r.bytes) : Promise.resolve(-1),
		new Promise(resolve => setTimeout(() => resolve(-1), 30000)),
	])`))
}
