package app

import (
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// ModelPanel shows the chosen preset's layers with their output shapes and parameter counts.
// The worker describes the presets (it has the engine), so the table appears once it is ready.
type ModelPanel struct {
	app.Compo
	Preset protocol.PresetInfo
	Ready  bool
}

// Render draws the table.
func (m *ModelPanel) Render() app.UI {
	p := m.Preset
	if !m.Ready || p.Name == "" {
		return app.Section().Class("panel", "model").Body(
			app.H2().Text(T(msgModel)),
			app.P().Class("muted").Text(T(msgModelWaiting)),
		)
	}
	return app.Section().Class("panel", "model").Body(
		app.H2().Text(T(msgModelName, p.Name)),
		app.Table().ID(ModelTableID).Class("layers").Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Text(T(msgColLayer)), app.Th().Text(T(msgColKind)), app.Th().Class("num").Text(T(msgColOutput)), app.Th().Class("num").Text(T(msgColParams)),
			)),
			app.TBody().Body(
				app.Tr().Class("input").Body(
					app.Td().Text(T(msgLayerInput)), app.Td().Text(T(msgKindImage)), app.Td().Class("num").Text(Shape(p.Input)), app.Td().Class("num").Text("–"),
				),
				app.Range(p.Layers).Slice(func(i int) app.UI {
					l := p.Layers[i]
					return app.Tr().Body(
						app.Td().Text(l.Name), app.Td().Text(translated(layerKinds, l.Kind)),
						app.Td().Class("num").Text(Shape(l.Output)), app.Td().Class("num").Text(Thousands(int64(l.Params))),
					)
				}),
			),
		),
		app.P().ID(ModelParamsID).Class("total").DataSet("params", p.NumParams).
			Text(T(msgModelTotal, Thousands(int64(p.NumParams)), translated(optimizers, p.Optimizer), FormatLR(p.LR))),
	)
}

// layerKinds are the engine's layer kinds (nn.LayerKind, as the worker lists them) with their
// catalogue keys; optimizers likewise.
var (
	layerKinds = map[string]Key{"conv": msgKindConv, "dense": msgKindDense, "lrn": msgKindLRN, "maxpool": msgKindMaxpool}
	optimizers = map[string]Key{"adam": msgOptimizerAdam, "momentum": msgOptimizerMomentum}
)

// translated is name in the page's language when keys has it, else name as the worker wrote it
// (a layer kind added to the engine before the catalogues know it).
func translated(keys map[string]Key, name string) string {
	if k, ok := keys[name]; ok {
		return T(k)
	}
	return name
}
