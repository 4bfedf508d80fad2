package cifar

import (
	"io"
	"slices"
)

// Example writes example k of the training stream into dst (crop*crop*3 floats, HWC) from img,
// the 3,072 bytes of image Index(k), wherever the caller keeps them. The browser's training
// workers share one copy of the training set in a SharedArrayBuffer instead of each holding
// 150 MB, and copy out only the images of their shards; their sampler's Set then needs the
// labels only (Index and the label come from it, the pixels from img). Fill(k, 1, ...) over
// a Set holding the pixels gives the same floats.
func (sp *Sampler) Example(dst []float32, img []byte, k int64) {
	n := imageFloats(sp.crop)
	checkImage(dst, img, n)
	sp.augment(dst[:n], img, k)
}

// Check validates size bytes of records read from r exactly as Parse would (same errors) and
// returns their labels, without keeping the pixels: the browser checks a file in place and
// keeps it, as it is, in memory that every worker shares.
func Check(name string, r io.Reader, size int64) ([]uint8, error) {
	var l labelSink
	if err := decode(name, r, size, &l); err != nil {
		return nil, err
	}
	return l, nil
}

// labelSink keeps only the labels of decoded records.
type labelSink []uint8

func (l *labelSink) grow(records int)          { *l = slices.Grow(*l, records) }
func (l *labelSink) add(label uint8, _ []byte) { *l = append(*l, label) }
