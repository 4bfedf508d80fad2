package protocol

import (
	"fmt"
	"math"

	"cifar10/nn/cifar"
)

// Predictions: the evaluation view's test images with their predicted and true labels, and
// "classify my own image" (the article's last step). The worker holds the dataset and the
// weights, so the page asks it and draws what it answers:
//
//	page:   testImages {start, count, mistakes}   to the leader only
//	worker: predictions {images} +pixels          or error {where: "predict"}
//	page:   classify {name} +image (3,072 bytes)  to the leader only
//	worker: classified {probabilities}            or error {where: "predict"}
//
// Pixels travel as attached buffers in a CIFAR-10 record's layout without the label
// (cifar.ImageBytes: 1,024 R, 1,024 G, 1,024 B bytes, 32x32 row-major), never through JSON.
const (
	// MaxTestImages bounds a testImages request, so one answer stays small (96 images: 288 KB).
	MaxTestImages = 96
	// MaxClasses bounds the classes a model may predict (CIFAR-10 has 10; CIFAR-100 100).
	MaxClasses = 100
)

// TestImagesRequest asks for the predictions of Count test images from index Start, or, with
// Mistakes, of the first Count misclassified test images from Start on; Label and Pred, when
// set, keep only the test images of that true class, or predicted as that class.
type TestImagesRequest struct {
	Start    int  `json:"start"`
	Count    int  `json:"count"`
	Mistakes bool `json:"mistakes,omitempty"`
	Filter
}

// Filter keeps the test images of one true class (Label) and or one predicted class (Pred);
// nil keeps every class.
type Filter struct {
	Label *int `json:"label,omitempty"`
	Pred  *int `json:"pred,omitempty"`
}

// Keeps reports whether a test image of true class label predicted as pred passes the filter.
func (f Filter) Keeps(label, pred int) bool {
	return (f.Label == nil || *f.Label == label) && (f.Pred == nil || *f.Pred == pred)
}

