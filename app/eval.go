package app

import (
	"strconv"

	"cifar10/nn/training/seedlog"
	"cifar10/wasm/protocol"

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
		app.H2().Text(T(msgEvaluation)),
		app.Div().Class("eval-row").Body(
			app.Button().ID(EvalStartID).Disabled(!p.CanEval).
				Title(T(msgEvaluateTitle)).
				Text(T(msgEvaluate)).OnClick(func(ctx app.Context, ev app.Event) { ctx.NewAction(actionEval) }),
			app.If(e.Running, func() app.UI {
				return app.Span().Class("eval-running").Body(
					app.Progress().ID(EvalProgressID).Max(max(e.Total, 1)).Value(e.Done),
					app.Span().Class("muted").Text(" "+T(msgEvalProgress, Thousands(int64(e.Done)), Thousands(int64(e.Total)))+
						choose(p.Training, T(msgEvalTrainingWaits), "")),
				)
			}),
			app.If(e.Result != nil, func() app.UI { return p.renderPrecision(*e.Result) }),
			app.If(!p.CanEval && !e.Running && e.Result == nil, func() app.UI {
				return app.Span().Class("muted").Text(T(msgEvalNoWeights))
			}),
		),
		app.If(e.Result != nil && len(e.Result.Confusion) > 0, func() app.UI { return p.renderClasses(*e.Result) }),
		app.If(e.Result != nil && len(e.Result.Confusion) > 0, func() app.UI { return p.renderConfusion(*e.Result) }),
	)
}

// renderConfusion is the confusion matrix: a row per true class, a column per predicted
// class, each cell the count of test images, shaded by its share of the row (the diagonal in
// the accent colour, mistakes in red), the number always printed in full contrast.
func (p *EvalPanel) renderConfusion(r protocol.EvalResult) app.UI {
	name := func(k int) string { return className(p.ClassNames, k) }
	return app.Div().Class("confusion-wrap").Body(
		app.Table().ID(EvalConfusionID).Class("confusion").Body(
			app.Caption().Text(T(msgConfusionCaption)),
			app.THead().Body(app.Tr().Body(
				app.Th().Class("corner").Text(T(msgConfusionCorner)),
				app.Range(r.Confusion).Slice(func(j int) app.UI {
					return app.Th().Class("pred-head").Attr("scope", "col").Title(name(j)).Text(name(j))
				}),
			)),
			app.TBody().Body(app.Range(r.Confusion).Slice(func(i int) app.UI {
				row := r.Confusion[i]
				total := 0
				for _, n := range row {
					total += n
				}
				return app.Tr().Body(
					app.Th().Attr("scope", "row").Text(name(i)),
					app.Range(row).Slice(func(j int) app.UI {
						share := 0.0
						if total > 0 {
							share = float64(row[j]) / float64(total)
						}
						return app.Td().Class("num", "cm-cell", choose(i == j, "cm-diag", "cm-off")).
							DataSet("true", i).DataSet("pred", j).DataSet("count", row[j]).
							Style("--share", "%.3f", share).
							Title(T(msgConfusionCell, name(i), name(j), row[j], total, Decimal(100*share, 1))).
							Text(row[j])
					}),
				)
			})),
		),
	)
}

func (p *EvalPanel) renderPrecision(r protocol.EvalResult) app.UI {
	return app.Span().Class("result").Body(
		app.Strong().ID(EvalPrecisionID).
			DataSet("precision", strconv.FormatFloat(r.Precision, 'g', -1, 64)).
			DataSet("correct", r.Correct).DataSet("total", r.Total).DataSet("step", r.Step).
			Text(seedlog.Precision(r.Precision)),
		app.Span().Class("muted").Text(" "+T(msgEvalResult,
			Thousands(int64(r.Correct)), Thousands(int64(r.Total)), Thousands(int64(r.Step)), Decimal(r.Seconds, 1))),
	)
}

// renderClasses is per-class accuracy: the confusion matrix's diagonal over its rows.
func (p *EvalPanel) renderClasses(r protocol.EvalResult) app.UI {
	return app.Table().ID(EvalClassesID).Class("classes").Body(
		app.THead().Body(app.Tr().Body(app.Th().Text(T(msgColClass)), app.Th().Class("num").Text(T(msgColAccuracy)), app.Th().Class("bar-cell").Text(""))),
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
			name := className(p.ClassNames, i)
			return app.Tr().Body(
				app.Td().Text(name),
				app.Td().Class("num").Text(Decimal(100*acc, 1)+"%"),
				app.Td().Class("bar-cell").Body(app.Div().Class("bar").Style("width", "%.1f%%", 100*acc)),
			)
		})),
	)
}
