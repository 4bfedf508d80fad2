package app

import (
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
		app.H2().Text(T(msgDataset)),
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
				app.Dt().Text(T(msgTrainingImages)), app.Dd().ID(DatasetTrainID).Text(Thousands(int64(v.Info.Train))),
				app.Dt().Text(T(msgTestImagesCount)), app.Dd().ID(DatasetTestID).Text(Thousands(int64(v.Info.Test))),
				app.Dt().Text(T(msgClasses)), app.Dd().ID(DatasetClassesID).Text(strings.Join(translateClasses(v.Info.ClassNames), T(msgListSep))),
			)
		}),
		app.Button().ID(DatasetReloadID).Class("small").Disabled(!d.CanReload).
			Title(T(msgDownloadAgainTitle)).
			Text(T(msgDownloadAgain)).OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionReload) }),
	)
}

func (d *DatasetPanel) statusText() string {
	v := d.View
	switch v.Phase {
	case DatasetLoading:
		p := v.Progress
		verb := T(msgDownloading)
		if p.FromCache {
			verb = T(msgReadingKept)
		}
		if p.Total <= 0 {
			return T(msgLoadingBytes, verb, MB(p.Loaded))
		}
		return T(msgLoadingProgress, verb, MB(p.Loaded), MB(p.Total),
			Percent(p.Loaded, p.Total), p.FilesDone, p.Files)
	case DatasetReady:
		if v.Info.FromCache {
			return T(msgLoadedKept, Decimal(v.Info.Seconds, 1))
		}
		return T(msgDownloaded, MB(v.Info.Bytes), Decimal(v.Info.Seconds, 1))
	case DatasetFailed:
		return T(msgDatasetFailed, v.Error)
	default:
		return T(msgWaitingWorker)
	}
}
