package sink

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// AtomicDir is a folder being filled under a temporary name next to its final
// path (a model folder: several files that are only valid together). Commit
// renames it into place; Abort removes it. The folder carries the marker, so
// a later run may replace it.
type AtomicDir struct {
	tmp   *TempDir
	final string
	done  bool
	// Ours, if set, recognises an unmarked folder at the final path as
	// risklane's (one written before markers existed), which Commit may
	// then replace.
	Ours func(dir string) bool
}

// CreateDirAtomic makes a temporary folder in the parent of path. Write the
// files into Path(), then Commit. What a killed earlier run left beside path
// is cleaned first (see RecoverDir).
func CreateDirAtomic(path string) (*AtomicDir, error) {
	path = filepath.Clean(path)
	if err := RecoverDir(path); err != nil {
		return nil, err
	}
	tmp, err := MkdirTemp(filepath.Dir(path), TempPrefix(path))
	if err != nil {
		return nil, fmt.Errorf("cannot create output folder %s: %w", path, err)
	}
	if err := Mark(tmp.Path()); err != nil {
		tmp.Remove()
		return nil, fmt.Errorf("cannot create output folder %s: %w", path, err)
	}
	return &AtomicDir{tmp: tmp, final: path}, nil
}

// Path returns the temporary folder to write into.
func (d *AtomicDir) Path() string { return d.tmp.Path() }

// asidePrefix names a replaced folder between the two renames of Commit.
func asidePrefix(path string) string { return "." + filepath.Base(path) + ".old-" }

// Commit renames the temporary folder to its final path. An existing folder
// there is replaced only if risklane wrote it (see Replaceable): it is moved
// aside first and removed once the new one is in place (and moved back if
// the rename fails, or by RecoverDir after a kill), so readers see the old
// folder or the new one, never a mixture.
func (d *AtomicDir) Commit() error {
	if d.done {
		return fmt.Errorf("output folder %s: already closed", d.final)
	}
	d.done = true
	defer d.tmp.Remove() // after a successful rename only the lock is left
	tmp := d.tmp.Path()
	if err := Replaceable(d.final, d.Ours); err != nil {
		return fmt.Errorf("output folder %s: %w", d.final, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("output folder %s: %w", d.final, err)
	}
	aside := ""
	if _, err := os.Lstat(d.final); err == nil {
		if !Marked(d.final) {
			// Empty, or recognised by Ours: marked now, so that RecoverDir
			// can put it back if the run dies between the renames.
			if err := Mark(d.final); err != nil {
				return fmt.Errorf("output folder %s: cannot replace it: %w", d.final, err)
			}
		}
		aside = filepath.Join(filepath.Dir(d.final), asidePrefix(d.final)+strings.TrimPrefix(filepath.Base(tmp), TempPrefix(d.final)))
		if err := os.Rename(d.final, aside); err != nil {
			return fmt.Errorf("output folder %s: cannot replace it: %w", d.final, err)
		}
	}
	if !renameOpen { // the folder cannot be renamed while its lock is open
		d.tmp.lock.Close()
		d.tmp.lock = nil
	}
	if err := os.Rename(tmp, d.final); err != nil {
		if d.tmp.lock == nil {
			os.RemoveAll(tmp)
		}
		if aside != "" {
			os.Rename(aside, d.final)
		}
		return fmt.Errorf("output folder %s: %w", d.final, err)
	}
	if d.tmp.lock != nil { // the lock's folder now has its final name: Remove must not delete it
		d.tmp.lock.Close()
		d.tmp.lock = nil
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
	d.tmp.Remove()
}

// RecoverDir undoes what a run killed while writing the folder path left: a
// folder moved aside by Commit whose replacement never arrived goes back to
// path; other moved-aside folders and unlocked temporary folders are deleted.
func RecoverDir(path string) error {
	path = filepath.Clean(path)
	parent := filepath.Dir(path)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil // nothing to recover; creating the folder will say what is wrong
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), asidePrefix(path)) {
			continue
		}
		p := filepath.Join(parent, e.Name())
		if !Marked(p) {
			continue
		}
		if _, err := os.Lstat(path); os.IsNotExist(err) {
			if err := os.Rename(p, path); err != nil {
				return fmt.Errorf("cannot restore %s from %s: %w", path, p, err)
			}
			continue
		}
		os.RemoveAll(p)
	}
	_, err = RemoveStale(parent, TempPrefix(path))
	return err
}
