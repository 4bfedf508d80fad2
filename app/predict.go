package app

import (
	"slices"
	"strconv"

	"cifar10/nn/cifar"
	"cifar10/wasm"
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The evaluation view's predictions: a grid of test images with their true and predicted
// labels (after each evaluation, or on demand), and "classify my own image", the article's
// last step. The leader worker predicts (wasm/protocol/predict.go); the page draws.

// TestImagesPage is how many test images the grid shows at a time.
const TestImagesPage = 24

// PredictView is the predictions' part of the Store.
type PredictView struct {
	// Tiles are the test images shown, with Page the answer they came in (nil before any).
	Tiles []Tile
	Page  *protocol.TestImages
	// Mistakes shows only misclassified test images.
	Mistakes bool
	// Filter keeps the test images of one true and/or predicted class.
	Filter protocol.Filter
	// Back holds the starts of the pages shown before the current one, for Previous.
	Back    []int
	Loading bool
	// Classify is one's own picture and its classification.
	Classify ClassifyView
}

// Tile is one test image of the grid.
type Tile struct {
	protocol.TestImage
	Src string // PNG data: URL
}

// ClassifyView is one's own picture and what the model says of it.
type ClassifyView struct {
	Name    string
	Src     string // the 32x32 record the model sees, as a PNG data: URL
	Busy    bool   // sent, not answered yet
	Result  *protocol.Classified
	Problem string // why the last file chosen was not classified ("" when it was)
}

// Mistaken counts the tiles whose prediction is wrong.
func (v PredictView) Mistaken() int {
	n := 0
	for _, t := range v.Tiles {
		if t.Label != t.Pred {
			n++
		}
	}
	return n
}

// CanPredict reports whether there are weights to predict with, and if not, why.
func (s *Store) CanPredict() (bool, string) {
	switch {
	case s.Worker.Failed:
		return false, T(msgWhyWorkerStopped)
	case !s.Worker.Ready || s.Dataset.Phase != DatasetReady:
		return false, T(msgWhyDatasetLoading)
	case s.Run.ID == 0 || s.Run.Phase == "":
		return false, T(msgWhyNoWeights)
	case s.Checkpoints.Pending != nil:
		return false, T(msgWhyRestoring)
	}
	return true, ""
}

// RequestTestImages asks for a page of test images from start, remembering the current page
// for Previous when forward is true.
func (s *Store) RequestTestImages(start int, mistakes, forward bool) protocol.Message {
	p := &s.Predict
	if mistakes != p.Mistakes {
		p.Back = nil
	} else if forward && p.Page != nil {
		p.Back = append(p.Back, p.Page.Start)
	}
	p.Mistakes, p.Loading = mistakes, true
	return protocol.Message{Run: s.Run.ID,
		Payload: protocol.TestImagesRequest{Start: start, Count: TestImagesPage, Mistakes: mistakes, Filter: p.Filter}}
}

// FilterTestImages shows the first page of test images passing f.
func (s *Store) FilterTestImages(f protocol.Filter) protocol.Message {
	s.Predict.Filter, s.Predict.Back = f, nil
	return s.RequestTestImages(0, s.Predict.Mistakes, false)
}

// PreviousTestImages goes back one page, if there is one.
func (s *Store) PreviousTestImages() (protocol.Message, bool) {
	p := &s.Predict
	if len(p.Back) == 0 {
		return protocol.Message{}, false
	}
	start := p.Back[len(p.Back)-1]
	p.Back = p.Back[:len(p.Back)-1]
	return s.RequestTestImages(start, p.Mistakes, false), true
}

// afterEval shows the test images of the weights just evaluated: the same page again, or
// the first.
func (s *Store) afterEval() *protocol.Message {
	if ok, _ := s.CanPredict(); !ok {
		return nil
	}
	start := 0
	if p := s.Predict.Page; p != nil {
		start = p.Start
	}
	m := s.RequestTestImages(start, s.Predict.Mistakes, false)
	return &m
}

// testImages shows a page of test images; files[0] holds their pixels.
func (s *Store) testImages(t protocol.TestImages, files [][]byte) {
	p := &s.Predict
	p.Loading = false
	if t.Mistakes != p.Mistakes || !t.Filter.Same(p.Filter) {
		return // an answer to a request made before the toggle or the filter changed
	}
	var pixels []byte
	if len(files) == 1 {
		pixels = files[0]
	}
	p.Tiles = make([]Tile, 0, len(t.Images)) // a new slice: go-app compares the panel's fields
	for i, im := range t.Images {
		tile := Tile{TestImage: im}
		if (i+1)*cifar.ImageBytes <= len(pixels) {
			tile.Src = RecordPNG(pixels[i*cifar.ImageBytes : (i+1)*cifar.ImageBytes])
		}
		p.Tiles = append(p.Tiles, tile)
	}
	t.Images = nil // kept in Tiles
	p.Page = &t
}

// SetPicture records one's own picture before it goes to the worker, or why it cannot.
func (s *Store) SetPicture(name string, record []byte, err error) {
	c := &s.Predict.Classify
	if err != nil {
		c.Problem = Sentence(err.Error()) + "."
		return
	}
	*c = ClassifyView{Name: name, Src: RecordPNG(record), Busy: true}
}

// ClassifyPicture is the message sending one's own picture (a 32x32 record) to the worker.
func (s *Store) ClassifyPicture(name string, record []byte) protocol.Message {
	return protocol.Message{Run: s.Run.ID, Payload: protocol.ClassifyRequest{Name: name},
		Files: []protocol.FileRef{{Name: name, Size: len(record)}}}
}

// classified shows the worker's answer for one's own picture.
func (s *Store) classified(c protocol.Classified) {
	v := &s.Predict.Classify
	if c.Name != v.Name {
		return // the answer for a picture chosen before the current one
	}
	v.Busy, v.Result = false, &c
}

// resetPredictions drops what was predicted with weights that are no longer the run's.
func (s *Store) resetPredictions() {
	s.Predict = PredictView{Mistakes: s.Predict.Mistakes, Filter: s.Predict.Filter}
}

// Ranked is a classification's classes from the most to the least probable.
func Ranked(probs []float32) []int {
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return 0
	})
	return order
}

