package app

import (
	"slices"
	"time"

	"cifar10/wasm"
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// CheckpointsView is what the page knows of the checkpoints kept in this browser: the list
// read from IndexedDB at start, then kept up to date from the worker's reports and the user's
// deletions.
type CheckpointsView struct {
	// Loaded is true once the list was read; Unavailable says why it cannot be (no IndexedDB).
	Loaded      bool
	Unavailable string
	List        []protocol.CheckpointInfo // newest first
	// Storage is the browser's estimate of the page's storage, when known.
	Storage      wasm.Storage
	StorageKnown bool
	// Uploading names the file the worker is checking ("" when none).
	Uploading string
	// Pending is a restore sent to the worker and not answered yet.
	Pending *PendingRestore
}

// PendingRestore is a checkpoint on its way to becoming run Run.
type PendingRestore struct {
	Run    int
	ID     string
	Resume bool
}

// Latest is the newest stored checkpoint, which "Restore latest" and "Resume latest" use.
func (v CheckpointsView) Latest() (protocol.CheckpointInfo, bool) {
	if len(v.List) == 0 {
		return protocol.CheckpointInfo{}, false
	}
	return v.List[0], true
}

// Find returns the stored checkpoint with the given id.
func (v CheckpointsView) Find(id string) (protocol.CheckpointInfo, bool) {
	for _, c := range v.List {
		if c.ID == id {
			return c, true
		}
	}
	return protocol.CheckpointInfo{}, false
}

// SetCheckpoints records the list read from IndexedDB, or why it could not be read.
func (s *Store) SetCheckpoints(list []protocol.CheckpointInfo, err error) {
	c := &s.Checkpoints
	if err != nil {
		c.Unavailable = T(msgCkptUnavailable, err)
		return
	}
	c.Loaded, c.Unavailable = true, ""
	c.List = append([]protocol.CheckpointInfo(nil), list...)
	wasm.SortCheckpoints(c.List)
}

// SetStorage records the browser's storage estimate.
func (s *Store) SetStorage(st wasm.Storage) {
	s.Checkpoints.Storage, s.Checkpoints.StorageKnown = st, true
}

// RemoveCheckpoints drops deleted checkpoints from the list.
func (s *Store) RemoveCheckpoints(ids ...string) {
	c := &s.Checkpoints
	c.List = slices.DeleteFunc(c.List, func(x protocol.CheckpointInfo) bool { return slices.Contains(ids, x.ID) })
}

// checkpointSaved applies the worker's report of a stored checkpoint: the new entry in, the
// pruned ones out.
func (s *Store) checkpointSaved(cs protocol.CheckpointSaved) {
	s.RemoveCheckpoints(append(cs.Removed, cs.Info.ID)...)
	c := &s.Checkpoints
	c.List = append(c.List, cs.Info)
	wasm.SortCheckpoints(c.List)
	if cs.Info.Uploaded() {
		c.Uploading = ""
	}
}

// checkpointFailed ends an upload the worker refused, and a restore it could not do.
func (s *Store) checkpointFailed(run int) {
	c := &s.Checkpoints
	if run == 0 {
		c.Uploading = ""
	}
	if c.Pending != nil && c.Pending.Run == run {
		c.Pending = nil
	}
}

// CanRestore reports whether a checkpoint may be restored now, and if not, why.
func (s *Store) CanRestore() (bool, string) {
	switch {
	case s.Worker.Failed:
		return false, T(msgWhyWorkerStopped)
	case !s.Worker.Ready || s.Dataset.Phase != DatasetReady:
		return false, T(msgWhyDatasetLoading)
	case s.Checkpoints.Pending != nil:
		return false, T(msgWhyRestoring)
	case s.Run.Active():
		return false, T(msgWhyStopFirst)
	case s.Eval.Running:
		return false, T(msgWhyEvaluating)
	}
	return true, ""
}

// CanResume reports whether training can go on from c with the current Max steps.
func (s *Store) CanResume(c protocol.CheckpointInfo) (bool, string) {
	if ok, why := s.CanRestore(); !ok {
		return false, why
	}
	if c.Resumable && int64(s.Settings.Steps) <= c.Step {
		return false, T(msgWhyMaxSteps, c.Step, c.Step)
	}
	return true, ""
}

// RestoreCheckpoint asks the worker to make a stored checkpoint the next run, trained on at
// once (resume) or kept for evaluation. The page switches to that run when the worker
// confirms it (a refused restore leaves the current run as it was).
func (s *Store) RestoreCheckpoint(id string, resume bool) protocol.Message {
	run := s.Run.ID + 1
	s.Checkpoints.Pending = &PendingRestore{Run: run, ID: id, Resume: resume}
	return protocol.Message{Run: run,
		Payload: protocol.RestoreRequest{ID: id, Resume: resume, Settings: s.Settings}}
}

// adoptRestored switches to the pending restored run when the worker's first state for it
// arrives, and ends the wait when the worker refuses it. It reports whether m belongs to it.
func (s *Store) adoptRestored(m protocol.Message) bool {
	p := s.Checkpoints.Pending
	if p == nil || m.Run != p.Run {
		return false
	}
	switch m.Kind() {
	case protocol.KindState:
		st := m.Payload.(protocol.RunState)
		set := s.Settings
		if st.Settings != nil {
			set = *st.Settings
		}
		s.Run = RunView{ID: p.Run, Settings: set}
		s.Losses, s.LossStart = nil, st.Step
		s.Log, s.LogDropped = nil, 0
		s.Eval = EvalView{}
		s.resetPredictions()
		s.resetInside()
		if c, ok := s.Checkpoints.Find(p.ID); ok && !c.Uploaded() {
			s.Inside.RunKey = c.Run
		}
		s.Checkpoints.Pending = nil
		return true
	case protocol.KindError:
		s.Checkpoints.Pending = nil
		return true
	}
	return false
}

// ResumeOffer is the sentence offering to resume an interrupted run: when this page has no
// run yet and the newest checkpoint belongs to a run that had not reached its last step (the
// page was reloaded or closed during training). "" when there is nothing to offer.
func (s *Store) ResumeOffer() string {
	c, ok := s.Checkpoints.Latest()
	if !ok || s.Run.Phase != "" || c.Uploaded() || !c.Resumable || int64(c.Steps) <= c.Step {
		return ""
	}
	return T(msgCkptOffer,
		Thousands(c.Step), Thousands(int64(c.Steps)), c.Name(), savedTime(c.Saved))
}

// savedTime writes when a checkpoint was stored, in the browser's time zone.
func savedTime(unixMilli int64) string {
	return time.UnixMilli(unixMilli).Local().Format(T(msgDateFormat))
}

// CheckpointsPanel lists the checkpoints kept in this browser with Restore, Resume, Download
// and Delete each, Restore latest and Resume latest, the upload of a file, and the storage
// used.
type CheckpointsPanel struct {
	app.Compo
	View       CheckpointsView
	CanRestore bool
	Why        string // why restoring is not possible now
	MaxSteps   int    // the controls' Max steps: a resumed run trains until it
	SaveEvery  int
	Offer      string
}

// Render draws the panel.
func (p *CheckpointsPanel) Render() app.UI {
	v := p.View
	latest, hasLatest := v.Latest()
	return app.Section().Class("panel", "checkpoints").Body(
		app.Div().Class("ckpt-head").Body(
			app.H2().Text(T(msgCheckpoints)),
			app.Button().ID(RestoreLatestID).Class("small").Disabled(!hasLatest || !p.CanRestore).
				Title(T(msgRestoreLatestTitle)).
				DataSet("id", latest.ID).Text(T(msgRestoreLatest)).OnClick(action(actionCkptRestore)),
			app.Button().ID(ResumeLatestID).Class("small", "primary").Disabled(!hasLatest || !p.canResume(latest)).
				Title(p.resumeTitle(latest)).
				DataSet("id", latest.ID).Text(T(msgResumeLatest)).OnClick(action(actionCkptResume)),
		),
		app.If(p.Offer != "", func() app.UI { return app.P().ID(CkptOfferID).Class("ckpt-offer").Text(p.Offer) }),
		app.If(v.Unavailable != "", func() app.UI { return app.P().Class("error").Text(endSentence(v.Unavailable)) }),
		p.renderList(),
		app.If(len(v.List) > 0, func() app.UI {
			return app.P().Class("muted", "ckpt-help").Text(T(msgCkptHelp, Thousands(int64(p.MaxSteps))))
		}),
		app.Div().Class("ckpt-foot").Body(
			app.Label().Class("upload").Title(T(msgUploadTitle)).Body(
				app.Span().Text(T(msgUpload)),
				app.Input().ID(CkptUploadID).Type("file").Accept(".safetensors,application/octet-stream").
					Disabled(v.Unavailable != "" || v.Uploading != "").
					OnChange(func(ctx app.Context, e app.Event) { ctx.NewAction(actionCkptUpload) }),
				fileButton(),
			),
			app.If(v.Uploading != "", func() app.UI {
				return app.Span().ID(CkptUploadingID).Class("muted").Text(T(msgChecking, v.Uploading))
			}),
			p.renderStorage(),
		),
	)
}

// action is a click handler sending a checkpoint action for the id in the button's data-id.
// The id is read from the element, not captured: go-app keeps an element's first handler when
// a new one comes from the same code, so a captured id would go stale as the list changes.
func action(name string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		ctx.NewActionWithValue(name, ctx.JSSrc().Get("dataset").Get("id").String())
	}
}

