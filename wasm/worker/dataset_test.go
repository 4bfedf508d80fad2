package worker

import (
	"strings"
	"testing"

	"cifar10/nn/cifar"
)

// fileBytes encodes a set as a .bin file.
func fileBytes(s *cifar.Set) []byte {
	var b []byte
	for i := range s.Labels {
		b = append(b, s.Labels[i])
		b = append(b, s.Image(i)...)
	}
	return b
}

func TestBuilder(t *testing.T) {
	sets := map[string]*cifar.Set{}
	var total int64
	for i, name := range BinFiles() {
		sets[name] = randomSet(uint64(i+10), 3+i)
		if name != cifar.TestFile {
			total += int64(len(fileBytes(sets[name])))
		}
	}
	b := newBuilder(total)
	for _, name := range BinFiles() {
		if err := b.add(name, fileBytes(sets[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.meta([]byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n")); err != nil {
		t.Fatal(err)
	}
	d, err := b.data()
	if err != nil {
		t.Fatal(err)
	}
	var train []*cifar.Set
	for _, name := range cifar.TrainFiles {
		train = append(train, sets[name])
	}
	want := cifar.Concat(train...)
	if string(d.Train.Labels) != string(want.Labels) || string(d.Train.Pixels) != string(want.Pixels) {
		t.Error("the training set differs from the files concatenated in order")
	}
	if cap(d.Train.Pixels) != len(want.Pixels) {
		t.Errorf("the training set grew past its announced size: cap %d, len %d", cap(d.Train.Pixels), len(want.Pixels))
	}
	if d.Test.Len() != sets[cifar.TestFile].Len() || d.ClassNames[9] != "j" {
		t.Errorf("test %d images, names %v", d.Test.Len(), d.ClassNames)
	}
}

func TestBuilderErrors(t *testing.T) {
	good := fileBytes(randomSet(1, 2))
	b := newBuilder(0)
	if err := b.add("data_batch_2.bin", good); err == nil || !strings.Contains(err.Error(), "unexpected") {
		t.Errorf("out of order: %v", err)
	}
	if err := b.add("data_batch_1.bin", good[:len(good)-5]); err == nil || !strings.Contains(err.Error(), "data_batch_1.bin") {
		t.Errorf("truncated: %v", err)
	}
	if err := b.meta([]byte("only\nthree\nnames\n")); err == nil || !strings.Contains(err.Error(), cifar.MetaFile) {
		t.Errorf("bad meta: %v", err)
	}
	b.add("data_batch_1.bin", good)
	if _, err := b.data(); err == nil || !strings.Contains(err.Error(), "data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin") {
		t.Errorf("missing files: %v", err)
	}
	b2 := newBuilder(0)
	for _, name := range BinFiles() {
		b2.add(name, good)
	}
	b2.meta(nil)
	if d, err := b2.data(); err != nil || d.ClassNames[0] != "airplane" {
		t.Errorf("without meta: %v %v", d, err)
	}
}
