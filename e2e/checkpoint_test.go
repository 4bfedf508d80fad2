//go:build !js

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ui "cifar10/app"
	"cifar10/nn/checkpoint"
	"cifar10/nn/checkpoint/ckptname"
	"cifar10/wasm/protocol"
)

// ckptQuery is a short run that saves at steps 10 and 20.
const ckptQuery = "steps=20&batch=16&seed=5&save_every=10"

// TestCheckpointsSavedAndRestored trains 20 steps saving every 10: cifar10.ckpt-10 and -20
// appear in the list and in IndexedDB (entry and file each). After a reload (a new browser on
// the same profile) they are still listed, and Restore latest gives weights that evaluate to
// the precision they had before the reload, the native trainer's.
func TestCheckpointsSavedAndRestored(t *testing.T) {
	profile := NewProfile(t)
	ctx := NewBrowser(t, Profile(profile), Timeout(150*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, ckptQuery)
	StartRun(t, ctx)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)
	rows := WaitCkptNames(t, ctx, 10*time.Second, "cifar10.ckpt-20", "cifar10.ckpt-10")
	stored := IDBCheckpoints(t, ctx)
	if len(stored) != 2 {
		t.Fatalf("IndexedDB holds %d checkpoints, want 2: %v", len(stored), sortedIDs(stored))
	}
	for _, r := range rows {
		c, ok := stored[r.ID]
		if !ok || c.Info.Step != r.Step || c.Size != r.Size || c.Info.Size != r.Size || c.Info.Run != rows[0].Run {
			t.Errorf("row %+v, stored %+v", r, c)
		}
	}
	before, text := Evaluate(t, ctx, 20)
	t.Logf("before the reload: %s (%d correct); checkpoint size %d bytes", text, before, rows[0].Size)
	CloseBrowser(ctx)

	ctx = NewBrowser(t, Profile(profile), Timeout(120*time.Second))
	OpenTrainer(t, ctx, srv, ckptQuery)
	if got := WaitCkptNames(t, ctx, 10*time.Second, "cifar10.ckpt-20", "cifar10.ckpt-10"); got[0].ID != rows[0].ID {
		t.Errorf("after the reload the latest is %+v, was %+v", got[0], rows[0])
	}
	if Phase(t, ctx) != "" {
		t.Fatalf("a run exists before restoring: %s", Phase(t, ctx))
	}
	Click(t, ctx, ui.RestoreLatestID)
	WaitPhase(t, ctx, 30*time.Second, protocol.PhaseRestored)
	if Step(t, ctx) != 20 || !strings.Contains(Text(t, ctx, sel(ui.StatusPhaseID)), "cifar10.ckpt-20") {
		t.Errorf("restored: step %d, %q", Step(t, ctx), Text(t, ctx, sel(ui.StatusPhaseID)))
	}
	after, text2 := Evaluate(t, ctx, 20)
	if after != before || text2 != text {
		t.Errorf("after the reload %s (%d correct), before %s (%d)", text2, after, text, before)
	}
	if ref := NativeReference(t, "-steps", "20", "-batch", "16", "-seed", "5"); ref.Correct != after {
		t.Errorf("restored weights: %d correct, the native run %d", after, ref.Correct)
	}
	if Phase(t, ctx) != protocol.PhaseRestored || Step(t, ctx) != 20 {
		t.Errorf("evaluating trained: %s at step %d", Phase(t, ctx), Step(t, ctx))
	}
}

// TestCheckpointResumeAfterReload reloads the page in the middle of a run: the checkpoints
// saved so far are kept and the page offers to resume. Resume latest trains on to 10 steps
// past the newest checkpoint, in the same run; the checkpoint it writes holds the same
// tensors, byte for byte, as the one an uninterrupted run writes at that step, in the browser
// and in the native trainer.
func TestCheckpointResumeAfterReload(t *testing.T) {
	ctx := NewBrowser(t, Timeout(180*time.Second))
	srv := StartServer(t)
	query := "steps=1000&batch=16&seed=5&save_every=10"
	OpenTrainer(t, ctx, srv, query)
	StartRun(t, ctx)
	WaitJS(t, ctx, `document.querySelector('#`+ui.CkptListID+` .ckpt-row')`, 60*time.Second)
	Open(t, ctx, srv.URL+"/?"+query) // the reload, mid-training
	WaitJS(t, ctx, datasetReady+` && document.querySelector('#`+ui.CkptListID+` .ckpt-row')`, 30*time.Second)
	rows := CkptRows(t, ctx)
	latest := rows[0]
	offer := Text(t, ctx, sel(ui.CkptOfferID))
	if !strings.Contains(offer, fmt.Sprintf("step %d of 1,000", latest.Step)) || !strings.Contains(offer, "Resume latest") {
		t.Errorf("offer %q for %+v", offer, latest)
	}
	t.Logf("after the reload: %v; offer: %s", rowNames(rows), offer)
	ScreenshotOf(t, ctx, ".checkpoints", "checkpoints-after-reload")

	target := latest.Step + 10
	SetField(t, ctx, ui.QuerySteps, fmt.Sprint(target))
	Click(t, ctx, ui.ResumeLatestID)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)
	if Step(t, ctx) != int(target) || DataInt(t, ctx, ui.LossChartID, "count") != 10 {
		t.Errorf("resumed run ended at step %d with %d losses", Step(t, ctx), DataInt(t, ctx, ui.LossChartID, "count"))
	}
	resumed := WaitNewest(t, ctx, target)
	if resumed.Run != latest.Run {
		t.Errorf("the resumed run saved into %s, not its own run %s", resumed.Run, latest.Run)
	}
	_, got := Download(t, ctx, resumed)

	StartRun(t, ctx) // the same run, uninterrupted
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)
	whole := WaitNewest(t, ctx, target)
	if whole.Run == resumed.Run {
		t.Fatal("the uninterrupted run saved into the resumed run's group")
	}
	_, want := Download(t, ctx, whole)
	SameTensors(t, "resumed against uninterrupted (browser)", got, want)

	dir := t.TempDir()
	RunNative(t, "train", "-steps", fmt.Sprint(target), "-batch", "16", "-seed", "5", "-train-dir", dir, "-save-every", "1000", "-eval=false", "-exact")
	native, err := os.ReadFile(filepath.Join(dir, ckptname.File(target)))
	if err != nil {
		t.Fatal(err)
	}
	SameTensors(t, "resumed in the browser against the native trainer", got, native)
}

