package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"cifar10/nn"
	"cifar10/nn/cifar"
)

// prediction is one line of `predict -json`.
type prediction struct {
	Index         int       `json:"index"`
	Label         int       `json:"label"`
	LabelName     string    `json:"label_name"`
	Predicted     int       `json:"predicted"`
	PredictedName string    `json:"predicted_name"`
	Logits        []float32 `json:"logits"`
}

// imagePrediction is the output of `predict -image FILE -json`.
type imagePrediction struct {
	Image         string    `json:"image"`
	Predicted     int       `json:"predicted"`
	PredictedName string    `json:"predicted_name"`
	Logits        []float32 `json:"logits"`
	Probabilities []float64 `json:"probabilities"`
}

func runPredict(args []string, stdout, stderr io.Writer) error {
	f := &evalFlags{}
	var n int
	var asJSON bool
	var image string
	var activations bool
	var index int
	fs := newFlagSet("predict", "-ckpt FILE|DIR [-n N] [-json] [-image FILE] [-activations [-index I]]", &f.commonFlags, "")
	f.addCheckpointFlag(fs)
	fs.IntVar(&n, "n", 10, "predict the first n test images")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per line: index, label, predicted class and the logits")
	fs.StringVar(&image, "image", "", "classify this PNG or JPEG picture instead of test images")
	fs.BoolVar(&activations, "activations", false, "print, as JSON, the first convolution's filters and every layer's maps for test image -index (or -image): shapes, ranges and bit-exact digests, as the page's views draw them")
	fs.IntVar(&index, "index", 0, "with -activations: the test image")
	set, help, err := parseFlags(fs, args, stdout, &f.commonFlags)
	if err != nil || help {
		return err
	}
	f.set = set
	if n < 0 {
		return usageError{fmt.Errorf("predict: -n %d must not be negative", n)}
	}
	tr, err := f.restoreModel("predict", stderr)
	if err != nil {
		return err
	}
	defer tr.Close()
	if activations && image != "" {
		pixels, err := readImage(image)
		if err != nil {
			return err
		}
		return printActivations(tr, pixels, -1, -1, stdout)
	}
	if image != "" {
		return predictImage(tr, image, asJSON, stdout)
	}
	data, err := loadData(f.data)
	if err != nil {
		return err
	}
	if activations {
		if index < 0 || index >= data.Test.Len() {
			return usageError{fmt.Errorf("predict: -index %d is not one of the %d test images", index, data.Test.Len())}
		}
		return printActivations(tr, data.Test.Image(index), index, int(data.Test.Labels[index]), stdout)
	}
	if n > data.Test.Len() {
		return usageError{fmt.Errorf("predict: -n %d is more than the %d test images", n, data.Test.Len())}
	}
	return predictTest(tr, data, n, asJSON, stdout)
}

// predictTest prints the predictions for the first n test images, a batch at a time.
func predictTest(tr *nn.Trainer, data *cifar.Data, n int, asJSON bool, w io.Writer) error {
	m := tr.Model()
	crop, size, classes := m.Spec().Input[0], m.InputSize(), m.Classes()
	images := make([]float32, tr.Batch()*size)
	labels := make([]uint8, tr.Batch())
	enc := json.NewEncoder(w)
	for start := 0; start < n; start += tr.Batch() {
		count := min(tr.Batch(), n-start)
		m.Spec().Recipe.Input.EvalBatch(data.Test, start, count, crop, images[:count*size], labels[:count])
		logits := tr.Logits(images[:count*size])
		for i := range count {
			z := logits[i*classes : (i+1)*classes]
			p := prediction{Index: start + i, Label: int(labels[i]), LabelName: data.ClassNames[labels[i]],
				Predicted: nn.Argmax(z), Logits: slices.Clone(z)}
			p.PredictedName = data.ClassNames[p.Predicted]
			if asJSON {
				if err := enc.Encode(p); err != nil {
					return err
				}
				continue
			}
			printPrediction(w, p)
		}
	}
	return nil
}

// printPrediction prints one readable line: index, true class, predicted class, confidence.
func printPrediction(w io.Writer, p prediction) {
	verdict := "right"
	if p.Predicted != p.Label {
		verdict = "wrong"
	}
	prob := softmax(p.Logits)
	fmt.Fprintf(w, "%5d  true %-10s predicted %-10s %5.1f%%  %s\n", p.Index, p.LabelName, p.PredictedName, 100*prob[p.Predicted], verdict)
}

// predictImage classifies one picture: the article's "turn the trained net into a recognition
// function".
func predictImage(tr *nn.Trainer, path string, asJSON bool, w io.Writer) error {
	pixels, err := readImage(path)
	if err != nil {
		return err
	}
	m := tr.Model()
	input := make([]float32, m.InputSize())
	m.Spec().Recipe.Input.EvalPixels(input, pixels, m.Spec().Input[0])
	logits := slices.Clone(tr.Logits(input))
	p := imagePrediction{Image: path, Predicted: nn.Argmax(logits), Logits: logits, Probabilities: softmax(logits)}
	p.PredictedName = cifar.ClassNames[p.Predicted]
	if asJSON {
		return json.NewEncoder(w).Encode(p)
	}
	fmt.Fprintf(w, "%s: %s (%.1f%%)\n", path, p.PredictedName, 100*p.Probabilities[p.Predicted])
	order := make([]int, len(logits))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpDesc(p.Probabilities[a], p.Probabilities[b]) })
	for _, c := range order {
		fmt.Fprintf(w, "  %-10s %5.1f%%\n", cifar.ClassNames[c], 100*p.Probabilities[c])
	}
	return nil
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// softmax turns logits into probabilities (in float64, shifted by the maximum).
func softmax(z []float32) []float64 {
	top := float64(slices.Max(z))
	p := make([]float64, len(z))
	sum := 0.0
	for i, v := range z {
		p[i] = math.Exp(float64(v) - top)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}
