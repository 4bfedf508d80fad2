//go:build !js

package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/nn"
	"cifar10/nn/checkpoint"
	"cifar10/nn/safetensors"
	"cifar10/wasm"
	"cifar10/wasm/protocol"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// Helpers of the checkpoint tests: the checkpoints panel, what IndexedDB holds, downloads,
// uploads and the native trainer.

// CkptRow is one row of the checkpoints list as the page shows it.
type CkptRow struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Step int64  `json:"step"`
	Size int    `json:"size"`
	Run  string `json:"run"`
}

// CkptRows returns the rows of the checkpoints list, newest first.
func CkptRows(tb testing.TB, ctx context.Context) []CkptRow {
	tb.Helper()
	return Eval[[]CkptRow](tb, ctx, `[...document.querySelectorAll('#`+ui.CkptListID+` .ckpt-row')].map(r => ({
		id: r.dataset.id, name: r.dataset.name, step: +r.dataset.step, size: +r.dataset.size, run: r.dataset.run}))`)
}

// rowNames is the names of rows, in order.
func rowNames(rows []CkptRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Name)
	}
	return out
}

// WaitCkptNames waits until the list shows exactly these names, in this order.
func WaitCkptNames(tb testing.TB, ctx context.Context, limit time.Duration, names ...string) []CkptRow {
	tb.Helper()
	want, _ := json.Marshal(names)
	WaitJS(tb, ctx, fmt.Sprintf(`JSON.stringify([...document.querySelectorAll('#%s .ckpt-row')].map(r => r.dataset.name)) === %q`, ui.CkptListID, want), limit)
	return CkptRows(tb, ctx)
}

// ClickRow clicks a row's button (class "restore", "resume", "download" or "delete").
func ClickRow(tb testing.TB, ctx context.Context, id, button string) {
	tb.Helper()
	q := fmt.Sprintf(`#%s .ckpt-row[data-id=%q] .ckpt-%s`, ui.CkptListID, id, button)
	WaitJS(tb, ctx, fmt.Sprintf(`document.querySelector(%q) && !document.querySelector(%q).disabled`, q, q), 10*time.Second)
	if err := chromedp.Run(ctx, chromedp.Click(q, chromedp.ByQuery)); err != nil {
		tb.Fatalf("e2e: clicking %s: %v", q, err)
	}
}

// idbJS runs body with the checkpoints store of the app's database open for reading as
// `store`, resolving with what body resolves (the database is closed afterwards, so it never
// blocks the app).
func idbJS(body string) string {
	return `new Promise((resolve, reject) => {
		const open = indexedDB.open('` + wasm.DBName + `');
		open.onerror = () => reject(open.error);
		open.onsuccess = () => {
			const db = open.result;
			const store = db.transaction('` + wasm.StoreCheckpoints + `').objectStore('` + wasm.StoreCheckpoints + `');
			const done = (v) => { db.close(); resolve(v); };
			const fail = (e) => { db.close(); reject(e); };
			(async () => { ` + body + ` })().then(done, fail);
		};
	})`
}

// idbRequest is the JavaScript to await one IDBRequest.
const idbRequest = `const req = (r) => new Promise((ok, ko) => { r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });`

