package worker

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/wasm"
	"cifar10/wasm/protocol"
)

// sent is a report posted with attached buffers.
type sent struct {
	msg   protocol.Message
	files [][]byte
}

// predictEngine returns an engine whose run trained 3 steps and is paused, and the reports
// posted with files.
func predictEngine(t *testing.T, data *cifar.Data) (*Engine, *recorder, *[]sent) {
	t.Helper()
	e, rec := loadedEngine(t, data)
	var withFiles []sent
	e.PostFiles = func(m protocol.Message, files ...[]byte) {
		rec.post(m)
		var copies [][]byte
		for _, f := range files {
			copies = append(copies, bytes.Clone(f)) // the engine reuses its buffers
		}
		withFiles = append(withFiles, sent{m, copies})
	}
	e.Handle(protocol.Message{Run: 1, Payload: protocol.Start{Settings: *settings(50, 4, 5)}})
	for range 3 {
		e.Work()
	}
	e.Handle(protocol.Message{Payload: protocol.Pause{}, Run: 1})
	rec.msgs = nil
	return e, rec, &withFiles
}

// referencePredictions are the run's predicted class of every test image and the softmax
// probability of that class, computed with nn directly on the run's model.
func referencePredictions(t *testing.T, m *nn.Model, test *cifar.Set) ([]int, []float32) {
	t.Helper()
	tr, err := nn.NewTrainer(m, nil, test.Len(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	images := make([]float32, test.Len()*m.InputSize())
	cifar.EvalBatch(test, 0, test.Len(), m.Spec().Input[0], images, nil)
	probs := tr.Probabilities(images)
	c := m.Classes()
	var preds []int
	var top []float32
	for i := range test.Len() {
		p := probs[i*c : (i+1)*c]
		k := nn.Argmax(p)
		preds, top = append(preds, k), append(top, p[k])
	}
	return preds, top
}

func TestPredictTestImages(t *testing.T) {
	data := testData() // 30 test images
	e, rec, withFiles := predictEngine(t, data)
	preds, top := referencePredictions(t, e.run.tr.Model(), data.Test)
	var mistakes []int
	for i, p := range preds {
		if p != int(data.Test.Labels[i]) {
			mistakes = append(mistakes, i)
		}
	}
	if len(mistakes) < 6 {
		t.Fatalf("only %d mistakes among 30 random images: the test needs more", len(mistakes))
	}
	tests := []struct {
		name        string
		req         protocol.TestImagesRequest
		want        []int // the test images listed
		start, next int
	}{
		{"first page", protocol.TestImagesRequest{Start: 0, Count: 24}, seq(0, 24), 0, 24},
		{"last page, short", protocol.TestImagesRequest{Start: 24, Count: 24}, seq(24, 30), 24, 30},
		{"past the end", protocol.TestImagesRequest{Start: 40, Count: 5}, nil, 30, 30},
		{"one in the middle", protocol.TestImagesRequest{Start: 17, Count: 1}, []int{17}, 17, 18},
		{"first mistakes", protocol.TestImagesRequest{Start: 0, Count: 5, Mistakes: true}, mistakes[:5], 0, mistakes[4] + 1},
		{"next mistakes", protocol.TestImagesRequest{Start: mistakes[4] + 1, Count: 96, Mistakes: true}, mistakes[5:], mistakes[4] + 1, 30},
		{"every mistake", protocol.TestImagesRequest{Start: 0, Count: 96, Mistakes: true}, mistakes, 0, 30},
	}
	for _, tc := range tests {
		rec.msgs, *withFiles = nil, nil
		req := tc.req
		e.Receive(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: req}})
		got := rec.of(protocol.KindPredictions)
		if len(got) != 1 {
			t.Fatalf("%s: reports %+v", tc.name, rec.msgs)
		}
		p := got[0].Payload.(protocol.TestImages)
		if p.Start != tc.start || p.Next != tc.next || p.Total != 30 || p.Step != 3 || p.Mistakes != req.Mistakes || len(p.Images) != len(tc.want) {
			t.Errorf("%s: start %d next %d total %d step %d, %d images; want start %d next %d, %d images",
				tc.name, p.Start, p.Next, p.Total, p.Step, len(p.Images), tc.start, tc.next, len(tc.want))
			continue
		}
		if len(tc.want) == 0 {
			if len(*withFiles) != 0 || len(got[0].Files) != 0 {
				t.Errorf("%s: pixels attached to an empty answer", tc.name)
			}
			continue
		}
		if len(*withFiles) != 1 || len((*withFiles)[0].files) != 1 {
			t.Fatalf("%s: the pixels were not attached: %+v", tc.name, *withFiles)
		}
		pixels := (*withFiles)[0].files[0]
		for k, im := range p.Images {
			i := tc.want[k]
			if im.Index != i || im.Label != int(data.Test.Labels[i]) || im.Pred != preds[i] || math.Abs(float64(im.Prob-top[i])) > 1e-5 {
				t.Errorf("%s: image %d is %+v, want index %d label %d pred %d prob %v", tc.name, k, im, i, data.Test.Labels[i], preds[i], top[i])
			}
			if !bytes.Equal(pixels[k*cifar.ImageBytes:(k+1)*cifar.ImageBytes], data.Test.Image(i)) {
				t.Errorf("%s: the pixels of image %d are not test image %d's", tc.name, k, i)
			}
		}
	}

	// The mistakes listed are the ones evaluation counts.
	e.Handle(protocol.Message{Payload: protocol.Eval{}, Run: 1})
	e.Work()
	ev := rec.of(protocol.KindEvalResult)
	if len(ev) != 1 || ev[0].Payload.(protocol.EvalResult).Total-ev[0].Payload.(protocol.EvalResult).Correct != len(mistakes) {
		t.Errorf("evaluation %+v, %d mistakes listed", ev, len(mistakes))
	}
}

