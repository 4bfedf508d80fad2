package app

import (
	"fmt"
	"slices"
	"strconv"

	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// InsidePanel shows the network from inside: the first convolution's filters and, for one
// image, the image as the network sees it, every layer's maps and the class probabilities.
// Hovering a tile names its layer and channel (its title); clicking or tapping it names it
// under the layer too.
type InsidePanel struct {
	app.Compo
	View       InsideView
	ClassNames []string
	CanPredict bool
	Why        string
	Training   bool

	pointed string // the tile last clicked or tapped
}

// tileSide is the side at which a map tile is shown, in CSS pixels, and filterSide a filter's.
const (
	tileSide   = 36
	filterSide = 30
)

// Render draws the toggle and, when open, the two views.
func (p *InsidePanel) Render() app.UI {
	v := p.View
	return app.Section().Class("panel", "inside").Body(
		app.Div().Class("ti-head").Body(
			app.H2().Text(T(msgInsideTitle)),
			app.Button().ID(InsideToggleID).Class("small").Disabled(!p.CanPredict && !v.Open).
				Text(T(choose(v.Open, msgInsideHide, msgInsideShow))).
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewActionWithValue(actionInsideToggle, !v.Open) }, app.EventScope(v.Open)),
			app.If(v.Open && p.Training, func() app.UI {
				return app.Span().Class("muted").Text(T(msgInsideLive))
			}),
		),
		app.If(!v.Open, func() app.UI {
			return app.P().Class("muted").Text(T(msgInsideHint))
		}),
		app.If(v.Open && !p.CanPredict, func() app.UI { return app.P().Class("muted").Text(endSentence(p.Why)) }),
		app.If(v.Open, func() app.UI { return p.renderFilters() }),
		app.If(v.Open, func() app.UI { return p.renderActs() }),
	)
}

func (p *InsidePanel) renderFilters() app.UI {
	f := p.View.Filters
	if f == nil {
		return app.Div().ID(FiltersID).DataSet("count", 0).Class("muted").Text(T(msgFiltersWaiting))
	}
	return app.Div().ID(FiltersID).Class("inside-block").DataSet("layer", f.Layer).DataSet("count", f.Shape[0]).
		DataSet("step", f.Step).DataSet("digest", f.Digest).Body(
		app.H3().Text(T(msgFiltersHead, f.Layer, Thousands(int64(f.Step)), f.Shape[0], f.Shape[1], f.Shape[2])),
		app.P().Class("muted", "scale-note").Text(T(msgFiltersScale)),
		p.sheet(f.Src, f.Sheet, filterSide, "filter-tile", func(i int) string { return T(msgFilterTile, f.Layer, i) }),
	)
}

func (p *InsidePanel) renderActs() app.UI {
	a := p.View.Acts
	if a == nil {
		return app.Div().ID(ActivationsID).DataSet("image", p.View.Image).Class("muted").Text(T(msgActsWaiting))
	}
	what := T(msgActsYourPicture, a.Name)
	if a.Image != protocol.NoImage {
		what = T(msgActsTestImage, a.Image, className(p.ClassNames, a.Label))
	}
	return app.Div().ID(ActivationsID).Class("inside-block").DataSet("image", a.Image).DataSet("step", a.Step).
		DataSet("label", a.Label).DataSet("layers", len(a.Layers)).Body(
		app.H3().Text(T(msgActsHead, what, Thousands(int64(a.Step)))),
		app.P().Class("muted", "scale-note").Text(T(msgActsScale)),
		app.If(p.pointed != "", func() app.UI { return app.P().Class("act-pointed").Text(p.pointed) }),
		app.Div().Class("act-layer", "act-input").DataSet("layer", "input").DataSet("channels", a.InputShape[2]).DataSet("digest", a.InputDigest).Body(
			app.Div().Class("act-name").Text(T(msgActsInput, a.InputShape[0], a.InputShape[1], a.InputShape[2])),
			app.Img().Src(a.Input).Width(4*a.InputShape[1]).Height(4*a.InputShape[0]).Alt(T(msgActsInputAlt)),
		),
		app.Range(a.Layers).Slice(func(i int) app.UI { return p.renderLayer(a.Layers[i]) }),
		p.renderProbs(a),
	)
}

