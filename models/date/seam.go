package date

import (
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/decl"
	"risklane/models"
)

// The model seam (package risklane/models): what a DATE model can do.
var (
	_ models.Model         = (*Model)(nil)
	_ models.Probabilistic = (*Model)(nil)
	_ models.RevenueModel  = (*Model)(nil)
	_ models.LeafIndexer   = (*Model)(nil)
)

// Kind names the model kind.
func (m *Model) Kind() string { return Kind }

// ID identifies the model by the files it was saved to or loaded from;
// "" for a model not yet saved.
func (m *Model) ID() string { return m.id }

// FeatureNames names the features of the tree ensemble.
func (m *Model) FeatureNames() []string { return m.State.Names() }

// Columns names the input columns: the features' and the importer and HS
// code, which DATE embeds.
func (m *Model) Columns() []string {
	cols := m.State.Columns()
	for _, c := range []string{decl.ImporterID, decl.HSCode} {
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	return cols
}

// Check refuses a schema the features cannot be computed from. A missing
// importer column is allowed: every row then takes the unseen importer.
func (m *Model) Check(schema *arrow.Schema) error { return m.State.Check(schema) }

// Features computes the tree ensemble's features of every row of rec.
func (m *Model) Features(rec arrow.RecordBatch, feats []float64) error {
	out, err := m.State.TransformRows(rec, feats)
	if err != nil {
		return err
	}
	if len(out) != len(feats) {
		return fmt.Errorf("date: %d feature values for %d rows of %d features, want %d", len(out), rec.NumRows(), len(m.State.Names()), len(feats))
	}
	if &out[0] != &feats[0] {
		copy(feats, out)
	}
	return nil
}

// Predict scores the rows of rec whose features are in feats, on the
// calling goroutine (callers score batches in parallel): score is the
// probability of illicit, expRev the probability times the revenue head's
// revenue (DATE's dual-task ranking score).
func (m *Model) Predict(rec arrow.RecordBatch, feats []float64, score, expRev []float64) error {
	n := int(rec.NumRows())
	if len(score) != n || len(expRev) != n {
		return fmt.Errorf("date: %d rows, %d scores, %d expected revenues", n, len(score), len(expRev))
	}
	b := &Batch{}
	var err error
	if b.Leaves, err = m.leavesOf(feats, n, nil, 1); err != nil {
		return err
	}
	imps, err := readStrings(rec, decl.ImporterID, nil)
	if err != nil {
		return err
	}
	items, err := readStrings(rec, decl.HSCode, nil)
	if err != nil {
		return err
	}
	b.Imp, b.Item = m.Importers.lookup(imps, nil), m.Items.lookup(items, nil)
	m.predict(b, score, expRev, 1)
	for i, r := range expRev {
		if math.IsNaN(r) || r < 0 {
			expRev[i] = 0
		}
	}
	return nil
}

// Probabilities reports that scores are probabilities of illicit.
func (m *Model) Probabilities() bool { return true }

// HasRevenue reports that the model has a revenue head.
func (m *Model) HasRevenue() bool { return true }

// NumTrees is the number of trees whose leaves DATE embeds.
func (m *Model) NumTrees() int { return len(m.Trees.Trees) }

// Leaves writes the XGBoost leaf node id of each row in each tree.
func (m *Model) Leaves(feats []float64, rows int, leaves []int32) error {
	return m.sc.PredictLeaves(feats, rows, leaves, 1)
}