// className is class k's name in the page's language, or its number when the dataset has no
// name for it.
func className(names []string, k int) string {
	if k >= 0 && k < len(names) {
		return translateClass(names[k])
	}
	return strconv.Itoa(k)
}

// TestImagesPanel shows test images with their true and predicted labels, a page at a time,
// optionally only the mistakes.
type TestImagesPanel struct {
	app.Compo
	View       PredictView
	ClassNames []string
	CanPredict bool
	Why        string
}

// Render draws the controls and the grid.
func (p *TestImagesPanel) Render() app.UI {
	v := p.View
	page := v.Page
	hasNext := page != nil && page.Next < page.Total
	return app.Section().Class("panel", "test-images-panel").Body(
		app.Div().Class("ti-head").Body(
			app.H2().Text(T(msgTestImages)),
			app.Button().ID(TestImagesShowID).Class("small").Disabled(!p.CanPredict).
				Title(choose(p.CanPredict, T(msgPredictTitle), Sentence(p.Why))).
				Text(choose(page == nil, T(msgShowTestImages), T(msgRefresh))).OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionTestShow) }),
			app.Button().ID(TestImagesPrevID).Class("small").Disabled(!p.CanPredict || len(v.Back) == 0).
				Text(T(msgPrevious)).OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionTestPrev) }),
			app.Button().ID(TestImagesNextID).Class("small").Disabled(!p.CanPredict || !hasNext).
				Text(T(msgNext)).OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionTestNext) }),
			app.Label().Class("ti-toggle").Body(
				app.Input().ID(TestImagesMistakesID).Type("checkbox").Checked(v.Mistakes).Disabled(!p.CanPredict).
					OnChange(func(ctx app.Context, e app.Event) {
						ctx.NewActionWithValue(actionTestMistakes, ctx.JSSrc().Get("checked").Bool())
					}),
				app.Text(" "+T(msgMistakesOnly)),
			),
			p.classSelect(TestImagesLabelID, T(msgTiTrueClass), v.Filter.Label, func(k *int) protocol.Filter { return protocol.Filter{Label: k, Pred: v.Filter.Pred} }),
			p.classSelect(TestImagesPredID, T(msgTiPredicted), v.Filter.Pred, func(k *int) protocol.Filter { return protocol.Filter{Label: v.Filter.Label, Pred: k} }),
			app.If(v.Loading, func() app.UI { return app.Span().Class("muted").Text(T(msgPredicting)) }),
		),
		p.renderGrid(),
	)
}