// Same reports whether two filters keep the same classes.
func (f Filter) Same(g Filter) bool {
	eq := func(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return eq(f.Label, g.Label) && eq(f.Pred, g.Pred)
}

// Any reports whether the filter keeps every image.
func (f Filter) Any() bool { return f.Label == nil && f.Pred == nil }

func (f Filter) validate() error {
	for _, k := range []*int{f.Label, f.Pred} {
		if k != nil && (*k < 0 || *k >= MaxClasses) {
			return fmt.Errorf("filter class %d outside 0..%d", *k, MaxClasses-1)
		}
	}
	return nil
}

// TestImages answers a TestImagesRequest. The attached buffer holds the images' pixels, one
// record (cifar.ImageBytes) after the other in the order of Images; there is none when Images
// is empty (Start was past the end, or no mistake was left).
type TestImages struct {
	Step     int  `json:"step"` // the weights' step
	Start    int  `json:"start"`
	Mistakes bool `json:"mistakes,omitempty"`
	Filter
	// Next is the index after the last test image looked at: where the next page starts.
	Next int `json:"next"`
	// Total is the number of test images.
	Total  int         `json:"total"`
	Images []TestImage `json:"images"`
}

// TestImage is one test image's labels.
type TestImage struct {
	Index int `json:"index"` // in the test set
	Label int `json:"label"` // the true class
	Pred  int `json:"pred"`  // the predicted class: the first largest logit, as evaluation counts
	// Prob is the softmax probability of the predicted class.
	Prob float32 `json:"prob"`
	// Top are the three most probable classes, the most probable (Pred) first.
	Top []ClassProb `json:"top,omitempty"`
}

// ClassProb is a class with its softmax probability.
type ClassProb struct {
	Class int     `json:"class"`
	Prob  float32 `json:"prob"`
}

// TopClasses is how many classes TestImage.Top lists.
const TopClasses = 3

// ClassifyRequest sends one picture, already made 32x32 by the page, to be classified. The
// image is the message's one attached buffer of cifar.ImageBytes.
type ClassifyRequest struct {
	Name string `json:"name"` // the file's name on disk, echoed in the answer
}

// Classified is the model's answer for a ClassifyRequest: the softmax probability of each
// class, in class order.
type Classified struct {
	Name  string    `json:"name"`
	Step  int       `json:"step"` // the weights' step
	Probs []float32 `json:"probs"`
}

// Kind implements Payload.
func (TestImagesRequest) Kind() Kind { return KindTestImages }

// Kind implements Payload.
func (ClassifyRequest) Kind() Kind { return KindClassify }

// Kind implements Payload.
func (TestImages) Kind() Kind { return KindPredictions }

// Kind implements Payload.
func (Classified) Kind() Kind { return KindClassified }

// Validate keeps a request inside MaxTestImages.
func (r TestImagesRequest) Validate([]FileRef) error {
	if r.Start < 0 || r.Count < 1 || r.Count > MaxTestImages {
		return fmt.Errorf("start %d and count %d, want start >= 0 and count 1..%d", r.Start, r.Count, MaxTestImages)
	}
	return r.Filter.validate()
}

// Validate wants one attached image of cifar.ImageBytes.
func (ClassifyRequest) Validate(files []FileRef) error {
	if len(files) != 1 || files[0].Size != cifar.ImageBytes {
		return fmt.Errorf("want one attached image of %d bytes, have %+v", cifar.ImageBytes, files)
	}
	return nil
}

// Validate checks that the images are in order inside Start..Next-1, their labels and
// probabilities in range, and the attached pixels exactly theirs.
func (p TestImages) Validate(files []FileRef) error {
	n := len(p.Images)
	if p.Start < 0 || p.Next < p.Start || p.Total < 0 || p.Step < 0 || n > MaxTestImages || p.Next-p.Start < n {
		return fmt.Errorf("start %d, next %d, total %d, %d images", p.Start, p.Next, p.Total, n)
	}
	last := p.Start - 1
	for _, im := range p.Images {
		switch {
		case im.Index <= last || im.Index >= p.Next:
			return fmt.Errorf("image %d out of order or outside %d..%d", im.Index, p.Start, p.Next-1)
		case im.Label < 0 || im.Label >= MaxClasses || im.Pred < 0 || im.Pred >= MaxClasses:
			return fmt.Errorf("image %d has label %d and prediction %d", im.Index, im.Label, im.Pred)
		case !(im.Prob >= 0 && im.Prob <= 1):
			return fmt.Errorf("image %d has probability %v", im.Index, im.Prob)
		case p.Mistakes && im.Label == im.Pred:
			return fmt.Errorf("image %d is listed as a mistake but is predicted right", im.Index)
		case !p.Keeps(im.Label, im.Pred):
			return fmt.Errorf("image %d (class %d predicted %d) does not pass the filter", im.Index, im.Label, im.Pred)
		case len(im.Top) > TopClasses || (len(im.Top) > 0 && im.Top[0].Class != im.Pred):
			return fmt.Errorf("image %d: top classes %+v for prediction %d", im.Index, im.Top, im.Pred)
		}
		for _, c := range im.Top {
			if c.Class < 0 || c.Class >= MaxClasses || !(c.Prob >= 0 && c.Prob <= 1) {
				return fmt.Errorf("image %d: top class %+v", im.Index, c)
			}
		}
		last = im.Index
	}
	if err := p.Filter.validate(); err != nil {
		return err
	}
	want := 0
	if n > 0 {
		want = 1
	}
	if len(files) != want || (n > 0 && files[0].Size != n*cifar.ImageBytes) {
		return fmt.Errorf("%d images with attached files %+v, want %d bytes of pixels", n, files, n*cifar.ImageBytes)
	}
	return nil
}

// Validate checks that there are 2..MaxClasses probabilities adding up to 1.
func (c Classified) Validate([]FileRef) error {
	if len(c.Probs) < 2 || len(c.Probs) > MaxClasses || c.Step < 0 {
		return fmt.Errorf("%d probabilities, step %d", len(c.Probs), c.Step)
	}
	sum := 0.0
	for i, p := range c.Probs {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("probability %d is %v", i, p)
		}
		sum += float64(p)
	}
	if math.Abs(sum-1) > 1e-3 {
		return fmt.Errorf("the probabilities add up to %v, not 1", sum)
	}
	return nil
}
