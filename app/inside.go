package app

import (
	"slices"

	"cifar10/nn/summary"
	"cifar10/wasm/protocol"
)

// Inside the network: the first convolution's filters and one image's activations, layer by
// layer, drawn from the leader's weights (at most once a second while training, on request
// otherwise), and precision over time. The worker sends the values as float32 buffers
// (wasm/protocol/inside.go); the store draws them into sprite sheets (insidedraw.go).

// InsideInterval is the least time between two looks inside while training, in milliseconds:
// the page asks again this long after each answer, so the leader spends one forward pass of
// one image a second on the views.
const InsideInterval = 1000

// InsideView is the Store's part for the views inside the network and precision over time.
type InsideView struct {
	// Open says the views are shown (and, while training, kept up to date).
	Open bool
	// Image is the test image looked at, or protocol.NoImage for one's own picture.
	Image       int
	Picture     []byte // one's own picture, a 32x32 record, when Image is NoImage
	PictureName string
	Pending     bool // an inspect request is out
	Filters     *FiltersDrawn
	Acts        *ActsDrawn
	// Points are the run's periodic evaluations on the test slice, by step; Ckpts the
	// evaluations of its stored checkpoints.
	Points, Ckpts []protocol.Precision
	CkptsRunning  bool
	// RunKey is where the current run's checkpoints are stored ("" until one is).
	RunKey string
}

// FiltersDrawn is the filters view: one tile per filter in a sprite sheet.
type FiltersDrawn struct {
	Layer  string
	Step   int
	Shape  [4]int
	Sheet  sheet
	Src    string
	Digest string // summary.Digest of the values, for tests
}

// ActsDrawn is the activations view of one image.
type ActsDrawn struct {
	Step, Image, Label int
	Name               string
	Input              string // the image as the network sees it (PNG)
	InputShape         [3]int
	InputDigest        string
	Layers             []LayerDrawn
	Probs              []float32
}

// LayerDrawn is one layer's maps (conv, pooling, normalisation: a sheet of tiles) or units
// (dense: bars).
type LayerDrawn struct {
	summary.Layer
	Bars     bool
	Sheet    sheet
	Src      string
	Min, Max float32
	Digest   string
}

// ShowInside opens or closes the views; opening asks for them at once when there are weights.
func (s *Store) ShowInside(open bool) (protocol.Message, []byte, bool) {
	s.Inside.Open = open
	if !open {
		return protocol.Message{}, nil, false
	}
	return s.Inspect()
}

// LookAt chooses the test image whose activations the views show, and asks for them.
func (s *Store) LookAt(image int) (protocol.Message, []byte, bool) {
	v := &s.Inside
	v.Image, v.Picture, v.PictureName = image, nil, ""
	v.Pending = false // a new question: the answer to an older one is not waited for
	return s.Inspect()
}

// LookAtPicture makes one's own picture (a 32x32 record) the image the views show.
func (s *Store) LookAtPicture(name string, record []byte) {
	v := &s.Inside
	v.Image, v.Picture, v.PictureName = protocol.NoImage, record, name
	v.Pending = false
}

// Inspect is the request for the views with the current weights, and the picture to attach
// (nil for a test image); ok is false when the views are closed, a request is out already,
// or there are no weights.
func (s *Store) Inspect() (m protocol.Message, picture []byte, ok bool) {
	v := &s.Inside
	if can, _ := s.CanPredict(); !can || !v.Open || v.Pending {
		return protocol.Message{}, nil, false
	}
	req := protocol.InspectRequest{Filters: true, Image: v.Image}
	m = protocol.Message{Run: s.Run.ID, Payload: req}
	if v.Image == protocol.NoImage && v.Picture != nil {
		req.Name = v.PictureName
		m.Payload = req
		m.Files = []protocol.FileRef{{Name: v.PictureName, Size: len(v.Picture)}}
		picture = v.Picture
	}
	v.Pending = true
	return m, picture, true
}

// inside draws the worker's answer; files are its buffers in the order Inside names them.
func (s *Store) inside(p protocol.Inside, files [][]byte) {
	v := &s.Inside
	v.Pending = false
	if p.Filters != nil && len(files) > 0 {
		tiles := protocol.Float32s(files[0])
		files = files[1:]
		src, sh := FiltersSheet(p.Filters.Shape, tiles)
		v.Filters = &FiltersDrawn{Layer: p.Filters.Layer, Step: p.Step, Shape: p.Filters.Shape, Sheet: sh, Src: src, Digest: summary.Digest(tiles)}
	}
	if len(p.Layers) == 0 || len(files) != 2 || p.Image != v.Image {
		return // filters only, or the answer for an image no longer looked at
	}
	input, maps := protocol.Float32s(files[0]), protocol.Float32s(files[1])
	a := &ActsDrawn{Step: p.Step, Image: p.Image, Label: p.Label, Name: p.Name, InputShape: p.Input,
		Input: InputImage(p.Input, input), InputDigest: summary.Digest(input), Probs: p.Probs}
	for _, l := range p.Layers {
		n := l.Output[0] * l.Output[1] * l.Output[2]
		vals := maps[:n]
		maps = maps[n:]
		d := LayerDrawn{Layer: l, Digest: summary.Digest(vals)}
		d.Min, d.Max = rangeOf(vals)
		if l.Output[0] == 1 && l.Output[1] == 1 {
			d.Bars, d.Src = true, BarsImage(vals)
		} else {
			d.Src, d.Sheet = MapsSheet(l.Output, vals)
		}
		a.Layers = append(a.Layers, d)
	}
	v.Acts = a
}

// precision adds a point of precision over time: the run's, or one of its checkpoints'.
func (s *Store) precision(p protocol.Precision) {
	v := &s.Inside
	list := &v.Points
	if p.Checkpoint != "" {
		list = &v.Ckpts
	}
	*list = slices.DeleteFunc(slices.Clone(*list), func(q protocol.Precision) bool { return q.Step == p.Step })
	*list = append(*list, p)
	slices.SortFunc(*list, func(a, b protocol.Precision) int { return a.Step - b.Step })
}

// EvalCheckpoints is the request for the precision of every stored checkpoint of the current
// run (of the newest checkpoint's run when the current one stored none) on the test slice.
func (s *Store) EvalCheckpoints() (protocol.Message, bool) {
	v := &s.Inside
	key := v.RunKey
	if latest, ok := s.Checkpoints.Latest(); key == "" && ok {
		key = latest.Run
	}
	var ids []string
	for _, c := range s.Checkpoints.List {
		if c.Run == key {
			ids = append(ids, c.ID)
		}
	}
	images := s.Run.Settings.EvalImages
	if images == 0 {
		images = s.Settings.EvalImages
	}
	if len(ids) == 0 || images == 0 || v.CkptsRunning || !s.Worker.Ready || s.Dataset.Phase != DatasetReady {
		return protocol.Message{}, false
	}
	if len(ids) > protocol.MaxEvalCheckpoints {
		ids = ids[:protocol.MaxEvalCheckpoints]
	}
	slices.Reverse(ids) // oldest first: the chart fills from the left
	v.CkptsRunning, v.Ckpts = true, nil
	return protocol.Message{Run: s.Run.ID, Payload: protocol.EvalCheckpoints{IDs: ids, Images: images}}, true
}

// resetInside drops what belonged to the weights of an earlier run, keeping the views' choice.
func (s *Store) resetInside() {
	v := &s.Inside
	*v = InsideView{Open: v.Open, Image: v.Image, Picture: v.Picture, PictureName: v.PictureName}
}
