//go:build !js

package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/wasm/protocol"
)

// pageWordsJS collects what a reader sees or hears of the page, outside the log (the seed
// script's lines stay English): every text node, and the title, alt, aria-label and
// placeholder attributes.
const pageWordsJS = `(() => {
	const out = [];
	const log = document.getElementById('` + ui.LogID + `');
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walk.nextNode(); n; n = walk.nextNode()) {
		if (log && log.contains(n)) continue;
		if (n.parentElement && n.parentElement.closest('script, style')) continue;
		out.push(n.textContent);
	}
	for (const e of document.body.querySelectorAll('[title], [alt], [aria-label], [placeholder]')) {
		if (log && log.contains(e)) continue;
		for (const a of ['title', 'alt', 'aria-label', 'placeholder']) if (e.hasAttribute(a)) out.push(e.getAttribute(a));
	}
	return out.join('\n');
})()`

// latinRun is a run of Latin letters, with the digits, dots, dashes and underscores that join
// it into one name ("cifar10.ckpt-20", "softmax_linear", "e2e-first").
var latinRun = regexp.MustCompile(`[A-Za-z][A-Za-z0-9_.\-]*`)

// notEnglish are the Latin-letter runs a Chinese page may show, and why:
//   - names of technologies, formats and units, as Chinese texts write them;
//   - identifiers: the presets, the TensorFlow script's layer names, checkpoint and file names,
//     the GEMM kernel, the build id, the seed script's "precision:" line (its output, like the
//     log), the settings' values (auto, 1e-3) and command lines;
//   - the test data set's own class names (from its batches.meta.txt, not the page's);
//   - "English", the other language's name in the language switch.
var notEnglish = regexp.MustCompile(`^(` + strings.Join([]string{
	`CIFAR-10`, `Go`, `TensorFlow`, `WebAssembly`, `SIMD`, `Web`, `Worker`, `IndexedDB`, `SharedArrayBuffer`,
	`PNG`, `JPEG`, `MB`, `GB`, `top-1`, `Adam`, `English`, `auto`, `e-3`,
	`cifar10`, `cs231n`, `fast`, `conv[0-9]`, `pool[0-9]`, `norm[0-9]`, `local[0-9]`, `softmax_linear`,
	`cifar10\.ckpt-[0-9]+`, `cifar10\.ckpt-[0-9]+\.safetensors`, `wasm-simd128`, `e2e-first`, `precision`,
	`has_trained`, `True`, `train`, `train-dir`, `navigator\.storage\.estimate`,
	`(red|green|blue|yellow|cyan|magenta|orange|purple|grey|white)-(plain|hstripes|vstripes|checks|square)`,
}, "|") + `)\.?$`)

