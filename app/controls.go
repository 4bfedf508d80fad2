package app

import (
	"strconv"

	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Controls are the run's settings and the Start, Pause, Resume and Stop buttons. A setting
// that does not parse stays in its field, marked, with the reason; valid changes go to Home,
// which also writes them into the address.
type Controls struct {
	app.Compo
	Settings protocol.Settings
	Presets  []string
	Phase    protocol.Phase // the current run's phase ("" before the first)
	CanStart bool
	Why      string // why Start is disabled

	invalid map[string]string // query key -> why the field's text was refused
}

// field is one numeric setting.
type field struct {
	key, label, value, help string
}

// Render draws the form and the buttons.
func (c *Controls) Render() app.UI {
	s := c.Settings
	active := c.Phase == protocol.PhaseRunning || c.Phase == protocol.PhasePaused
	fields := []field{
		{QuerySteps, T(msgMaxSteps), strconv.Itoa(s.Steps), T(msgMaxStepsHelp)},
		{QueryBatch, T(msgBatchSize), strconv.Itoa(s.Batch), T(msgBatchSizeHelp)},
		{QueryLR, T(msgLearningRate), FormatLR(s.LR), T(msgLearningRateHelp)},
		{QuerySeed, T(msgSeed), strconv.FormatUint(s.Seed, 10), T(msgSeedHelp)},
		{QuerySaveEvery, T(msgSaveEvery), strconv.Itoa(s.SaveEvery), T(msgSaveEveryHelp)},
		{QueryKeep, T(msgKeep), strconv.Itoa(s.Keep), T(msgKeepHelp)},
		{QueryWorkers, T(msgWorkers), FormatWorkers(s.Workers), T(msgWorkersHelp)},
		{QueryEvalEvery, T(msgEvalEvery), strconv.Itoa(s.EvalEvery), T(msgEvalEveryHelp)},
		{QueryEvalImages, T(msgEvalImages), strconv.Itoa(s.EvalImages), T(msgEvalImagesHelp)},
	}
	return app.Section().Class("panel", "controls").Body(
		app.H2().Text(T(msgTrainingPanel)),
		app.Div().Class("fields").Body(
			app.Label().Class("field").Body(
				app.Span().Text(T(msgPreset)),
				app.Select().ID(SettingIDPrefix+QueryPreset).Disabled(active).OnChange(c.onPreset).Body(
					app.Range(c.presetOptions()).Slice(func(i int) app.UI {
						name := c.presetOptions()[i]
						return app.Option().Value(name).Selected(name == s.Preset).Text(name)
					}),
				),
			),
			app.Range(fields).Slice(func(i int) app.UI { return c.renderField(fields[i], active) }),
		),
		app.Div().Class("buttons").Body(
			app.Button().ID(TrainStartID).Class("primary").Disabled(!c.CanStart).Title("%s", c.Why).Text(T(msgStart)).
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionStart) }),
			app.Button().ID(TrainPauseID).Disabled(c.Phase != protocol.PhaseRunning).Text(T(msgPause)).
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionPause) }),
			app.Button().ID(TrainResumeID).Disabled(c.Phase != protocol.PhasePaused).Text(T(msgResumeRun)).
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionResume) }),
			app.Button().ID(TrainStopID).Disabled(!active).Text(T(msgStop)).
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionStop) }),
			app.If(!c.CanStart && !active && c.Why != "", func() app.UI {
				return app.Span().Class("muted", "why").Text(c.Why)
			}),
		),
		app.P().Class("muted", "share").Body(
			app.Text(T(msgShare)),
			app.A().Href("?"+Query(s).Encode()+"&"+QueryLang+"="+string(CurrentLang())).Text(T(msgShareLink)),
		),
	)
}

// presetOptions lists the presets, with the chosen one even before the worker lists them.
func (c *Controls) presetOptions() []string {
	for _, p := range c.Presets {
		if p == c.Settings.Preset {
			return c.Presets
		}
	}
	return append([]string{c.Settings.Preset}, c.Presets...)
}

func (c *Controls) renderField(f field, disabled bool) app.UI {
	why, bad := c.invalid[f.key]
	help := f.help
	if bad {
		help = why
	}
	return app.Label().Class("field").Body(
		app.Span().Text(f.label),
		app.Input().ID(SettingIDPrefix+f.key).Type("text").Attr("inputmode", inputMode(f.key)).
			Class(choose(bad, "invalid", "")).
			Value(f.value).Disabled(disabled).
			OnChange(func(ctx app.Context, e app.Event) { c.onField(ctx, f.key, ctx.JSSrc().Get("value").String()) }),
		app.Small().Class(choose(bad, "error", "muted")).Text(help),
	)
}

func inputMode(key string) string {
	if key == QueryLR {
		return "decimal"
	}
	return "numeric"
}

func (c *Controls) onPreset(ctx app.Context, e app.Event) {
	n := c.Settings
	n.Preset = ctx.JSSrc().Get("value").String()
	ctx.NewActionWithValue(actionSettings, settingsChange{Settings: n})
}

// onField applies one field's text, or keeps it marked with what was expected.
func (c *Controls) onField(ctx app.Context, key, text string) {
	n := c.Settings
	if c.invalid == nil {
		c.invalid = map[string]string{}
	}
	if err := ParseSetting(&n, key, text); err != nil {
		c.invalid[key] = err.Error()
		return
	}
	delete(c.invalid, key)
	ctx.NewActionWithValue(actionSettings, settingsChange{Settings: n, LRChosen: key == QueryLR})
}
