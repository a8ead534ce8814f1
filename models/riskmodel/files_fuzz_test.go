package riskmodel

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
)

// FuzzLoadFiles replaces one file of a real gbdt model folder (model.json,
// revenue.json, features.json, metrics.json or the manifest; the folder
// reader has checked the hashes by then) with arbitrary bytes. A model load
// accepts must score the probe batch (probabilities, finite expected
// revenue), and save and load back to a model that scores it the same.
func FuzzLoadFiles(f *testing.F) {
	all := generate(f, 3000, 5)
	cfg := DefaultConfig()
	cfg.Classifier.NumRounds, cfg.Revenue.NumRounds = 3, 3
	m, err := Train(all, nil, cfg)
	if err != nil {
		f.Fatal(err)
	}
	good := filepath.Join(f.TempDir(), "good")
	if err := m.Save(good); err != nil {
		f.Fatal(err)
	}
	folder, err := models.ReadFolder(good)
	if err != nil {
		f.Fatal(err)
	}
	names := []string{ManifestFile}
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
	probe := all[len(all)-1].NewSlice(0, 50)
	scoreOf := func(t *testing.T, m models.Model) []float64 {
		if m.Check(probe.Schema()) != nil {
			return nil
		}
		score, exp, err := models.ScoreAll(m, []arrow.RecordBatch{probe})
		if err != nil {
			t.Fatalf("accepted model cannot score: %v", err)
		}
		for i := range score {
			if !(score[i] >= 0 && score[i] <= 1) || math.IsNaN(exp[i]) {
				t.Fatalf("row %d: probability %v, expected revenue %v", i, score[i], exp[i])
			}
		}
		return append(score, exp...)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		g := *folder
		g.Files = map[string][]byte{}
		for name, b := range folder.Files {
			g.Files[name] = b
		}
		name := names[int(which)%len(names)]
		if name == ManifestFile {
			g.Manifest = data
		} else {
			g.Files[name] = data
		}
		got, err := load(&g)
		if err != nil {
			return
		}
		want := scoreOf(t, got)
		out := filepath.Join(dir, "out")
		if err := got.Save(out); err != nil {
			t.Fatalf("Save of an accepted model: %v", err)
		}
		back, err := Load(out)
		if err != nil {
			t.Fatalf("Load of what Save wrote: %v", err)
		}
		again := scoreOf(t, back)
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
