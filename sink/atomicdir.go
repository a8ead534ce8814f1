package sink

import (
	"fmt"
	"os"
	"path/filepath"
)

// AtomicDir is a folder being filled under a temporary name next to its final
// path (a model folder: several files that are only valid together). Commit
// renames it into place; Abort removes it.
type AtomicDir struct {
	tmp, final string
	done       bool
}

// CreateDirAtomic makes a temporary folder in the parent of path. Write the
// files into Path(), then Commit.
func CreateDirAtomic(path string) (*AtomicDir, error) {
	path = filepath.Clean(path)
	tmp, err := os.MkdirTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("cannot create output folder %s: %w", path, err)
	}
	return &AtomicDir{tmp: tmp, final: path}, nil
}

// Path returns the temporary folder to write into.
func (d *AtomicDir) Path() string { return d.tmp }

// Commit renames the temporary folder to its final path. An existing folder
// there is replaced: it is moved aside first and removed once the new one is
// in place (and moved back if the rename fails), so readers see the old
// folder or the new one, never a mixture.
func (d *AtomicDir) Commit() error {
	if d.done {
		return fmt.Errorf("output folder %s: already closed", d.final)
	}
	d.done = true
	if err := os.Chmod(d.tmp, 0o755); err != nil {
		os.RemoveAll(d.tmp)
		return fmt.Errorf("output folder %s: %w", d.final, err)
	}
	aside := ""
	if _, err := os.Lstat(d.final); err == nil {
		aside = d.tmp + ".old"
		if err := os.Rename(d.final, aside); err != nil {
			os.RemoveAll(d.tmp)
			return fmt.Errorf("output folder %s: cannot replace it: %w", d.final, err)
		}
	}
	if err := os.Rename(d.tmp, d.final); err != nil {
		if aside != "" {
			os.Rename(aside, d.final)
		}
		os.RemoveAll(d.tmp)
		return fmt.Errorf("output folder %s: %w", d.final, err)
	}
	if aside != "" {
		os.RemoveAll(aside)
	}
	return nil
}

// Abort removes the temporary folder. It is safe to call after Commit, where
// it does nothing, so callers can defer it.
func (d *AtomicDir) Abort() {
	if d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.tmp)
}
