package app

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// StatusPanel is the live status line: phase, step, loss, speed, time per batch and ETA.
type StatusPanel struct {
	app.Compo
	Run RunView
}

// Render draws the figures.
func (p *StatusPanel) Render() app.UI {
	r := p.Run
	loss, speed, secBatch := "–", "–", "–"
	if r.HasLoss {
		loss = FormatLoss(r.Loss)
	}
	if r.SecBatch > 0 {
		speed = Decimal(r.Speed, 1)
		secBatch = Decimal(r.SecBatch, 3)
	}
	steps := "–"
	if r.Phase != "" {
		steps = fmt.Sprintf("%s / %s", Thousands(int64(r.Step)), Thousands(int64(r.Settings.Steps)))
	}
	return app.Section().Class("panel", "status").Body(
		app.Div().Class("phase-row").Body(
			app.Span().ID(StatusPhaseID).Class("phase", "phase-"+phaseClass(r.Phase)).DataSet("phase", string(r.Phase)).DataSet("run", r.ID).Text(phaseText(r)),
		),
		app.Dl().Class("stats").Body(
			stat(T(msgStatStep), app.Dd().ID(StatusStepID).DataSet("step", r.Step).Text(steps)),
			stat(T(msgStatLoss), app.Dd().ID(StatusLossID).DataSet("loss", FullFloat(r.Loss)).Text(loss)),
			stat(T(msgStatSpeed), app.Dd().ID(StatusSpeedID).DataSet("examples", r.Examples).
				DataSet("seconds", strconv.FormatFloat(r.Seconds, 'g', -1, 64)).
				DataSet("wait", strconv.FormatFloat(r.Wait, 'g', -1, 64)).Text(speed)),
			stat(T(msgStatSecBatch), app.Dd().ID(StatusSecBatchID).Text(secBatch)),
			stat(T(msgStatETA), app.Dd().ID(StatusETAID).Text(Duration(r.ETA()))),
			app.If(r.Wait > 0 && r.Seconds > 0, func() app.UI {
				return stat(T(msgStatWaiting), app.Dd().ID(StatusWaitID).
					Title(T(msgWaitingTitle)).
					Text(fmt.Sprintf("%.0f%%", 100*r.Wait/r.Seconds)))
			}),
		),
	)
}

func stat(label string, value app.UI) app.UI {
	return app.Div().Class("stat").Body(app.Dt().Text(label), value)
}

func phaseClass(p protocol.Phase) string {
	if p == "" {
		return "idle"
	}
	return string(p)
}

// phaseText says where the run is, with the worker's reason when it ended.
func phaseText(r RunView) string {
	// The worker's reasons are English sentences: other languages say the phase itself.
	english := CurrentLang() == English
	switch r.Phase {
	case "":
		return T(msgNoRun)
	case protocol.PhaseRunning:
		return T(msgTraining)
	case protocol.PhasePaused:
		if r.Reason != "" && english {
			return T(msgPausedBecause, r.Reason)
		}
		return T(msgPaused)
	case protocol.PhaseFinished:
		return T(msgFinishedSteps, r.Step)
	case protocol.PhaseStopped:
		return T(msgStoppedAt, r.Step)
	}
	if !english {
		return T(choose(r.Phase == protocol.PhaseFailed, msgPhaseFailed, msgPhaseRestored))
	}
	if r.Reason != "" {
		return strings.ToUpper(r.Reason[:1]) + r.Reason[1:]
	}
	return strings.ToUpper(string(r.Phase[:1])) + string(r.Phase[1:])
}

// LossChart draws the run's losses as an SVG line chart, raw and smoothed. The smoothing
// weight is the chart's own state.
type LossChart struct {
	app.Compo
	Losses []float32
	First  int // the step of Losses[0]
	Steps  int

	weight float64 // smoothing; 0 means not set yet (DefaultSmoothing applies)
}

// DefaultSmoothing is TensorBoard's default weight.
const DefaultSmoothing = 0.6

func (c *LossChart) smoothing() float64 {
	if c.weight == 0 {
		return DefaultSmoothing
	}
	return c.weight
}

