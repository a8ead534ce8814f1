package sink

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMarkOneStep: Mark leaves exactly the marker (no temporary file beside
// it), and a marker cut short, as a kill during Mark leaves it, still marks
// the folder: the folder is then either empty or marked, both of which a
// later run recognises as its own.
func TestMarkOneStep(t *testing.T) {
	dir := t.TempDir()
	if err := Mark(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != Marker || !Marked(dir) {
		t.Fatalf("after Mark the folder holds %v", entries)
	}
	cut := t.TempDir()
	if err := os.WriteFile(filepath.Join(cut, Marker), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if !Marked(cut) {
		t.Fatal("an empty marker file does not mark its folder")
	}
}
