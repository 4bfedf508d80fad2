package cifar

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Data is the whole data set as the trainer and evaluator need it.
type Data struct {
	// Train is data_batch_1.bin .. data_batch_5.bin in that order.
	Train *Set
	// Test is test_batch.bin.
	Test *Set
	// ClassNames come from batches.meta.txt, or are the official names when it is absent.
	ClassNames []string
}

// maxMetaBytes bounds batches.meta.txt (about 70 bytes in the release) so a wrong file in its
// place cannot make Load read without limit.
const maxMetaBytes = 1 << 16

// ParseMeta reads batches.meta.txt: exactly NumClasses non-empty names, one per line, line i
// naming label i. Blank lines after the names are allowed (the official file ends with some);
// a blank line between names is not, since it would shift every later label.
func ParseMeta(data []byte) ([]string, error) {
	lines := strings.Split(string(data), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) != NumClasses {
		return nil, fmt.Errorf("cifar: %s: %d class names, want %d", MetaFile, len(lines), NumClasses)
	}
	names := make([]string, len(lines))
	for i, l := range lines {
		names[i] = strings.TrimSpace(l)
		if names[i] == "" {
			return nil, fmt.Errorf("cifar: %s: line %d (label %d) is empty", MetaFile, i+1, i)
		}
	}
	return names, nil
}

// Load reads the whole data set from src, which may be the folder holding the .bin files, a
// folder containing cifar-10-batches-bin/ (where the archive was unpacked), or the
// cifar-10-binary.tar.gz archive itself (read in memory; entries are matched by base name so
// the folder name inside the archive does not matter). Every file is validated as Parse does;
// a missing file is an error naming it and where Load looked. batches.meta.txt is optional.
func Load(src string) (*Data, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("cifar: data source: %w", err)
	}
	if st.IsDir() {
		return loadDir(src)
	}
	return loadArchive(src)
}

// binFiles are the files Load requires, in the order it reports them missing.
func binFiles() []string { return append(append([]string(nil), TrainFiles...), TestFile) }

func loadDir(src string) (*Data, error) {
	dir, looked := findDir(src)
	if missing := missingIn(dir); len(missing) > 0 {
		return nil, fmt.Errorf("cifar: missing %s in %s (looked in %s)",
			strings.Join(missing, ", "), dir, strings.Join(looked, " and "))
	}
	train, err := readTrain(dir)
	if err != nil {
		return nil, err
	}
	test, err := ReadFile(filepath.Join(dir, TestFile))
	if err != nil {
		return nil, err
	}
	names, err := readMetaFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return nil, err
	}
	return &Data{Train: train, Test: test, ClassNames: names}, nil
}

// findDir prefers src when it holds the first training file, then src/cifar-10-batches-bin.
func findDir(src string) (dir string, looked []string) {
	sub := filepath.Join(src, DirName)
	if isFile(filepath.Join(src, TrainFiles[0])) {
		return src, []string{src}
	}
	if st, err := os.Stat(sub); err == nil && st.IsDir() {
		return sub, []string{src, sub}
	}
	return src, []string{src, sub}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func missingIn(dir string) []string {
	var missing []string
	for _, f := range binFiles() {
		if !isFile(filepath.Join(dir, f)) {
			missing = append(missing, f)
		}
	}
	return missing
}

// readTrain decodes the training files straight into one set sized from the file sizes, so
// loading never holds the training set twice.
func readTrain(dir string) (*Set, error) {
	total := 0
	for _, f := range TrainFiles {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			return nil, fmt.Errorf("cifar: %w", err)
		}
		total += int(st.Size() / RecordSize)
	}
	s := &Set{}
	s.grow(total)
	for _, f := range TrainFiles {
		if err := decodeFile(filepath.Join(dir, f), s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func readMetaFile(p string) ([]string, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return append([]string(nil), ClassNames...), nil
	}
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	return readMeta(p, f)
}

func loadArchive(src string) (*Data, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	return readArchive(src, f)
}

// readArchive reads the whole data set from a cifar-10-binary tar.gz streamed from r; src names
// it in errors. Any bytes give a Data or an error: entry sizes are what the archive claims, so
// memory is reserved only as the bytes arrive (see claimed).
func readArchive(src string, r io.Reader) (*Data, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("cifar: %s: not a gzip archive (want a folder or a cifar-10-binary tar.gz): %w", src, err)
	}
	sets, names, err := readTar(src, tar.NewReader(zr))
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, f := range binFiles() {
		if sets[f] == nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cifar: %s: archive has no entry named %s (matched by base name at any depth)",
			src, strings.Join(missing, ", "))
	}
	train := make([]*Set, len(TrainFiles))
	for i, f := range TrainFiles {
		train[i] = sets[f]
	}
	if names == nil {
		names = append([]string(nil), ClassNames...)
	}
	return &Data{Train: Concat(train...), Test: sets[TestFile], ClassNames: names}, nil
}

// claimed is a sink whose sizes come from an archive header, not from bytes in hand: it
// reserves only one chunk up front and grows as records arrive, so a header claiming
// terabytes costs nothing until the records are actually read (and a short entry fails as
// "file ended early"). Loading a real archive copies a little more; it happens once.
type claimed struct{ sink }

func (c claimed) grow(records int) { c.sink.grow(min(records, chunkRecords)) }

// readTar decodes every wanted entry of the archive as it streams past, so the archive's
// raw bytes are never held in memory.
func readTar(src string, tr *tar.Reader) (map[string]*Set, []string, error) {
	sets := map[string]*Set{}
	var names []string
	wanted := map[string]bool{MetaFile: true}
	for _, f := range binFiles() {
		wanted[f] = true
	}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return sets, names, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("cifar: %s: reading the archive: %w", src, err)
		}
		base := path.Base(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || !wanted[base] {
			continue
		}
		where := src + ": " + hdr.Name
		if sets[base] != nil || (base == MetaFile && names != nil) {
			return nil, nil, fmt.Errorf("cifar: %s: a second entry named %s", where, base)
		}
		if base == MetaFile {
			if names, err = readMeta(where, tr); err != nil {
				return nil, nil, err
			}
			continue
		}
		s := &Set{}
		if err := decode(where, tr, hdr.Size, claimed{s}); err != nil {
			return nil, nil, err
		}
		sets[base] = s
	}
}

func readMeta(where string, r io.Reader) ([]string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxMetaBytes))
	if err != nil {
		return nil, fmt.Errorf("cifar: %s: %w", where, err)
	}
	names, err := ParseMeta(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, where)
	}
	return names, nil
}
