// Package cifar reads the CIFAR-10 binary data set strictly and turns its images into the
// float32 inputs the network trains and evaluates on, with the same preprocessing steps as
// TensorFlow 1's cifar10_input.py (only the shuffling differs: see Sampler).
//
// The package knows nothing about the engine: images leave it as float32 HWC slices.
// It keeps the raw bytes (3 KB an image) and makes float images per batch, so the whole
// training set fits in a browser tab.
package cifar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// The file format, fixed by the CIFAR-10 binary release and by cifar10_input.py.
const (
	// RecordSize is one label byte followed by the image bytes.
	RecordSize = 1 + ImageBytes
	// Side is the width and height of every image.
	Side = 32
	// ImageBytes is 1,024 red, then 1,024 green, then 1,024 blue bytes, each plane row-major.
	ImageBytes = 3 * Side * Side
	// NumClasses bounds the label byte: valid labels are 0..NumClasses-1.
	NumClasses = 10
	// DirName is the folder the official archive unpacks to; Load looks inside it.
	DirName = "cifar-10-batches-bin"
	// TrainImages is the number of images of the full training set (five files of 10,000):
	// an epoch, for a preset whose length is given in epochs.
	TrainImages = 50000
	// TestFile holds the 10,000 evaluation images.
	TestFile = "test_batch.bin"
	// MetaFile names the classes, one per line, line i for label i.
	MetaFile = "batches.meta.txt"
)

// TrainFiles are the five training files, in the order their records form the training set
// (the order the sampler's permutations are defined over).
var TrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}

// ClassNames are the official names by label, used when a data set comes without MetaFile.
var ClassNames = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// Set holds images exactly as the file stores them, so a set costs 3 KB an image instead of
// 12 KB as floats: Labels[i] is image i's label and Pixels[i*ImageBytes:(i+1)*ImageBytes] its
// CHW bytes.
type Set struct {
	Labels []uint8
	Pixels []byte
}

// Len is the number of images; Labels is the authority since Pixels is a multiple of it.
func (s *Set) Len() int { return len(s.Labels) }

// Image returns image i's 3,072 CHW bytes without copying, for callers that display or
// preprocess a single image.
func (s *Set) Image(i int) []byte { return s.Pixels[i*ImageBytes : (i+1)*ImageBytes] }

// Parse decodes a whole file held in memory (the browser gets files from fetch). It is strict:
// the size must be a positive whole number of records and every label must be 0..9, so a
// truncated download or a wrong file fails here with the file name, record and byte offset
// instead of training on garbage. name is only used in error messages.
func Parse(name string, data []byte) (*Set, error) {
	s := &Set{}
	if err := decode(name, bytes.NewReader(data), int64(len(data)), s); err != nil {
		return nil, err
	}
	return s, nil
}

// ReadFile reads and validates one .bin file from disk, streaming it so the raw file is never
// held alongside the decoded set.
func ReadFile(path string) (*Set, error) {
	s := &Set{}
	if err := decodeFile(path, s); err != nil {
		return nil, err
	}
	return s, nil
}

// CheckFile validates a .bin file the way ReadFile does but keeps nothing, so a server can
// check the data set at start-up without holding 180 MB. It returns the number of records.
func CheckFile(path string) (records int, err error) {
	var n counter
	if err := decodeFile(path, &n); err != nil {
		return 0, err
	}
	return int(n), nil
}

// Concat joins sets in order into a new set; the inputs are left untouched and not shared,
// so callers may drop them afterwards.
func Concat(sets ...*Set) *Set {
	n := 0
	for _, s := range sets {
		n += s.Len()
	}
	out := &Set{Labels: make([]uint8, 0, n), Pixels: make([]byte, 0, n*ImageBytes)}
	for _, s := range sets {
		out.Labels = append(out.Labels, s.Labels...)
		out.Pixels = append(out.Pixels, s.Pixels...)
	}
	return out
}

// sink receives decoded records; a Set keeps them, a counter only counts them.
type sink interface {
	grow(records int)
	add(label uint8, pixels []byte)
}

func (s *Set) grow(records int) {
	s.Labels = growCap(s.Labels, records)
	s.Pixels = growCap(s.Pixels, records*ImageBytes)
}

func (s *Set) add(label uint8, pixels []byte) {
	s.Labels = append(s.Labels, label)
	s.Pixels = append(s.Pixels, pixels...)
}

func growCap(b []byte, more int) []byte {
	if cap(b)-len(b) >= more {
		return b
	}
	nb := make([]byte, len(b), len(b)+more)
	copy(nb, b)
	return nb
}

type counter int

func (c *counter) grow(int)          {}
func (c *counter) add(uint8, []byte) { *c++ }

func decodeFile(path string, dst sink) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("cifar: %s: not a regular file", path)
	}
	return decode(path, f, st.Size(), dst)
}

// chunkRecords is how many records decode reads at a time: 64 records is about 200 KB.
const chunkRecords = 64

// decode checks that size is a positive whole number of records, then streams exactly size
// bytes from r into dst, checking every label. It is the one code path behind Parse, ReadFile,
// CheckFile and archive loading, so they all accept and reject the same files.
func decode(name string, r io.Reader, size int64, dst sink) error {
	if err := checkSize(name, size); err != nil {
		return err
	}
	records := int(size / RecordSize)
	dst.grow(records)
	buf := make([]byte, chunkRecords*RecordSize)
	for i := 0; i < records; i += chunkRecords {
		n := min(chunkRecords, records-i)
		chunk := buf[:n*RecordSize]
		if got, err := io.ReadFull(r, chunk); err != nil {
			return readError(name, i, got, err)
		}
		for j := range n {
			rec := chunk[j*RecordSize : (j+1)*RecordSize]
			if rec[0] >= NumClasses {
				k := i + j
				return fmt.Errorf("cifar: %s: record %d (byte %d): label %d is not in 0..%d",
					name, k, int64(k)*RecordSize, rec[0], NumClasses-1)
			}
			dst.add(rec[0], rec[1:])
		}
	}
	return nil
}

func checkSize(name string, size int64) error {
	if size == 0 {
		return fmt.Errorf("cifar: %s: empty file (expected records of %d bytes)", name, RecordSize)
	}
	if rest := size % RecordSize; rest != 0 {
		return fmt.Errorf("cifar: %s: %d bytes is not a whole number of %d-byte records (%d records and %d bytes left over: truncated?)",
			name, size, RecordSize, size/RecordSize, rest)
	}
	return nil
}

// readError reports a file that ended (or failed) while reading the records its size promised,
// e.g. a file that shrank while being read.
func readError(name string, record, got int, err error) error {
	k := record + got/RecordSize
	at := int64(record)*RecordSize + int64(got)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("cifar: %s: record %d (byte %d): file ended early", name, k, at)
	}
	return fmt.Errorf("cifar: %s: record %d (byte %d): %w", name, k, at, err)
}
