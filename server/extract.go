package main

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"cifar10/nn/cifar"
)

// extract unpacks the cifar-10-batches-bin/ entries of a .tar.gz archive into
// dataDir/cifar-10-batches-bin. It writes into a temporary folder next to it, checks every
// .bin file there, and only then renames the folder into place, so an interrupted or failed
// extraction leaves no folder that a later start would take for a dataset. An existing, invalid
// cifar-10-batches-bin is moved aside, not deleted: it may hold someone's files.
func extract(archive, dataDir string, out io.Writer) (ds *dataset, err error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("extract: creating the data folder: %w", err)
	}
	removeStale(dataDir, out)
	tmp, err := os.MkdirTemp(dataDir, extractingPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := unpack(archive, tmp); err != nil {
		return nil, err
	}
	if _, err := checkBatchDir(tmp); err != nil {
		var derr *datasetError
		if errors.As(err, &derr) {
			return nil, fmt.Errorf("extract %s: the archive's %s/ folder is not a usable dataset: %s",
				archive, cifar.DirName, derr.summary())
		}
		return nil, fmt.Errorf("extract %s: %w", archive, err)
	}
	final := filepath.Join(dataDir, cifar.DirName)
	if _, err := os.Lstat(final); err == nil {
		aside := fmt.Sprintf("%s.invalid-%s", final, time.Now().Format("20060102-150405"))
		if err := os.Rename(final, aside); err != nil {
			return nil, fmt.Errorf("extract: moving the invalid %s aside: %w", final, err)
		}
		fmt.Fprintf(out, "dataset: moved the invalid folder %s to %s\n", final, aside)
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	return checkBatchDir(final)
}

// extractingPrefix names the temporary extraction folders; a dot keeps them out of sight.
const extractingPrefix = ".extracting-"

// removeStale deletes temporary extraction folders left by a run that was killed, once they
// are old enough that no other server can still be writing them.
func removeStale(dataDir string, out io.Writer) {
	entries, _ := os.ReadDir(dataDir)
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), extractingPrefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > 10*time.Minute {
			p := filepath.Join(dataDir, e.Name())
			if os.RemoveAll(p) == nil {
				fmt.Fprintf(out, "dataset: removed %s, left by an interrupted extraction\n", p)
			}
		}
	}
}

// unpack writes the regular files directly under cifar-10-batches-bin/ in the archive into
// dir. Other entries (the official archive has none besides the folder itself) are skipped;
// entries that would escape (absolute, "..") make the archive hostile and fail it. It reads
// the gzip stream to its end so a truncated or corrupt archive is an error, not a short set.
func unpack(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("extract %s: not a gzip file: %w", archive, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	wrote := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("extract %s: reading the archive after %d files: %w (truncated or corrupt?)", archive, wrote, err)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || !fileValid(name) {
			return fmt.Errorf("extract %s: refusing unsafe entry %q", archive, hdr.Name)
		}
		dirPart, base := path.Split(name)
		if dirPart != cifar.DirName+"/" || base == "" || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if err := writeEntry(filepath.Join(dir, base), tr, hdr.Size); err != nil {
			return fmt.Errorf("extract %s: %s: %w (truncated or corrupt?)", archive, hdr.Name, err)
		}
		wrote++
	}
	// The tar end marker can come before the end of the gzip stream; reading on checks the
	// gzip CRC and length, which a truncated archive fails.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("extract %s: %w (truncated or corrupt?)", archive, err)
	}
	if wrote == 0 {
		return fmt.Errorf("extract %s: no files under %s/ in the archive", archive, cifar.DirName)
	}
	return nil
}

// fileValid reports whether an archive entry name stays inside the folder it is extracted to.
func fileValid(name string) bool {
	clean := strings.TrimSuffix(name, "/")
	return clean != "" && filepath.IsLocal(filepath.FromSlash(clean)) && path.Clean(clean) == clean
}

// writeEntry copies exactly size bytes into a new file.
func writeEntry(dst string, r io.Reader, size int64) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, r)
	if err == nil && n != size {
		err = fmt.Errorf("wrote %d of %d bytes", n, size)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
