package protocol

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"cifar10/nn/cifar"
	"cifar10/nn/summary"
)

func sampleInfo(run string, step int64) CheckpointInfo {
	loss := 2.5
	return CheckpointInfo{ID: CheckpointID(run, step), Run: run, Step: step, Saved: 1700000000000 + step,
		Size: 12818608, Preset: "cifar10", Seed: 1, Batch: 128, LR: 1e-3, Loss: &loss, Steps: 1000, Resumable: true}
}

// everyKind is one valid message of each kind (predictions twice: with and without images).
func everyKind() []Message {
	s := DefaultSettings()
	return []Message{
		{Payload: Load{Reload: true}},
		{Run: 3, Worker: 1, Workers: 2, Payload: Start{Settings: s}},
		{Run: 3, Payload: Pause{}},
		{Run: 3, Payload: Resume{}},
		{Run: 3, Payload: Stop{}},
		{Run: 3, Payload: Eval{}},
		{Payload: Ready{Kernel: "generic", Presets: []PresetInfo{{Name: "cifar10", NumParams: 1068298,
			Layers: []summary.Layer{{Name: "conv1", Kind: "conv", Output: [3]int{24, 24, 64}, Params: 4864}}}}}},
		{Payload: DatasetProgress{File: "test_batch.bin", Loaded: 10, Total: 100, Files: 6}},
		{Payload: DatasetInfo{Train: 50000, Test: 10000, ClassNames: []string{"a"}}},
		{Run: 3, Payload: RunState{Phase: PhasePaused, Step: 7, Settings: &s}},
		{Run: 3, Payload: Progress{Step: 2, Steps: 10, Losses: []float32{2.5, 2.25}}},
		{Run: 3, Payload: LogLine{Step: 0, Loss: 4.67, Text: "Step 0, loss = 4.67 (1.0 examples/sec; 1.000 sec/batch)"}},
		{Run: 3, Payload: EvalProgress{Done: 128, Total: 10000}},
		{Run: 3, Payload: EvalResult{Correct: 1, Total: 2, Precision: 0.5, Confusion: [][]int{{1, 0}, {1, 0}}}},
		{Payload: Failure{Where: WhereDataset, Message: "truncated"}},
		{Payload: CheckpointSaved{Info: sampleInfo("r1700000000000", 10), Removed: []string{"r1700000000000/000000000005"}}},
		{Run: 4, Payload: RestoreRequest{ID: "u1700000000000/000000001000", Resume: true, Settings: s}},
		{Payload: UploadRequest{Name: "cifar10.ckpt-1000.safetensors", Preset: "cifar10"},
			Files: []FileRef{{Name: "cifar10.ckpt-1000.safetensors", Size: 12818608}}},
		{Payload: ShareDataset{Dataset: DatasetInfo{Train: 50000, Test: 10000}}},
		{Payload: SaverPort{}},
		{Run: 3, Payload: TestImagesRequest{Start: 24, Count: 24, Mistakes: true}},
		{Run: 3, Payload: TestImages{Step: 20, Start: 24, Next: 40, Total: 10000, Mistakes: true,
			Images: []TestImage{{Index: 25, Label: 3, Pred: 5, Prob: 0.5}, {Index: 39, Label: 0, Pred: 8, Prob: 0.25}}},
			Files: []FileRef{{Name: "pixels", Size: 2 * cifar.ImageBytes}}},
		{Run: 3, Payload: TestImages{Start: 10000, Next: 10000, Total: 10000, Images: []TestImage{}}},
		{Run: 3, Payload: ClassifyRequest{Name: "cat.png"}, Files: []FileRef{{Name: "cat.png", Size: cifar.ImageBytes}}},
		{Run: 3, Payload: Classified{Name: "cat.png", Step: 20, Probs: []float32{0.25, 0.5, 0.125, 0.125}}},
		{Run: 3, Payload: InspectRequest{Filters: true, Image: 7}},
		{Run: 3, Payload: InspectRequest{Image: NoImage, Name: "cat.png"}, Files: []FileRef{{Name: "cat.png", Size: cifar.ImageBytes}}},
		sampleInside(),
		{Run: 3, Payload: Inside{Step: 5, Image: NoImage, Label: -1, Filters: &FilterShape{Layer: "conv1", Shape: [4]int{64, 5, 5, 3}}},
			Files: []FileRef{{Name: FileFilters, Size: 4 * 4800}}},
		{Run: 3, Payload: Precision{Step: 100, Correct: 400, Total: 1000}},
		{Run: 3, Payload: Precision{Step: 10, Correct: 0, Total: 1000, Checkpoint: "r1700000000000/000000000010"}},
		{Run: 3, Payload: EvalCheckpoints{IDs: []string{"r1700000000000/000000000010"}, Images: 1000}},
		{Run: 3, Payload: EvalCheckpointsDone{Count: 1}},
	}
}