func (p *CheckpointsPanel) canResume(c protocol.CheckpointInfo) bool {
	return p.CanRestore && (!c.Resumable || int64(p.MaxSteps) > c.Step)
}

// resumeTitle explains what Resume does for c, or why it cannot.
func (p *CheckpointsPanel) resumeTitle(c protocol.CheckpointInfo) string {
	switch {
	case !p.CanRestore:
		return Sentence(p.Why)
	case c.Resumable && int64(p.MaxSteps) <= c.Step:
		return T(msgResumeMaxSteps, c.Step)
	case !c.Resumable:
		return T(msgResumeWeightsOnly)
	}
	return T(msgResumeTitle, Thousands(int64(p.MaxSteps)))
}

func (p *CheckpointsPanel) renderList() app.UI {
	v := p.View
	if len(v.List) == 0 {
		text := T(msgCkptNone)
		if p.SaveEvery > 0 {
			text = T(msgCkptNoneEvery, p.SaveEvery)
		}
		return app.P().ID(CkptListID).Class("muted", "ckpt-empty").DataSet("count", 0).Text(text)
	}
	return app.Table().ID(CkptListID).Class("ckpt-list").DataSet("count", len(v.List)).Body(
		app.THead().Body(app.Tr().Body(
			app.Th().Text(T(msgColName)), app.Th().Class("num").Text(T(msgColStep)), app.Th().Text(T(msgColSaved)),
			app.Th().Class("num").Text(T(msgColLoss)), app.Th().Class("num").Text(T(msgColSize)), app.Th().Text(""),
		)),
		app.TBody().Body(app.Range(v.List).Slice(func(i int) app.UI { return p.renderRow(v.List[i]) })),
	)
}

