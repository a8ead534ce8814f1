package riskmodel

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// savedModel trains a small model (rounds trees per head) on 3,000
// generated rows and saves it in a folder: the real model folder the fuzz
// targets start from. It returns the rows, the model and the folder.
func savedModel(f *testing.F, rounds int) (all []arrow.RecordBatch, m *Model, good string) {
	f.Helper()
	all = generate(f, 3000, 5)
	cfg := DefaultConfig()
	cfg.Classifier.NumRounds, cfg.Revenue.NumRounds = rounds, rounds
	m, err := Train(all, nil, cfg)
	if err != nil {
		f.Fatal(err)
	}
	good = filepath.Join(f.TempDir(), "good")
	if err := m.Save(good); err != nil {
		f.Fatal(err)
	}
	return all, m, good
}

// FuzzLoadManifest gives the manifest reader arbitrary bytes: it must accept
// or refuse them, never panic, and never name a file outside the folder. A
// manifest it accepts is then loaded with a real model's files beside it.
func FuzzLoadManifest(f *testing.F) {
	_, _, good := savedModel(f, 5)
	manifest, err := os.ReadFile(filepath.Join(good, ManifestFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(manifest)
	// the recency half-life of --train-halflife (provenance; session 10)
	f.Add(bytes.Replace(manifest, []byte(`"format"`), []byte(`"row_half_life_days":14,"format"`), 1))
	f.Add([]byte(`{"format":"risklane-model","version":1,"files":{"model.json":"00","features.json":"00"}}`))
	f.Add([]byte(`{"format":"risklane-model","version":1,"files":{"../manifest.json":"00","model.json":"00","features.json":"00"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		man, err := parseManifest(data)
		if err != nil {
			return
		}
		for name := range man.Files {
			if filepath.Base(name) != name || name == "." || name == ".." {
				t.Fatalf("accepted file name %q", name)
			}
		}
		dir := t.TempDir()
		entries, _ := os.ReadDir(good)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(good, e.Name()))
			os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
		}
		os.WriteFile(filepath.Join(dir, ManifestFile), data, 0o644)
		if lm, err := Load(dir); err == nil && (lm.Classifier == nil || lm.State == nil) {
			t.Fatal("Load succeeded without a classifier or feature state")
		}
	})
}
