package date

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/models"
	"risklane/models/gbdt"
	"risklane/models/scorer"
	"risklane/models/xgb"
)

// Cross is DATE's first stage, which GBDT+LR (risklane/models/gbdtlr)
// shares: a feature state and a tree ensemble that send each row to one leaf
// per tree. Leaves are numbered across trees (tree t's leaves follow tree
// t-1's), so a row's leaves are indices into one table of NumLeaves: the rows
// of DATE's leaf embedding, the one-hot columns of GBDT+LR.
type Cross struct {
	State *features.State
	Trees *xgb.Model
	sc    *scorer.Scorer
	lt    leafTable
}

// NewCross checks that trees take the state's features and prepares their
// scorer; it is how a model reader validates the two files.
func NewCross(st *features.State, trees *xgb.Model) (*Cross, error) {
	if trees == nil || len(trees.Trees) == 0 {
		return nil, errNoTrees
	}
	if trees.NumFeature != len(st.Names()) {
		return nil, fmt.Errorf("the trees take %d features, the feature state computes %d", trees.NumFeature, len(st.Names()))
	}
	sc, err := scorer.New(trees)
	if err != nil {
		return nil, fmt.Errorf("trees: %w", err)
	}
	return &Cross{State: st, Trees: trees, sc: sc, lt: newLeafTable(trees)}, nil
}

// NumTrees is the number of trees, hence of leaves per row.
func (c *Cross) NumTrees() int { return len(c.Trees.Trees) }

// NumLeaves is the number of leaves of all trees.
func (c *Cross) NumLeaves() int { return c.lt.Rows }

// LeafOf returns the index, among all trees' leaves, of tree t's node id,
// and false when that node is not a leaf of tree t.
func (c *Cross) LeafOf(t int, node int32) (int32, bool) {
	if t < 0 || t >= len(c.lt.Index) || node < 0 || int(node) >= len(c.lt.Index[t]) || c.lt.Index[t][node] < 0 {
		return 0, false
	}
	return c.lt.Base[t] + c.lt.Index[t][node], true
}

// Nodes writes the XGBoost leaf node id of each of rows rows of features in
// each tree: nodes[i*T+t] (models.LeafIndexer).
func (c *Cross) Nodes(feats []float64, rows int, nodes []int32, threads int) error {
	return c.sc.PredictLeaves(feats, rows, nodes, threads)
}

// Leaves returns, in dst (grown as needed), the leaf indices of n rows of
// features, one per tree: dst[i*T+t].
func (c *Cross) Leaves(feats []float64, n int, dst []int32, threads int) ([]int32, error) {
	T := c.NumTrees()
	if cap(dst) < n*T {
		dst = make([]int32, n*T)
	}
	dst = dst[:n*T]
	if err := c.sc.PredictLeaves(feats, n, dst, threads); err != nil {
		return nil, fmt.Errorf("date: %w", err)
	}
	return dst, c.lt.rowsOf(dst)
}

// CrossFit is what FitCross returns: the fitted stage and the training
// rows it saw.
type CrossFit struct {
	*Cross
	// Labels and Revenue are the outcomes of every row of the batches.
	Labels  []int8
	Revenue []float64
	// Rows are the indices of the labelled rows, the ones the trees were
	// trained on, and Leaves their leaves (Rows[k]'s at Leaves[k*T:]),
	// computed from their out-of-fold features, which are in Feats
	// (Rows[k]'s at Feats[k*F:], F features).
	Rows   []int
	Leaves []int32
	Feats  []float64
	// Fold is Rows[k]'s fold in the feature layer's out-of-fold statistics.
	Fold []uint8
}

// FitCross fits the feature state on batches and trains the tree ensemble
// of parameters tp (objective binary:logistic, seeded by seed) on its
// labelled rows. The training rows' leaves come from their out-of-fold
// features (as the GBDT's training does), so a row's leaves do not already
// know its own label through the fraud-rate features.
func FitCross(batches []arrow.RecordBatch, fc features.Config, tp gbdt.Params, seed uint64, threads int) (*CrossFit, error) {
	st, fm, err := features.Fit(batches, fc)
	if err != nil {
		return nil, err
	}
	labels, revenue, err := models.Outcomes(batches)
	if err != nil {
		return nil, fmt.Errorf("training data: %w", err)
	}
	var lab []int
	var y []float64
	for i, l := range labels {
		if l >= 0 {
			lab = append(lab, i)
			y = append(y, float64(l))
		}
	}
	tp.Objective = xgb.BinaryLogistic
	tp.Seed = seed
	tp.EvalTrain = false // the per-round training metric is not used; the trees are the same
	cols := make([][]float64, len(fm.Cols))
	for f, c := range fm.Cols {
		cols[f] = make([]float64, len(lab))
		for k, i := range lab {
			cols[f][k] = c[i]
		}
	}
	trees, _, err := gbdt.Train(&gbdt.Matrix{Rows: len(lab), Cols: cols, Names: fm.Names}, y, nil, nil, tp)
	if err != nil {
		return nil, fmt.Errorf("trees: %w", err)
	}
	c, err := NewCross(st, trees)
	if err != nil {
		return nil, err
	}
	F := len(fm.Cols)
	rows := make([]float64, len(lab)*F)
	for k := range lab {
		for f := range F {
			rows[k*F+f] = cols[f][k]
		}
	}
	leaves, err := c.Leaves(rows, len(lab), nil, threads)
	if err != nil {
		return nil, err
	}
	fold := make([]uint8, len(lab))
	for k, i := range lab {
		fold[k] = fm.Fold[i]
	}
	return &CrossFit{Cross: c, Labels: labels, Revenue: revenue, Rows: lab, Leaves: leaves, Feats: rows, Fold: fold}, nil
}
