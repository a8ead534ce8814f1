package gbdtlr_test

import (
	"testing"

	"risklane/models"
	. "risklane/models/gbdtlr"
	"risklane/models/modeltest"
)

// FuzzFromFiles replaces one file of a real GBDT+LR model folder (the
// manifest, features.json, trees.json, lr.bin or metrics.json) with
// arbitrary bytes (modeltest.FuzzFolder). The folder reader is DATE's too
// (date.LeafFolder).
func FuzzFromFiles(f *testing.F) {
	batches := modeltest.Declarations(f, 3000, 5)
	cfg := DefaultConfig()
	cfg.Trees.NumRounds = 3
	m, err := Train(batches, cfg)
	if err != nil {
		f.Fatal(err)
	}
	modeltest.FuzzFolder(f, m, batches[len(batches)-1].NewSlice(0, 50),
		func(g *models.Folder) (*Model, error) { return FromFiles(g.Dir, g.Manifest, g.Files) },
		Load)
}