// TestCheckpointRoundTrip downloads a checkpoint (the file equals the stored bytes, parses,
// and the native eval gives the browser's precision), trains on from it with the native
// trainer, uploads the native trainer's file, restores it and evaluates it: the browser's
// precision is the native one.
func TestCheckpointRoundTrip(t *testing.T) {
	ctx := NewBrowser(t, Timeout(180*time.Second), WindowSize(1280, 1900))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, ckptQuery)
	StartRun(t, ctx)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)
	rows := WaitCkptNames(t, ctx, 10*time.Second, "cifar10.ckpt-20", "cifar10.ckpt-10")
	browserCorrect, browserText := Evaluate(t, ctx, 20)

	path, data := Download(t, ctx, rows[0])
	sum := sha256.Sum256(data)
	if stored := IDBCheckpoints(t, ctx)[rows[0].ID]; stored.SHA256 != hex.EncodeToString(sum[:]) || stored.Size != len(data) {
		t.Errorf("the download (%d bytes) differs from the stored file (%d bytes)", len(data), stored.Size)
	}
	ck, err := checkpoint.Decode(data, "")
	if err != nil || ck.Step != 20 || !ck.Resumable() || ck.Run.Seed != 5 || ck.Run.Batch != 16 {
		t.Fatalf("the downloaded file: %v, %+v", err, ck)
	}
	nativeCorrect, nativeText := NativeEval(t, path)
	if nativeCorrect != browserCorrect || nativeText != browserText {
		t.Errorf("native eval of the download: %s (%d), browser %s (%d)", nativeText, nativeCorrect, browserText, browserCorrect)
	}
	t.Logf("browser -> file: %s, %d bytes; native eval %s", filepath.Base(path), len(data), nativeText)

	dir := t.TempDir()
	RunNative(t, "train", "-ckpt", path, "-steps", "30", "-train-dir", dir, "-eval=false")
	nativeFile := filepath.Join(dir, ckptname.File(30))
	want, wantText := NativeEval(t, nativeFile)

	Upload(t, ctx, nativeFile)
	WaitJS(t, ctx, `document.querySelector('#`+ui.CkptListID+` .ckpt-row')?.dataset.name === 'cifar10.ckpt-30'`, 30*time.Second)
	up := CkptRows(t, ctx)[0]
	native, _ := os.ReadFile(nativeFile)
	if stored := IDBCheckpoints(t, ctx)[up.ID]; !strings.HasPrefix(up.Run, "u") || stored.Info.Upload != filepath.Base(nativeFile) || stored.Size != len(native) {
		t.Errorf("uploaded row %+v, stored %+v", up, stored)
	}
	ClickRow(t, ctx, up.ID, "restore")
	WaitPhase(t, ctx, 30*time.Second, protocol.PhaseRestored)
	got, gotText := Evaluate(t, ctx, 30)
	if got != want || gotText != wantText {
		t.Errorf("the native trainer's checkpoint in the browser: %s (%d), natively %s (%d)", gotText, got, wantText, want)
	}
	t.Logf("native -> file -> browser: %s in the browser, %s natively", gotText, wantText)
	ScreenshotOf(t, ctx, ".checkpoints", "checkpoints-panel")
}

