package app

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"cifar10/nn/cifar"
	"cifar10/wasm"
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pixel returns a record's (r, g, b) at x, y.
func pixel(rec []byte, x, y int) [3]byte {
	const side = cifar.Side
	i := y*side + x
	return [3]byte{rec[i], rec[side*side+i], rec[2*side*side+i]}
}

func TestPictureRecord(t *testing.T) {
	// A wide picture: a blue central square between red bands, which the crop removes.
	wide := image.NewNRGBA(image.Rect(0, 0, 96, 64))
	for y := range 64 {
		for x := range 96 {
			c := color.NRGBA{200, 0, 0, 255}
			if x >= 16 && x < 80 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			wide.SetNRGBA(x, y, c)
		}
	}
	// A tall picture, black above and below a white square whose left half is grey.
	tall := image.NewGray(image.Rect(0, 0, 64, 128))
	for y := 32; y < 96; y++ {
		for x := range 64 {
			tall.SetGray(x, y, color.Gray{255 - 127*uint8(1-x/32)})
		}
	}
	var jpg bytes.Buffer
	green := image.NewRGBA(image.Rect(0, 0, 40, 40))
	for i := range green.Pix {
		if i%4 == 1 || i%4 == 3 {
			green.Pix[i] = 255
		}
	}
	if err := jpeg.Encode(&jpg, green, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	tiny := image.NewNRGBA(image.Rect(0, 0, 2, 2)) // enlarged; transparent becomes white
	tiny.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})

	tests := []struct {
		name  string
		data  []byte
		check func(rec []byte) bool
		err   string
	}{
		{"wide.png", encodePNG(t, wide), func(rec []byte) bool {
			return pixel(rec, 0, 0) == [3]byte{0, 0, 255} && pixel(rec, 31, 31) == [3]byte{0, 0, 255}
		}, ""},
		{"tall.png", encodePNG(t, tall), func(rec []byte) bool {
			return pixel(rec, 0, 0) == [3]byte{128, 128, 128} && pixel(rec, 31, 0) == [3]byte{255, 255, 255} && pixel(rec, 15, 31) == [3]byte{128, 128, 128}
		}, ""},
		{"green.jpg", jpg.Bytes(), func(rec []byte) bool {
			p := pixel(rec, 16, 16)
			return p[0] < 10 && p[1] > 245 && p[2] < 10
		}, ""},
		{"tiny.png", encodePNG(t, tiny), func(rec []byte) bool {
			return pixel(rec, 0, 0) == [3]byte{255, 0, 0} && pixel(rec, 15, 15) == [3]byte{255, 0, 0} &&
				pixel(rec, 16, 0) == [3]byte{255, 255, 255} && pixel(rec, 31, 31) == [3]byte{255, 255, 255}
		}, ""},
		{"notes.txt", []byte("these are not pixels\n"), nil, "the file notes.txt is not a PNG or JPEG image"},
		{"cut.png", truncated(encodePNG(t, wide)), nil, "the picture cut.png could not be decoded"},
	}
	for _, tc := range tests {
		rec, err := PictureRecord(tc.name, tc.data)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || len(rec) != cifar.ImageBytes {
			t.Errorf("%s: %d bytes, %v", tc.name, len(rec), err)
			continue
		}
		if !tc.check(rec) {
			t.Errorf("%s: corners %v %v %v, centre %v", tc.name, pixel(rec, 0, 0), pixel(rec, 31, 0), pixel(rec, 31, 31), pixel(rec, 16, 16))
		}
	}
}

func TestRecordPNG(t *testing.T) {
	rec := make([]byte, cifar.ImageBytes)
	for i := range rec {
		rec[i] = byte(i * 7)
	}
	url := RecordPNG(rec)
	data, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, "data:image/png;base64,"))
	if err != nil || !strings.HasPrefix(url, "data:image/png;base64,") {
		t.Fatalf("%.40s: %v", url, err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	back, err := PictureRecord("back.png", encodePNG(t, img))
	if err != nil || !bytes.Equal(back, rec) {
		t.Errorf("the record did not survive the PNG (%v)", err)
	}
	if RecordPNG(rec[:10]) != "" {
		t.Error("a short record was drawn")
	}
}

func TestRanked(t *testing.T) {
	if got := Ranked([]float32{0.1, 0.5, 0.1, 0.3}); !slices.Equal(got, []int{1, 3, 0, 2}) {
		t.Errorf("got %v", got)
	}
}

// pausedStore is a store with the dataset loaded and a paused run.
func pausedStore(t *testing.T) *Store {
	s := readyStore(t, protocol.DefaultSettings(), false)
	s.StartRun()
	s.Apply(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.RunState{Phase: protocol.PhasePaused, Step: 5}}})
	return s
}

