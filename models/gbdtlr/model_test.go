package gbdtlr_test

import (
	"math"
	"path/filepath"
	"testing"

	"risklane/models"
	. "risklane/models/gbdtlr"
	"risklane/models/kinds"
	"risklane/models/modeltest"
)

// TestTrainSaveLoadScore trains on generated data, saves, loads the folder
// through the table of kinds, and checks that the loaded model scores as
// the trained one through the seam, that its probabilities are the
// regression's on the leaves, and that the reasons' contributions add up to
// the margin.
func TestTrainSaveLoadScore(t *testing.T) {
	batches := modeltest.Declarations(t, 20_000, 3)
	cfg := DefaultConfig()
	cfg.Trees.NumRounds = 20
	m, err := Train(batches, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := m.History
	t.Logf("L2 %g chosen from %v (AUC %v) on %d rows from %s; %d iterations", h.L2, h.Grid, h.GridAUC, h.ValidRows, h.ValidFrom, h.Iterations)
	if len(m.W) != m.NumLeaves() || h.TrainRows == 0 || h.ValidRows == 0 {
		t.Fatalf("%d weights for %d leaves; %d training, %d validation rows", len(m.W), m.NumLeaves(), h.TrainRows, h.ValidRows)
	}
	r, err := m.Evaluate(batches[len(batches)-1:])
	if err != nil {
		t.Fatal(err)
	}
	if !(r.AUC > 0.7) {
		t.Errorf("AUC %v on the last batch", r.AUC)
	}
	dir := filepath.Join(t.TempDir(), "lr")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := kinds.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Kind() != Kind || back.ID() != m.ID() || back.ID() == "" {
		t.Fatalf("loaded kind %s ID %q, saved ID %q", back.Kind(), back.ID(), m.ID())
	}
	rec := batches[len(batches)-1]
	n, F := int(rec.NumRows()), len(back.FeatureNames())
	feats := make([]float64, n*F)
	if err := back.Features(rec, feats); err != nil {
		t.Fatal(err)
	}
	score, exp := make([]float64, n), make([]float64, n)
	if err := back.Predict(rec, feats, score, exp); err != nil {
		t.Fatal(err)
	}
	score2, exp2 := make([]float64, n), make([]float64, n)
	if err := m.Predict(rec, feats, score2, exp2); err != nil {
		t.Fatal(err)
	}
	ex := back.(models.Explainer)
	contrib := make([]float64, F)
	nodes := make([]int32, m.NumTrees())
	for i := range n {
		if score[i] != score2[i] || exp[i] != 0 || exp2[i] != 0 {
			t.Fatalf("row %d: loaded %v %v, trained %v %v", i, score[i], exp[i], score2[i], exp2[i])
		}
		// the probability is the sigmoid of the intercept plus the weights
		// of the leaves the trees send the row to
		x := feats[i*F : (i+1)*F]
		if err := back.(models.LeafIndexer).Leaves(x, 1, nodes); err != nil {
			t.Fatal(err)
		}
		z := m.B
		for tr, nd := range nodes {
			j, ok := m.LeafOf(tr, nd)
			if !ok {
				t.Fatalf("row %d tree %d: node %d is not a leaf", i, tr, nd)
			}
			z += m.W[j]
		}
		if p := 1 / (1 + math.Exp(-z)); math.Abs(p-score[i]) > 1e-12 {
			t.Fatalf("row %d: score %v, by hand %v", i, score[i], p)
		}
		clear(contrib)
		if margin := ex.Contributions(x, contrib); math.Abs(margin-z) > 1e-4*max(1, math.Abs(z)) { // float32 leaf values in the explainer
			t.Fatalf("row %d: the explainer's margin %v, the regression's %v", i, margin, z)
		}
	}
}
