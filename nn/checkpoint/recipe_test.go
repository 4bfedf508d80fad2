package checkpoint

import (
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
)

// TestRecipeTravels: a model's recipe is written to the metadata and decoded back into the
// checkpoint's spec; the tutorial's files carry none; a bad one is refused, naming it.
func TestRecipeTravels(t *testing.T) {
	spec := mustPreset(t, "cs231n")
	spec.Recipe = nn.Recipe{Batch: 512, Epochs: 8, LabelSmoothing: 0.2, Input: cifar.FlipTranslate, TTA: nn.TTAFlipTranslate}
	m, err := nn.NewModel(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	data := encode(t, m, nil, Run{})
	ck, err := Decode(data, "")
	if err != nil {
		t.Fatal(err)
	}
	if ck.Spec.Recipe != spec.Recipe {
		t.Errorf("decoded recipe %+v, want %+v", ck.Spec.Recipe, spec.Recipe)
	}
	m2, err := ck.NewModel()
	if err != nil {
		t.Fatal(err)
	}
	if m2.Spec().Recipe != spec.Recipe {
		t.Errorf("restored model's recipe %+v, want %+v", m2.Spec().Recipe, spec.Recipe)
	}

	tutorial, _ := newModelOpt(t, "cifar10", nn.OptAdam, 1)
	if _, ok := parse(t, encode(t, tutorial, nil, Run{})).Metadata[keyRecipe]; ok {
		t.Error("a tutorial file carries a recipe")
	}

	for _, c := range []struct {
		preset, recipe string
		want           []string
	}{
		{"cs231n", `{"input":"mixup"}`, []string{"recipe", "mixup"}},
		{"cs231n", `{"label_smoothing":2}`, []string{"recipe", "label smoothing 2"}},
		{"cs231n", `{"dropout":0.5}`, []string{"recipe", "dropout"}},
		{"cifar10", `{"input":"flip-translate"}`, []string{"recipe", "not 24x24"}},
		{"cs231n", `{"tta":3}`, []string{"recipe", "tta 3"}},
	} {
		mm, _ := newModelOpt(t, c.preset, nn.OptAdam, 1)
		f := parse(t, encode(t, mm, nil, Run{}))
		f.Metadata[keyFormat] = FormatVersion
		f.Metadata[keyRecipe] = c.recipe
		_, err := DecodeFile(f, "")
		wantError(t, err, c.want...)
	}
}

// TestWeightsOnlyOptimizerWithoutSchedule: a weights-only file of a preset whose optimizer
// has a schedule and an average still gives an optimizer (the page lists its learning rate),
// the preset's kind without them.
func TestWeightsOnlyOptimizerWithoutSchedule(t *testing.T) {
	spec := mustPreset(t, "cs231n")
	r, o := nn.Airbench(64)
	spec.Recipe = r
	m, err := nn.NewModel(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := Decode(encode(t, m, nil, Run{}), "")
	if err != nil {
		t.Fatal(err)
	}
	ck.Spec.Optimizer = o // as a preset with airbench's optimizer declares it
	opt, err := ck.NewOptimizer(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := opt.Config(); got.Kind != nn.OptNesterov || got.Schedule != nil || got.Average != nil || got.LR != o.LR {
		t.Errorf("weights-only optimizer %+v, want Nesterov at lr %v without schedule or average", got, o.LR)
	}
}