// page is the worker's answer with images at the given indices, labels and predictions.
func page(start, next int, mistakes bool, idx, labels, preds []int) wasm.Inbound {
	t := &protocol.TestImages{Step: 5, Start: start, Next: next, Total: 100, Mistakes: mistakes}
	for i := range idx {
		t.Images = append(t.Images, protocol.TestImage{Index: idx[i], Label: labels[i], Pred: preds[i], Prob: 0.5})
	}
	m := protocol.Message{Run: 1, Payload: *t,
		Files: []protocol.FileRef{{Name: "pixels", Size: len(idx) * cifar.ImageBytes}}}
	return wasm.Inbound{Msg: m, Files: [][]byte{make([]byte, len(idx)*cifar.ImageBytes)}}
}

func TestStorePredictions(t *testing.T) {
	s := NewStore(protocol.DefaultSettings(), false, nil)
	if ok, why := s.CanPredict(); ok || why == "" {
		t.Errorf("a store without weights can predict (%q)", why)
	}
	s = pausedStore(t)
	if ok, why := s.CanPredict(); !ok {
		t.Fatalf("a paused run cannot predict: %s", why)
	}
	// An evaluation's result asks for the first page of test images.
	reply := s.Apply(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.EvalResult{Step: 5, Correct: 1, Total: 100}}})
	if reply == nil || reply.Payload != (protocol.TestImagesRequest{Start: 0, Count: TestImagesPage}) || !s.Predict.Loading {
		t.Fatalf("after an evaluation the store asks %+v", reply)
	}
	s.Apply(page(0, 3, false, []int{0, 1, 2}, []int{0, 1, 2}, []int{0, 2, 2}))
	p := s.Predict
	if p.Loading || len(p.Tiles) != 3 || p.Mistaken() != 1 || !strings.HasPrefix(p.Tiles[0].Src, "data:image/png;base64,") || p.Page.Next != 3 {
		t.Fatalf("after the answer: %+v", p)
	}
	// Next remembers the page for Previous; the mistakes toggle starts over.
	next := s.RequestTestImages(p.Page.Next, false, true)
	if next.Payload.(protocol.TestImagesRequest).Start != 3 || !slices.Equal(s.Predict.Back, []int{0}) {
		t.Errorf("next %+v, back %v", next.Payload, s.Predict.Back)
	}
	s.Apply(page(3, 6, false, []int{3, 4, 5}, []int{0, 0, 0}, []int{0, 0, 0}))
	prev, ok := s.PreviousTestImages()
	if !ok || prev.Payload.(protocol.TestImagesRequest).Start != 0 || len(s.Predict.Back) != 0 {
		t.Errorf("previous %+v %v, back %v", prev.Payload, ok, s.Predict.Back)
	}
	if _, ok := s.PreviousTestImages(); ok {
		t.Error("previous from the first page")
	}
	s.Apply(page(0, 3, false, []int{0, 1, 2}, []int{0, 1, 2}, []int{0, 2, 2}))
	s.RequestTestImages(3, false, true)
	m := s.RequestTestImages(0, true, false)
	if !m.Payload.(protocol.TestImagesRequest).Mistakes || len(s.Predict.Back) != 0 || !s.Predict.Mistakes {
		t.Errorf("mistakes only: %+v, back %v", m.Payload, s.Predict.Back)
	}
	s.Apply(page(0, 3, false, []int{0}, []int{0}, []int{0})) // answers the request before the toggle
	if s.Predict.Page.Mistakes {
		t.Error("a page of all images was shown as mistakes")
	}
	s.Apply(page(0, 40, true, []int{1, 7}, []int{1, 2}, []int{2, 0}))
	if !s.Predict.Page.Mistakes || s.Predict.Mistaken() != 2 {
		t.Errorf("mistakes page %+v", s.Predict)
	}
	// A failed request ends the wait.
	s.RequestTestImages(40, true, true)
	s.Apply(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.Failure{Where: protocol.WherePredict, Message: "no"}}})
	if s.Predict.Loading {
		t.Error("still loading after an error")
	}

	// One's own picture: a file that is not one changes nothing but the message.
	rec := make([]byte, cifar.ImageBytes)
	s.SetPicture("cat.png", rec, nil)
	msg := s.ClassifyPicture("cat.png", rec)
	if err := msg.Validate(); err != nil || !s.Predict.Classify.Busy {
		t.Fatalf("classify message %+v: %v", msg, err)
	}
	s.Apply(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.Classified{Name: "cat.png", Step: 5, Probs: []float32{0.2, 0.7, 0.1}}}})
	c := s.Predict.Classify
	if c.Busy || c.Result == nil || c.Result.Probs[1] != 0.7 {
		t.Fatalf("classified: %+v", c)
	}
	_, err := PictureRecord("notes.txt", []byte("hello"))
	s.SetPicture("notes.txt", nil, err)
	c = s.Predict.Classify
	if c.Problem != "The file notes.txt is not a PNG or JPEG image, so it was not classified." || c.Result == nil || c.Name != "cat.png" {
		t.Errorf("after a text file: %+v", c)
	}
	// A new run drops the old weights' predictions.
	s.Run.Phase = protocol.PhaseStopped
	s.StartRun()
	if s.Predict.Page != nil || s.Predict.Classify.Result != nil || !s.Predict.Mistakes {
		t.Errorf("after a new run: %+v", s.Predict)
	}
}

