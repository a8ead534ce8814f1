package date_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"risklane/models"
	"risklane/models/date"
	"risklane/models/modeltest"
)

// FuzzFromFiles replaces one file of a real DATE model folder (the
// manifest, features.json, trees.json, date.bin or metrics.json) with
// arbitrary bytes (modeltest.FuzzFolder); the model has every optional
// part of the network but self-attention: revenue inputs, the tree margin,
// the revenue tower, the standardised revenue target relative to the duty
// at stake, its bound, the calibration, the unit-value revenue inputs and
// the dual score's power on the probability (hostile values of it in the
// manifest are seeds).
func FuzzFromFiles(f *testing.F) {
	batches := modeltest.Declarations(f, 3000, 5)
	dc := date.DefaultConfig()
	dc.Trees.NumRounds, dc.Trees.MaxDepth, dc.Epochs, dc.Dim = 3, 3, 1, 4
	dc.RevHidden, dc.RevStandard, dc.Calibrate = 5, true, true
	dc.RevBase, dc.RevCap = "log_duty", 0.99
	dc.RevenueInputs = append(dc.RevenueInputs, "uv_kg_z_hs6", "uv_kg_z_hs6_origin", "tax_rate")
	dc.ProbPower = 1.1
	m, err := date.Train(batches, dc)
	if err != nil {
		f.Fatal(err)
	}
	// the manifest (file 0) with hostile powers of the dual score
	dir := filepath.Join(f.TempDir(), "m")
	if err := m.Save(dir); err != nil {
		f.Fatal(err)
	}
	g, err := models.ReadFolder(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, bad := range []string{"-1", "0.1", "1e309", "NaN", "\"4\"", "null", "5"} {
		f.Add(uint8(0), bytes.Replace(g.Manifest, []byte(`"ProbPower": 1.1`), []byte(`"ProbPower": `+bad), 1))
	}
	modeltest.FuzzFolder(f, m, batches[len(batches)-1].NewSlice(0, 50),
		func(g *models.Folder) (*date.Model, error) { return date.FromFiles(g.Dir, g.Manifest, g.Files) },
		date.Load)
}
