package risklane

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// layers is the table of floors, lowest first. A package may import packages
// of its own floor or of a lower one, never of a higher one. A package is on
// the floor of the longest prefix that matches its path.
var layers = []struct {
	floor    int
	prefixes []string
}{
	{0, []string{"decl", "sink", "stats", "internal"}},
	{1, []string{"ingest"}},
	{2, []string{"datasets"}},
	{3, []string{"features", "analysis"}},
	{4, []string{"models"}},
	{5, []string{"pipeline"}},
	{6, []string{"cmd", "bench", "notebooks"}},
}

// pending lists the upward imports still being removed; the test fails
// when one of them is gone, so the list only shrinks.
var pending = map[string]bool{}

// floorOf returns the floor of a package path relative to the module root,
// or -1 for a path the table does not place.
func floorOf(rel string) int {
	best, bestLen := -1, -1
	for _, l := range layers {
		for _, p := range l.prefixes {
			if (rel == p || strings.HasPrefix(rel, p+"/")) && len(p) > bestLen {
				best, bestLen = l.floor, len(p)
			}
		}
	}
	return best
}

// walkSources calls fn for every non-test Go file of the module outside its
// root folder, with the file's package path, skipping dot folders, testdata
// and folders that are modules of their own (bench/duckdb, beam).
func walkSources(fn func(path, dir string) error) error {
	return filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); path != "." && err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		if dir := filepath.ToSlash(filepath.Dir(path)); dir != "." {
			return fn(path, dir)
		}
		return nil
	})
}

// TestLayers fails when a non-test file imports a package of a higher floor,
// or when a package is on no floor at all.
func TestLayers(t *testing.T) {
	const module = "risklane/"
	fset := token.NewFileSet()
	seen := map[string]bool{}
	err := walkSources(func(path, dir string) error {
		own := floorOf(dir)
		if own < 0 {
			t.Errorf("%s: package %s is on no floor of the layer table", path, dir)
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			rel := strings.TrimPrefix(p, module)
			if fl := floorOf(rel); fl > own {
				edge := dir + " -> " + rel
				if pending[edge] {
					seen[edge] = true
					continue
				}
				t.Errorf("%s imports %s: floor %d reaches up to floor %d", path, rel, own, fl)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for edge := range pending {
		if !seen[edge] {
			t.Errorf("%s is gone: remove it from pending", edge)
		}
	}
}

// TestLayerTable checks the table itself against hand-placed paths, so that a
// broken floorOf cannot pass every import silently.
func TestLayerTable(t *testing.T) {
	for path, want := range map[string]int{
		"decl": 0, "sink": 0, "stats": 0, "ingest/profile": 1, "datasets/synth": 2,
		"features/mirror": 3, "features/groups": 3, "models/gbdt": 4, "pipeline/score": 5, "pipeline/simulate": 5,
		"cmd/risklane": 6, "pipeline/choropleth": 5, "ingest/prices": 1, "declx": -1, "pipelines": -1,
	} {
		if got := floorOf(path); got != want {
			t.Errorf("floorOf(%q) = %d, want %d", path, got, want)
		}
	}
}

// TestReadmeTree checks the README's folder tree ("How a declaration flows")
// against the layer table and the packages on disk: every package is listed,
// every listed folder exists, and the list runs in floor order, so the tree a
// reader learns the layout from cannot drift from the one the build enforces.
func TestReadmeTree(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(data), "\n## How a declaration flows")
	if !ok {
		t.Fatal(`README.md has no section "## How a declaration flows"`)
	}
	if _, block, ok = strings.Cut(block, "\n```\n"); ok {
		block, _, ok = strings.Cut(block, "\n```")
	}
	if !ok {
		t.Fatal("README.md: the folder tree is not in a ``` block")
	}
	listed := map[string]bool{}
	prev, prevPath := -1, ""
	for _, line := range strings.Split(block, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		path := fields[0]
		listed[path] = true
		if st, err := os.Stat(path); err != nil || !st.IsDir() {
			t.Errorf("README tree lists %s, which is not a folder", path)
		}
		fl := floorOf(path)
		if fl < 0 {
			continue // beam and docs: outside the module's floors
		}
		if fl < prev {
			t.Errorf("README tree lists %s (floor %d) after %s (floor %d)", path, fl, prevPath, prev)
		}
		prev, prevPath = fl, path
	}
	err = walkSources(func(_, dir string) error {
		if listed[dir] {
			return nil
		}
		listed[dir] = true // one error per package
		t.Errorf("README tree does not list the package %s", dir)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
