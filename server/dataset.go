package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cifar10/nn/cifar"
)

// officialRecords is the number of records in each official .bin file. Fewer is accepted with
// a warning, so tests and demos can run on small sets.
const officialRecords = 10000

// binFiles are the six files a complete dataset folder holds, training files first.
func binFiles() []string { return append(append([]string(nil), cifar.TrainFiles...), cifar.TestFile) }

// dataset is a checked cifar-10-batches-bin folder.
type dataset struct {
	dir      string         // the cifar-10-batches-bin folder itself
	records  map[string]int // records per .bin file
	warnings []string       // things worth telling the user that do not stop the server
}

// datasetError says which files of a dataset folder are missing or unreadable, by name.
type datasetError struct {
	dir     string
	missing []string          // file names absent from dir
	bad     map[string]string // file name -> why cifar.CheckFile rejected it
}

func (e *datasetError) Error() string {
	return fmt.Sprintf("dataset folder %s is incomplete: %s", e.dir, e.summary())
}

// summary lists the problems without the folder name.
func (e *datasetError) summary() string {
	var parts []string
	if len(e.missing) > 0 {
		parts = append(parts, "missing "+strings.Join(e.missing, ", "))
	}
	for _, name := range binFiles() {
		if why, ok := e.bad[name]; ok {
			parts = append(parts, name+" is invalid: "+why)
		}
	}
	return strings.Join(parts, "; ")
}

// checkDataset checks dataDir/cifar-10-batches-bin: all six .bin files present, each a whole
// number of valid records (cifar.CheckFile reads every record, about a second for the full
// set). It never modifies anything.
func checkDataset(dataDir string) (*dataset, error) {
	return checkBatchDir(filepath.Join(dataDir, cifar.DirName))
}

// checkBatchDir checks a folder holding the .bin files directly; extraction uses it on its
// temporary folder before publishing it.
func checkBatchDir(dir string) (*dataset, error) {
	ds := &dataset{dir: dir, records: map[string]int{}}
	derr := &datasetError{dir: dir, bad: map[string]string{}}
	for _, name := range binFiles() {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			derr.missing = append(derr.missing, name)
			continue
		}
		n, err := cifar.CheckFile(p)
		if err != nil {
			derr.bad[name] = err.Error()
			continue
		}
		ds.records[name] = n
		if n < officialRecords {
			ds.warnings = append(ds.warnings, fmt.Sprintf(
				"%s holds %d records, fewer than the official %d: a small set, fine for tests and demos",
				name, n, officialRecords))
		}
	}
	if len(derr.missing) > 0 || len(derr.bad) > 0 {
		return nil, derr
	}
	if _, err := os.Stat(filepath.Join(dir, cifar.MetaFile)); err != nil {
		ds.warnings = append(ds.warnings, fmt.Sprintf(
			"%s is missing: the app falls back to the official class names", cifar.MetaFile))
	}
	return ds, nil
}

// archiveSource is where and what the official archive is. Tests pass their own, since a
// synthetic archive has another size and checksum.
type archiveSource struct {
	URL  string
	MD5  string // lowercase hex
	Size int64  // bytes, or 0 when unknown
}

// official is the archive the seed script downloads (cifar10.maybe_download_and_extract).
var official = archiveSource{
	URL:  "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
	MD5:  "c32a1d4ab5d03f1284b67883e8d87530",
	Size: 170052171,
}

// archiveName is the archive's file name, also used for the copy kept in the data folder.
const archiveName = "cifar-10-binary.tar.gz"

// datasetOptions are the inputs of ensureDataset, from the command line.
type datasetOptions struct {
	dataDir string        // -data: the folder holding (or to hold) cifar-10-batches-bin
	archive string        // -archive: a local archive to extract when dataDir lacks the set
	source  archiveSource // what to download otherwise
	out     io.Writer     // progress and messages for the terminal
	command string        // how the user started us, for the offline message
}

