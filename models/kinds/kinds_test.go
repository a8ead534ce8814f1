package kinds

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"risklane/models"
)

// TestTable: every kind has a name, a loader and a unique name, and the
// default kind is in the table.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range All() {
		if k.Name == "" || k.Load == nil || seen[k.Name] {
			t.Errorf("kind %q: empty name, no Load, or listed twice", k.Name)
		}
		seen[k.Name] = true
		for _, p := range k.Params {
			if err := p.Check(p.Default); err != nil {
				t.Errorf("kind %s: the default of --%s is out of its own range: %v", k.Name, p.Name, err)
			}
		}
	}
	if !seen[Default] {
		t.Errorf("the default kind %q is not in the table", Default)
	}
	if _, err := Lookup("isolation-forest"); err == nil || !strings.Contains(err.Error(), Default) {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestLoadUnknownKind: a folder whose manifest names a kind this risklane
// does not know is refused by name, after its files were checked.
func TestLoadUnknownKind(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{"weights.bin": []byte("0123")}
	_, err := models.WriteFolder(dir, files, func(id string, hashes map[string]string) ([]byte, error) {
		return []byte(`{"format":"risklane-model","version":1,"kind":"forest","model_id":"` + id + `","files":{"weights.bin":"` + hashes["weights.bin"] + `"}}`), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `unknown model kind "forest"`) {
		t.Fatalf("load: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "not a model folder") {
		t.Fatalf("load of a missing folder: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "weights.bin"), []byte("0124"), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "changed or damaged") {
		t.Fatalf("load of a changed file: %v", err)
	}
}
