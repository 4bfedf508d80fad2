package worker

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/wasm"
)

// sent is a report posted with attached buffers.
type sent struct {
	msg   wasm.Message
	files [][]byte
}

// predictEngine returns an engine whose run trained 3 steps and is paused, and the reports
// posted with files.
func predictEngine(t *testing.T, data *cifar.Data) (*Engine, *recorder, *[]sent) {
	t.Helper()
	e, rec := loadedEngine(t, data)
	var withFiles []sent
	e.PostFiles = func(m wasm.Message, files ...[]byte) {
		rec.post(m)
		var copies [][]byte
		for _, f := range files {
			copies = append(copies, bytes.Clone(f)) // the engine reuses its buffers
		}
		withFiles = append(withFiles, sent{m, copies})
	}
	e.Handle(wasm.Message{Type: wasm.TypeStart, Run: 1, Settings: settings(50, 4, 5)})
	for range 3 {
		e.Work()
	}
	e.Handle(wasm.Message{Type: wasm.TypePause, Run: 1})
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
	preds, top := referencePredictions(t, e.run.model, data.Test)
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
		req         wasm.TestImagesRequest
		want        []int // the test images listed
		start, next int
	}{
		{"first page", wasm.TestImagesRequest{Start: 0, Count: 24}, seq(0, 24), 0, 24},
		{"last page, short", wasm.TestImagesRequest{Start: 24, Count: 24}, seq(24, 30), 24, 30},
		{"past the end", wasm.TestImagesRequest{Start: 40, Count: 5}, nil, 30, 30},
		{"one in the middle", wasm.TestImagesRequest{Start: 17, Count: 1}, []int{17}, 17, 18},
		{"first mistakes", wasm.TestImagesRequest{Start: 0, Count: 5, Mistakes: true}, mistakes[:5], 0, mistakes[4] + 1},
		{"next mistakes", wasm.TestImagesRequest{Start: mistakes[4] + 1, Count: 96, Mistakes: true}, mistakes[5:], mistakes[4] + 1, 30},
		{"every mistake", wasm.TestImagesRequest{Start: 0, Count: 96, Mistakes: true}, mistakes, 0, 30},
	}
	for _, tc := range tests {
		rec.msgs, *withFiles = nil, nil
		req := tc.req
		e.Receive(wasm.Inbound{Msg: wasm.Message{Type: wasm.TypeTestImages, Run: 1, TestImagesRequest: &req}})
		got := rec.of(wasm.TypePredictions)
		if len(got) != 1 {
			t.Fatalf("%s: reports %+v", tc.name, rec.msgs)
		}
		p := got[0].Predictions
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
	e.Handle(wasm.Message{Type: wasm.TypeEval, Run: 1})
	e.Work()
	ev := rec.of(wasm.TypeEvalResult)
	if len(ev) != 1 || ev[0].EvalResult.Total-ev[0].EvalResult.Correct != len(mistakes) {
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
	m := e.run.model
	tr, err := nn.NewTrainer(m, nil, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	img := make([]float32, m.InputSize())
	cifar.EvalImage(img, data.Test, 7, 24)
	want := append([]float32(nil), tr.Probabilities(img)...)

	classify := func(run int, name string, file []byte) wasm.Inbound {
		return wasm.Inbound{Msg: wasm.Message{Type: wasm.TypeClassify, Run: run, Classify: &wasm.ClassifyRequest{Name: name},
			Files: []wasm.FileRef{{Name: name, Size: wasm.ImageBytes}}}, Files: [][]byte{file}}
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
			errs := errorsOf(rec, wasm.WherePredict)
			if len(errs) != 1 || !strings.Contains(errs[0], tc.wantErr) || len(rec.msgs) != 1 {
				t.Errorf("%s: reports %+v, want one error about %q", tc.name, rec.msgs, tc.wantErr)
			}
			continue
		}
		got := rec.of(wasm.TypeClassified)
		if len(got) != 1 {
			t.Fatalf("%s: reports %+v", tc.name, rec.msgs)
		}
		c := got[0].Classified
		if c.Name != "seven.png" || c.Step != 3 || len(c.Probs) != cifar.NumClasses {
			t.Errorf("%s: %+v", tc.name, c)
		}
		for k := range want {
			if c.Probs[k] != want[k] {
				t.Errorf("%s: class %d probability %v, want %v (the run's model on evaluation's input)", tc.name, k, c.Probs[k], want[k])
			}
		}
	}
	if st := rec.lastState(); e.run.phase != wasm.PhasePaused || st.Phase != "" {
		t.Errorf("classifying changed the run: %s, reports %+v", e.run.phase, rec.msgs)
	}
}

// TestPredictWithoutWeights: before any run, both requests are answered with one sentence.
func TestPredictWithoutWeights(t *testing.T) {
	e, rec := loadedEngine(t, testData())
	e.Receive(wasm.Inbound{Msg: wasm.Message{Type: wasm.TypeTestImages, TestImagesRequest: &wasm.TestImagesRequest{Count: 3}}})
	e.Receive(wasm.Inbound{Msg: wasm.Message{Type: wasm.TypeClassify, Classify: &wasm.ClassifyRequest{Name: "x.png"},
		Files: []wasm.FileRef{{Name: "x.png", Size: wasm.ImageBytes}}}, Files: [][]byte{make([]byte, wasm.ImageBytes)}})
	errs := errorsOf(rec, wasm.WherePredict)
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
			e.Receive(wasm.Inbound{Msg: wasm.Message{Type: wasm.TypeTestImages, Run: 1, TestImagesRequest: &wasm.TestImagesRequest{Count: 2}}})
		}
	}
	e.Handle(wasm.Message{Type: wasm.TypeEval, Run: 1})
	e.Work()
	var order []string
	for _, m := range rec.msgs {
		if m.Type == wasm.TypeEvalResult || m.Type == wasm.TypePredictions {
			order = append(order, m.Type)
		}
	}
	if strings.Join(order, ",") != "evalResult,predictions" {
		t.Errorf("reports in the order %v, want the evaluation's result first", order)
	}
}

// TestImageBytes keeps the protocol's image size equal to a CIFAR-10 record's.
func TestImageBytes(t *testing.T) {
	if wasm.ImageBytes != cifar.ImageBytes || wasm.ImageSide != cifar.Side || wasm.MaxClasses < cifar.NumClasses {
		t.Errorf("wasm.ImageBytes %d, ImageSide %d, MaxClasses %d; cifar %d, %d, %d classes",
			wasm.ImageBytes, wasm.ImageSide, wasm.MaxClasses, cifar.ImageBytes, cifar.Side, cifar.NumClasses)
	}
}
