package app

import (
	"fmt"
	"strconv"

	"cifar10/wasm"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// EvalPanel evaluates the current weights over the whole test set (also while paused) and
// shows precision@1 as the seed script printed it, with per-class accuracy.
type EvalPanel struct {
	app.Compo
	Eval       EvalView
	CanEval    bool
	ClassNames []string
	RunStep    int
	// Training says a run is going: the worker evaluates between two steps, so training
	// waits until the evaluation ends.
	Training bool
}

// Render draws the button, the progress bar and the result.
func (p *EvalPanel) Render() app.UI {
	e := p.Eval
	return app.Section().Class("panel", "eval").Body(
		app.H2().Text("Evaluation"),
		app.Div().Class("eval-row").Body(
			app.Button().ID(EvalStartID).Disabled(!p.CanEval).
				Title("Precision@1 of the current weights over every test image").
				Text("Evaluate").OnClick(func(ctx app.Context, ev app.Event) { ctx.NewAction(actionEval) }),
			app.If(e.Running, func() app.UI {
				return app.Span().Class("eval-running").Body(
					app.Progress().ID(EvalProgressID).Max(max(e.Total, 1)).Value(e.Done),
					app.Span().Class("muted").Text(fmt.Sprintf(" %s of %s test images%s", Thousands(int64(e.Done)), Thousands(int64(e.Total)),
						choose(p.Training, "; training waits meanwhile", ""))),
				)
			}),
			app.If(e.Result != nil, func() app.UI { return p.renderPrecision(*e.Result) }),
			app.If(!p.CanEval && !e.Running && e.Result == nil, func() app.UI {
				return app.Span().Class("muted").Text("Start a run to have weights to evaluate.")
			}),
		),
		app.If(e.Result != nil && len(e.Result.Confusion) > 0, func() app.UI { return p.renderClasses(*e.Result) }),
	)
}

func (p *EvalPanel) renderPrecision(r wasm.EvalResult) app.UI {
	return app.Span().Class("result").Body(
		app.Strong().ID(EvalPrecisionID).
			DataSet("precision", strconv.FormatFloat(r.Precision, 'g', -1, 64)).
			DataSet("correct", r.Correct).DataSet("total", r.Total).DataSet("step", r.Step).
			Text(wasm.FormatPrecision(r.Precision)),
		app.Span().Class("muted").Text(fmt.Sprintf(" %s of %s correct, weights after %s steps, %.1f s",
			Thousands(int64(r.Correct)), Thousands(int64(r.Total)), Thousands(int64(r.Step)), r.Seconds)),
	)
}

// renderClasses is per-class accuracy: the confusion matrix's diagonal over its rows.
func (p *EvalPanel) renderClasses(r wasm.EvalResult) app.UI {
	return app.Table().ID(EvalClassesID).Class("classes").Body(
		app.THead().Body(app.Tr().Body(app.Th().Text("class"), app.Th().Class("num").Text("accuracy"), app.Th().Class("bar-cell").Text(""))),
		app.TBody().Body(app.Range(r.Confusion).Slice(func(i int) app.UI {
			row := r.Confusion[i]
			total := 0
			for _, n := range row {
				total += n
			}
			acc := 0.0
			if total > 0 {
				acc = float64(row[i]) / float64(total)
			}
			name := strconv.Itoa(i)
			if i < len(p.ClassNames) {
				name = p.ClassNames[i]
			}
			return app.Tr().Body(
				app.Td().Text(name),
				app.Td().Class("num").Text(fmt.Sprintf("%.1f%%", 100*acc)),
				app.Td().Class("bar-cell").Body(app.Div().Class("bar").Style("width", "%.1f%%", 100*acc)),
			)
		})),
	)
}