func seq(lo, hi int) []int {
	var out []int
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func TestClassify(t *testing.T) {
	data := testData()
	e, rec, _ := predictEngine(t, data)
	m := e.run.tr.Model()
	tr, err := nn.NewTrainer(m, nil, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	img := make([]float32, m.InputSize())
	cifar.EvalImage(img, data.Test, 7, 24)
	want := append([]float32(nil), tr.Probabilities(img)...)

	classify := func(run int, name string, file []byte) wasm.Inbound {
		return wasm.Inbound{Msg: protocol.Message{Run: run, Payload: protocol.ClassifyRequest{Name: name},
			Files: []protocol.FileRef{{Name: name, Size: cifar.ImageBytes}}}, Files: [][]byte{file}}
	}
	tests := []struct {
		name    string
		in      wasm.Inbound
		wantErr string
	}{
		{"test image 7", classify(1, "seven.png", data.Test.Image(7)), ""},
		{"short file", classify(1, "short.png", make([]byte, 100)), "one 32x32 image of 3072 bytes"},
		{"two files", wasm.Inbound{Msg: classify(1, "x", nil).Msg, Files: [][]byte{data.Test.Image(1), data.Test.Image(2)}}, "one 32x32 image"},
	}
	for _, tc := range tests {
		rec.msgs = nil
		e.Receive(tc.in)
		if tc.wantErr != "" {
			errs := errorsOf(rec, protocol.WherePredict)
			if len(errs) != 1 || !strings.Contains(errs[0], tc.wantErr) || len(rec.msgs) != 1 {
				t.Errorf("%s: reports %+v, want one error about %q", tc.name, rec.msgs, tc.wantErr)
			}
			continue
		}
		got := rec.of(protocol.KindClassified)
		if len(got) != 1 {
			t.Fatalf("%s: reports %+v", tc.name, rec.msgs)
		}
		c := got[0].Payload.(protocol.Classified)
		if c.Name != "seven.png" || c.Step != 3 || len(c.Probs) != cifar.NumClasses {
			t.Errorf("%s: %+v", tc.name, c)
		}
		for k := range want {
			if c.Probs[k] != want[k] {
				t.Errorf("%s: class %d probability %v, want %v (the run's model on evaluation's input)", tc.name, k, c.Probs[k], want[k])
			}
		}
	}
	if st := rec.lastState(); e.run.phase != protocol.PhasePaused || st.Phase != "" {
		t.Errorf("classifying changed the run: %s, reports %+v", e.run.phase, rec.msgs)
	}
}

// TestPredictWithoutWeights: before any run, both requests are answered with one sentence.
func TestPredictWithoutWeights(t *testing.T) {
	e, rec := loadedEngine(t, testData())
	e.Receive(wasm.Inbound{Msg: protocol.Message{Payload: protocol.TestImagesRequest{Count: 3}}})
	e.Receive(wasm.Inbound{Msg: protocol.Message{Payload: protocol.ClassifyRequest{Name: "x.png"},
		Files: []protocol.FileRef{{Name: "x.png", Size: cifar.ImageBytes}}}, Files: [][]byte{make([]byte, cifar.ImageBytes)}})
	errs := errorsOf(rec, protocol.WherePredict)
	if len(errs) != 2 || !strings.Contains(errs[0], "no weights") || !strings.Contains(errs[1], "no weights") {
		t.Errorf("errors %q", errs)
	}
}

// TestPredictDuringEval: a request received while an evaluation runs (between two of its
// batches) is answered once the evaluation is over.
func TestPredictDuringEval(t *testing.T) {
	e, rec, _ := predictEngine(t, testData())
	yields := 0
	e.Yield = func() {
		yields++
		if yields == 1 {
			e.Receive(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.TestImagesRequest{Count: 2}}})
		}
	}
	e.Handle(protocol.Message{Payload: protocol.Eval{}, Run: 1})
	e.Work()
	var order []string
	for _, m := range rec.msgs {
		if m.Kind() == protocol.KindEvalResult || m.Kind() == protocol.KindPredictions {
			order = append(order, string(m.Kind()))
		}
	}
	if strings.Join(order, ",") != "evalResult,predictions" {
		t.Errorf("reports in the order %v, want the evaluation's result first", order)
	}
}
