//go:build !js

package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"cifar10/nn/cifar"
)

// Sizes of the synthetic dataset: small enough to write in milliseconds and download at once,
// large enough for a few training batches and a meaningful precision.
const (
	SyntheticTrainPerFile = 200 // records in each data_batch_N.bin
	SyntheticTest         = 500 // records in test_batch.bin
)

// SyntheticClassNames are written to batches.meta.txt. They differ from the official names so
// a test can tell the app shows the meta file's names rather than its built-in fallback.
var SyntheticClassNames = []string{"red-plain", "green-hstripes", "blue-vstripes", "yellow-checks",
	"cyan-square", "magenta-plain", "orange-hstripes", "purple-vstripes", "grey-checks", "white-square"}

var (
	dataOnce sync.Once
	dataErr  error
)

// DataDir returns the folder holding the synthetic cifar-10-batches-bin/ (what the server's
// -data flag takes and what cifar.Load reads), writing it on first use. The content is
// deterministic, so native code in a test can load it and compute what the browser should show.
func DataDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(workDir, "data")
	dataOnce.Do(func() { dataErr = WriteSyntheticDataset(dir) })
	if dataErr != nil {
		tb.Fatal(dataErr)
	}
	return dir
}

// WriteSyntheticDataset writes dir/cifar-10-batches-bin in the official binary layout. Tests
// that need a dataset of their own (say, to corrupt it) call it with their own folder.
func WriteSyntheticDataset(dir string) error {
	batch := filepath.Join(dir, cifar.DirName)
	if err := os.MkdirAll(batch, 0o755); err != nil {
		return fmt.Errorf("e2e: synthetic dataset: %w", err)
	}
	for i, name := range cifar.TrainFiles {
		if err := writeFile(batch, name, syntheticRecords(uint64(i+1), SyntheticTrainPerFile)); err != nil {
			return err
		}
	}
	if err := writeFile(batch, cifar.TestFile, syntheticRecords(100, SyntheticTest)); err != nil {
		return err
	}
	return writeFile(batch, cifar.MetaFile, []byte(strings.Join(SyntheticClassNames, "\n")+"\n\n"))
}

func writeFile(dir, name string, data []byte) error {
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		return fmt.Errorf("e2e: synthetic dataset: %w", err)
	}
	return nil
}

// syntheticRecords makes n records from a generator seeded with seed: labels cycle through
// the classes in a shuffled order (so each class gets n/10 records), each image is made by
// syntheticImage.
func syntheticRecords(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0xC1FA510))
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i % cifar.NumClasses)
	}
	r.Shuffle(n, func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
	out := make([]byte, 0, n*cifar.RecordSize)
	for _, l := range labels {
		out = append(out, l)
		out = append(out, syntheticImage(r, l)...)
	}
	return out
}

// classColours are the base RGB colours by label, matching SyntheticClassNames.
var classColours = [cifar.NumClasses][3]float64{
	{200, 40, 40}, {40, 190, 60}, {50, 70, 210}, {210, 200, 50}, {50, 200, 200},
	{200, 50, 190}, {230, 140, 30}, {120, 50, 170}, {128, 128, 128}, {225, 225, 225},
}

// syntheticImage draws a class's colour through its pattern (label mod 5: plain, horizontal
// stripes, vertical stripes, checks, centre square), with a random phase, brightness and
// per-pixel noise. Both cues survive the training preprocessing (24x24 crops, flips,
// brightness/contrast jitter, per-image standardization), so the classes are learnable.
func syntheticImage(r *rand.Rand, label uint8) []byte {
	const side = cifar.Side
	img := make([]byte, cifar.ImageBytes)
	phase := r.IntN(8)
	brightness := r.Float64()*40 - 20
	for y := range side {
		for x := range side {
			lit := pattern(int(label)%5, (x+phase)%side, (y+phase)%side)
			shade := 0.45 + 0.55*lit
			for c := range 3 {
				v := classColours[label][c]*shade + brightness + r.NormFloat64()*18
				img[c*side*side+y*side+x] = byte(min(255, max(0, v)))
			}
		}
	}
	return img
}

// pattern is 1 where the pattern is lit and 0 elsewhere.
func pattern(kind, x, y int) float64 {
	on := true
	switch kind {
	case 1:
		on = y/4%2 == 0
	case 2:
		on = x/4%2 == 0
	case 3:
		on = (x/4+y/4)%2 == 0
	case 4:
		on = x%32 >= 8 && x%32 < 24 && y%32 >= 8 && y%32 < 24
	}
	if on {
		return 1
	}
	return 0
}

// TestSyntheticDataset reads the set back with the app's own reader and checks that it is
// the advertised size, balanced, and learnable: a nearest-centroid classifier on the
// standardized evaluation crops, fitted on the training files, must beat chance by far.
func TestSyntheticDataset(t *testing.T) {
	d, err := cifar.Load(DataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len() != 5*SyntheticTrainPerFile || d.Test.Len() != SyntheticTest {
		t.Fatalf("%d training and %d test images, want %d and %d", d.Train.Len(), d.Test.Len(), 5*SyntheticTrainPerFile, SyntheticTest)
	}
	if strings.Join(d.ClassNames, ",") != strings.Join(SyntheticClassNames, ",") {
		t.Errorf("class names %q", d.ClassNames)
	}
	var counts [cifar.NumClasses]int
	for _, l := range d.Test.Labels {
		counts[l]++
	}
	for l, n := range counts {
		if n != SyntheticTest/cifar.NumClasses {
			t.Errorf("label %d: %d test images, want %d", l, n, SyntheticTest/cifar.NumClasses)
		}
	}
	if acc := nearestCentroidAccuracy(d.Train, d.Test, 24); acc < 0.8 {
		t.Errorf("nearest-centroid precision %.2f, want >= 0.80: the classes are not clearly learnable", acc)
	} else {
		t.Logf("nearest-centroid precision on the synthetic test set: %.2f", acc)
	}
}

// nearestCentroidAccuracy fits one mean image per class on train and returns the fraction of
// test images whose nearest mean has their label.
func nearestCentroidAccuracy(train, test *cifar.Set, crop int) float64 {
	n := crop * crop * 3
	img := make([]float32, n)
	var sums [cifar.NumClasses][]float64
	var counts [cifar.NumClasses]float64
	for i := range train.Len() {
		l := train.Labels[i]
		if sums[l] == nil {
			sums[l] = make([]float64, n)
		}
		cifar.EvalImage(img, train, i, crop)
		for j, v := range img {
			sums[l][j] += float64(v)
		}
		counts[l]++
	}
	right := 0
	for i := range test.Len() {
		cifar.EvalImage(img, test, i, crop)
		best, bestD := -1, 0.0
		for l := range sums {
			d := 0.0
			for j, v := range img {
				e := float64(v) - sums[l][j]/counts[l]
				d += e * e
			}
			if best < 0 || d < bestD {
				best, bestD = l, d
			}
		}
		if best == int(test.Labels[i]) {
			right++
		}
	}
	return float64(right) / float64(test.Len())
}