// TestCheckpointUploadRejected uploads a truncated file, a file holding NaN and a file of the
// other preset: each is refused with one sentence, and the list and IndexedDB do not change.
func TestCheckpointUploadRejected(t *testing.T) {
	ctx := NewBrowser(t, Timeout(120*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "steps=3&batch=8&save_every=3")
	StartRun(t, ctx)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhaseFinished)
	WaitCkptNames(t, ctx, 10*time.Second, "cifar10.ckpt-3")
	rows := CkptRows(t, ctx)
	path, good := Download(t, ctx, rows[0])
	before := IDBCheckpoints(t, ctx)

	dir := t.TempDir()
	bad := []struct {
		name, want string
		data       []byte
	}{
		{"truncated.safetensors", "not a complete safetensors checkpoint file", good[:len(good)/2]},
		{"nan.safetensors", "holds NaN", withNaN(t, good, "local3/weights")},
		{"cs231n.safetensors", "preset cs231n, not cifar10", otherPresetFile(t)},
	}
	for i, b := range bad {
		p := filepath.Join(dir, b.name)
		if err := os.WriteFile(p, b.data, 0o644); err != nil {
			t.Fatal(err)
		}
		Upload(t, ctx, p)
		WaitJS(t, ctx, fmt.Sprintf(`document.querySelectorAll('.notice[data-where="checkpoint"]').length === %d`, i+1), 30*time.Second)
		msg := CheckpointNotices(t, ctx)[i]
		if !strings.HasPrefix(msg, "The file "+b.name+" was not stored: ") || !strings.Contains(msg, b.want) || strings.Contains(msg, ". ") {
			t.Errorf("%s: %q, want one sentence saying %q", b.name, msg, b.want)
		}
		t.Logf("%s", msg)
	}
	WaitJS(t, ctx, `!document.getElementById('`+ui.CkptUploadingID+`')`, 10*time.Second)
	if got := CkptRows(t, ctx); len(got) != 1 || got[0] != rows[0] {
		t.Errorf("the list changed: %+v", got)
	}
	after := IDBCheckpoints(t, ctx)
	if a, b := after[rows[0].ID], before[rows[0].ID]; len(after) != len(before) || a.SHA256 != b.SHA256 || a.Size != b.Size {
		t.Errorf("IndexedDB changed: %v -> %v", sortedIDs(before), sortedIDs(after))
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, good) {
		t.Error("the downloaded file changed")
	}
}

// TestCheckpointStorageFull lets the checkpoint saver store two checkpoints and then has the
// browser refuse the third with IndexedDB's QuotaExceededError: the page reports it, the run
// pauses a step or a few later (the save was committing in the background while training went
// on), and the two older checkpoints are kept. Deleting one makes room: Resume first saves the
// step reached, then trains on until the next save does not fit either. Only the saver's
// IndexedDB refuses, so this also shows that the worker's saves go through the saver.
func TestCheckpointStorageFull(t *testing.T) {
	ctx := NewBrowser(t, Timeout(150*time.Second))
	srv := StartServer(t)
	OpenTrainer(t, ctx, srv, "steps=100&batch=4&seed=2&save_every=2")
	workers := []context.Context{SaverContext(t, ctx)}
	SetStoreRoom(t, workers, 2)
	StartRun(t, ctx)
	WaitPhase(t, ctx, 60*time.Second, protocol.PhasePaused)
	paused := Step(t, ctx)
	if paused < 7 || paused > 12 || !strings.Contains(Text(t, ctx, sel(ui.StatusPhaseID)), "storage is full") {
		t.Errorf("paused at step %d: %q", paused, Text(t, ctx, sel(ui.StatusPhaseID)))
	}
	msgs := CheckpointNotices(t, ctx)
	want := fmt.Sprintf("cifar10.ckpt-6 was not saved because the browser's storage for this page is full, so training paused at step %d", paused)
	if len(msgs) != 1 || !strings.Contains(msgs[0], want) {
		t.Errorf("messages %q, want one saying %q", msgs, want)
	}
	t.Logf("%s", msgs)
	rows := WaitCkptNames(t, ctx, 5*time.Second, "cifar10.ckpt-4", "cifar10.ckpt-2")
	if stored := IDBCheckpoints(t, ctx); len(stored) != 2 {
		t.Errorf("IndexedDB holds %v", sortedIDs(stored))
	}

	ClickRow(t, ctx, rows[1].ID, "delete")
	WaitCkptNames(t, ctx, 5*time.Second, "cifar10.ckpt-4")
	SetStoreRoom(t, workers, 1)
	Click(t, ctx, ui.TrainResumeID)
	WaitCkptNames(t, ctx, 30*time.Second, fmt.Sprintf("cifar10.ckpt-%d", paused), "cifar10.ckpt-4")
	WaitJS(t, ctx, `document.querySelectorAll('.notice[data-where="checkpoint"]').length === 2`, 30*time.Second)
	WaitPhase(t, ctx, 30*time.Second, protocol.PhasePaused)
	next := paused + 2 - paused%2 // the first save due after the one Resume made
	if got := CheckpointNotices(t, ctx)[1]; Step(t, ctx) <= next || !strings.Contains(got, fmt.Sprintf("cifar10.ckpt-%d was not saved", next)) {
		t.Errorf("after the room for one more: %s at step %d (%q), want paused after %d for its checkpoint", Phase(t, ctx), Step(t, ctx), got, next)
	}
}
