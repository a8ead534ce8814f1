package date

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"risklane/models/modeltest"
)

// TestCrossFittedNeverSeesRow: every row is predicted exactly once, by the
// fit of the one fold that held it out (fold mod k), and that fit's
// training rows never include it: a predictor that answers 1 for a row it
// was trained on must give 0 everywhere.
func TestCrossFittedNeverSeesRow(t *testing.T) {
	fold := []uint8{0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 0, 0, 2}
	for _, k := range []int{2, 3, 5} {
		predicted := make([]int, len(fold))
		fits := 0
		fit := func(rows []int) (func([]int, []float32) error, error) {
			fits++
			seen := map[int]bool{}
			for _, r := range rows {
				seen[r] = true
			}
			return func(held []int, out []float32) error {
				for j, r := range held {
					predicted[r]++
					if seen[r] {
						out[j] = 1
					}
					for _, s := range rows {
						if int(fold[s])%k == int(fold[r])%k {
							t.Errorf("k=%d: row %d's fit trained on row %d of the same fold", k, r, s)
						}
					}
				}
				return nil
			}, nil
		}
		got, err := crossFitted(fold, k, fit)
		if err != nil {
			t.Fatal(err)
		}
		if fits != k {
			t.Errorf("k=%d: %d fits", k, fits)
		}
		for r, v := range got {
			if v != 0 || predicted[r] != 1 {
				t.Errorf("k=%d: row %d: prediction %v (1: from a fit that saw it), predicted %d times", k, r, v, predicted[r])
			}
		}
	}
	if _, err := crossFitted([]uint8{1, 1, 1}, 2, func([]int) (func([]int, []float32) error, error) { return nil, nil }); err == nil {
		t.Error("one fold holding every row: no error")
	}
}

