package app

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"regexp"
	"strings"
	"testing"

	"cifar10/nn/summary"
	"cifar10/wasm"
	"cifar10/wasm/protocol"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// insideAnswer is an answer for test image 7 of a tiny model: 2 filters of 3x3 RGB, a 4x4x3
// input, a conv layer of 4x4x2 maps and a dense layer of 3 classes.
func insideAnswer(image int) wasm.Inbound {
	layers := []summary.Layer{{Name: "conv1", Kind: "conv", Output: [3]int{4, 4, 2}}, {Name: "out", Kind: "dense", Output: [3]int{1, 1, 3}}}
	filters, input, maps := make([]float32, 54), make([]float32, 48), make([]float32, 35)
	for i := range filters {
		filters[i] = float32(i) - 20
	}
	for i := range maps {
		maps[i] = float32(i % 7)
	}
	p := protocol.Inside{Step: 5, Image: image, Label: 1, Input: [3]int{4, 4, 3}, Layers: layers, Probs: []float32{0.2, 0.5, 0.3},
		Filters: &protocol.FilterShape{Layer: "conv1", Shape: [4]int{2, 3, 3, 3}}}
	files := [][]byte{protocol.Float32Bytes(nil, filters), protocol.Float32Bytes(nil, input), protocol.Float32Bytes(nil, maps)}
	m := protocol.Message{Run: 1, Payload: p}
	for i, n := range []string{protocol.FileFilters, protocol.FileInput, protocol.FileMaps} {
		m.Files = append(m.Files, protocol.FileRef{Name: n, Size: len(files[i])})
	}
	return wasm.Inbound{Msg: m, Files: files}
}

// TestStoreInside: the views ask only when open, with weights and nothing asked already; an
// answer is drawn (digests of the values, tiles per channel, bars for dense layers); an
// answer for an image no longer looked at keeps only its filters.
func TestStoreInside(t *testing.T) {
	s := readyStore(t, protocol.DefaultSettings(), false)
	if _, _, ok := s.ShowInside(true); ok {
		t.Error("asked without weights")
	}
	s.StartRun()
	s.Apply(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.RunState{Phase: protocol.PhaseRunning}}})
	m, pic, ok := s.LookAt(7)
	if !ok || pic != nil || m.Payload.(protocol.InspectRequest) != (protocol.InspectRequest{Filters: true, Image: 7}) {
		t.Fatalf("look at 7: %+v %v", m, ok)
	}
	if _, _, again := s.Inspect(); again {
		t.Error("asked twice before the answer")
	}
	s.Apply(insideAnswer(7))
	v := s.Inside
	if v.Pending || v.Filters == nil || v.Filters.Sheet.Count != 2 || v.Acts == nil || len(v.Acts.Layers) != 2 {
		t.Fatalf("answer not drawn: %+v", v)
	}
	conv, dense := v.Acts.Layers[0], v.Acts.Layers[1]
	if conv.Bars || conv.Sheet.Count != 2 || conv.Min != 0 || conv.Max != 6 || !dense.Bars || conv.Digest == dense.Digest {
		t.Errorf("layers %+v %+v", conv, dense)
	}
	if _, _, ok := s.Inspect(); !ok {
		t.Error("no new request after the answer")
	}
	s.LookAtPicture("cat.png", make([]byte, 3072))
	m, pic, ok = s.Inspect()
	if !ok || len(pic) != 3072 || len(m.Files) != 1 || m.Payload.(protocol.InspectRequest).Image != protocol.NoImage {
		t.Errorf("the picture's request %+v", m)
	}
	s.Apply(insideAnswer(7)) // late: the views look at the picture now
	if s.Inside.Acts.Image != 7 || s.Inside.Pending {
		t.Errorf("a late answer: %+v", s.Inside.Acts)
	}
	s.ShowInside(false)
	if _, _, ok := s.Inspect(); ok {
		t.Error("asked while closed")
	}
	s.StartRun()
	if s.Inside.Acts != nil || s.Inside.Filters != nil || s.Inside.Image != protocol.NoImage {
		t.Errorf("a new run keeps the old weights' views or loses the choice: %+v", s.Inside)
	}
}