// englishWords returns the page's Latin-letter runs that notEnglish does not explain.
func englishWords(tb testing.TB, ctx context.Context) []string {
	tb.Helper()
	var out []string
	seen := map[string]bool{}
	for _, w := range latinRun.FindAllString(Eval[string](tb, ctx, pageWordsJS), -1) {
		if !notEnglish.MatchString(w) && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// unlabelledControlsJS lists the page's controls that a keyboard cannot reach or that have no
// name for a screen reader (their label, aria-label, text or title).
const unlabelledControlsJS = `[...document.querySelectorAll('button, input, select, textarea, a[href]')].filter(e => {
	const name = (e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].textContent) || e.textContent || e.title || '').trim();
	return !name || e.tabIndex < 0;
}).map(e => e.outerHTML.slice(0, 120))`

// TestChinese trains, evaluates, shows test images and opens the views inside the network
// (a map tile named, a class filter chosen) with lang=zh: outside the log, the page
// shows no English (see notEnglish for what is not English), every control is reachable and
// named, and durations and dates are Chinese. Then the language switch loads the page in
// English with the same settings. Screenshots of both are saved under artifacts/.
func TestChinese(t *testing.T) {
	ctx := NewBrowser(t, Timeout(4*time.Minute), WindowSize(1280, 2200))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "lang=zh&steps=20&batch=16&seed=2&save_every=10&workers=1")
	if got := Eval[string](t, ctx, `document.documentElement.lang`); got != "zh-CN" {
		t.Errorf("<html lang=%q>", got)
	}
	StartRun(t, ctx)
	WaitPhase(t, ctx, 2*time.Minute, protocol.PhaseFinished)
	WaitNewest(t, ctx, 20)
	if correct, text := Evaluate(t, ctx, 20); correct <= 0 || !strings.HasPrefix(text, "precision: ") {
		t.Errorf("evaluation: %q", text)
	}
	Click(t, ctx, ui.TestImagesShowID)
	WaitJS(t, ctx, `+document.getElementById('`+ui.TestImagesID+`')?.dataset.count > 0`, 60*time.Second)
	// The views inside the network (issue 16), a tile named, and a class filter.
	Click(t, ctx, ui.InsideToggleID)
	WaitJS(t, ctx, `document.querySelectorAll('#`+ui.FiltersID+` .filter-tile').length === 64 && document.querySelectorAll('#`+ui.ActivationsID+` .act-layer').length > 2`, 60*time.Second)
	Eval[bool](t, ctx, `(document.querySelector('#`+ui.ActivationsID+` .act-layer[data-layer="conv2"] .act-tile[data-channel="5"]').click(), true)`)
	WaitJS(t, ctx, `document.querySelector('#`+ui.ActivationsID+` .act-pointed')?.textContent === 'conv2，第 5 个通道'`, 10*time.Second)
	Eval[bool](t, ctx, `(() => { const s = document.getElementById('`+ui.TestImagesLabelID+`'); s.value = '3'; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`)
	WaitJS(t, ctx, `document.querySelector('#`+ui.TestImagesID+` .ti-summary')?.textContent.includes('所选类别')`, 20*time.Second)
	if h := Text(t, ctx, ".inside h2"); h != "网络内部" {
		t.Errorf("the views inside the network are headed %q", h)
	}
	if words := englishWords(t, ctx); len(words) > 0 {
		t.Errorf("lang=zh shows English: %q", words)
	}
	if bad := Eval[[]string](t, ctx, unlabelledControlsJS); len(bad) > 0 {
		t.Errorf("controls without a name or out of the keyboard's reach: %q", bad)
	}
	if phase := Text(t, ctx, sel(ui.StatusPhaseID)); phase != "已完成 20 步" {
		t.Errorf("the phase reads %q", phase)
	}
	if saved := Text(t, ctx, "#"+ui.CkptListID+" .ckpt-time"); !strings.Contains(saved, "月") {
		t.Errorf("the checkpoint's date reads %q", saved)
	}
	Eval[bool](t, ctx, `(window.scrollTo(0, 0), true)`)
	Screenshot(t, ctx, "lang-zh")
	ScreenshotOf(t, ctx, ".inside", "lang-zh-inside")

	// The switch: English, same settings, from the address.
	Eval[bool](t, ctx, `(s => (s.value = 'en', s.dispatchEvent(new Event('change', {bubbles: true})), true))(document.getElementById('`+ui.LangSwitchID+`'))`)
	WaitJS(t, ctx, `location.search.includes('lang=en') && document.documentElement?.lang === 'en' && !!document.getElementById('`+ui.ClientReadyID+`')`, 30*time.Second)
	WaitJS(t, ctx, datasetReady, 30*time.Second)
	if !strings.Contains(Eval[string](t, ctx, `location.search`), "seed=2") {
		t.Errorf("the switch lost the settings: %s", Eval[string](t, ctx, `location.search`))
	}
	if h := Text(t, ctx, "h1"); h != "CIFAR-10 trainer" {
		t.Errorf("after switching to English the title reads %q", h)
	}
	if bad := Eval[[]string](t, ctx, unlabelledControlsJS); len(bad) > 0 {
		t.Errorf("English: controls without a name or out of the keyboard's reach: %q", bad)
	}
	Eval[bool](t, ctx, `(window.scrollTo(0, 0), true)`)
	Screenshot(t, ctx, "lang-en")
}

// TestNoIsolation serves the page without COOP/COEP (server -no-isolation): the page has no
// SharedArrayBuffer, says so in one sentence, and trains with one worker although two were asked.
func TestNoIsolation(t *testing.T) {
	ctx := NewBrowser(t, Timeout(3*time.Minute))
	srv := StartServer(t, "-no-isolation")
	OpenTrainer(t, ctx, srv, "steps=10&batch=16&workers=2")
	if Eval[bool](t, ctx, `crossOriginIsolated`) {
		t.Fatal("the page is cross-origin isolated without COOP/COEP")
	}
	text := Eval[string](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('.notice[data-where="browser"] .notice-text')].map(e => e.textContent).join('\n')`))
	if !strings.Contains(text, "SharedArrayBuffer is unavailable") || !strings.Contains(text, "one worker") {
		t.Errorf("the browser notice reads %q", text)
	}
	StartRun(t, ctx)
	WaitPhase(t, ctx, 2*time.Minute, protocol.PhaseFinished)
	if n, w := Step(t, ctx), Data(t, ctx, ui.WorkerStatusID, "run-workers"); n != 10 || w != "1" && w != "0" {
		t.Errorf("ended at step %d with %s workers", n, w)
	}
	if w := Data(t, ctx, ui.WorkerStatusID, "workers"); w != "1" {
		t.Errorf("%s workers without SharedArrayBuffer, want 1", w)
	}
}