// TestOutOfFoldMarginsPlanted plants, on noise, 100 rows of fold 0 with a
// feature value no other row has (1000) and label 1, and 12 rows of the
// other folds with the same value and label 0. Trees that saw the planted
// rows give them a positive margin (100 illicit against 12 licit in their
// leaf); their out-of-fold margin comes from trees that saw only the 12
// licit ones, so it must be negative: the sign says which trees it came
// from. The margins are also the same from one run to the next (seeded).
func TestOutOfFoldMarginsPlanted(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Trees.NumRounds, cfg.Trees.MaxDepth, cfg.Trees.Eta = 5, 3, 0.3
	cfg.Trees.Subsample, cfg.Trees.ColsampleByTree, cfg.Trees.MinChildWeight = 1, 1, 0
	cf, err := FitCross(modeltest.Declarations(t, 3_000, 7), cfg.Features, cfg.Trees, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	F := len(cf.State.Names())
	n := 2_000
	rng := rand.New(rand.NewPCG(9, 9))
	cf.Rows, cf.Labels, cf.Fold, cf.Feats = make([]int, n), make([]int8, n), make([]uint8, n), make([]float64, n*F)
	var planted []int
	for r := range n {
		cf.Rows[r] = r
		cf.Fold[r] = uint8(rng.IntN(5))
		for f := range F {
			cf.Feats[r*F+f] = rng.Float64()
		}
		if rng.Float64() < 0.2 {
			cf.Labels[r] = 1
		}
		switch {
		case r < 100:
			cf.Fold[r], cf.Labels[r], cf.Feats[r*F] = 0, 1, 1000
			planted = append(planted, r)
		case r < 112:
			cf.Fold[r], cf.Labels[r], cf.Feats[r*F] = uint8(1+r%4), 0, 1000
		}
	}
	oof, err := outOfFoldMargins(cf, cfg.Trees, 1, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	all := make([]int, n)
	for r := range all {
		all[r] = r
	}
	predict, err := marginFitter(cf, cfg.Trees, 1, 2)(all)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, n)
	if err := predict(all, in); err != nil {
		t.Fatal(err)
	}
	for _, r := range planted {
		if !(oof[r] < 0 && in[r] > 0) {
			t.Fatalf("planted row %d: out-of-fold margin %v (want < 0: from trees that saw only the licit twins), in-sample %v (want > 0)", r, oof[r], in[r])
		}
	}
	again, err := outOfFoldMargins(cf, cfg.Trees, 1, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(oof, again) {
		t.Error("out-of-fold margins differ between two runs of the same seed (and thread counts 2, 1)")
	}
	t.Logf("planted row: out-of-fold margin %.3f, in-sample %.3f", oof[0], in[0])
}

// TestMarginFoldsTraining: with MarginFolds the training batch carries one
// out-of-fold margin per row, the same for a seed, and they differ from the
// in-sample margins (the sum of the row's leaf values); the config check
// rejects 1 and more folds than the feature layer has.
func TestMarginFoldsTraining(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Trees.NumRounds, cfg.Trees.MaxDepth = 10, 4
	cfg.Epochs, cfg.MarginFolds, cfg.Seed = 1, 3, 2
	batches := modeltest.Declarations(t, 8_000, 4)
	m, train, _, _, err := prepare(batches, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, train2, _, _, err := prepare(batches, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(train.Margin) != train.Rows() || !slices.Equal(train.Margin, train2.Margin) {
		t.Fatalf("%d margins for %d rows, or not deterministic", len(train.Margin), train.Rows())
	}
	T, differ := m.Arch.Trees, 0
	for i := range train.Rows() {
		var s float64
		for _, l := range train.Leaves[i*T : (i+1)*T] {
			s += m.leaves.Value[l]
		}
		if math.Abs(s-float64(train.Margin[i])) > 1e-4 {
			differ++
		}
	}
	if differ < train.Rows()/2 {
		t.Errorf("only %d of %d out-of-fold margins differ from the in-sample ones", differ, train.Rows())
	}
	for _, k := range []int{1, 6, -1} {
		c := DefaultConfig()
		c.MarginFolds = k
		if c.check() == nil {
			t.Errorf("margin folds %d accepted", k)
		}
	}
}

// TestBatchMargin: a batch's Margin replaces the sum of the leaves' values
// in the logit: given that very sum the loss and gradient are the ones
// computed from the leaves; shifted by 1, the loss changes.
func TestBatchMargin(t *testing.T) {
	a := testArchs()["no self-attention"]
	p := initParams(a, 3)
	n := testNet(a, p)
	b := smallBatch(a, 16, 5)
	idx := make([]int, b.Rows())
	for i := range idx {
		idx[i] = i
	}
	tr := newTrainer(n, 10, 1)
	want := tr.lossGrad(b, idx)
	wantGrad := slices.Clone(tr.grad)
	lv := testLeafValues(a)
	for i := range b.Rows() {
		var s float32
		for _, l := range b.Leaves[i*a.Trees : (i+1)*a.Trees] {
			s += float32(lv[l])
		}
		b.Margin = append(b.Margin, s)
	}
	if got := tr.lossGrad(b, idx); math.Abs(got-want) > 1e-6 || !closeSlices(tr.grad, wantGrad, 1e-5) {
		t.Errorf("loss %v with the leaves' sums as margins, %v from the leaves", got, want)
	}
	for i := range b.Margin {
		b.Margin[i]++
	}
	if got := tr.lossGrad(b, idx); math.Abs(got-want) < 1e-4 {
		t.Errorf("loss %v with margins shifted by 1, %v without: the margins are not read", got, want)
	}
}

func closeSlices(a, b []float32, tol float64) bool {
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol*(1+math.Abs(float64(b[i]))) {
			return false
		}
	}
	return len(a) == len(b)
}

// TestMarginFoldsLoad: a model trained with MarginFolds saves and loads
// (scoring needs nothing of it), and a folder whose configuration holds an
// impossible fold count is refused on load with the reason.
func TestMarginFoldsLoad(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Trees.NumRounds, cfg.Trees.MaxDepth = 10, 4
	cfg.Epochs, cfg.MarginFolds, cfg.Seed = 1, 3, 2
	m, err := Train(modeltest.Declarations(t, 8_000, 4), cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir, back := saveLoad(t, m)
	if back.Config.MarginFolds != 3 {
		t.Errorf("margin folds %d after loading, want 3", back.Config.MarginFolds)
	}
	m.Config.MarginFolds = 1
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "margin folds 1") {
		t.Errorf("a configuration of 1 margin fold loaded: %v", err)
	}
}
