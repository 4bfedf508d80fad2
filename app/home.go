package app

import (
	"cifar10/wasm"
	"cifar10/wasm/coord"
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// ClientReadyID is the id of an element that only the browser renders, once app.wasm runs.
// The server prerenders Home without it, so browser tests wait for it to tell a page that is
// merely displayed from one that is running.
const ClientReadyID = "client-ready"

// WorkerScript is the Web Worker's bootstrap (assets/worker.js), which runs web/worker.wasm.
const WorkerScript = "/assets/worker.js"

// SaverScript is the checkpoint saver's worker (assets/saver.js): the training workers store
// their checkpoint files in IndexedDB through it, off their own threads.
const SaverScript = "/assets/saver.js"

// Home is the page. It owns the Store and the training worker: worker reports and the panels'
// actions both become Store changes on the UI goroutine, and each panel gets, as fields, only
// the part of the Store it draws (go-app re-renders a panel when those fields change).
type Home struct {
	app.Compo
	store    *Store
	port     *wasm.Port         // the leading worker's (workers.go)
	group    *coord.Group       // the training workers (workers.go)
	running  bool               // set in the browser once mounted
	isolated bool               // window.crossOriginIsolated
	ckdb     *wasm.CheckpointDB // the checkpoints kept in IndexedDB; nil until opened
	// insideTimer is set while the next look inside the network is scheduled (inside_home.go).
	insideTimer bool
}

// OnInit gives the server's prerendering a default store.
func (h *Home) OnInit() {
	h.store = NewStore(protocol.DefaultSettings(), false, nil)
}

// OnMount runs in the browser once the component is in the DOM (go-app also mounts while
// prerendering on the server, hence the IsClient check): it reads the settings from the
// address, starts the worker and listens to it and to the panels.
func (h *Home) OnMount(ctx app.Context) {
	if !app.IsClient {
		return
	}
	h.running = true
	query := app.Window().URL().Query()
	l, badLang := ChooseLang(query.Get(QueryLang), browserLanguages())
	SetLang(l)
	app.Window().Get("document").Get("documentElement").Set("lang", htmlLang[l])
	features := detectFeatures()
	h.isolated = features.Isolated
	h.store = NewStore(ParseQuery(query))
	h.store.Build.Page = protocol.Build
	if badLang {
		h.store.notify(whereSettings, T(msgBadLang, query.Get(QueryLang)))
	}
	for _, p := range features.Problems() {
		h.store.notify(whereBrowser, p)
	}
	probeOffline(func(cache string) {
		ctx.Dispatch(func(ctx app.Context) {
			h.store.Build.Offline, h.store.Build.Checked = cache != "", true
		})
	})
	for name, f := range map[string]app.ActionHandler{
		actionSettings: h.onSettings, actionStart: h.onStart, actionPause: h.onCommand(protocol.Pause{}),
		actionResume: h.onCommand(protocol.Resume{}), actionStop: h.onCommand(protocol.Stop{}),
		actionEval: h.onCommand(protocol.Eval{}), actionReload: h.onReload, actionDismiss: h.onDismiss,
		actionLang: h.onLang,
	} {
		ctx.Handle(name, f)
	}
	for name, f := range h.checkpointHandlers() {
		ctx.Handle(name, f)
	}
	for name, f := range h.predictHandlers() {
		ctx.Handle(name, f)
	}
	for name, f := range h.insideHandlers() {
		ctx.Handle(name, f)
	}
	h.openCheckpoints(ctx)
	if !features.CanTrain() {
		h.store.Worker.Failed = true
		return
	}
	h.startGroup(ctx)
}

// browserLanguages are navigator.languages, the browser's languages in order of preference.
func browserLanguages() []string {
	v := app.Window().Get("navigator").Get("languages")
	var out []string
	for i := 0; v.Truthy() && i < v.Length(); i++ {
		out = append(out, v.Index(i).String())
	}
	return out
}

// pageQuery is the page's address query: the run's settings and the language.
func (h *Home) pageQuery() string {
	q := Query(h.store.Settings)
	q.Set(QueryLang, string(CurrentLang()))
	return q.Encode()
}

// onLang switches the language by loading the page again in it (settings, dataset and
// checkpoints are kept: they are in the address and the browser); never during a run.
func (h *Home) onLang(ctx app.Context, a app.Action) {
	l, ok := a.Value.(Lang)
	if !ok || h.store.Run.Active() || l == CurrentLang() {
		return
	}
	SetLang(l)
	app.Window().Get("location").Call("replace", "?"+h.pageQuery())
}

// OnDismount stops the workers.
func (h *Home) OnDismount() {
	if h.group != nil {
		h.group.Close()
	}
	h.port = nil
}

// receive applies a worker report and sends what it calls for.
func (h *Home) receive(in wasm.Inbound) {
	if reply := h.store.Apply(in); reply != nil {
		h.send(*reply)
	}
}

func (h *Home) send(m protocol.Message) {
	if err := h.dispatch(m); err != nil {
		h.store.notify(protocol.WhereProtocol, err.Error())
	}
}

// settingsChange is the value of actionSettings.
type settingsChange struct {
	Settings protocol.Settings
	LRChosen bool // the learning rate field itself changed
}

func (h *Home) onSettings(ctx app.Context, a app.Action) {
	c, ok := a.Value.(settingsChange)
	if !ok || h.store.Run.Active() {
		return
	}
	h.store.SetSettings(c.Settings, c.LRChosen)
	h.resizeGroup()
	app.Window().Get("history").Call("replaceState", nil, "", "?"+h.pageQuery())
	ctx.Update()
}

func (h *Home) onStart(ctx app.Context, a app.Action) {
	if ok, _ := h.store.CanStart(); !ok {
		return
	}
	h.send(h.store.StartRun())
	ctx.Update()
}

func (h *Home) onCommand(cmd protocol.Payload) app.ActionHandler {
	return func(ctx app.Context, a app.Action) {
		if cmd.Kind() == protocol.KindEval && !h.store.CanEval() {
			return
		}
		h.send(h.store.Command(cmd))
		ctx.Update()
	}
}

func (h *Home) onReload(ctx app.Context, a app.Action) {
	if h.store.Run.Phase == protocol.PhaseRunning || !h.store.Worker.Ready {
		return
	}
	h.store.Dataset = DatasetView{Phase: DatasetLoading}
	h.send(protocol.Message{Payload: protocol.Load{Reload: true}})
	ctx.Update()
}

func (h *Home) onDismiss(ctx app.Context, a app.Action) {
	if i, ok := a.Value.(int); ok {
		h.store.Dismiss(i)
		ctx.Update()
	}
}

// Render lays out the panels: data and model on the side, controls, live view and evaluation
// in the main column.
func (h *Home) Render() app.UI {
	s := h.store
	canStart, why := s.CanStart()
	preset, _ := s.Preset(s.Settings.Preset)
	if s.Run.Active() {
		preset, _ = s.Preset(s.Run.Settings.Preset)
	}
	testImages, classify := h.predictPanels()
	var presets []string
	for _, p := range s.Worker.Presets {
		presets = append(presets, p.Name)
	}
	return app.Div().Class("page").Body(
		app.Header().Class("top").Body(
			app.H1().Text(T(msgTitle)),
			app.P().Class("sub").Text(T(msgSubtitle)),
			h.renderLang(),
			h.renderStatus(),
			h.renderBuild(),
		),
		&Notices{Items: s.Messages},
		app.Div().Class("grid").Body(
			app.Div().Class("side").Body(
				&DatasetPanel{View: s.Dataset, CanReload: s.Worker.Ready && s.Run.Phase != protocol.PhaseRunning && s.Dataset.Phase != DatasetLoading},
				&ModelPanel{Preset: preset, Ready: s.Worker.Ready},
			),
			app.Div().Class("main").Body(
				&Controls{Settings: s.Settings, Presets: presets, Phase: s.Run.Phase, CanStart: canStart, Why: why},
				&StatusPanel{Run: s.Run},
				app.Div().Class("charts").Body(
					&LossChart{Losses: s.Losses, First: s.LossStart, Steps: s.Run.Settings.Steps},
					h.precisionChart(),
				),
				&LogPanel{Lines: s.Log, Dropped: s.LogDropped},
				&EvalPanel{Eval: s.Eval, CanEval: s.CanEval(), ClassNames: s.Dataset.Info.ClassNames, RunStep: s.Run.Step,
					Training: s.Run.Phase == protocol.PhaseRunning},
				testImages, classify,
				h.insidePanel(),
				h.checkpointsPanel(),
			),
		),
	)
}

// insidePanel is the views inside the network with their part of the store.
func (h *Home) insidePanel() app.UI {
	s := h.store
	can, why := s.CanPredict()
	return &InsidePanel{View: s.Inside, ClassNames: s.Dataset.Info.ClassNames, CanPredict: can, Why: why,
		Training: s.Run.Phase == protocol.PhaseRunning}
}

// precisionChart is precision over time for the current run (or the controls' settings
// before the first).
func (h *Home) precisionChart() app.UI {
	s := h.store
	set := s.Run.Settings
	if s.Run.Phase == "" {
		set = s.Settings
	}
	_, ok := s.Checkpoints.Latest()
	return &PrecisionChart{View: s.Inside, Steps: set.Steps, First: s.LossStart, Images: set.EvalImages, Every: set.EvalEvery,
		CanEval: ok && s.Worker.Ready && s.Dataset.Phase == DatasetReady && set.EvalImages > 0}
}

// renderStatus is the client marker with the worker's status.
func (h *Home) renderStatus() app.UI {
	if !h.running {
		return app.P().Class("worker loading").Text(T(msgStartingApp))
	}
	w := h.store.Worker
	text := T(msgStartingWorker)
	switch {
	case w.Failed:
		text = T(msgWorkerFailed)
	case w.Ready:
		text = T(msgWorkerReady, groupText(h.store.Group), w.Kernel)
	}
	text = T(msgTwoSentences, text, T(choose(h.isolated, msgIsolated, msgNotIsolatedShort)))
	return app.P().ID(ClientReadyID).Class("worker").DataSet("isolated", h.isolated).Body(
		app.Span().ID(WorkerStatusID).DataSet("ready", w.Ready).DataSet("failed", w.Failed).
			DataSet("kernel", w.Kernel).DataSet("workers", h.store.Group.Size).
			DataSet("workers-ready", h.store.Group.Ready).DataSet("run-workers", h.store.Group.Run).Text(text),
	)
}

// renderBuild says which build runs and whether offline.
func (h *Home) renderBuild() app.UI {
	b := h.store.Build
	if !h.running {
		return app.P().Class("muted", "build")
	}
	text := T(msgBuildOnline, b.Page)
	if b.Offline {
		text = T(msgBuildOffline, b.Page)
	}
	return app.P().ID(BuildID).Class("muted", "build").DataSet("build", b.Page).DataSet("worker-build", h.store.Worker.Build).
		DataSet("offline", b.Offline).DataSet("checked", b.Checked).Text(text)
}

// renderLang is the language switch (a reload in the other language; not during a run).
func (h *Home) renderLang() app.UI {
	cur := CurrentLang()
	return app.Label().Class("lang").Body(
		app.Span().Text(T(msgLanguage)),
		app.Select().ID(LangSwitchID).Disabled(h.store.Run.Active()).
			OnChange(func(ctx app.Context, e app.Event) {
				ctx.NewActionWithValue(actionLang, Lang(ctx.JSSrc().Get("value").String()))
			}).Body(
			app.Range(Langs).Slice(func(i int) app.UI {
				return app.Option().Value(string(Langs[i])).Selected(Langs[i] == cur).Text(langNames[Langs[i]])
			}),
		),
	)
}

// htmlLang is each language's tag for <html lang>, which screen readers and fonts follow.
var htmlLang = map[Lang]string{English: "en", Chinese: "zh-CN"}

// langNames are the languages as their readers write them, the same in every catalogue.
var langNames = map[Lang]string{English: "English", Chinese: "中文"}

// fileButton is the visible button of a file input, in the page's language: the browser's own
// ("Choose File", "No file chosen") speaks the browser's language, so the input itself is
// hidden but stays focusable, and its label opens it (assets/app.css, .upload).
func fileButton() app.UI {
	return app.Span().Class("file-button").Aria("hidden", "true").Text(T(msgChooseFile))
}

// Notices lists messages for the user, each with a dismiss button.
type Notices struct {
	app.Compo
	Items []Notice
}

// Render draws the list (nothing when empty).
func (n *Notices) Render() app.UI {
	return app.Div().ID(NoticesID).Class("notices").Body(
		app.Range(n.Items).Slice(func(i int) app.UI {
			it := n.Items[i]
			return app.Div().Class("notice", "notice-"+string(it.Where)).DataSet("where", string(it.Where)).Body(
				app.Span().Class("notice-text").Text(Sentence(it.Text)),
				app.Button().Class("notice-dismiss").Title(T(msgDismiss)).Aria("label", T(msgDismiss)).Text("×").
					OnClick(func(ctx app.Context, e app.Event) { ctx.NewActionWithValue(actionDismiss, i) }),
			)
		}),
	)
}
