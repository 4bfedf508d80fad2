package protocol

import (
	"encoding/binary"
	"fmt"
	"math"

	"cifar10/nn/cifar"
	"cifar10/nn/summary"
)

// Inside the network: the first convolution's filters and one image's activations, layer by
// layer, for the page's views; and precision over time (periodic evaluations on a slice of
// the test set during a run, and evaluations of a run's stored checkpoints):
//
//	page:   inspect {filters, image} [+picture]   to the leader only, at most once a second
//	worker: inside {layers, probs} +filters +input +maps   or error {where: "predict"}
//	worker: precision {step, correct, total}      every Settings.EvalEvery steps of a run
//	page:   evalCheckpoints {ids, images}         to the leader only
//	worker: precision {step, checkpoint}* then evalCheckpointsDone   or error {where: "eval"}
//
// The values travel as attached buffers of little-endian float32 (Float32Bytes), never as
// JSON numbers: the maps of the tutorial model are 76,810 values.

// NoImage is InspectRequest.Image when the activations are of the attached picture, or not
// wanted (no picture attached).
const NoImage = -1

// InspectRequest asks for the filters (Filters) and the activations of test image Image, or
// of the attached 32x32 picture (Image is NoImage and one file of cifar.ImageBytes is
// attached), with the current weights.
type InspectRequest struct {
	Filters bool   `json:"filters,omitempty"`
	Image   int    `json:"image"`
	Name    string `json:"name,omitempty"` // the picture's name, echoed
}

// FilterShape describes the filters attached to Inside: the layer they belong to and their
// shape [out, kh, kw, in], one [kh, kw, in] image per output channel.
type FilterShape struct {
	Layer string `json:"layer"`
	Shape [4]int `json:"shape"`
}

// Size is the number of values.
func (f FilterShape) Size() int { return f.Shape[0] * f.Shape[1] * f.Shape[2] * f.Shape[3] }

// Inside answers an InspectRequest. Its files are, in order: "filters" when Filters is set
// (FilterShape.Size values), then, when Layers is set, "input" (the image as the network sees
// it after evaluation's preprocessing, Input's [h, w, c]) and "maps" (every layer's output
// for it, in layer order, each Layers[i].Output's [h, w, c]; the last layer's are the logits).
type Inside struct {
	Step    int          `json:"step"` // the weights' step
	Filters *FilterShape `json:"filters,omitempty"`
	Image   int          `json:"image"`          // the test image, or NoImage for the picture
	Name    string       `json:"name,omitempty"` // the picture's name
	Label   int          `json:"label"`          // the test image's true class, or -1
	Input   [3]int       `json:"input"`
	// Layers are the model's layers (name, kind, output shape).
	Layers []summary.Layer `json:"layers,omitempty"`
	// Probs are the softmax of the logits, in class order.
	Probs []float32 `json:"probs,omitempty"`
}

// Kind implements Payload.
func (InspectRequest) Kind() Kind { return KindInspect }

// Kind implements Payload.
func (Inside) Kind() Kind { return KindInside }

// Validate wants a test image index or NoImage, and at most the one picture, only with NoImage.
func (r InspectRequest) Validate(files []FileRef) error {
	switch {
	case r.Image < NoImage:
		return fmt.Errorf("image %d, want a test image's index or %d", r.Image, NoImage)
	case len(files) > 1 || (len(files) == 1 && (r.Image != NoImage || files[0].Size != cifar.ImageBytes)):
		return fmt.Errorf("image %d with attached files %+v, want at most one picture of %d bytes with image %d", r.Image, files, cifar.ImageBytes, NoImage)
	case !r.Filters && r.Image == NoImage && len(files) == 0:
		return fmt.Errorf("asks for neither filters nor an image")
	}
	return nil
}

