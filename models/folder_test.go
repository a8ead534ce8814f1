package models

import (
	"path/filepath"
	"testing"
)

// FuzzParseHeader gives the manifest reader arbitrary bytes: it must accept
// or refuse them, never panic, and never accept a file name outside the
// folder.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(`{"format":"risklane-model","version":1,"kind":"gbdt","model_id":"0123456789abcdef","files":{"model.json":"` + sixtyFour + `"}}`))
	f.Add([]byte(`{"format":"risklane-model","version":1,"files":{"../x":"` + sixtyFour + `"}}`))
	f.Add([]byte(`{"format":"risklane-model","version":1,"files":{"manifest.json":"00"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHeader(data)
		if err != nil {
			return
		}
		if h.Kind == "" {
			t.Fatal("accepted a header without a kind")
		}
		for name := range h.Files {
			if filepath.Base(name) != name || name == "." || name == ".." || name == ManifestFile {
				t.Fatalf("accepted file name %q", name)
			}
		}
	})
}

const sixtyFour = "0000000000000000000000000000000000000000000000000000000000000000"

// TestFolderID: the ID leaves out the manifest and metrics.json and
// depends on every other file's hash.
func TestFolderID(t *testing.T) {
	a := FolderID(map[string]string{"model.json": "aa", MetricsFile: "bb"})
	if b := FolderID(map[string]string{"model.json": "aa", MetricsFile: "cc"}); a != b {
		t.Error("metrics.json changed the ID")
	}
	if b := FolderID(map[string]string{"model.json": "ab", MetricsFile: "bb"}); a == b {
		t.Error("a changed model.json kept the ID")
	}
	if len(a) != 16 {
		t.Errorf("ID %q is not 16 hex digits", a)
	}
}
