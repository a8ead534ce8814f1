package date

import (
	"fmt"

	"risklane/features"
	"risklane/models/gbdt"
	"risklane/models/xgb"
)

// checkMarginFolds checks Config.MarginFolds against the feature layer's
// folds, whose union of K consecutive residues it takes as its folds.
func (c Config) checkMarginFolds() error {
	k, most := c.MarginFolds, c.Features.Folds
	if most == 0 {
		most = features.DefaultFolds
	}
	if k != 0 && (k < 2 || k > most) {
		return fmt.Errorf("date: margin folds %d: want 0 (off) or 2..%d, the feature layer's folds", k, most)
	}
	return nil
}

// outOfFoldMargins returns, for each training row of cf, the margin (the
// sum of its leaf values, as the network's tree margin is) of trees of
// parameters tp trained on the rows of the other k folds only: fold
// cf.Fold[r] mod k. A row's margin never comes from trees that saw its
// label; the rows of one declaration share a feature-layer fold, hence a
// margin fold. Standard stacking: the network then learns how far to trust
// the margin from margins as sharp as new rows' are.
func outOfFoldMargins(cf *CrossFit, tp gbdt.Params, seed uint64, k, threads int) ([]float32, error) {
	return crossFitted(cf.Fold, k, marginFitter(cf, tp, seed, threads))
}

// marginFitter returns a function that trains trees of parameters tp on
// the given training rows of cf (indices into cf.Rows) and returns their
// margin predictor for any such rows.
func marginFitter(cf *CrossFit, tp gbdt.Params, seed uint64, threads int) func(rows []int) (func(rows []int, out []float32) error, error) {
	F := len(cf.State.Names())
	return func(rows []int) (func(rows []int, out []float32) error, error) {
		cols := make([][]float64, F)
		y := make([]float64, len(rows))
		for f := range cols {
			cols[f] = make([]float64, len(rows))
		}
		for j, r := range rows {
			for f := range F {
				cols[f][j] = cf.Feats[r*F+f]
			}
			y[j] = float64(cf.Labels[cf.Rows[r]])
		}
		p := tp
		p.Objective, p.Seed, p.EvalTrain = xgb.BinaryLogistic, seed, false
		trees, _, err := gbdt.Train(&gbdt.Matrix{Rows: len(rows), Cols: cols, Names: cf.State.Names()}, y, nil, nil, p)
		if err != nil {
			return nil, err
		}
		c, err := NewCross(cf.State, trees)
		if err != nil {
			return nil, err
		}
		return func(rows []int, out []float32) error {
			feats := make([]float64, 0, len(rows)*F)
			for _, r := range rows {
				feats = append(feats, cf.Feats[r*F:(r+1)*F]...)
			}
			leaves, err := c.Leaves(feats, len(rows), nil, threads)
			if err != nil {
				return err
			}
			T := c.NumTrees()
			for j := range rows {
				var s float64
				for _, l := range leaves[j*T : (j+1)*T] {
					s += c.lt.Value[l]
				}
				out[j] = float32(s)
			}
			return nil
		}, nil
	}
}

// crossFitted is out-of-fold prediction over rows 0..len(fold)-1: for each
// of k folds (fold[r] mod k), fit on the rows of the other folds, then
// predict the fold's rows with that fit. It returns every row's prediction.
func crossFitted(fold []uint8, k int, fit func(rows []int) (func(rows []int, out []float32) error, error)) ([]float32, error) {
	out := make([]float32, len(fold))
	for f := range k {
		var in, held []int
		for r, fr := range fold {
			if int(fr)%k == f {
				held = append(held, r)
			} else {
				in = append(in, r)
			}
		}
		if len(held) == 0 {
			continue
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("date: margin fold %d of %d holds every training row", f+1, k)
		}
		predict, err := fit(in)
		if err != nil {
			return nil, fmt.Errorf("date: margin fold %d of %d: %w", f+1, k, err)
		}
		got := make([]float32, len(held))
		if err := predict(held, got); err != nil {
			return nil, fmt.Errorf("date: margin fold %d of %d: %w", f+1, k, err)
		}
		for j, r := range held {
			out[r] = got[j]
		}
	}
	return out, nil
}