// Validate checks that the attached buffers are the ones the description promises, of the
// sizes its shapes give.
func (p Inside) Validate(files []FileRef) error {
	var want []FileRef
	if f := p.Filters; f != nil {
		for _, d := range f.Shape {
			if d < 1 || d > 4096 {
				return fmt.Errorf("filter shape %v", f.Shape)
			}
		}
		want = append(want, FileRef{Name: FileFilters, Size: 4 * f.Size()})
	}
	if len(p.Layers) > 0 {
		maps := 0
		for _, l := range p.Layers {
			n, err := volume(l.Output)
			if err != nil {
				return fmt.Errorf("layer %q: %w", l.Name, err)
			}
			maps += n
		}
		in, err := volume(p.Input)
		if err != nil {
			return fmt.Errorf("input: %w", err)
		}
		if len(p.Probs) < 2 || len(p.Probs) > MaxClasses || len(p.Probs) != p.Layers[len(p.Layers)-1].Output[2] {
			return fmt.Errorf("%d probabilities for a last layer of %v", len(p.Probs), p.Layers[len(p.Layers)-1].Output)
		}
		for i, pr := range p.Probs {
			if !(pr >= 0 && pr <= 1) {
				return fmt.Errorf("probability %d is %v", i, pr)
			}
		}
		want = append(want, FileRef{Name: FileInput, Size: 4 * in}, FileRef{Name: FileMaps, Size: 4 * maps})
	}
	if p.Step < 0 || p.Image < NoImage || p.Label < -1 || p.Label >= MaxClasses {
		return fmt.Errorf("step %d, image %d, label %d", p.Step, p.Image, p.Label)
	}
	if len(files) != len(want) {
		return fmt.Errorf("attached files %+v, want %+v", files, want)
	}
	for i := range want {
		if files[i] != want[i] {
			return fmt.Errorf("attached files %+v, want %+v", files, want)
		}
	}
	return nil
}

// The names of Inside's attached buffers.
const (
	FileFilters = "filters"
	FileInput   = "input"
	FileMaps    = "maps"
)

// maxMapValues bounds one layer's output, so a bad shape cannot ask the page for gigabytes.
const maxMapValues = 1 << 22

// volume is h*w*c of a shape, checked.
func volume(s [3]int) (int, error) {
	for _, d := range s {
		if d < 1 || d > maxMapValues {
			return 0, fmt.Errorf("shape %v", s)
		}
	}
	n := s[0] * s[1] * s[2]
	if n > maxMapValues {
		return 0, fmt.Errorf("shape %v is more than %d values", s, maxMapValues)
	}
	return n, nil
}

// Float32Bytes appends v to dst as little-endian float32s, the layout of Inside's buffers
// (and of a JavaScript Float32Array on every browser's little-endian machine).
func Float32Bytes(dst []byte, v []float32) []byte {
	for _, x := range v {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
	}
	return dst
}

// Float32s reads a buffer written by Float32Bytes; a trailing partial value is ignored.
func Float32s(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// Precision is one point of precision over time: precision@1 of the weights after Step
// steps over the first Total test images (Settings.EvalImages), from a periodic evaluation
// during the run or, with Checkpoint, of a stored checkpoint of it.
type Precision struct {
	Step       int    `json:"step"`
	Correct    int    `json:"correct"`
	Total      int    `json:"total"`
	Checkpoint string `json:"checkpoint,omitempty"` // the checkpoint's id
}

// EvalCheckpoints asks for the precision of each stored checkpoint named by IDs over the
// first Images test images: one Precision each, then EvalCheckpointsDone.
type EvalCheckpoints struct {
	IDs    []string `json:"ids"`
	Images int      `json:"images"`
}

// EvalCheckpointsDone ends the answers to an EvalCheckpoints.
type EvalCheckpointsDone struct {
	Count int `json:"count"` // the checkpoints evaluated
}

// MaxEvalCheckpoints bounds one EvalCheckpoints request.
const MaxEvalCheckpoints = MaxKeep

// Kind implements Payload.
func (Precision) Kind() Kind { return KindPrecision }

// Kind implements Payload.
func (EvalCheckpoints) Kind() Kind { return KindEvalCheckpoints }

// Kind implements Payload.
func (EvalCheckpointsDone) Kind() Kind { return KindEvalCheckpointsDone }

// Validate wants 0 <= Correct <= Total, Total > 0.
func (p Precision) Validate([]FileRef) error {
	if p.Step < 0 || p.Total < 1 || p.Correct < 0 || p.Correct > p.Total {
		return fmt.Errorf("step %d, %d correct of %d", p.Step, p.Correct, p.Total)
	}
	return nil
}

// Validate wants 1..MaxEvalCheckpoints well-formed ids and a slice of 1..MaxEvalImages images.
func (r EvalCheckpoints) Validate([]FileRef) error {
	if len(r.IDs) < 1 || len(r.IDs) > MaxEvalCheckpoints {
		return fmt.Errorf("%d checkpoints, want 1..%d", len(r.IDs), MaxEvalCheckpoints)
	}
	for _, id := range r.IDs {
		if !idPattern.MatchString(id) {
			return fmt.Errorf("bad checkpoint id %q", id)
		}
	}
	if r.Images < 1 || r.Images > MaxEvalImages {
		return fmt.Errorf("images %d, want 1..%d", r.Images, MaxEvalImages)
	}
	return nil
}

// Validate implements Payload.
func (EvalCheckpointsDone) Validate([]FileRef) error { return nil }
