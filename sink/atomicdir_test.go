package sink

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAtomicDir(t *testing.T) {
	parent := t.TempDir()
	final := filepath.Join(parent, "model")
	write := func(content string, commit bool) {
		d, err := CreateDirAtomic(final)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Abort()
		if err := WriteFileAtomic(filepath.Join(d.Path(), "a.txt"), []byte(content)); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(final, "a.txt")); err == nil {
			if b, _ := os.ReadFile(filepath.Join(final, "a.txt")); string(b) == content {
				t.Fatal("the file is visible under the final name before Commit")
			}
		}
		if commit {
			if err := d.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("one", true)
	write("two", false) // aborted: the first folder stays
	if b, err := os.ReadFile(filepath.Join(final, "a.txt")); err != nil || string(b) != "one" {
		t.Fatalf("after an aborted rewrite: %q, %v; want \"one\"", b, err)
	}
	write("three", true) // replaces
	if b, err := os.ReadFile(filepath.Join(final, "a.txt")); err != nil || string(b) != "three" {
		t.Fatalf("after a replacing commit: %q, %v; want \"three\"", b, err)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left behind in the parent folder: %v", names)
	}
}