func (p *InsidePanel) renderLayer(l LayerDrawn) app.UI {
	o := l.Output
	head := app.Div().Class("act-name").Text(T(msgActsLayer, l.Name, translated(layerKinds, l.Kind), o[0], o[1], o[2], shortFloat(l.Min), shortFloat(l.Max)))
	body := []app.UI{head}
	if l.Bars {
		w := min(3*o[2], 576)
		body = append(body, app.Img().Class("act-bars").Src(l.Src).Width(w).Height(barsHeight).Title(T(msgActsUnits, l.Name, o[2])).Alt(T(msgActsUnitsAlt, l.Name)))
	} else {
		name := l.Name
		body = append(body, p.sheet(l.Src, l.Sheet, tileSide, "act-tile", func(i int) string { return T(msgActsChannel, name, i) }))
	}
	return app.Div().Class("act-layer").DataSet("layer", l.Name).DataSet("kind", l.Kind).DataSet("channels", o[2]).
		DataSet("digest", l.Digest).DataSet("min", FullFloat(l.Min)).DataSet("max", FullFloat(l.Max)).Body(body...)
}

// sheet is a sprite sheet shown at side pixels a tile, with one transparent element per tile
// over it (class class) that names the tile when hovered or clicked.
func (p *InsidePanel) sheet(src string, s sheet, side int, class string, name func(int) string) app.UI {
	scale := float64(side) / float64(s.H)
	w, h := s.Size()
	return app.Div().Class("sheet").Style("width", fmt.Sprintf("%.0fpx", float64(w)*scale)).Style("height", fmt.Sprintf("%.0fpx", float64(h)*scale)).
		OnClick(func(ctx app.Context, e app.Event) {
			if t := e.Get("target").Get("title"); t.Truthy() {
				p.pointed = t.String()
			}
		}).Body(
		app.Img().Src(src).Style("width", fmt.Sprintf("%.0fpx", float64(w)*scale)).Style("height", fmt.Sprintf("%.0fpx", float64(h)*scale)).Alt(""),
		app.Range(make([]struct{}, s.Count)).Slice(func(i int) app.UI {
			x, y := s.origin(i)
			return app.Div().Class(class).DataSet("channel", i).Title(name(i)).
				Style("left", fmt.Sprintf("%.1fpx", float64(x)*scale)).Style("top", fmt.Sprintf("%.1fpx", float64(y)*scale)).
				Style("width", fmt.Sprintf("%.1fpx", float64(s.W)*scale)).Style("height", fmt.Sprintf("%.1fpx", float64(s.H)*scale))
		}),
	)
}

func (p *InsidePanel) renderProbs(a *ActsDrawn) app.UI {
	order := Ranked(a.Probs)
	return app.Div().Class("act-layer", "act-probs").DataSet("layer", "probabilities").DataSet("channels", len(a.Probs)).Body(
		app.Div().Class("act-name").Text(T(msgActsProbs)),
		app.Table().Class("classes").Body(app.TBody().Body(app.Range(order).Slice(func(i int) app.UI {
			k := order[i]
			return app.Tr().Class(choose(i < protocol.TopClasses, "top", "")).DataSet("class", k).
				DataSet("prob", strconv.FormatFloat(float64(a.Probs[k]), 'g', -1, 32)).Body(
				app.Td().Text(className(p.ClassNames, k)),
				app.Td().Class("num").Text(Decimal(100*float64(a.Probs[k]), 1)+"%"),
				app.Td().Class("bar-cell").Body(app.Div().Class("bar").Style("width", fmt.Sprintf("%.1f%%", 100*a.Probs[k]))),
			)
		}))),
	)
}

// shortFloat writes a value for a layer's heading.
func shortFloat(v float32) string { return strconv.FormatFloat(float64(v), 'g', 3, 32) }

// PrecisionChart draws precision over time beside the loss: the periodic evaluations of the
// run on the test slice (a line) and those of its stored checkpoints (squares), with the
// button that evaluates every checkpoint of the run.
type PrecisionChart struct {
	app.Compo
	View    InsideView
	Steps   int // the run's steps: the x axis
	First   int
	Images  int // the slice's size
	Every   int
	CanEval bool
}

