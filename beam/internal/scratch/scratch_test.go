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

// TestIsolateSweepsKilledRuns: a folder a killed run left (nobody holds its
// lock) goes at the next Isolate, with what is in it; a live run's folder,
// an older version's (another prefix) and a symbolic link stay.
func TestIsolateSweepsKilledRuns(t *testing.T) {
	outer := t.TempDir()
	t.Setenv("TMPDIR", outer)
	restoreLive, err := Isolate()
	if err != nil {
		t.Fatal(err)
	}
	live := os.TempDir()
	os.Setenv("TMPDIR", outer)
	dead := filepath.Join(outer, Prefix+"12345")
	if err := os.MkdirAll(filepath.Join(dead, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dead, "beamloopbackworker-1"), nil, 0o600)
	older := filepath.Join(outer, "risklane-beam-67890")
	os.Mkdir(older, 0o700)
	link := filepath.Join(outer, Prefix+"link")
	os.Symlink(older, link)

	restore, err := Isolate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the killed run's folder is still there (%v)", err)
	}
	for _, p := range []string{live, older, link} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	restore()
	restoreLive()
	if _, err := os.Stat(live); !os.IsNotExist(err) {
		t.Errorf("the live run's folder outlived its restore (%v)", err)
	}
}
