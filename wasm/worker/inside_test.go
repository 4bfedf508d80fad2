package worker

import (
	"math"
	"slices"
	"strings"
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/summary"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// TestInspect: the filters are the run's first convolution's weights and the maps the
// engine's activations for the test image (or the picture) after evaluation's preprocessing,
// all attached as float32 buffers.
func TestInspect(t *testing.T) {
	data := testData()
	e, rec, withFiles := predictEngine(t, data)
	m := e.run.tr.Model()
	tr, err := nn.NewTrainer(m, nil, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	img := make([]float32, m.InputSize())
	picture := slices.Clone(data.Test.Image(9))
	for _, tc := range []struct {
		name   string
		msg    protocol.Message
		record []byte
		label  int
	}{
		{"test image", protocol.Message{Run: 1, Payload: protocol.InspectRequest{Filters: true, Image: 4}}, data.Test.Image(4), int(data.Test.Labels[4])},
		{"picture", protocol.Message{Run: 1, Payload: protocol.InspectRequest{Image: protocol.NoImage, Name: "cat.png"},
			Files: []protocol.FileRef{{Name: "cat.png", Size: cifar.ImageBytes}}}, picture, -1},
		{"filters only", protocol.Message{Run: 1, Payload: protocol.InspectRequest{Filters: true, Image: protocol.NoImage}}, nil, -1},
	} {
		rec.msgs, *withFiles = nil, nil
		var files [][]byte
		if tc.msg.Files != nil {
			files = [][]byte{picture}
		}
		e.Receive(wasm.Inbound{Msg: tc.msg, Files: files})
		if len(*withFiles) != 1 {
			t.Fatalf("%s: reports %+v", tc.name, rec.msgs)
		}
		got := (*withFiles)[0]
		if err := got.msg.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		p := got.msg.Payload.(protocol.Inside)
		req := tc.msg.Payload.(protocol.InspectRequest)
		if p.Step != 3 || p.Label != tc.label || p.Image != req.Image || (p.Filters != nil) != req.Filters {
			t.Errorf("%s: step %d, label %d, image %d, filters %v", tc.name, p.Step, p.Label, p.Image, p.Filters)
		}
		files = got.files
		if req.Filters {
			_, shape, tiles, _ := m.Filters()
			if p.Filters.Shape != shape || !slices.Equal(protocol.Float32s(files[0]), tiles) {
				t.Errorf("%s: filters %v differ from the model's %v", tc.name, p.Filters.Shape, shape)
			}
			files = files[1:]
		}
		if tc.record == nil {
			if len(files) != 0 || p.Layers != nil {
				t.Errorf("%s: activations without an image", tc.name)
			}
			continue
		}
		cifar.EvalPixels(img, tc.record, m.Spec().Input[0])
		want := tr.Activations(nil, img)
		if !slices.Equal(protocol.Float32s(files[0]), img) || !slices.Equal(protocol.Float32s(files[1]), want) {
			t.Errorf("%s: input or maps differ from the engine's", tc.name)
		}
		probs := tr.Probabilities(img)
		for k, pr := range p.Probs {
			if math.Abs(float64(pr-probs[k])) > 1e-6 {
				t.Errorf("%s: probability %d is %v, the engine's %v", tc.name, k, pr, probs[k])
			}
		}
		if !slices.EqualFunc(p.Layers, m.Summary(), func(a, b summary.Layer) bool { return a == b }) {
			t.Errorf("%s: layers %+v", tc.name, p.Layers)
		}
	}
	rec.msgs = nil
	e.Handle(protocol.Message{Run: 1, Payload: protocol.InspectRequest{Image: 30}})
	if errs := errorsOf(rec, protocol.WherePredict); len(errs) != 1 || !strings.Contains(errs[0], "no test image 30") {
		t.Errorf("a test image past the end: %v", rec.msgs)
	}
}

// TestPrecisionOverTime: every EvalEvery steps the run reports precision on the first
// EvalImages test images, the same as an evaluation of its weights there; 0 turns it off.
func TestPrecisionOverTime(t *testing.T) {
	data := testData()
	for _, every := range []int{2, 0} {
		e, rec := loadedEngine(t, data)
		s := settings(6, 4, 5)
		s.EvalEvery, s.EvalImages = every, 20
		e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}})
		runToEnd(e)
		var steps []int
		var last protocol.Precision
		for _, m := range rec.of(protocol.KindPrecision) {
			last = m.Payload.(protocol.Precision)
			steps = append(steps, last.Step)
		}
		if every == 0 {
			if len(steps) != 0 {
				t.Errorf("eval_every 0: precision at steps %v", steps)
			}
			continue
		}
		if !slices.Equal(steps, []int{2, 4, 6}) || last.Total != 20 {
			t.Fatalf("precision at steps %v, last %+v", steps, last)
		}
		sub := &cifar.Set{Labels: data.Test.Labels[:20], Pixels: data.Test.Pixels[:20*cifar.ImageBytes]}
		if ev := evaluateModel(t, e.run.tr.Model(), sub); ev.Correct != last.Correct {
			t.Errorf("step 6: %d correct, an evaluation of the weights says %d", last.Correct, ev.Correct)
		}
	}
}

