package worker

import (
	"fmt"
	"strings"

	"cifar10/nn/cifar"
)

// DataURL is where the server serves the dataset's files.
const DataURL = "/data/" + cifar.DirName + "/"

// BinFiles are the six files of the dataset, training files first in sampler order.
func BinFiles() []string {
	return append(append([]string(nil), cifar.TrainFiles...), cifar.TestFile)
}

// builder assembles the dataset from whole files as the browser gets them, checking each with
// cifar.Parse. Training files are appended into one set sized up front, so the 150 MB
// training set is never held twice (a tab's memory is precious: Go's wasm heap never
// shrinks).
type builder struct {
	train *cifar.Set
	test  *cifar.Set
	next  int // index in cifar.TrainFiles of the next training file expected
	names []string
}

// newBuilder expects trainBytes bytes of training files in total.
func newBuilder(trainBytes int64) *builder {
	n := int(trainBytes / cifar.RecordSize)
	return &builder{train: &cifar.Set{Labels: make([]uint8, 0, n), Pixels: make([]byte, 0, n*cifar.ImageBytes)}}
}

// add checks one file and keeps its images. Training files must come in order.
func (b *builder) add(name string, data []byte) error {
	s, err := cifar.Parse(name, data)
	if err != nil {
		return err
	}
	switch {
	case name == cifar.TestFile:
		b.test = s
	case b.next < len(cifar.TrainFiles) && name == cifar.TrainFiles[b.next]:
		b.train.Labels = append(b.train.Labels, s.Labels...)
		b.train.Pixels = append(b.train.Pixels, s.Pixels...)
		b.next++
	default:
		return fmt.Errorf("unexpected dataset file %s", name)
	}
	return nil
}

// meta sets the class names from batches.meta.txt; nil data means the server has none and the
// official names apply.
func (b *builder) meta(data []byte) error {
	if data == nil {
		b.names = cifar.ClassNames
		return nil
	}
	names, err := cifar.ParseMeta(data)
	if err != nil {
		return fmt.Errorf("%s: %w", cifar.MetaFile, err)
	}
	b.names = names
	return nil
}

// data returns the dataset once every file has been added.
func (b *builder) data() (*cifar.Data, error) {
	var missing []string
	if b.next < len(cifar.TrainFiles) {
		missing = append(missing, cifar.TrainFiles[b.next:]...)
	}
	if b.test == nil {
		missing = append(missing, cifar.TestFile)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the dataset lacks %s", strings.Join(missing, ", "))
	}
	names := b.names
	if names == nil {
		names = cifar.ClassNames
	}
	return &cifar.Data{Train: b.train, Test: b.test, ClassNames: names}, nil
}