// Render draws the chart and its smoothing slider.
func (c *LossChart) Render() app.UI {
	g := buildChart(c.Losses, c.First, c.Steps, c.smoothing())
	n := min(len(c.Losses), ChartDataLosses)
	exact := make([]string, n)
	for i := range exact {
		exact[i] = FullFloat(c.Losses[i])
	}
	return app.Section().Class("panel", "chart").Body(
		app.Div().Class("chart-head").Body(
			app.H2().Text(T(msgChartLoss)),
			app.Span().Class("legend").Body(
				app.Span().Class("key", "key-raw").Text(T(msgChartRaw)),
				app.Span().Class("key", "key-smooth").Text(T(msgChartSmoothed)),
			),
			app.Label().Class("smoothing").Body(
				app.Text(T(msgChartSmoothing)+" "),
				// Whole percent, so that the value is valid whatever order the attributes
				// are set in (a fractional value before step="0.01" would be rounded).
				app.Input().ID(SmoothingID).Type("range").Min(0).Max(99).
					Value(int(math.Round(c.smoothing()*100))).OnInput(c.onSmoothing),
				app.Span().Text(" "+Decimal(c.smoothing(), 2)),
			),
		),
		svg("svg").ID(LossChartID).Class("loss-chart").
			Attr("viewBox", fmt.Sprintf("0 0 %d %d", chartW, chartH)).
			Attr("role", "img").Attr("aria-label", T(msgChartAria)).
			Attr("data-count", len(c.Losses)).Attr("data-losses", strings.Join(exact, ",")).
			Body(c.axes(g)...),
	)
}

func (c *LossChart) onSmoothing(ctx app.Context, e app.Event) {
	v, err := strconv.Atoi(ctx.JSSrc().Get("value").String())
	if err == nil && v >= 0 && v <= 99 {
		c.weight = max(float64(v)/100, 1e-9) // 0 would mean "unset"
	}
}

// axes draws the grid, tick labels and the two lines.
func (c *LossChart) axes(g chart) []app.UI {
	var out []app.UI
	for _, t := range g.YTicks {
		out = append(out,
			svg("line").Class("grid").Attr("x1", chartLeft).Attr("x2", chartW-chartRight).Attr("y1", t.Pos).Attr("y2", t.Pos),
			svg("text").Class("tick").Attr("x", chartLeft-6).Attr("y", t.Pos+4).Attr("text-anchor", "end").Text(t.Label),
		)
	}
	for _, t := range g.XTicks {
		out = append(out,
			svg("text").Class("tick").Attr("x", t.Pos).Attr("y", chartH-8).Attr("text-anchor", "middle").Text(t.Label),
		)
	}
	if len(c.Losses) == 0 {
		return append(out, svg("text").Class("empty").Attr("x", chartW/2).Attr("y", chartH/2).
			Attr("text-anchor", "middle").Text(T(msgChartEmpty)))
	}
	out = append(out,
		svg("line").Class("axis").Attr("x1", chartLeft).Attr("x2", chartLeft).Attr("y1", chartTop).Attr("y2", chartH-chartBottom),
		svg("line").Class("axis").Attr("x1", chartLeft).Attr("x2", chartW-chartRight).Attr("y1", chartH-chartBottom).Attr("y2", chartH-chartBottom),
		svg("polyline").Class("raw").Attr("points", g.Raw),
		svg("polyline").Class("smooth").Attr("points", g.Smooth),
	)
	return out
}

// svg makes an element in the SVG namespace (go-app creates HTML elements otherwise).
func svg(tag string) app.HTMLElem {
	return app.Elem(tag).XMLNS("http://www.w3.org/2000/svg")
}

// LogPanel shows the seed script's log lines, newest at the bottom, scrolled to it.
type LogPanel struct {
	app.Compo
	Lines   []string
	Dropped int
}

// OnUpdate keeps the newest line in view.
func (l *LogPanel) OnUpdate(ctx app.Context) {
	ctx.Defer(func(ctx app.Context) {
		if el := app.Window().GetElementByID(LogID); el.Truthy() {
			el.Set("scrollTop", el.Get("scrollHeight"))
		}
	})
}

// Render draws the lines.
func (l *LogPanel) Render() app.UI {
	return app.Section().Class("panel", "log-panel").Body(
		app.H2().Text(T(msgLog)),
		app.Div().ID(LogID).Class("log").DataSet("lines", len(l.Lines)+l.Dropped).Body(
			app.If(l.Dropped > 0, func() app.UI {
				return app.Div().Class("log-dropped").Text(T(msgLogDropped, l.Dropped))
			}),
			app.If(len(l.Lines) == 0, func() app.UI {
				return app.Div().Class("log-empty").Text(T(msgLogEmpty))
			}),
			app.Range(l.Lines).Slice(func(i int) app.UI {
				return app.Div().Class("log-line").Text(l.Lines[i])
			}),
		),
	)
}
