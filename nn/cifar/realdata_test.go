package cifar

import (
	"cmp"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// realDir is where `make data` puts the (rebuilt) data set; it is not on every machine.
// CIFAR10_BIN overrides it (a folder holding the .bin files).
var realDir = cmp.Or(os.Getenv("CIFAR10_BIN"), "/tmp/cifar10_data/"+DirName)

func realData(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the real CIFAR-10 data in -short mode")
	}
	if _, err := os.Stat(filepath.Join(realDir, TestFile)); err != nil {
		t.Skipf("no real CIFAR-10 data at %s (run `make data` to build it): %v", realDir, err)
	}
	return realDir
}

func TestRealData(t *testing.T) {
	dir := realData(t)
	for _, f := range binFiles() {
		if n, err := CheckFile(filepath.Join(dir, f)); err != nil || n != 10000 {
			t.Fatalf("CheckFile(%s) = %d, %v", f, n, err)
		}
	}
	if filepath.Base(dir) == DirName { // the script's data_dir is the parent folder
		if found, _ := findDir(filepath.Dir(dir)); found != dir {
			t.Fatalf("Load would look in %s for %s", found, dir)
		}
	}
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len() != 50000 || d.Test.Len() != 10000 {
		t.Fatalf("%d train and %d test images, want 50000 and 10000", d.Train.Len(), d.Test.Len())
	}
	if !slices.Equal(d.ClassNames, ClassNames) {
		t.Fatalf("class names %q", d.ClassNames)
	}
	var perClass [NumClasses]int
	for _, l := range d.Test.Labels {
		perClass[l]++
	}
	for c, n := range perClass {
		if n != 1000 {
			t.Fatalf("test class %d (%s) has %d images, want 1000", c, ClassNames[c], n)
		}
	}
	const crop, n = 24, 24 * 24 * 3
	images := make([]float32, 4*n)
	EvalBatch(d.Test, 9996, 4, crop, images, nil)
	NewSampler(d.Train, 1, crop).Fill(49998, 4, images, make([]uint8, 4))
	for _, v := range images {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatal("non-finite input from real images")
		}
	}
}
