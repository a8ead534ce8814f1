package date_test

import (
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
// at stake, its bound and the calibration.
func FuzzFromFiles(f *testing.F) {
	batches := modeltest.Declarations(f, 3000, 5)
	dc := date.DefaultConfig()
	dc.Trees.NumRounds, dc.Trees.MaxDepth, dc.Epochs, dc.Dim = 3, 3, 1, 4
	dc.RevHidden, dc.RevStandard, dc.Calibrate = 5, true, true
	dc.RevBase, dc.RevCap = "log_duty", 0.99
	m, err := date.Train(batches, dc)
	if err != nil {
		f.Fatal(err)
	}
	modeltest.FuzzFolder(f, m, batches[len(batches)-1].NewSlice(0, 50),
		func(g *models.Folder) (*date.Model, error) { return date.FromFiles(g.Dir, g.Manifest, g.Files) },
		date.Load)
}