// classSelect is a class filter: any class, or one of the dataset's.
func (p *TestImagesPanel) classSelect(id, label string, chosen *int, with func(*int) protocol.Filter) app.UI {
	names := p.ClassNames
	return app.Label().Class("ti-toggle").Body(
		app.Text(label+" "),
		app.Select().ID(id).Disabled(!p.CanPredict).OnChange(func(ctx app.Context, e app.Event) {
			var k *int
			if n, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil {
				k = &n
			}
			ctx.NewActionWithValue(actionTestFilter, with(k))
		}, app.EventScope(filterScope(p.View.Filter))).Body(
			app.Option().Value("").Selected(chosen == nil).Text(T(msgTiAnyClass)),
			app.Range(names).Slice(func(i int) app.UI {
				return app.Option().Value(strconv.Itoa(i)).Selected(chosen != nil && *chosen == i).Text(className(names, i))
			}),
		),
	)
}

// filterScope tells go-app that a filter's handlers changed with the filter (it keeps an
// event handler whose scope is unchanged, with the values it captured).
func filterScope(f protocol.Filter) string {
	k := func(c *int) string {
		if c == nil {
			return "*"
		}
		return strconv.Itoa(*c)
	}
	return k(f.Label) + "/" + k(f.Pred)
}

func (p *TestImagesPanel) renderGrid() app.UI {
	v := p.View
	page := v.Page
	if page == nil {
		text := T(msgTiHint)
		if !p.CanPredict {
			text = T(msgTiNoWeights, p.Why)
		}
		return app.P().ID(TestImagesID).Class("muted").DataSet("count", 0).Text(text)
	}
	wrong := v.Mistaken()
	summary := T(msgTiSummary,
		Thousands(int64(page.Start+1)), Thousands(int64(page.Next)), Thousands(int64(page.Total)), Thousands(int64(page.Step)), wrong, len(v.Tiles))
	if page.Mistakes {
		summary = T(msgTiSummaryMistakes,
			Thousands(int64(page.Start+1)), Thousands(int64(page.Next)), Thousands(int64(page.Total)), Thousands(int64(page.Step)), len(v.Tiles))
	}
	if !page.Any() {
		summary += T(msgTiOnlyChosen)
	}
	if len(v.Tiles) == 0 {
		none := choose(page.Mistakes, msgTiNoneLeftMistakes, msgTiNoneLeft)
		if !page.Any() {
			none = choose(page.Mistakes, msgTiNoneLeftMistakesChosen, msgTiNoneLeftChosen)
		}
		summary = T(none)
	}
	return app.Div().ID(TestImagesID).DataSet("count", len(v.Tiles)).DataSet("mistakes", wrong).
		DataSet("start", page.Start).DataSet("next", page.Next).DataSet("step", page.Step).Body(
		app.P().Class("muted", "ti-summary").Text(summary),
		app.P().Class("muted").Text(T(msgTiClickHint)),
		app.Div().Class("ti-grid").Body(app.Range(v.Tiles).Slice(func(i int) app.UI { return p.renderTile(v.Tiles[i]) })),
	)
}

func (p *TestImagesPanel) renderTile(t Tile) app.UI {
	right := t.Label == t.Pred
	label, pred := className(p.ClassNames, t.Label), className(p.ClassNames, t.Pred)
	return app.Figure().Class("ti-tile", choose(right, "right", "mistake")).
		DataSet("index", t.Index).DataSet("label", t.Label).DataSet("pred", t.Pred).
		Title(T(msgTiTileTitle, t.Index, label, pred, Decimal(100*float64(t.Prob), 0))).
		OnClick(func(ctx app.Context, e app.Event) { ctx.NewActionWithValue(actionLookAt, t.Index) }, app.EventScope(t.Index)).Body(
		app.Img().Src(t.Src).Alt(T(msgTiTileAlt, t.Index, label)).Width(64).Height(64),
		app.FigCaption().Body(
			app.Div().Class("ti-true").Text(label),
			app.Div().Class("ti-pred").Text(choose(right, "✓ ", "✗ ")+pred),
			top3(p.ClassNames, t.Top),
		),
	)
}

