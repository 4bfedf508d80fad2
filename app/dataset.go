package app

import (
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// DatasetPanel shows the dataset's download (bytes and percent) or, once loaded, its image
// counts and class names.
type DatasetPanel struct {
	app.Compo
	View      DatasetView
	CanReload bool
}

// Render draws the panel.
func (d *DatasetPanel) Render() app.UI {
	v := d.View
	return app.Section().Class("panel", "dataset").Body(
		app.H2().Text("Dataset"),
		app.P().ID(DatasetStatusID).Class("status-line").DataSet("phase", v.Phase).
			DataSet("from-cache", v.Info.FromCache).Text(d.statusText()),
		app.If(v.Phase == DatasetLoading, func() app.UI {
			p := v.Progress
			max := p.Total
			if max <= 0 {
				max = 1 // indeterminate until every size is known
			}
			return app.Progress().ID(DatasetProgressID).Max(max).Value(min(p.Loaded, max))
		}),
		app.If(v.Phase == DatasetReady, func() app.UI {
			return app.Dl().Class("facts").Body(
				app.Dt().Text("Training images"), app.Dd().ID(DatasetTrainID).Text(Thousands(int64(v.Info.Train))),
				app.Dt().Text("Test images"), app.Dd().ID(DatasetTestID).Text(Thousands(int64(v.Info.Test))),
				app.Dt().Text("Classes"), app.Dd().ID(DatasetClassesID).Text(strings.Join(v.Info.ClassNames, ", ")),
			)
		}),
		app.Button().ID(DatasetReloadID).Class("small").Disabled(!d.CanReload).
			Title("Forget the copy kept in this browser and download the dataset again").
			Text("Download again").OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionReload) }),
	)
}

func (d *DatasetPanel) statusText() string {
	v := d.View
	switch v.Phase {
	case DatasetLoading:
		p := v.Progress
		verb := "Downloading"
		if p.FromCache {
			verb = "Reading the copy kept in this browser:"
		}
		if p.Total <= 0 {
			return fmt.Sprintf("%s %s…", verb, MB(p.Loaded))
		}
		return fmt.Sprintf("%s %s of %s (%d%%), %d of %d files", verb, MB(p.Loaded), MB(p.Total),
			Percent(p.Loaded, p.Total), p.FilesDone, p.Files)
	case DatasetReady:
		if v.Info.FromCache {
			return fmt.Sprintf("Loaded from this browser's copy in %.1f s (no download).", v.Info.Seconds)
		}
		return fmt.Sprintf("Downloaded %s in %.1f s; kept in this browser for the next visit.", MB(v.Info.Bytes), v.Info.Seconds)
	case DatasetFailed:
		return "The dataset could not be loaded: " + v.Error
	default:
		return "Waiting for the training worker…"
	}
}
