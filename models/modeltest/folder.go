// Package modeltest helps the tests of several model kinds: generated
// declarations to train on, and a fuzz target for the files of a saved model
// folder.
package modeltest

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
)

// FuzzFolder fuzzes what reads a model folder's files once their hashes are
// checked. It saves trained in a folder, seeds f with every file of that
// folder, the manifest first, and gives read the folder with one file (the
// fuzzer's choice) replaced by the fuzzer's bytes. A model read accepts must
// score probe (probabilities in [0, 1], an expected revenue that is a
// number), and the model load reads back from the folder its Save writes
// must score probe the same: what the reader accepts is what the writer
// writes.
func FuzzFolder[R models.Trained, L models.Model](f *testing.F, trained models.Trained, probe arrow.RecordBatch,
	read func(*models.Folder) (R, error), load func(dir string) (L, error)) {
	f.Helper()
	dir := filepath.Join(f.TempDir(), "good")
	if err := trained.Save(dir); err != nil {
		f.Fatal(err)
	}
	folder, err := models.ReadFolder(dir)
	if err != nil {
		f.Fatal(err)
	}
	names := []string{models.ManifestFile}
	for name := range folder.Files {
		names = append(names, name)
	}
	slices.Sort(names[1:])
	for i, name := range names {
		b := folder.Manifest
		if i > 0 {
			b = folder.Files[name]
		}
		f.Add(uint8(i), b)
	}
	out := filepath.Join(f.TempDir(), "out")
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		g := *folder
		g.Files = make(map[string][]byte, len(folder.Files))
		for name, b := range folder.Files {
			g.Files[name] = b
		}
		if name := names[int(which)%len(names)]; name == models.ManifestFile {
			g.Manifest = data
		} else {
			g.Files[name] = data
		}
		m, err := read(&g)
		if err != nil {
			return
		}
		want := score(t, m, probe)
		if err := m.Save(out); err != nil {
			t.Fatalf("Save of an accepted model: %v", err)
		}
		back, err := load(out)
		if err != nil {
			t.Fatalf("load of what Save wrote: %v", err)
		}
		again := score(t, back, probe)
		if len(again) != len(want) {
			t.Fatalf("loaded back, the model takes the probe %v, before %v", again != nil, want != nil)
		}
		for i := range want {
			if again[i] != want[i] {
				t.Fatalf("value %d: %v before saving, %v loaded back", i, want[i], again[i])
			}
		}
	})
}

// score returns the scores and then the expected revenues of probe's rows
// (models.ScoreAll), or nil when m needs columns probe lacks.
func score(t *testing.T, m models.Model, probe arrow.RecordBatch) []float64 {
	if m.Check(probe.Schema()) != nil {
		return nil
	}
	p, e, err := models.ScoreAll(m, []arrow.RecordBatch{probe})
	if err != nil {
		t.Fatalf("accepted model cannot score: %v", err)
	}
	for i := range p {
		if !(p[i] >= 0 && p[i] <= 1) || math.IsNaN(e[i]) {
			t.Fatalf("row %d: probability %v, expected revenue %v", i, p[i], e[i])
		}
	}
	return append(p, e...)
}