// top3 lists the three most probable classes with their probabilities, the first the
// prediction.
func top3(names []string, top []protocol.ClassProb) app.UI {
	return app.Ol().Class("top3").Body(app.Range(top).Slice(func(i int) app.UI {
		c := top[i]
		return app.Li().Class("top3-row").DataSet("class", c.Class).
			DataSet("prob", strconv.FormatFloat(float64(c.Prob), 'g', -1, 32)).
			Text(T(msgTop3Row, Decimal(100*float64(c.Prob), 0), className(names, c.Class)))
	}))
}

// ClassifyPanel takes a PNG or JPEG picture from disk and shows the classes the model gives
// it, from the most probable (the article's last step: the trained net as a recognition
// function).
type ClassifyPanel struct {
	app.Compo
	View       ClassifyView
	ClassNames []string
	CanPredict bool
	Why        string

	drop []app.Func // the drop zone's listeners
}

// OnMount listens for pictures dropped on the drop zone. The listeners are the browser's own,
// not go-app's, whose handlers run after the event has been dispatched, too late to cancel
// the browser's opening of the dropped file.
func (p *ClassifyPanel) OnMount(ctx app.Context) {
	ctx.Defer(func(ctx app.Context) {
		zone := app.Window().GetElementByID(ClassifyDropID)
		if !zone.Truthy() || p.drop != nil {
			return
		}
		mark := func(on bool) app.Func {
			return app.FuncOf(func(this app.Value, args []app.Value) any {
				args[0].Call("preventDefault")
				zone.Get("classList").Call("toggle", "dragging", on && p.CanPredict)
				return nil
			})
		}
		drop := app.FuncOf(func(this app.Value, args []app.Value) any {
			args[0].Call("preventDefault")
			zone.Get("classList").Call("remove", "dragging")
			files := args[0].Get("dataTransfer").Get("files")
			if p.CanPredict && files.Truthy() && files.Length() > 0 {
				app.Window().GetElementByID(ClassifyUploadID).Set("files", files)
				ctx.NewAction(actionClassify)
			}
			return nil
		})
		p.drop = []app.Func{mark(true), mark(false), drop}
		for i, ev := range []string{"dragover", "dragleave", "drop"} {
			zone.Call("addEventListener", ev, p.drop[i])
		}
	})
}

// Render draws the file input, the picture as the model sees it and the ranked classes.
func (p *ClassifyPanel) Render() app.UI {
	v := p.View
	return app.Section().Class("panel", "classify").Body(
		app.H2().Text(T(msgClassify)),
		app.Div().ID(ClassifyDropID).Class("drop").Body(
			app.Label().Class("upload").Title(T(msgClassifyTitle)).Body(
				app.Span().Text(T(msgClassifyChoose)),
				app.Input().ID(ClassifyUploadID).Type("file").Accept("image/png,image/jpeg,.png,.jpg,.jpeg").
					Disabled(!p.CanPredict).
					OnChange(func(ctx app.Context, e app.Event) { ctx.NewAction(actionClassify) }),
				fileButton(),
			),
			app.P().Class("muted", "shrink-note").Text(T(msgShrinkNote)),
		),
		app.If(!p.CanPredict, func() app.UI { return app.P().Class("muted").Text(endSentence(p.Why)) }),
		app.If(v.Problem != "", func() app.UI { return app.P().ID(ClassifyErrorID).Class("error").Text(v.Problem) }),
		app.If(v.Src != "", func() app.UI { return p.renderResult() }),
	)
}

func (p *ClassifyPanel) renderResult() app.UI {
	v := p.View
	body := []app.UI{app.Img().Class("classify-img").Src(v.Src).Alt(T(msgClassifyAlt)).Width(96).Height(96)}
	if v.Busy || v.Result == nil {
		body = append(body, app.Span().Class("muted").Text(T(msgClassifying, v.Name)))
		return app.Div().Class("classify-out").Body(body...)
	}
	r := v.Result
	order := Ranked(r.Probs)
	top := order[0]
	best := make([]protocol.ClassProb, 0, protocol.TopClasses)
	for _, k := range order[:min(protocol.TopClasses, len(order))] {
		best = append(best, protocol.ClassProb{Class: k, Prob: r.Probs[k]})
	}
	body = append(body, app.Div().Body(
		app.P().Body(app.Text(v.Name+": "), app.Strong().Text(className(p.ClassNames, top)),
			app.Span().Class("muted").Text(T(msgClassifyTop, Decimal(100*float64(r.Probs[top]), 1), Thousands(int64(r.Step))))),
		top3(p.ClassNames, best),
		app.Table().ID(ClassifyResultID).Class("classes", "classify-table").DataSet("class", top).
			DataSet("name", className(p.ClassNames, top)).DataSet("step", r.Step).Body(
			app.THead().Body(app.Tr().Body(app.Th().Text(T(msgColClass)), app.Th().Class("num").Text(T(msgColProbability)), app.Th().Class("bar-cell").Text(""))),
			app.TBody().Body(app.Range(order).Slice(func(i int) app.UI {
				k := order[i]
				return app.Tr().Class("classify-row").DataSet("class", k).
					DataSet("prob", strconv.FormatFloat(float64(r.Probs[k]), 'g', -1, 32)).Body(
					app.Td().Text(className(p.ClassNames, k)),
					app.Td().Class("num").Text(Decimal(100*float64(r.Probs[k]), 1)+"%"),
					app.Td().Class("bar-cell").Body(app.Div().Class("bar").Style("width", "%.1f%%", 100*r.Probs[k])),
				)
			})),
		),
	))
	return app.Div().Class("classify-out").Body(body...)
}