func (p *CheckpointsPanel) renderRow(c protocol.CheckpointInfo) app.UI {
	loss := "–"
	if c.Loss != nil {
		loss = FormatLoss(float32(*c.Loss))
	}
	return app.Tr().Class("ckpt-row").DataSet("id", c.ID).DataSet("name", c.Name()).DataSet("step", c.Step).
		DataSet("size", c.Size).DataSet("run", c.Run).Title(describe(c)).Body(
		app.Td().Class("ckpt-name").Body(
			app.Text(c.Name()),
			app.If(c.Uploaded(), func() app.UI { return app.Span().Class("tag").Text(T(msgTagUploaded)) }),
			app.If(!c.Resumable, func() app.UI { return app.Span().Class("tag").Text(T(msgTagWeightsOnly)) }),
		),
		app.Td().Class("num").Text(Thousands(c.Step)),
		app.Td().Class("ckpt-time").Text(savedTime(c.Saved)),
		app.Td().Class("num").Text(loss),
		app.Td().Class("num").Text(MB(int64(c.Size))),
		app.Td().Class("ckpt-actions").Body(
			app.Button().Class("small", "ckpt-restore").Disabled(!p.CanRestore).Title(T(msgRestoreTitle)).
				DataSet("id", c.ID).Text(T(msgRestore)).OnClick(action(actionCkptRestore)),
			app.Button().Class("small", "ckpt-resume").Disabled(!p.canResume(c)).Title(p.resumeTitle(c)).
				DataSet("id", c.ID).Text(T(msgResume)).OnClick(action(actionCkptResume)),
			app.Button().Class("small", "ckpt-download").Title(T(msgDownloadTitle, c.FileName())).
				DataSet("id", c.ID).Text(T(msgDownload)).OnClick(action(actionCkptDownload)),
			app.Button().Class("small", "ckpt-delete").Title(T(msgDeleteTitle)).
				DataSet("id", c.ID).Text(T(msgDelete)).OnClick(action(actionCkptDelete)),
		),
	)
}

// describe is a row's tooltip: the run it belongs to.
func describe(c protocol.CheckpointInfo) string {
	s := T(msgDescribePreset, c.Preset)
	if c.Batch > 0 {
		s += T(msgDescribeSeed, c.Seed, c.Batch)
	}
	if c.LR > 0 {
		s += T(msgDescribeLR, FormatLR(c.LR))
	}
	if c.Uploaded() {
		return s + T(msgDescribeUploaded, c.Upload)
	}
	if c.Steps > 0 {
		s += T(msgDescribeRun, Thousands(int64(c.Steps)))
	}
	return s
}

func (p *CheckpointsPanel) renderStorage() app.UI {
	st := p.View.Storage
	if !p.View.StorageKnown {
		return app.Span().ID(CkptStorageID).Class("muted", "storage").Text("")
	}
	text := T(msgStorage, Bytes(st.Usage), Bytes(st.Quota))
	if st.Persistent {
		text += T(msgStoragePersistent)
	} else {
		text += T(msgStoragePressure)
	}
	return app.Span().ID(CkptStorageID).Class("muted", "storage").DataSet("usage", st.Usage).
		DataSet("quota", st.Quota).DataSet("persistent", st.Persistent).
		Title(T(msgStorageTitle)).Text(text)
}