// TestRoundTrip sends every kind through Encode and Decode and gets the same message back,
// with the payload's registered type.
func TestRoundTrip(t *testing.T) {
	seen := map[Kind]bool{}
	for _, m := range everyKind() {
		b, err := Encode(m)
		if err != nil {
			t.Fatalf("%s: %v", m.Kind(), err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: decoding %s: %v", m.Kind(), b, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%s: round trip changed the message:\n%#v\n%#v", m.Kind(), m, got)
		}
		seen[m.Kind()] = true
	}
	for k := range registry {
		if !seen[k] {
			t.Errorf("kind %s is registered but not tested", k)
		}
	}
}

// TestWire pins the envelope's JSON, which assets/worker.js writes by hand for its errors.
func TestWire(t *testing.T) {
	b, err := Encode(Message{Run: 2, Worker: 1, Workers: 3, Payload: Failure{Where: WhereWorker, Message: "gone"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"error","run":2,"worker":1,"workers":3,"payload":{"where":"worker","message":"gone"}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	m, err := Decode([]byte(`{"kind":"error","payload":{"where":"worker","message":"the training worker could not start"}}`))
	if err != nil || m.Payload.(Failure).Where != WhereWorker {
		t.Errorf("worker.js's error: %+v, %v", m, err)
	}
}

// TestLossesExact checks that float32 losses cross JSON bit for bit, which the comparison of
// browser and native losses relies on.
func TestLossesExact(t *testing.T) {
	losses := []float32{math.Float32frombits(0x40958234), math.SmallestNonzeroFloat32, math.MaxFloat32, 1.0 / 3, 2.3025851}
	b, err := Encode(Message{Payload: Progress{Losses: losses}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range losses {
		if got := m.Payload.(Progress).Losses[i]; math.Float32bits(got) != math.Float32bits(l) {
			t.Errorf("loss %d: %x became %x", i, math.Float32bits(l), math.Float32bits(got))
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	bad := DefaultSettings()
	bad.Batch = 0
	tests := []struct {
		name string
		json string
		want string
	}{
		{"not json", `{"kind":`, "malformed message"},
		{"unknown kind", `{"kind":"explode","payload":{}}`, `unknown message kind "explode"`},
		{"no kind", `{"payload":{}}`, `unknown message kind ""`},
		{"missing payload", `{"kind":"start","run":1}`, "start message lacks its payload"},
		{"null payload", `{"kind":"pause","run":1,"payload":null}`, "pause message lacks its payload"},
		{"foreign field", `{"kind":"pause","run":1,"payload":{"step":1}}`, `pause message: malformed payload: json: unknown field "step"`},
		{"payload not an object", `{"kind":"log","payload":[1]}`, "log message: malformed payload"},
		{"negative run", `{"kind":"stop","run":-1,"payload":{}}`, "stop message: negative run or worker"},
		{"worker outside group", `{"kind":"stop","worker":2,"workers":2,"payload":{}}`, "stop message: worker 2 of 2"},
		{"group too large", `{"kind":"stop","workers":17,"payload":{}}`, "stop message: worker 0 of 17"},
		{"bad settings", `{"kind":"start","run":1,"payload":{"settings":{"preset":"cifar10","steps":1,"batch":0,"lr":0.1,"keep":1}}}`, "start message: batch must be 1..1024, not 0"},
		{"bad file", `{"kind":"checkpointUpload","payload":{"name":"x"},"files":[{"name":"","size":1}]}`, "checkpointUpload message: bad attached file"},
		{"upload without file", `{"kind":"checkpointUpload","payload":{"name":"x"}}`, "checkpointUpload message: 0 files attached"},
		{"restore without id", `{"kind":"checkpointRestore","run":1,"payload":{"id":"../x","settings":{}}}`, `checkpointRestore message: bad checkpoint id "../x"`},
		{"restore with bad settings", `{"kind":"checkpointRestore","run":1,"payload":{"id":"r1/000000000001","settings":{"preset":"cifar10"}}}`, "checkpointRestore message: steps must be"},
		{"no test images", `{"kind":"testImages","payload":{"start":0,"count":0}}`, "count 1..96"},
		{"too many test images", `{"kind":"testImages","payload":{"start":0,"count":97}}`, "count 1..96"},
		{"negative start", `{"kind":"testImages","payload":{"start":-1,"count":5}}`, "start -1"},
		{"pixels missing", `{"kind":"predictions","payload":{"start":0,"next":1,"total":9,"images":[{"index":0,"label":1,"pred":1,"prob":1}]}}`, "want 3072 bytes of pixels"},
		{"pixels short", `{"kind":"predictions","payload":{"start":0,"next":1,"total":9,"images":[{"index":0,"label":1,"pred":1,"prob":1}]},"files":[{"name":"p","size":3071}]}`, "want 3072 bytes"},
		{"image outside", `{"kind":"predictions","payload":{"start":0,"next":1,"total":9,"images":[{"index":1,"label":1,"pred":1,"prob":1}]},"files":[{"name":"p","size":3072}]}`, "outside 0..0"},
		{"images out of order", `{"kind":"predictions","payload":{"start":0,"next":5,"total":9,"images":[{"index":2,"label":1,"pred":1,"prob":1},{"index":2,"label":1,"pred":1,"prob":1}]},"files":[{"name":"p","size":6144}]}`, "out of order"},
		{"bad class", `{"kind":"predictions","payload":{"start":0,"next":1,"total":9,"images":[{"index":0,"label":1,"pred":100,"prob":1}]},"files":[{"name":"p","size":3072}]}`, "prediction 100"},
		{"bad probability", `{"kind":"predictions","payload":{"start":0,"next":1,"total":9,"images":[{"index":0,"label":1,"pred":1,"prob":1.5}]},"files":[{"name":"p","size":3072}]}`, "probability 1.5"},
		{"right answer as a mistake", `{"kind":"predictions","payload":{"start":0,"next":1,"total":9,"mistakes":true,"images":[{"index":0,"label":1,"pred":1,"prob":1}]},"files":[{"name":"p","size":3072}]}`, "predicted right"},
		{"classify without image", `{"kind":"classify","payload":{"name":"x.png"}}`, "classify message: want one attached image of 3072 bytes"},
		{"classify with a large image", `{"kind":"classify","payload":{"name":"x.png"},"files":[{"name":"x.png","size":4096}]}`, "want one attached image"},
		{"probabilities not adding up", `{"kind":"classified","payload":{"name":"x","probs":[0.5,0.4]}}`, "add up to"},
		{"one probability", `{"kind":"classified","payload":{"name":"x","probs":[1]}}`, "1 probabilities"},
		{"negative probability", `{"kind":"classified","payload":{"name":"x","probs":[1.5,-0.5]}}`, "probability 0 is 1.5"},
		{"bad entry", `{"kind":"checkpoint","payload":{"info":{"id":"r1/000000000001","run":"r1","step":2,"size":1,"preset":"cifar10"}}}`, "checkpoint message: checkpoint entry: id \"r1/000000000001\" does not match"},
	}
	for _, tc := range tests {
		_, err := Decode([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestEncodeRefuses checks that a message is validated before it leaves, and that a payload
// must be the registered value type of its kind.
func TestEncodeRefuses(t *testing.T) {
	s := DefaultSettings()
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"no payload", Message{Run: 1}, "message without a payload"},
		{"pointer payload", Message{Payload: &Start{Settings: s}}, "start message: payload *protocol.Start is not the registered type"},
		{"unregistered payload", Message{Payload: fake{}}, "fake message: payload protocol.fake is not the registered type"},
		{"bad settings", Message{Payload: Start{}}, `start message: preset "" is not a preset name`},
		{"negative worker", Message{Worker: -1, Payload: Eval{}}, "eval message: negative run or worker"},
	}
	for _, tc := range tests {
		if _, err := Encode(tc.m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

type fake struct{}

func (fake) Kind() Kind               { return "fake" }
func (fake) Validate([]FileRef) error { return nil }

// TestRegisterRefuses checks that a kind cannot have two payload types, nor a pointer type.
func TestRegisterRefuses(t *testing.T) {
	for _, p := range []Payload{Eval{}, &fake{}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("register(%T) did not panic", p)
				}
			}()
			register(p)
		}()
	}
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
		{func(s *Settings) { s.Workers = MaxWorkers + 1 }, "workers"},
	}
	for _, tc := range tests {
		s := DefaultSettings()
		tc.change(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error about %s", s, err, tc.want)
		}
	}
}

// TestCheckpointNames keeps the names the page shows and downloads those of the native trainer.
func TestCheckpointNames(t *testing.T) {
	c := sampleInfo("r5", 20)
	if c.Name() != "cifar10.ckpt-20" || c.FileName() != "cifar10.ckpt-20.safetensors" {
		t.Errorf("name %q, file name %q", c.Name(), c.FileName())
	}
}

func TestCheckpointIDs(t *testing.T) {
	if got := CheckpointID(RunKey(false, 1700000000123), 42); got != "r1700000000123/000000000042" {
		t.Errorf("id %q", got)
	}
	// Ids of a run sort by step as strings, which is how IndexedDB orders keys.
	if !(CheckpointID("r1", 9) < CheckpointID("r1", 10)) {
		t.Error("ids do not sort by step")
	}
	if err := sampleInfo(RunKey(true, 5), 3).Validate(); err != nil || !sampleInfo("u5", 3).Uploaded() || sampleInfo("r5", 3).Uploaded() {
		t.Errorf("upload entry: %v", err)
	}
	for _, bad := range []func(*CheckpointInfo){
		func(c *CheckpointInfo) { c.Run = "x1" },
		func(c *CheckpointInfo) { c.ID = "r1/000000000004" },
		func(c *CheckpointInfo) { c.Step = -1 },
		func(c *CheckpointInfo) { c.Size = 0 },
		func(c *CheckpointInfo) { c.Preset = "" },
	} {
		c := sampleInfo("r1", 3)
		bad(&c)
		if c.Validate() == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}

// TestMaxClasses keeps the dataset's classes inside what a prediction may carry.
func TestMaxClasses(t *testing.T) {
	if MaxClasses < cifar.NumClasses {
		t.Errorf("MaxClasses %d < the dataset's %d classes", MaxClasses, cifar.NumClasses)
	}
}