// TestStorePrecision: periodic points and checkpoint points are kept apart, by step, a repeated
// step replaced; Evaluate all checkpoints asks for the current run's, oldest first.
func TestStorePrecision(t *testing.T) {
	s := pausedStore(t)
	for _, p := range []protocol.Precision{{Step: 200, Correct: 3, Total: 10}, {Step: 100, Correct: 2, Total: 10}, {Step: 200, Correct: 4, Total: 10},
		{Step: 10, Correct: 1, Total: 10, Checkpoint: "r5/000000000010"}} {
		s.Apply(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: p}})
	}
	if v := s.Inside; len(v.Points) != 2 || v.Points[0].Step != 100 || v.Points[1].Correct != 4 || len(v.Ckpts) != 1 {
		t.Errorf("points %+v, checkpoints %+v", v.Points, v.Ckpts)
	}
	if _, ok := s.EvalCheckpoints(); ok {
		t.Error("asked without checkpoints")
	}
	for _, step := range []int64{10, 20} {
		info := protocol.CheckpointInfo{ID: protocol.CheckpointID("r5", step), Run: "r5", Step: step, Preset: "cifar10"}
		s.Apply(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.CheckpointSaved{Info: info}}})
	}
	other := protocol.CheckpointInfo{ID: protocol.CheckpointID("r9", 30), Run: "r9", Step: 30, Preset: "cifar10"}
	s.Apply(wasm.Inbound{Msg: protocol.Message{Run: 7, Payload: protocol.CheckpointSaved{Info: other}}}) // another run's
	s.Checkpoints.List = append(s.Checkpoints.List, other)
	m, ok := s.EvalCheckpoints()
	req, _ := m.Payload.(protocol.EvalCheckpoints)
	if !ok || strings.Join(req.IDs, ",") != "r5/000000000010,r5/000000000020" || req.Images != 1000 || len(s.Inside.Ckpts) != 0 {
		t.Errorf("request %+v (%v)", req, ok)
	}
	if _, again := s.EvalCheckpoints(); again {
		t.Error("asked again while running")
	}
	s.Apply(wasm.Inbound{Msg: protocol.Message{Run: 1, Payload: protocol.EvalCheckpointsDone{Count: 2}}})
	if s.Inside.CkptsRunning {
		t.Error("still running after done")
	}
}

// TestInsideRender: the ids and counts automation reads.
func TestInsideRender(t *testing.T) {
	s := pausedStore(t)
	s.ShowInside(true)
	s.Apply(insideAnswer(protocol.NoImage + 1))
	html := app.HTMLString(&InsidePanel{View: s.Inside, ClassNames: []string{"a", "b", "c"}, CanPredict: true})
	for _, want := range []string{`id="filters"`, `data-count="2"`, `id="activations"`, `data-layer="conv1"`, `data-channels="2"`, "scaled on its own"} {
		if !strings.Contains(html, want) {
			t.Errorf("no %s in %s", want, html)
		}
	}
	if n := len(regexp.MustCompile(`class="filter-tile"`).FindAllString(html, -1)); n != 2 {
		t.Errorf("%d filter tiles", n)
	}
	if n := len(regexp.MustCompile(`class="act-tile"`).FindAllString(html, -1)); n != 2 {
		t.Errorf("%d map tiles", n)
	}
	chart := app.HTMLString(&PrecisionChart{View: InsideView{Points: []protocol.Precision{{Step: 100, Correct: 1, Total: 4}}}, Steps: 1000, Every: 100, Images: 4})
	if !strings.Contains(chart, `data-points="1"`) || !strings.Contains(chart, `data-last="0.2500"`) {
		t.Errorf("chart %s", chart)
	}
}

// TestSheets: tiles sit one pixel apart; a filter is scaled on its own (its smallest weight
// black, its largest full colour); maps share the layer's scale.
func TestSheets(t *testing.T) {
	tiles := make([]float32, 2*2*2*3)
	for i := range 12 {
		tiles[i] = float32(i) // filter 0: 0..11
	}
	for i := 12; i < 24; i++ {
		tiles[i] = float32(i) * 100 // filter 1: much larger weights
	}
	src, sh := FiltersSheet([4]int{2, 2, 2, 3}, tiles)
	img := decodeURL(t, src)
	if w, h := sh.Size(); img.Bounds().Dx() != w || img.Bounds().Dy() != h || w != 5 || h != 2 {
		t.Fatalf("sheet %dx%d, image %v", w, h, img.Bounds())
	}
	for _, o := range []int{0, 1} {
		x0, _ := sh.origin(o)
		r, _, _, _ := img.At(x0, 0).RGBA()
		_, _, b, _ := img.At(x0+1, 1).RGBA()
		if r != 0 || b>>8 != 255 {
			t.Errorf("filter %d: first weight %d, last %d; want black and full", o, r>>8, b>>8)
		}
	}
	maps := []float32{0, 10, 5, 10}
	msrc, ms := MapsSheet([3]int{1, 2, 2}, maps)
	m := decodeURL(t, msrc)
	x1, _ := ms.origin(1)
	// [h=1, w=2, c=2], HWC: channel 0 is 0, 5; channel 1 is 10, 10; one scale, 0..10.
	var got []uint32
	for _, x := range []int{0, 1, x1, x1 + 1} {
		g, _, _, _ := m.At(x, 0).RGBA()
		got = append(got, g>>8)
	}
	if got[0] != 0 || got[1] != 128 || got[2] != 255 || got[3] != 255 {
		t.Errorf("maps drawn %v, want 0 128 255 255 on the layer's one scale", got)
	}
}

func decodeURL(t *testing.T, src string) image.Image {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(src, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