// Render draws the chart.
func (c *PrecisionChart) Render() app.UI {
	v := c.View
	first, steps := c.First, c.Steps
	for _, p := range append(slices.Clone(v.Points), v.Ckpts...) {
		first, steps = min(first, p.Step), max(steps, p.Step)
	}
	span := float64(max(steps-first, 1))
	x := func(step int) float64 {
		return chartLeft + float64(step-first)/span*(chartW-chartLeft-chartRight)
	}
	y := func(p protocol.Precision) float64 {
		return chartTop + (1-float64(p.Correct)/float64(p.Total))*(chartH-chartTop-chartBottom)
	}
	var out []app.UI
	for _, t := range []float64{0, 0.25, 0.5, 0.75, 1} {
		py := chartTop + (1-t)*(chartH-chartTop-chartBottom)
		out = append(out,
			svg("line").Class("grid").Attr("x1", chartLeft).Attr("x2", chartW-chartRight).Attr("y1", py).Attr("y2", py),
			svg("text").Class("tick").Attr("x", chartLeft-6).Attr("y", py+4).Attr("text-anchor", "end").Text(fmt.Sprintf("%.2f", t)))
	}
	for _, s := range []int{first, first + (steps-first)/2, steps} {
		out = append(out, svg("text").Class("tick").Attr("x", x(s)).Attr("y", chartH-8).Attr("text-anchor", "middle").Text(Thousands(int64(s))))
	}
	points := ""
	for _, p := range v.Points {
		points += fmt.Sprintf("%.1f,%.1f ", x(p.Step), y(p))
	}
	if points != "" {
		out = append(out, svg("polyline").Class("smooth").Attr("points", points))
	}
	for _, p := range v.Points {
		out = append(out, svg("circle").Class("pt-run").Attr("cx", x(p.Step)).Attr("cy", y(p)).Attr("r", 3).
			Body(svg("title").Text(T(msgPrecisionPoint, Thousands(int64(p.Step)), Decimal(float64(p.Correct)/float64(p.Total), 4), Thousands(int64(p.Total))))))
	}
	for _, p := range v.Ckpts {
		out = append(out, svg("rect").Class("pt-ckpt").Attr("x", x(p.Step)-4).Attr("y", y(p)-4).Attr("width", 8).Attr("height", 8).
			Body(svg("title").Text(T(msgPrecisionCkptPoint, Thousands(int64(p.Step)), Decimal(float64(p.Correct)/float64(p.Total), 4), Thousands(int64(p.Total))))))
	}
	if len(v.Points)+len(v.Ckpts) == 0 {
		text := T(msgPrecisionEmpty)
		if c.Every == 0 || c.Images == 0 {
			text = T(msgPrecisionOff)
		}
		out = append(out, svg("text").Class("empty").Attr("x", chartW/2).Attr("y", chartH/2).Attr("text-anchor", "middle").Text(text))
	}
	last := ""
	if n := len(v.Points); n > 0 {
		p := v.Points[n-1]
		last = strconv.FormatFloat(float64(p.Correct)/float64(p.Total), 'f', 4, 64)
	}
	return app.Section().Class("panel", "chart").Body(
		app.Div().Class("chart-head").Body(
			app.H2().Text(T(msgPrecisionTitle)),
			app.Span().Class("legend").Body(
				app.Span().Class("key", "key-smooth").Text(T(msgPrecisionEvery, Thousands(int64(c.Every)), Thousands(int64(c.Images)))),
				app.Span().Class("key", "key-ckpt").Text(T(msgPrecisionCkpts)),
			),
			app.Button().ID(EvalCheckpointsID).Class("small", "eval-ckpts").Disabled(!c.CanEval || v.CkptsRunning).
				Title(T(msgEvalCkptsTitle)).
				Text(T(choose(v.CkptsRunning, msgEvalCkptsRunning, msgEvalCkpts))).
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionEvalCheckpoints) }),
		),
		svg("svg").ID(PrecisionChartID).Class("loss-chart", "precision-chart").
			Attr("viewBox", fmt.Sprintf("0 0 %d %d", chartW, chartH)).Attr("role", "img").Attr("aria-label", T(msgPrecisionChartLabel)).
			Attr("data-points", len(v.Points)+len(v.Ckpts)).Attr("data-run-points", len(v.Points)).
			Attr("data-ckpt-points", len(v.Ckpts)).Attr("data-last", last).Body(out...),
	)
}