// StoredCheckpoint is one checkpoint as IndexedDB holds it: its entry and its file's size
// and SHA-256.
type StoredCheckpoint struct {
	Info   protocol.CheckpointInfo
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// IDBCheckpoints reads the checkpoints store directly: every entry and the size and hash of
// every file, and fails the test if a record lacks its partner.
func IDBCheckpoints(tb testing.TB, ctx context.Context) map[string]StoredCheckpoint {
	tb.Helper()
	raw := Eval[map[string]map[string]any](tb, ctx, idbJS(idbRequest+`
		const keys = await req(store.getAllKeys());
		const out = {};
		for (const key of keys) {
			const v = await req(store.get(key));
			const [kind, ...rest] = key.split('/');
			const id = rest.join('/');
			out[id] = out[id] || {};
			if (kind === 'meta') { out[id].meta = v; continue; }
			const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', v));
			out[id].size = v.byteLength;
			out[id].sha256 = [...hash].map(b => b.toString(16).padStart(2, '0')).join('');
		}
		return out;`))
	got := map[string]StoredCheckpoint{}
	for id, r := range raw {
		meta, ok := r["meta"].(string)
		if !ok || r["sha256"] == nil {
			tb.Fatalf("e2e: IndexedDB holds an incomplete checkpoint %s: %v", id, r)
		}
		var c StoredCheckpoint
		if err := json.Unmarshal([]byte(meta), &c.Info); err != nil {
			tb.Fatalf("e2e: entry %s: %v", id, err)
		}
		c.Size, c.SHA256 = int(r["size"].(float64)), r["sha256"].(string)
		got[id] = c
	}
	return got
}

// sortedIDs lists a store's ids in order.
func sortedIDs(m map[string]StoredCheckpoint) []string {
	var out []string
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// AllowDownloads makes the browser save downloads into a new folder, which it returns.
func AllowDownloads(tb testing.TB, ctx context.Context) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := chromedp.Run(ctx, cdpbrowser.SetDownloadBehavior(cdpbrowser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(dir)); err != nil {
		tb.Fatalf("e2e: allowing downloads: %v", err)
	}
	return dir
}

// Download clicks a row's Download button and returns the file once it is complete in a
// fresh download folder.
func Download(tb testing.TB, ctx context.Context, row CkptRow) (path string, data []byte) {
	tb.Helper()
	dir := AllowDownloads(tb, ctx)
	ClickRow(tb, ctx, row.ID, "download")
	path = filepath.Join(dir, row.Name+".safetensors")
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err == nil && len(data) == row.Size {
			return path, data
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			tb.Fatalf("e2e: %s did not land in %s (%d of %d bytes; folder: %v)", row.Name, dir, len(data), row.Size, entries)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Upload chooses path in the checkpoint upload field, as a user picking a file does.
func Upload(tb testing.TB, ctx context.Context, path string) {
	tb.Helper()
	WaitJS(tb, ctx, `!document.getElementById('`+ui.CkptUploadID+`').disabled`, 10*time.Second)
	if err := chromedp.Run(ctx, chromedp.SetUploadFiles(sel(ui.CkptUploadID), []string{path}, chromedp.ByQuery)); err != nil {
		tb.Fatalf("e2e: uploading %s: %v", path, err)
	}
}

// Evaluate clicks Evaluate and waits for the precision of the weights after step steps; it
// returns the count of correct test images and the precision line.
func Evaluate(tb testing.TB, ctx context.Context, step int64) (correct int, text string) {
	tb.Helper()
	Click(tb, ctx, ui.EvalStartID)
	WaitJS(tb, ctx, fmt.Sprintf(`document.getElementById(%q)?.dataset.step === '%d' && !document.getElementById(%q)`,
		ui.EvalPrecisionID, step, ui.EvalProgressID), 60*time.Second)
	return DataInt(tb, ctx, ui.EvalPrecisionID, "correct"), Text(tb, ctx, sel(ui.EvalPrecisionID))
}

// CheckpointNotices returns the texts of the page's checkpoint messages.
func CheckpointNotices(tb testing.TB, ctx context.Context) []string {
	tb.Helper()
	return Eval[[]string](tb, ctx, `[...document.querySelectorAll('.notice[data-where="`+string(protocol.WhereCheckpoint)+`"] .notice-text')].map(e => e.textContent)`)
}

// plainBuild builds one command of the repository once per run without GOEXPERIMENT=simd, so
// its float rounding is the browser's (no fused multiply-add; see e2e/testdata/nativeref).
type plainBuild struct {
	pkg, name string
	once      sync.Once
	path      string
	err       error
}

// binary returns the built command's path, building it on first use.
func (b *plainBuild) binary(tb testing.TB) string {
	tb.Helper()
	b.once.Do(func() {
		b.path = filepath.Join(workDir, "bin", b.name)
		cmd := exec.Command("go", "build", "-o", b.path, b.pkg)
		cmd.Dir = repoRoot(tb)
		cmd.Env = append(os.Environ(), "GOEXPERIMENT=")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("e2e: building %s: %v\n%s", b.pkg, err, out)
		}
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}

var nativeTrainer = &plainBuild{pkg: "./cmd/cifar10", name: "cifar10"}

// NativeTrainer builds cmd/cifar10 once per run, without GOEXPERIMENT=simd, so its float
// rounding is the browser's (see e2e/testdata/nativeref), and returns its path.
func NativeTrainer(tb testing.TB) string {
	tb.Helper()
	return nativeTrainer.binary(tb)
}

// RunNative runs the native trainer on the synthetic dataset with one thread and returns its
// standard output.
func RunNative(tb testing.TB, args ...string) string {
	tb.Helper()
	args = append(args, "-data", DataDir(tb), "-threads", "1")
	cmd := exec.Command(NativeTrainer(tb), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("e2e: cifar10 %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

var nativeCorrect = regexp.MustCompile(`(?m)^correct: (\d+) of (\d+)$`)

// NativeEval evaluates a checkpoint file with `cifar10 eval` and returns the count of correct
// test images and the precision line.
func NativeEval(tb testing.TB, path string) (correct int, line string) {
	tb.Helper()
	out := RunNative(tb, "eval", "-ckpt", path)
	m := nativeCorrect.FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("e2e: cifar10 eval printed no count:\n%s", out)
	}
	correct, _ = strconv.Atoi(m[1])
	return correct, strings.SplitN(out, "\n", 2)[0]
}

// SameTensors fails the test unless two checkpoint files hold the same tensors with the
// same bytes (their metadata, which records when each was written, may differ).
func SameTensors(tb testing.TB, what string, a, b []byte) {
	tb.Helper()
	fa, err := safetensors.Parse(a)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	fb, err := safetensors.Parse(b)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	if len(fa.Tensors) != len(fb.Tensors) {
		tb.Fatalf("%s: %d tensors against %d", what, len(fa.Tensors), len(fb.Tensors))
	}
	for _, ta := range fa.Tensors {
		tb2, ok := fb.Tensor(ta.Name)
		if !ok || !bytes.Equal(ta.Data, tb2.Data) || !slices.Equal(ta.Shape, tb2.Shape) || ta.DType != tb2.DType {
			tb.Errorf("%s: tensor %s differs", what, ta.Name)
		}
	}
}

// WaitNewest waits until the newest checkpoint listed is at step and returns it.
func WaitNewest(tb testing.TB, ctx context.Context, step int64) CkptRow {
	tb.Helper()
	WaitJS(tb, ctx, fmt.Sprintf(`document.querySelector('#%s .ckpt-row')?.dataset.step === '%d'`, ui.CkptListID, step), 10*time.Second)
	return CkptRows(tb, ctx)[0]
}

// ScreenshotOf saves the element matching selector as <repo>/artifacts/<name>.png.
func ScreenshotOf(tb testing.TB, ctx context.Context, selector, name string) string {
	tb.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.Screenshot(selector, &png, chromedp.ByQuery)); err != nil {
		tb.Fatalf("e2e: screenshot of %s: %v", selector, err)
	}
	p := ArtifactPath(tb, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.Fatalf("e2e: screenshot: %v", err)
	}
	tb.Logf("e2e: screenshot %s", p)
	return p
}

// withNaN returns a copy of a checkpoint file with the first value of a tensor set to NaN.
func withNaN(tb testing.TB, file []byte, tensor string) []byte {
	tb.Helper()
	out := bytes.Clone(file)
	f, err := safetensors.Parse(out)
	if err != nil {
		tb.Fatal(err)
	}
	t, ok := f.Tensor(tensor)
	if !ok {
		tb.Fatalf("no tensor %s", tensor)
	}
	binary.LittleEndian.PutUint32(t.Data, math.Float32bits(float32(math.NaN())))
	return out
}

// otherPresetFile is a valid checkpoint of the cs231n preset (a fresh model, weights and
// momentum state), which a page set to cifar10 must refuse.
func otherPresetFile(tb testing.TB) []byte {
	tb.Helper()
	spec, err := nn.Preset("cs231n")
	if err != nil {
		tb.Fatal(err)
	}
	m, err := nn.NewModel(spec, 1)
	if err != nil {
		tb.Fatal(err)
	}
	opt, err := nn.NewOptimizer(spec.Optimizer, m.Params())
	if err != nil {
		tb.Fatal(err)
	}
	data, err := checkpoint.Encode(m, opt, checkpoint.Run{Seed: 1, Batch: 8, Time: time.Now()})
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// WorkerContexts returns a context on each of the page's training workers, for evaluating
// JavaScript in them.
func WorkerContexts(tb testing.TB, ctx context.Context) []context.Context {
	tb.Helper()
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var out []context.Context
	for _, ti := range targets {
		if ti.Type == "worker" && strings.HasSuffix(ti.URL, ui.WorkerScript) {
			wctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(ti.TargetID))
			tb.Cleanup(cancel)
			out = append(out, wctx)
		}
	}
	if len(out) == 0 {
		tb.Fatalf("e2e: no training worker among %d targets", len(targets))
	}
	return out
}

// SaverContext returns a context on the page's checkpoint saver (assets/saver.js), the worker
// that stores the training workers' checkpoint files.
func SaverContext(tb testing.TB, ctx context.Context) context.Context {
	tb.Helper()
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, ti := range targets {
		if ti.Type == "worker" && strings.HasSuffix(ti.URL, ui.SaverScript) {
			sctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(ti.TargetID))
			tb.Cleanup(cancel)
			return sctx
		}
	}
	tb.Fatalf("e2e: no checkpoint saver among %d targets", len(targets))
	return nil
}

// SetStoreRoom makes IndexedDB, in the given workers, take n more checkpoint files and refuse
// the ones after them the way Chromium refuses a write over the quota: the transaction aborts
// with a QuotaExceededError. (The training workers store through the saver, so that is the
// one whose count moves.) This stands in for a full disk
// because Chromium 156 accepts DevTools' Storage.overrideQuotaForOrigin and then ignores it
// (measured: writes far over the "quota" still commit, and estimate() reports no change).
func SetStoreRoom(tb testing.TB, workers []context.Context, n int) {
	tb.Helper()
	js := fmt.Sprintf(`(() => {
		self.storeFiles = self.storeFiles || 0;
		self.storeRoom = self.storeFiles + %d;
		if (self.storePatched) return true;
		self.storePatched = true;
		const put = IDBObjectStore.prototype.put;
		IDBObjectStore.prototype.put = function (value, key) {
			const req = put.call(this, value, key);
			if (typeof key === 'string' && key.startsWith('file/') && ++self.storeFiles > self.storeRoom) {
				const tx = this.transaction;
				Object.defineProperty(tx, 'error', {value: new DOMException('The quota has been exceeded.', 'QuotaExceededError')});
				queueMicrotask(() => tx.abort()); // after the caller has queued the rest of the transaction
			}
			return req;
		};
		return true;
	})()`, n)
	for _, wctx := range workers {
		if err := chromedp.Run(wctx, chromedp.Evaluate(js, nil)); err != nil {
			tb.Fatalf("e2e: limiting the worker's storage: %v", err)
		}
	}
}
