package scratch

import (
	"os"
	"path/filepath"
	"testing"
)

// TestIsolate: what is created in os.TempDir while isolated (as the SDK's
// loopback file is) is gone after restore, TMPDIR is as before, and nothing
// is left in the outer temporary folder.
func TestIsolate(t *testing.T) {
	outer := t.TempDir()
	t.Setenv("TMPDIR", outer)
	restore, err := Isolate()
	if err != nil {
		t.Fatal(err)
	}
	inner := os.TempDir()
	if filepath.Dir(inner) != outer {
		t.Fatalf("TMPDIR while isolated = %s, want a folder in %s", inner, outer)
	}
	f, err := os.CreateTemp("", "beamloopbackworker-*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if filepath.Dir(f.Name()) != inner {
		t.Fatalf("a temporary file went to %s, want %s", filepath.Dir(f.Name()), inner)
	}
	restore()
	if got := os.TempDir(); got != outer {
		t.Fatalf("TMPDIR after restore = %s, want %s", got, outer)
	}
	if ents, _ := os.ReadDir(outer); len(ents) != 0 {
		t.Fatalf("left in the temporary folder: %d entries", len(ents))
	}
}
