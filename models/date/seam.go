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

// The two features DATE adds to the tree ensemble's: the rows of the
// importer and HS-code embeddings a declaration takes (0: the unseen row).
// They travel with the features (Features writes them, Predict and
// Contributions read them), so that everything DATE needs of a row is in
// its feature vector; their contributions are always 0, so the reasons
// never quote them.
const (
	ImporterRowFeature = "date_importer_row"
	ItemRowFeature     = "date_hs_code_row"
)

// FeatureNames names the features of the tree ensemble, then
// ImporterRowFeature and ItemRowFeature.
func (m *Model) FeatureNames() []string {
	return append(slices.Clone(m.State.Names()), ImporterRowFeature, ItemRowFeature)
}

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

// Features computes the tree ensemble's features of every row of rec and
// its importer and HS-code embedding rows (FeatureNames).
func (m *Model) Features(rec arrow.RecordBatch, feats []float64) error {
	n, F := int(rec.NumRows()), len(m.State.Names())
	if len(feats) != n*(F+2) {
		return fmt.Errorf("date: %d feature values for %d rows of %d features", len(feats), n, F+2)
	}
	out, err := m.State.TransformRows(rec, feats[:n*F])
	if err != nil {
		return err
	}
	if len(out) != n*F {
		return fmt.Errorf("date: %d feature values for %d rows of %d features, want %d", len(out), n, F, n*F)
	}
	imps, _, err := decl.Strings(rec, decl.ImporterID)
	if err != nil {
		return fmt.Errorf("date: %w", err)
	}
	items, _, err := decl.Strings(rec, decl.HSCode)
	if err != nil {
		return fmt.Errorf("date: %w", err)
	}
	// spread the rows from stride F to stride F+2, last row first (in
	// place), and write the two embedding rows after each
	for i := n - 1; i >= 0; i-- {
		copy(feats[i*(F+2):i*(F+2)+F], out[i*F:(i+1)*F])
		imp, _ := imps.Value(i)
		item, _ := items.Value(i)
		feats[i*(F+2)+F] = float64(m.Importers[imp])
		feats[i*(F+2)+F+1] = float64(m.Items[item])
	}
	return nil
}

// split returns the tree ensemble's features of n rows of Features'
// output (stride F+2) in dst (stride F), and the embedding rows.
func (m *Model) split(feats []float64, n int, dst []float64, imp, item []int32) ([]float64, []int32, []int32, error) {
	F := len(m.State.Names())
	if len(feats) != n*(F+2) {
		return nil, nil, nil, fmt.Errorf("date: %d feature values for %d rows of %d features", len(feats), n, F+2)
	}
	dst, imp, item = slices.Grow(dst[:0], n*F), slices.Grow(imp[:0], n), slices.Grow(item[:0], n)
	for i := range n {
		row := feats[i*(F+2) : (i+1)*(F+2)]
		dst = append(dst, row[:F]...)
		u, v := row[F], row[F+1]
		if !(u >= 0 && int(u) < m.Arch.Importers) || !(v >= 0 && int(v) < m.Arch.Items) {
			return nil, nil, nil, fmt.Errorf("date: row %d: embedding rows %v, %v out of range", i+1, u, v)
		}
		imp, item = append(imp, int32(u)), append(item, int32(v))
	}
	return dst, imp, item, nil
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
	x, imp, item, err := m.split(feats, n, nil, nil, nil)
	if err != nil {
		return err
	}
	if b.Leaves, err = m.leavesOf(x, n, nil, 1); err != nil {
		return err
	}
	b.Imp, b.Item = imp, item
	F := len(m.State.Names())
	for i := range n {
		b.X = m.appendRevInputs(b.X, x[i*F:(i+1)*F])
		b.Base = m.appendBase(b.Base, x[i*F:(i+1)*F])
	}
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
	x, _, _, err := m.split(feats, rows, nil, nil, nil)
	if err != nil {
		return err
	}
	return m.sc.PredictLeaves(x, rows, leaves, 1)
}