// Home's side: the panels' actions.

// predictHandlers are the prediction panels' actions.
func (h *Home) predictHandlers() map[string]app.ActionHandler {
	return map[string]app.ActionHandler{
		actionTestShow: h.onTestImages(func() (protocol.Message, bool) {
			start := 0
			if p := h.store.Predict.Page; p != nil {
				start = p.Start
			}
			return h.store.RequestTestImages(start, h.store.Predict.Mistakes, false), true
		}),
		actionTestNext: h.onTestImages(func() (protocol.Message, bool) {
			p := h.store.Predict.Page
			if p == nil || p.Next >= p.Total {
				return protocol.Message{}, false
			}
			return h.store.RequestTestImages(p.Next, h.store.Predict.Mistakes, true), true
		}),
		actionTestPrev:     h.onTestImages(func() (protocol.Message, bool) { return h.store.PreviousTestImages() }),
		actionTestMistakes: h.onMistakes,
		actionTestFilter: func(ctx app.Context, a app.Action) {
			f, ok := a.Value.(protocol.Filter)
			if can, _ := h.store.CanPredict(); !ok || !can {
				return
			}
			h.send(h.store.FilterTestImages(f))
			ctx.Update()
		},
		actionClassify: h.onClassify,
	}
}

// onTestImages sends the request next makes, when there are weights.
func (h *Home) onTestImages(next func() (protocol.Message, bool)) app.ActionHandler {
	return func(ctx app.Context, a app.Action) {
		if ok, _ := h.store.CanPredict(); !ok {
			return
		}
		if m, ok := next(); ok {
			h.send(m)
			ctx.Update()
		}
	}
}

func (h *Home) onMistakes(ctx app.Context, a app.Action) {
	on, _ := a.Value.(bool)
	if ok, _ := h.store.CanPredict(); !ok {
		return
	}
	h.send(h.store.RequestTestImages(0, on, false))
	ctx.Update()
}

// onClassify reads the chosen picture, makes it 32x32 in the page and sends it to the worker;
// a file that is not a picture is refused here in one sentence, changing nothing else.
func (h *Home) onClassify(ctx app.Context, a app.Action) {
	if ok, _ := h.store.CanPredict(); !ok || h.port == nil {
		return
	}
	ctx.Async(func() {
		name, data, err := wasm.ReadInputFile(ClassifyUploadID, MaxPictureBytes)
		var record []byte
		if err == nil {
			record, err = PictureRecord(name, data)
		}
		ctx.Dispatch(func(ctx app.Context) {
			h.store.SetPicture(name, record, err)
			if err == nil {
				if err := h.port.Send(h.store.ClassifyPicture(name, record), record); err != nil {
					h.store.Predict.Classify.Busy = false
					h.store.notify(protocol.WherePredict, err.Error())
				}
				h.store.LookAtPicture(name, record)
				h.inspect()
			}
		})
	})
}

// predictPanels are the two panels with their part of the store.
func (h *Home) predictPanels() (testImages, classify app.UI) {
	s := h.store
	can, why := s.CanPredict()
	names := s.Dataset.Info.ClassNames
	return &TestImagesPanel{View: s.Predict, ClassNames: names, CanPredict: can, Why: why},
		&ClassifyPanel{View: s.Predict.Classify, ClassNames: names, CanPredict: can, Why: why}
}
