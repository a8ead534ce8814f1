package sink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Marker is the file risklane puts in every folder it creates as a whole (a
// model folder, a night's folder, a nightly job's outputs folder). risklane
// replaces or deletes a folder only when the marker is in it: a folder it did
// not write is never touched. See docs/reliability.md.
const Marker = ".risklane"

const markerText = "This folder was written by risklane, which may replace or delete it.\n" +
	"Remove this file to keep risklane from ever touching the folder.\n"

// Mark puts the marker into dir. Only the marker's presence counts, so it
// is created in one step (not written aside and renamed): a run killed while
// marking leaves the folder either empty or marked, never holding a
// temporary file that makes it look like someone else's.
func Mark(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, Marker), []byte(markerText), 0o644); err != nil {
		return fmt.Errorf("output %s: %w", dir, err)
	}
	return nil
}

// Marked reports whether dir holds the marker (a regular file).
func Marked(dir string) bool {
	st, err := os.Lstat(filepath.Join(dir, Marker))
	return err == nil && st.Mode().IsRegular()
}

// ErrNotOurs is returned when risklane would replace or delete a folder it
// did not write.
var ErrNotOurs = errors.New("risklane did not write it")

// Replaceable returns nil when risklane may replace the folder at path: it
// does not exist, is an empty folder, holds the marker, or ours (if not nil)
// recognises it as risklane's (a folder written before markers existed).
func Replaceable(path string, ours func(dir string) bool) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s exists and is not a folder, and %w; choose a new folder", path, ErrNotOurs)
	}
	if Marked(path) || ours != nil && ours(path) {
		return nil
	}
	if entries, err := os.ReadDir(path); err == nil && len(entries) == 0 {
		return nil
	}
	return fmt.Errorf("%s is a folder, and %w (no %s file in it): its files would be lost; "+
		"choose a new folder, or empty this one first", path, ErrNotOurs, Marker)
}
