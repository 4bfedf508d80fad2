package wasm

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// everyType is one valid message of each type.
func everyType() []Message {
	s := DefaultSettings()
	return []Message{
		{Type: TypeLoad, Load: &LoadRequest{Reload: true}},
		{Type: TypeStart, Run: 3, Settings: &s},
		{Type: TypePause, Run: 3},
		{Type: TypeResume, Run: 3},
		{Type: TypeStop, Run: 3},
		{Type: TypeEval, Run: 3},
		{Type: TypeReady, Ready: &Ready{Kernel: "generic", Presets: []PresetInfo{{Name: "cifar10", NumParams: 1068298,
			Layers: []LayerInfo{{Name: "conv1", Kind: "conv", Output: [3]int{24, 24, 64}, Params: 4864}}}}}},
		{Type: TypeDatasetProgress, DatasetProgress: &DatasetProgress{File: "test_batch.bin", Loaded: 10, Total: 100, Files: 6}},
		{Type: TypeDataset, Dataset: &DatasetInfo{Train: 50000, Test: 10000, ClassNames: []string{"a"}}},
		{Type: TypeState, Run: 3, State: &RunState{Phase: PhasePaused, Step: 7}},
		{Type: TypeProgress, Run: 3, Progress: &Progress{Step: 2, Steps: 10, Losses: []float32{2.5, 2.25}}},
		{Type: TypeLog, Run: 3, Log: &LogLine{Step: 0, Loss: 4.67, Text: "Step 0, loss = 4.67 (1.0 examples/sec; 1.000 sec/batch)"}},
		{Type: TypeEvalProgress, Run: 3, EvalProgress: &EvalProgress{Done: 128, Total: 10000}},
		{Type: TypeEvalResult, Run: 3, EvalResult: &EvalResult{Correct: 1, Total: 2, Precision: 0.5, Confusion: [][]int{{1, 0}, {1, 0}}}},
		{Type: TypeError, Error: &Failure{Where: WhereDataset, Message: "truncated"}},
		{Type: TypeCheckpoint, Checkpoint: &CheckpointSaved{Info: sampleInfo("r1700000000000", 10), Removed: []string{"r1700000000000/000000000005"}}},
		{Type: TypeCheckpointRestore, Run: 4, Restore: &RestoreRequest{ID: "u1700000000000/000000001000", Resume: true, Settings: s}},
		{Type: TypeCheckpointUpload, Upload: &UploadRequest{Name: "cifar10.ckpt-1000.safetensors", Preset: "cifar10"},
			Files: []FileRef{{Name: "cifar10.ckpt-1000.safetensors", Size: 12818608}}},
		{Type: TypeTestImages, Run: 3, TestImagesRequest: &TestImagesRequest{Start: 24, Count: 24, Mistakes: true}},
		{Type: TypePredictions, Run: 3, Predictions: &TestImages{Step: 20, Start: 24, Next: 40, Total: 10000, Mistakes: true,
			Images: []TestImage{{Index: 25, Label: 3, Pred: 5, Prob: 0.5}, {Index: 39, Label: 0, Pred: 8, Prob: 0.25}}},
			Files: []FileRef{{Name: "pixels", Size: 2 * ImageBytes}}},
		{Type: TypePredictions, Run: 3, Predictions: &TestImages{Start: 10000, Next: 10000, Total: 10000, Images: []TestImage{}}},
		{Type: TypeClassify, Run: 3, Classify: &ClassifyRequest{Name: "cat.png"}, Files: []FileRef{{Name: "cat.png", Size: ImageBytes}}},
		{Type: TypeClassified, Run: 3, Classified: &Classified{Name: "cat.png", Step: 20, Probs: []float32{0.25, 0.5, 0.125, 0.125}}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range everyType() {
		b, err := Encode(m)
		if err != nil {
			t.Fatalf("%s: %v", m.Type, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: decoding %s: %v", m.Type, b, err)
		}
		want, _ := json.Marshal(m)
		again, _ := json.Marshal(got)
		if string(want) != string(again) {
			t.Errorf("%s: round trip changed the message:\n%s\n%s", m.Type, want, again)
		}
	}
}

// TestLossesExact checks that float32 losses cross JSON bit for bit, which the comparison of
// browser and native losses relies on.
func TestLossesExact(t *testing.T) {
	losses := []float32{math.Float32frombits(0x40958234), math.SmallestNonzeroFloat32, math.MaxFloat32, 1.0 / 3, 2.3025851}
	b, err := Encode(Message{Type: TypeProgress, Progress: &Progress{Losses: losses}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range losses {
		if math.Float32bits(m.Progress.Losses[i]) != math.Float32bits(l) {
			t.Errorf("loss %d: %x became %x", i, math.Float32bits(l), math.Float32bits(m.Progress.Losses[i]))
		}
	}
}

func TestInvalidMessages(t *testing.T) {
	s := DefaultSettings()
	bad := DefaultSettings()
	bad.Batch = 0
	tests := []struct {
		name string
		json string
		want string
	}{
		{"not json", `{"type":`, "malformed message"},
		{"unknown type", `{"type":"explode"}`, `unknown message type "explode"`},
		{"missing payload", `{"type":"start","run":1}`, "start message lacks its settings payload"},
		{"foreign payload", `{"type":"pause","run":1,"log":{"step":1}}`, "pause message carries a log payload"},
		{"two payloads", `{"type":"log","log":{},"error":{}}`, "log message carries a error payload"},
		{"negative run", `{"type":"stop","run":-1}`, "negative run"},
		{"bad settings", mustJSON(t, Message{Type: TypeStart, Run: 1, Settings: &bad}), "batch must be 1..1024, not 0"},
		{"bad file", `{"type":"checkpointUpload","upload":{"name":"x"},"files":[{"name":"","size":1}]}`, "bad attached file"},
		{"upload without file", `{"type":"checkpointUpload","upload":{"name":"x"}}`, "0 files attached"},
		{"restore without id", mustJSON(t, Message{Type: TypeCheckpointRestore, Run: 1, Restore: &RestoreRequest{ID: "../x", Settings: s}}), "bad checkpoint id"},
		{"no test images", `{"type":"testImages","testImages":{"start":0,"count":0}}`, "count 1..96"},
		{"too many test images", `{"type":"testImages","testImages":{"start":0,"count":97}}`, "count 1..96"},
		{"negative start", `{"type":"testImages","testImages":{"start":-1,"count":5}}`, "start -1"},
		{"pixels missing", `{"type":"predictions","predictions":{"start":0,"next":1,"total":9,"images":[{"index":0,"label":1,"pred":1,"prob":1}]}}`, "want 3072 bytes of pixels"},
		{"pixels short", `{"type":"predictions","predictions":{"start":0,"next":1,"total":9,"images":[{"index":0,"label":1,"pred":1,"prob":1}]},"files":[{"name":"p","size":3071}]}`, "want 3072 bytes"},
		{"image outside", `{"type":"predictions","predictions":{"start":0,"next":1,"total":9,"images":[{"index":1,"label":1,"pred":1,"prob":1}]},"files":[{"name":"p","size":3072}]}`, "outside 0..0"},
		{"images out of order", `{"type":"predictions","predictions":{"start":0,"next":5,"total":9,"images":[{"index":2,"label":1,"pred":1,"prob":1},{"index":2,"label":1,"pred":1,"prob":1}]},"files":[{"name":"p","size":6144}]}`, "out of order"},
		{"bad class", `{"type":"predictions","predictions":{"start":0,"next":1,"total":9,"images":[{"index":0,"label":1,"pred":100,"prob":1}]},"files":[{"name":"p","size":3072}]}`, "prediction 100"},
		{"bad probability", `{"type":"predictions","predictions":{"start":0,"next":1,"total":9,"images":[{"index":0,"label":1,"pred":1,"prob":1.5}]},"files":[{"name":"p","size":3072}]}`, "probability 1.5"},
		{"right answer as a mistake", `{"type":"predictions","predictions":{"start":0,"next":1,"total":9,"mistakes":true,"images":[{"index":0,"label":1,"pred":1,"prob":1}]},"files":[{"name":"p","size":3072}]}`, "predicted right"},
		{"classify without image", `{"type":"classify","classify":{"name":"x.png"}}`, "want one attached image of 3072 bytes"},
		{"classify with a large image", `{"type":"classify","classify":{"name":"x.png"},"files":[{"name":"x.png","size":4096}]}`, "want one attached image"},
		{"probabilities not adding up", `{"type":"classified","classified":{"name":"x","probs":[0.5,0.4]}}`, "add up to"},
		{"one probability", `{"type":"classified","classified":{"name":"x","probs":[1]}}`, "1 probabilities"},
		{"negative probability", `{"type":"classified","classified":{"name":"x","probs":[1.5,-0.5]}}`, "probability 0 is 1.5"},
		{"bad entry", `{"type":"checkpoint","checkpoint":{"info":{"id":"r1/000000000001","run":"r1","step":2,"size":1,"preset":"cifar10"}}}`, "does not match"},
	}
	for _, tc := range tests {
		_, err := Decode([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Encode(Message{Type: TypeStart, Settings: &s, Log: &LogLine{}}); err == nil {
		t.Error("Encode accepted a message with two payloads")
	}
}

func mustJSON(t *testing.T, m Message) string {
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSettingsValidate(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		change func(*Settings)
		want   string
	}{
		{func(s *Settings) { s.Preset = "" }, "preset"},
		{func(s *Settings) { s.Preset = "../x" }, "preset"},
		{func(s *Settings) { s.Steps = 0 }, "steps"},
		{func(s *Settings) { s.Batch = MaxBatch + 1 }, "batch"},
		{func(s *Settings) { s.LR = 0 }, "learning rate"},
		{func(s *Settings) { s.LR = math.NaN() }, "learning rate"},
		{func(s *Settings) { s.LR = math.Inf(1) }, "learning rate"},
		{func(s *Settings) { s.SaveEvery = -1 }, "save_every"},
		{func(s *Settings) { s.Keep = 0 }, "keep"},
	}
	for _, tc := range tests {
		s := DefaultSettings()
		tc.change(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error about %s", s, err, tc.want)
		}
	}
}

// TestFormatLog pins the seed script's line and precision format.
func TestFormatLog(t *testing.T) {
	got := FormatLog(120, 2.3456, 227.84, 0.56178)
	if want := "Step 120, loss = 2.35 (227.8 examples/sec; 0.562 sec/batch)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := FormatPrecision(0.61234); got != "precision: 0.6123" {
		t.Errorf("precision line %q", got)
	}
}
