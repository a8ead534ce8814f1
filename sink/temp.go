package sink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Every temporary file or folder risklane writes (a file before its rename,
// a model folder being filled, scoring's spill folder) is locked by the
// process writing it for as long as it exists, so that a later run can tell
// what an earlier, killed run left (nobody holds its lock) from what a live
// run is still writing. See docs/reliability.md.

// TempPrefix is the prefix of the temporary name of path: .NAME.tmp-
func TempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// createLocked creates a temporary file in dir named prefix* and locks it.
func createLocked(dir, prefix string) (*os.File, error) {
	for range 8 {
		f, err := os.CreateTemp(dir, prefix+"*")
		if err != nil {
			return nil, err
		}
		if ok := lockFresh(f); ok {
			return f, nil
		}
		f.Close() // a sweep took it between creation and lock: take another name
	}
	return nil, fmt.Errorf("cannot lock a temporary file in %s", dir)
}

// lockFresh locks a just-created file or folder and checks that its name
// still leads to it (a sweep of another run may have removed it first).
func lockFresh(f *os.File) bool {
	if lockHeld(f) != nil {
		return false
	}
	a, err1 := f.Stat()
	b, err2 := os.Lstat(f.Name())
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// TempDir is a locked temporary folder (scoring's spill files). Remove
// deletes it; a killed run's is removed by RemoveStale at the next start.
type TempDir struct {
	path string
	lock *os.File
}

// MkdirTemp makes a locked temporary folder in parent named prefix*.
func MkdirTemp(parent, prefix string) (*TempDir, error) {
	for range 8 {
		p, err := os.MkdirTemp(parent, prefix+"*")
		if err != nil {
			return nil, err
		}
		f, err := os.Open(p)
		if err != nil {
			os.Remove(p)
			return nil, err
		}
		if lockFresh(f) {
			return &TempDir{path: p, lock: f}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("cannot lock a temporary folder in %s", parent)
}

// Path is the folder's path.
func (d *TempDir) Path() string { return d.path }

// Remove deletes the folder and its contents, then drops the lock. Safe to
// call more than once.
func (d *TempDir) Remove() {
	if d == nil || d.lock == nil {
		return
	}
	if !renameOpen {
		d.lock.Close()
	}
	os.RemoveAll(d.path)
	d.lock.Close()
	d.lock = nil
}

// RemoveStale deletes the entries of dir named prefix* that no live process
// holds (the temporary files and folders of killed runs) and returns their
// paths. A missing dir has nothing stale.
func RemoveStale(dir, prefix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			continue // risklane never makes one: not ours
		}
		p := filepath.Join(dir, e.Name())
		busy, held := inUse(p)
		if busy {
			continue
		}
		// Deleted while holding its lock: a run starting now cannot take it.
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
		} else {
			removed = append(removed, p)
		}
		held.Close()
	}
	return removed, errors.Join(errs...)
}