// ensureDataset finds or fetches the dataset, as the seed's maybe_download_and_extract did:
// the folder if it is complete, else the -archive given, else an archive already downloaded
// into the data folder, else a fresh download, verified by size and md5. Extraction goes
// through a temporary folder renamed into place when complete and checked, so an interrupted
// or failed run never leaves a half dataset that looks whole.
func ensureDataset(ctx context.Context, o datasetOptions) (*dataset, error) {
	ds, found := checkDataset(o.dataDir)
	if found == nil {
		return ds, nil
	}
	dirErr := found.(*datasetError)
	if o.archive != "" {
		fmt.Fprintf(o.out, "dataset: %v\ndataset: extracting %s\n", found, o.archive)
		if err := describeArchive(o.archive, o.source, o.out); err != nil {
			return nil, err
		}
		return extractDataset(o.archive, o.dataDir, o.out)
	}
	if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("dataset: creating the data folder: %w", err)
	}
	kept := filepath.Join(o.dataDir, archiveName)
	if st, err := os.Stat(kept); err == nil && (o.source.Size == 0 || st.Size() == o.source.Size) {
		fmt.Fprintf(o.out, "dataset: %v\ndataset: verifying the archive kept from an earlier run, %s\n", found, kept)
		if sum, err := fileMD5(kept); err == nil && sum == o.source.MD5 {
			return extractDataset(kept, o.dataDir, o.out)
		}
		fmt.Fprintf(o.out, "dataset: %s does not match md5 %s, downloading it again\n", kept, o.source.MD5)
	} else if len(dirErr.missing) == len(binFiles()) {
		fmt.Fprintf(o.out, "dataset: no dataset in %s, downloading %s\n", dirErr.dir, o.source.URL)
	} else {
		fmt.Fprintf(o.out, "dataset: %v\ndataset: downloading %s\n", found, o.source.URL)
	}
	if err := download(ctx, o.source, kept, o.out); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("dataset: download interrupted: %w", ctx.Err())
		}
		return nil, offlineError(o, dirErr, err)
	}
	return extractDataset(kept, o.dataDir, o.out)
}

// extractDataset extracts archive into dataDir and checks the result.
func extractDataset(archive, dataDir string, out io.Writer) (*dataset, error) {
	start := time.Now()
	ds, err := extract(archive, dataDir, out)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "dataset: extracted into %s in %.1fs\n", ds.dir, time.Since(start).Seconds())
	return ds, nil
}

// describeArchive tells whether a local archive is the official one. A different archive (a
// small set made for tests or demos) is allowed: every file it holds is checked anyway.
func describeArchive(archive string, src archiveSource, out io.Writer) error {
	st, err := os.Stat(archive)
	if err != nil {
		return fmt.Errorf("dataset: -archive: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("dataset: -archive %s is not a regular file", archive)
	}
	if src.Size != 0 && st.Size() != src.Size {
		fmt.Fprintf(out, "dataset: warning: %s is %d bytes, not the official archive's %d: using it anyway, every file is checked\n",
			archive, st.Size(), src.Size)
		return nil
	}
	sum, err := fileMD5(archive)
	if err != nil {
		return fmt.Errorf("dataset: -archive: %w", err)
	}
	if sum != src.MD5 {
		fmt.Fprintf(out, "dataset: warning: %s has md5 %s, not the official %s: using it anyway, every file is checked\n",
			archive, sum, src.MD5)
	} else {
		fmt.Fprintf(out, "dataset: %s is the official archive (md5 verified)\n", archive)
	}
	return nil
}

// offlineError is the one message shown when the dataset is missing and cannot be downloaded:
// what is missing, why the download failed, and the exact commands that fix it.
func offlineError(o datasetOptions, dirErr *datasetError, cause error) error {
	return fmt.Errorf(`no usable CIFAR-10 dataset in %s (%s), and downloading it failed: %v

Get %s (%d bytes, md5 %s) from %s
on a machine with network, copy it here, then start with:
    %s -data %s -archive /path/to/%s
or, if you have the unpacked folder /path/to/folder/%s, start with:
    %s -data /path/to/folder`,
		dirErr.dir, dirErr.summary(), cause,
		archiveName, o.source.Size, o.source.MD5, o.source.URL,
		o.command, o.dataDir, archiveName,
		cifar.DirName,
		o.command)
}