// TestEvalCheckpoints: each stored checkpoint is evaluated on the slice, on a model of its
// own: the newest gives what the run's own evaluation at that step gave, and the run itself
// is left as it was.
func TestEvalCheckpoints(t *testing.T) {
	e, rec, st := storeEngine(t)
	s := policy(4, 4, 5, 2, 5)
	s.EvalEvery, s.EvalImages = 2, 20
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *s}})
	runToEnd(e)
	periodic := map[int]int{}
	for _, m := range rec.of(protocol.KindPrecision) {
		p := m.Payload.(protocol.Precision)
		periodic[p.Step] = p.Correct
	}
	ids := st.ids()
	if len(ids) != 2 {
		t.Fatalf("stored %v", ids)
	}
	rec.msgs = nil
	e.Handle(protocol.Message{Run: 1, Payload: protocol.EvalCheckpoints{IDs: ids, Images: 20}})
	got := rec.of(protocol.KindPrecision)
	done := rec.of(protocol.KindEvalCheckpointsDone)
	if len(got) != 2 || len(done) != 1 || done[0].Payload.(protocol.EvalCheckpointsDone).Count != 2 {
		t.Fatalf("reports %+v", rec.msgs)
	}
	for i, m := range got {
		p := m.Payload.(protocol.Precision)
		if p.Checkpoint != ids[i] || p.Total != 20 || p.Correct != periodic[p.Step] {
			t.Errorf("checkpoint %s: %+v; the run said %d correct at step %d", ids[i], p, periodic[p.Step], p.Step)
		}
	}
	if e.run.steps() != 4 {
		t.Errorf("the run moved to step %d", e.run.steps())
	}
	rec.msgs = nil
	e.Handle(protocol.Message{Run: 1, Payload: protocol.EvalCheckpoints{IDs: []string{"r1/000000000099"}, Images: 20}})
	if errs := errorsOf(rec, protocol.WhereEval); len(errs) != 1 || len(rec.of(protocol.KindEvalCheckpointsDone)) != 1 {
		t.Errorf("a missing checkpoint: %+v", rec.msgs)
	}
}

// TestTop3AndFilters: every test image comes with its three most probable classes (the
// prediction first, probabilities falling), and the class filters keep exactly the images of
// that true or predicted class.
func TestTop3AndFilters(t *testing.T) {
	data := testData()
	e, rec, _ := predictEngine(t, data)
	preds, top := referencePredictions(t, e.run.tr.Model(), data.Test)
	label, pred := int(data.Test.Labels[0]), preds[1]
	for _, f := range []protocol.Filter{{}, {Label: &label}, {Pred: &pred}, {Label: &label, Pred: &pred}} {
		rec.msgs = nil
		e.Handle(protocol.Message{Run: 1, Payload: protocol.TestImagesRequest{Start: 0, Count: 96, Filter: f}})
		got := rec.of(protocol.KindPredictions)
		if len(got) != 1 {
			t.Fatalf("filter %+v: reports %+v", f, rec.msgs)
		}
		p := got[0].Payload.(protocol.TestImages)
		var want []int
		for i := range data.Test.Len() {
			if f.Keeps(int(data.Test.Labels[i]), preds[i]) {
				want = append(want, i)
			}
		}
		var listed []int
		for _, im := range p.Images {
			listed = append(listed, im.Index)
			if len(im.Top) != 3 || im.Top[0].Class != im.Pred || math.Abs(float64(im.Top[0].Prob-top[im.Index])) > 1e-5 ||
				im.Top[1].Prob > im.Top[0].Prob || im.Top[2].Prob > im.Top[1].Prob {
				t.Errorf("filter %+v: image %d has top classes %+v", f, im.Index, im.Top)
			}
		}
		if !slices.Equal(listed, want) || !p.Filter.Same(f) || p.Next != 30 {
			t.Errorf("filter %+v: listed %v, want %v (next %d)", f, listed, want, p.Next)
		}
	}
}
