package cifar

import (
	"bytes"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestParseMeta(t *testing.T) {
	ten := "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck"
	tests := []struct {
		name string
		data string
		err  string
	}{
		{"plain", ten, ""},
		{"newline", ten + "\n", ""},
		{"trailing blanks like the release", ten + "\n\n \n", ""},
		{"crlf", strings.ReplaceAll(ten, "\n", "\r\n") + "\r\n", ""},
		{"nine", "a\nb\nc\nd\ne\nf\ng\nh\ni\n", "9 class names, want 10"},
		{"eleven", ten + "\nextra\n", "11 class names, want 10"},
		{"blank inside", "a\nb\n\nd\ne\nf\ng\nh\ni\nj\n", "line 3 (label 2) is empty"},
		{"empty", "", "0 class names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, err := ParseMeta([]byte(tt.data))
			if tt.err != "" {
				checkErr(t, "ParseMeta", err, []string{MetaFile, tt.err})
				return
			}
			if err != nil || !slices.Equal(names, ClassNames) {
				t.Fatalf("got %q, %v", names, err)
			}
		})
	}
}

// checkSmall checks d against smallFiles.
func checkSmall(t *testing.T, d *Data, names []string) {
	t.Helper()
	files := smallFiles()
	var train []byte
	for _, f := range TrainFiles {
		train = append(train, files[f]...)
	}
	want, _ := Parse("train", train)
	if d.Train.Len() != 15 || !bytes.Equal(d.Train.Labels, want.Labels) || !bytes.Equal(d.Train.Pixels, want.Pixels) {
		t.Fatalf("train: %d images, labels %v, want %v", d.Train.Len(), d.Train.Labels, want.Labels)
	}
	if d.Test.Len() != 3 || !bytes.Equal(d.Test.Labels, []uint8{9, 8, 7}) {
		t.Fatalf("test labels %v", d.Test.Labels)
	}
	if !slices.Equal(d.ClassNames, names) {
		t.Fatalf("class names %q, want %q", d.ClassNames, names)
	}
}

func TestLoad(t *testing.T) {
	letters := strings.Fields("a b c d e f g h i j")
	files := smallFiles()
	noMeta := smallFiles()
	delete(noMeta, MetaFile)

	folder := t.TempDir()
	writeFiles(t, folder, files)
	parent := t.TempDir()
	writeFiles(t, filepath.Join(parent, DirName), files)
	bare := t.TempDir()
	writeFiles(t, bare, noMeta)
	archives := t.TempDir()
	official := writeFile(t, archives, "cifar-10-binary.tar.gz", tarGz(t, DirName+"/", files))
	renamed := writeFile(t, archives, "cifar-10-binary-other.tar.gz", tarGz(t, "some/where/", noMeta))

	tests := []struct {
		name, src string
		names     []string
	}{
		{"folder", folder, letters},
		{"parent folder", parent, letters},
		{"folder without meta", bare, ClassNames},
		{"archive", official, letters},
		{"archive with another folder and no meta", renamed, ClassNames},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Load(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			checkSmall(t, d, tt.names)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	partial := smallFiles()
	delete(partial, TrainFiles[3])
	delete(partial, TestFile)
	badLabel := smallFiles()
	badLabel[TrainFiles[2]] = records(0, 1, 2, 200)
	badMeta := smallFiles()
	badMeta[MetaFile] = []byte("only\nthree\nnames\n")

	empty := t.TempDir()
	missingDir := t.TempDir()
	writeFiles(t, missingDir, partial)
	missingParent := t.TempDir()
	writeFiles(t, filepath.Join(missingParent, DirName), partial)
	badDir := t.TempDir()
	writeFiles(t, badDir, badLabel)
	metaDir := t.TempDir()
	writeFiles(t, metaDir, badMeta)
	arch := t.TempDir()
	missingArchive := writeFile(t, arch, "partial.tar.gz", tarGz(t, DirName+"/", partial))
	badArchive := writeFile(t, arch, "bad.tar.gz", tarGz(t, DirName+"/", badLabel))
	notGzip := writeFile(t, arch, "plain.bin", records(0, 1))
	sub := filepath.Join(missingParent, DirName)

	tests := []struct {
		name, src string
		want      []string
	}{
		{"nothing there", empty, []string{"missing data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin",
			"looked in " + empty + " and " + filepath.Join(empty, DirName)}},
		{"folder missing two", missingDir, []string{"missing data_batch_4.bin, test_batch.bin in " + missingDir}},
		{"parent missing two", missingParent, []string{"missing data_batch_4.bin, test_batch.bin in " + sub, "looked in " + missingParent + " and " + sub}},
		{"bad label", badDir, []string{filepath.Join(badDir, TrainFiles[2]), "record 2 (byte 6146): label 200 is not in 0..9"}},
		{"bad meta", metaDir, []string{"3 class names, want 10", filepath.Join(metaDir, MetaFile)}},
		{"no such path", filepath.Join(empty, "nope"), []string{"data source", "nope"}},
		{"archive missing two", missingArchive, []string{missingArchive, "no entry named data_batch_4.bin, test_batch.bin"}},
		{"archive bad label", badArchive, []string{badArchive + ": " + DirName + "/data_batch_3.bin", "record 2 (byte 6146)", "label 200"}},
		{"not gzip", notGzip, []string{notGzip, "not a gzip archive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.src)
			checkErr(t, "Load", err, tt.want)
		})
	}
}

// TestArchiveClaimsHugeEntry: an entry whose header claims far more records than it holds fails
// as ended early, without reserving what the header claims.
func TestArchiveClaimsHugeEntry(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readArchive("huge.tar.gz", bytes.NewReader(hugeEntry(t)))
	runtime.ReadMemStats(&after)
	checkErr(t, "readArchive", err, []string{"huge.tar.gz: " + TestFile, "record 1 (byte 3073): file ended early"})
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 100<<20 {
		t.Errorf("reading the archive allocated %d MB", grew>>20)
	}
}

// TestStoredGzip: the fuzz target's cheap gzip wrapper makes archives the reader accepts.
func TestStoredGzip(t *testing.T) {
	d, err := readArchive("stored.tar.gz", bytes.NewReader(storedGzip(gunzip(t, tarGz(t, "", smallFiles())))))
	if err != nil {
		t.Fatal(err)
	}
	checkSmall(t, d, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"})
}
