package gbdtlr

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
	"risklane/models/explain"
	"risklane/models/xgb"
)

// The model seam (package risklane/models): what a GBDT+LR model can do.
var (
	_ models.Model         = (*Model)(nil)
	_ models.Probabilistic = (*Model)(nil)
	_ models.LeafIndexer   = (*Model)(nil)
	_ models.Explainer     = (*Model)(nil)
)

// Kind names the model kind.
func (m *Model) Kind() string { return Kind }

// ID identifies the model by the files it was saved to or loaded from; ""
// for a model not yet saved.
func (m *Model) ID() string { return m.id }

// FeatureNames names the features of the tree ensemble.
func (m *Model) FeatureNames() []string { return m.State.Names() }

// Columns names the input columns the features read.
func (m *Model) Columns() []string { return m.State.Columns() }

// Check refuses a schema the features cannot be computed from.
func (m *Model) Check(schema *arrow.Schema) error { return m.State.Check(schema) }

// Features computes the tree ensemble's features of every row of rec.
func (m *Model) Features(rec arrow.RecordBatch, feats []float64) error {
	out, err := m.State.TransformRows(rec, feats)
	if err != nil {
		return err
	}
	if len(out) != len(feats) {
		return fmt.Errorf("gbdtlr: %d feature values for %d rows of %d features, want %d", len(out), rec.NumRows(), len(m.State.Names()), len(feats))
	}
	if len(out) > 0 && &out[0] != &feats[0] {
		copy(feats, out)
	}
	return nil
}

// Predict writes the probability of illicit of each row; GBDT+LR has no
// revenue head, so expRev is 0.
func (m *Model) Predict(rec arrow.RecordBatch, feats []float64, score, expRev []float64) error {
	n := int(rec.NumRows())
	if len(score) != n || len(expRev) != n {
		return fmt.Errorf("gbdtlr: %d rows, %d scores, %d expected revenues", n, len(score), len(expRev))
	}
	T := m.NumTrees()
	var buf [64 * 128]int32
	for lo := 0; lo < n; lo += 64 {
		k := min(64, n-lo)
		var leaves []int32
		if k*T <= len(buf) {
			leaves = buf[:k*T]
		}
		leaves, err := m.Cross.Leaves(feats[lo*len(m.State.Names()):(lo+k)*len(m.State.Names())], k, leaves, 1)
		if err != nil {
			return fmt.Errorf("gbdtlr: %w", err)
		}
		m.probs(leaves, score[lo:lo+k])
	}
	clear(expRev)
	return nil
}

// Probabilities reports that scores are probabilities of illicit.
func (m *Model) Probabilities() bool { return true }

// Leaves writes the XGBoost leaf node id of each row in each tree.
func (m *Model) Leaves(feats []float64, rows int, leaves []int32) error {
	return m.Nodes(feats, rows, leaves, 1)
}

// Contributions attributes the regression's margin to the features (the
// reasons of a ranked row): each tree's leaf weight is credited along the
// row's path through the tree, as explain does for a GBDT (the tree's
// leaves carrying the regression's weights), so the margin is the bias
// plus the features' contributions.
func (m *Model) Contributions(x, contrib []float64) float64 {
	return m.ex.Contributions(x, contrib)
}

// explainer builds the explainer of the trees with the regression's weights
// as leaf values.
func (m *Model) explainer() error {
	lm := &xgb.Model{Objective: xgb.RegSquaredError, BaseScore: float32(m.B), NumFeature: m.Trees.NumFeature,
		FeatureNames: m.Trees.FeatureNames, Trees: make([]xgb.Tree, len(m.Trees.Trees))}
	for t := range m.Trees.Trees {
		tr := m.Trees.Trees[t]
		tr.SplitCondition = append([]float32(nil), tr.SplitCondition...)
		for n := range tr.SplitCondition {
			if tr.IsLeaf(n) {
				j, ok := m.LeafOf(t, int32(n))
				if !ok {
					return fmt.Errorf("gbdtlr: tree %d leaf %d has no weight", t, n)
				}
				tr.SplitCondition[n] = float32(m.W[j])
			}
		}
		lm.Trees[t] = tr
	}
	ex, err := explain.New(lm)
	if err != nil {
		return fmt.Errorf("gbdtlr: %w", err)
	}
	m.ex = ex
	return nil
}
