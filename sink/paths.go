package sink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Path is a file or folder a command reads or writes, with the flag that
// named it, for the error messages.
type Path struct {
	Flag string // "--out", "--csv (beside --out)", "outputs (job file)"
	Name string
	// Dir marks a folder output, written as a whole (a model folder): it
	// replaces what is there only if risklane wrote it (see Replaceable),
	// and no other path may lie inside it.
	Dir bool
	// Ours recognises an unmarked folder as risklane's (see Replaceable).
	Ours func(dir string) bool
}

// ErrConflict is returned by CheckPaths: an output would overwrite an
// input, another output, or a folder risklane did not write.
var ErrConflict = errors.New("conflicting paths")

// Prepare checks a command's paths (CheckPaths) and removes what killed
// earlier runs left beside its outputs (their temporary files and folders,
// see RemoveStale and RecoverDir). Every command that writes calls it before
// any work.
func Prepare(inputs, outputs []Path) error {
	if err := CheckPaths(inputs, outputs); err != nil {
		return err
	}
	for _, o := range outputs {
		if o.Name == "" {
			continue
		}
		if o.Dir {
			if err := RecoverDir(o.Name); err != nil {
				return err
			}
			continue
		}
		if _, err := RemoveStale(filepath.Dir(o.Name), TempPrefix(o.Name)); err != nil {
			return err
		}
	}
	return nil
}

// CheckPaths refuses, before any work, a set of paths in which an output is
// also an input or another output (the same name once cleaned, or the same
// file through a link), a file output names an existing folder, a folder
// output is a folder risklane did not write, or a path lies inside a folder
// output (it would be replaced with the folder). Empty names are skipped.
// The error (ErrConflict) names both flags and the path.
func CheckPaths(inputs, outputs []Path) error {
	type entry struct {
		Path
		abs string
		out bool
	}
	var all []entry
	for i, group := range [][]Path{inputs, outputs} {
		for _, p := range group {
			if p.Name == "" {
				continue
			}
			abs, err := filepath.Abs(p.Name)
			if err != nil {
				return fmt.Errorf("%s %s: %w", p.Flag, p.Name, err)
			}
			all = append(all, entry{p, abs, i == 1})
		}
	}
	for i, o := range all {
		if !o.out {
			continue
		}
		if st, err := os.Stat(o.abs); err == nil && st.IsDir() && !o.Dir {
			return fmt.Errorf("%w: %s %s is a folder; give the name of the file to write", ErrConflict, o.Flag, o.Name)
		}
		if o.Dir {
			if err := Replaceable(o.abs, o.Ours); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrConflict, o.Flag, err)
			}
		}
		for j, p := range all {
			if j == i || (p.out && j < i) {
				continue // each pair of outputs once
			}
			what := "an input"
			if p.out {
				what = "another output"
			}
			if samePath(o.abs, p.abs) {
				return fmt.Errorf("%w: %s %s and %s %s are the same file: an output never overwrites %s; choose another %s",
					ErrConflict, o.Flag, o.Name, p.Flag, p.Name, what, o.Flag)
			}
			if o.Dir && within(p.abs, o.abs) {
				return fmt.Errorf("%w: %s %s lies inside the folder %s %s, which is replaced as a whole; keep it elsewhere",
					ErrConflict, p.Flag, p.Name, o.Flag, o.Name)
			}
			if p.Dir && p.out && within(o.abs, p.abs) {
				return fmt.Errorf("%w: %s %s lies inside the folder %s %s, which is replaced as a whole; keep it elsewhere",
					ErrConflict, o.Flag, o.Name, p.Flag, p.Name)
			}
		}
	}
	return nil
}

// samePath reports whether two absolute paths name the same file: equal
// names, the same existing file (hard or symbolic links), or the same name
// in the same folder reached by two routes.
func samePath(a, b string) bool {
	if a == b {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	if errA == nil || errB == nil || !errors.Is(errA, fs.ErrNotExist) || !errors.Is(errB, fs.ErrNotExist) {
		return false // one exists and the other does not
	}
	if filepath.Base(a) != filepath.Base(b) {
		return false
	}
	da, errA := os.Stat(filepath.Dir(a))
	db, errB := os.Stat(filepath.Dir(b))
	return errA == nil && errB == nil && os.SameFile(da, db)
}

// within reports whether path lies inside the folder dir, by name or, for
// an existing path, through any of its parent folders.
func within(path, dir string) bool {
	if strings.HasPrefix(path, dir+string(filepath.Separator)) {
		return true
	}
	sd, err := os.Stat(dir)
	if err != nil {
		return false
	}
	for p := filepath.Dir(path); ; p = filepath.Dir(p) {
		if st, err := os.Stat(p); err == nil && os.SameFile(st, sd) {
			return true
		}
		if filepath.Dir(p) == p {
			return false
		}
	}
}
