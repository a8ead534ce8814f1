package sink

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteAtomic: a write that fails leaves the file that was at path as
// it was and no temporary file beside it; one that succeeds replaces it
// whole.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("the analyst's old report"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := errors.New("template: no such function")
	err := WriteAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "half a page")
		return bad
	})
	if !errors.Is(err, bad) || !strings.Contains(err.Error(), path) {
		t.Fatalf("failed write: %v, want %v naming %s", err, bad, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "the analyst's old report" {
		t.Fatalf("a failed write changed %s: %q", path, b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("a failed write left litter: %v", ents)
	}
	if err := WriteFileAtomic(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("written: %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("a write left litter: %v", ents)
	}
	if err := WriteAtomic(filepath.Join(dir, "missing", "x.html"), func(io.Writer) error { return nil }); err == nil {
		t.Fatal("wrote into a missing folder")
	}
}