func TestConfusionRender(t *testing.T) {
	conf := [][]int{{5, 1, 0}, {2, 3, 1}, {0, 0, 8}}
	r := &protocol.EvalResult{Step: 5, Correct: 16, Total: 20, Precision: 0.8, Confusion: conf}
	html := app.HTMLString(&EvalPanel{Eval: EvalView{Result: r}, CanEval: true, ClassNames: []string{"cat", "dog", "ship"}})
	if !strings.Contains(html, `id="`+EvalConfusionID+`"`) {
		t.Fatalf("no confusion matrix in %s", html)
	}
	var cells []string
	for _, td := range regexp.MustCompile(`<td[^>]*>`).FindAllString(html, -1) {
		if strings.Contains(td, "cm-cell") {
			cells = append(cells, td)
		}
	}
	if len(cells) != 9 {
		t.Errorf("%d cells, want 9", len(cells))
	}
	for i, row := range conf {
		for j, n := range row {
			found := false
			for _, c := range cells {
				if strings.Contains(c, `data-true="`+strconv.Itoa(i)+`"`) && strings.Contains(c, `data-pred="`+strconv.Itoa(j)+`"`) && strings.Contains(c, `data-count="`+strconv.Itoa(n)+`"`) {
					found = true
				}
			}
			if !found {
				t.Errorf("no cell for true %d predicted %d with %d", i, j, n)
			}
		}
	}
	for _, name := range []string{">cat<", ">dog<", ">ship<", "cm-diag", "--share:0.833"} {
		if !strings.Contains(html, name) {
			t.Errorf("the matrix lacks %q", name)
		}
	}
}

func TestPredictPanelsRender(t *testing.T) {
	s := pausedStore(t)
	s.RequestTestImages(0, false, false)
	s.Apply(page(0, 3, false, []int{0, 1, 2}, []int{0, 1, 2}, []int{0, 2, 2}))
	html := app.HTMLString(&TestImagesPanel{View: s.Predict, ClassNames: []string{"a", "b", "c"}, CanPredict: true})
	tiles := regexp.MustCompile(`<figure[^>]*>`).FindAllString(html, -1)
	if len(tiles) != 3 || !strings.Contains(tiles[1], `data-label="1"`) || !strings.Contains(tiles[1], `data-pred="2"`) || !strings.Contains(tiles[1], "mistake") {
		t.Errorf("tiles %q", tiles)
	}
	if !strings.Contains(html, `data-mistakes="1"`) || !strings.Contains(html, "1 of 3 shown are mistakes") {
		t.Errorf("the grid does not count its mistake: %s", html)
	}
	if disabled(button(t, html, TestImagesNextID)) || !disabled(button(t, html, TestImagesPrevID)) {
		t.Error("Next should be enabled and Previous disabled on the first page")
	}

	none := app.HTMLString(&ClassifyPanel{CanPredict: false, Why: "train a few steps first"})
	input := regexp.MustCompile(`<input[^>]*id="` + ClassifyUploadID + `"[^>]*>`).FindString(none)
	if !disabled(input) || !strings.Contains(none, "Train a few steps first.") {
		t.Errorf("without weights: %s", none)
	}
	res := &protocol.Classified{Name: "cat.png", Step: 5, Probs: []float32{0.2, 0.7, 0.1}}
	html = app.HTMLString(&ClassifyPanel{View: ClassifyView{Name: "cat.png", Src: "data:x", Result: res}, ClassNames: []string{"a", "b", "c"}, CanPredict: true})
	table := regexp.MustCompile(`<table[^>]*id="` + ClassifyResultID + `"[^>]*>`).FindString(html)
	rows := regexp.MustCompile(`<tr[^>]*class="classify-row"[^>]*>`).FindAllString(html, -1)
	if !strings.Contains(table, `data-class="1"`) || len(rows) != 3 || !strings.Contains(rows[0], `data-class="1"`) || !strings.Contains(rows[2], `data-class="2"`) {
		t.Errorf("result table %q, rows %q", table, rows)
	}
}

// truncated is the first half of a file.
func truncated(b []byte) []byte { return b[:len(b)/2] }
