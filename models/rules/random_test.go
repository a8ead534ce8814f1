package rules

import (
	"math"
	"math/rand/v2"
	"testing"

	"risklane/models/gbdt"
	"risklane/models/xgb"
	"risklane/models/xgb/xgbtest"
)

// columns turns xgbtest's row-major rows into a column-major matrix.
func columns(rows []float64, nrows, nfeat int) *gbdt.Matrix {
	X := &gbdt.Matrix{Rows: nrows, Cols: make([][]float64, nfeat)}
	for j := range nfeat {
		X.Cols[j] = make([]float64, nrows)
		for i := range nrows {
			X.Cols[j][i] = rows[i*nfeat+j]
		}
	}
	return X
}

// randomCase is a model with the data its rules are measured on.
type randomCase struct {
	name  string
	model *xgb.Model
	rows  []float64 // row-major, for the reference predictor
	X     *gbdt.Matrix
	y     []float64
}

func randomCases(t *testing.T) []randomCase {
	const nrows, nfeat = 3000, 7
	var cases []randomCase
	// Random full trees; every fifth label unknown.
	rows := xgbtest.Rows(1, nrows, nfeat, 0.1)
	y := xgbtest.Labels(2, rows, nrows, nfeat, xgb.BinaryLogistic)
	for i := range y {
		if i%5 == 3 {
			y[i] = nan
		}
	}
	cases = append(cases, randomCase{"random trees", xgbtest.RandomModel(3, xgb.BinaryLogistic, 25, 5, nfeat), rows, columns(rows, nrows, nfeat), y})
	// Trees grown by the trainer: learned default directions, uneven
	// depths, thresholds between bins, features split several times.
	rows2 := xgbtest.Rows(4, nrows, nfeat, 0.05)
	y2 := xgbtest.Labels(5, rows2, nrows, nfeat, xgb.BinaryLogistic)
	X2 := columns(rows2, nrows, nfeat)
	p := gbdt.DefaultParams()
	p.NumRounds, p.MaxDepth, p.EvalTrain, p.NumThreads = 15, 6, false, 1
	m, _, err := gbdt.Train(X2, y2, nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, randomCase{"trained trees", m, rows2, X2, y2})
	return cases
}

// The independent checks of routing and paths on random models:
//
//   - the supports of each tree's leaves add up to the labelled rows;
//   - each row's leaf, found by this package's walk, is the leaf of the
//     reference predictor (xgb.Tree.Leaf), and the leaf values of those
//     leaves summed as XGBoost sums them give (*xgb.Model).PredictMargin;
//   - the supports and illicit counts equal those counted from the
//     reference predictor's leaves;
//   - every labelled row meets the conditions of exactly one rule of each
//     tree, the rule of its own leaf.
func TestRandomModels(t *testing.T) {
	for _, tc := range randomCases(t) {
		m, X, y := tc.model, tc.X, tc.y
		rs, err := Extract(m, X, y, Options{Threads: 2})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		labelled := 0
		for _, v := range y {
			if !math.IsNaN(v) {
				labelled++
			}
		}
		byTree := make([][]Rule, len(m.Trees))
		support := make([]int, len(m.Trees))
		for _, r := range rs {
			byTree[r.Tree] = append(byTree[r.Tree], r)
			support[r.Tree] += r.Support
		}
		for ti, s := range support {
			if s != labelled {
				t.Errorf("%s tree %d: supports add up to %d, want %d labelled rows", tc.name, ti, s, labelled)
			}
		}
		nf := m.NumFeature
		type count struct{ n, bad int }
		counts := make([]map[int]count, len(m.Trees))
		for ti := range counts {
			counts[ti] = map[int]count{}
		}
		for i := range X.Rows {
			row := tc.rows[i*nf : (i+1)*nf]
			sum := m.BaseMargin()
			for ti := range m.Trees {
				tr := &m.Trees[ti]
				leaf := int(walk(tr, X.Cols, i))
				if ref := tr.Leaf(row); ref != leaf {
					t.Fatalf("%s tree %d row %d: walk reaches leaf %d, the reference predictor %d", tc.name, ti, i, leaf, ref)
				}
				sum += tr.SplitCondition[leaf]
				if math.IsNaN(y[i]) {
					continue
				}
				c := counts[ti][leaf]
				c.n++
				c.bad += int(y[i])
				counts[ti][leaf] = c
				matched := 0
				for _, r := range byTree[ti] {
					if r.Matches(X, i) {
						matched++
						if r.Leaf != leaf {
							t.Fatalf("%s tree %d row %d: meets the rule of leaf %d, reaches leaf %d", tc.name, ti, i, r.Leaf, leaf)
						}
					}
				}
				if matched != 1 {
					t.Fatalf("%s tree %d row %d: meets %d rules, want 1", tc.name, ti, i, matched)
				}
			}
			if got, want := float64(sum), m.PredictMargin(row); got != want {
				t.Fatalf("%s row %d: margin from the walked leaves %v, PredictMargin %v", tc.name, i, got, want)
			}
		}
		for _, r := range rs {
			if c := counts[r.Tree][r.Leaf]; c.n != r.Support || c.bad != r.Illicit {
				t.Errorf("%s tree %d leaf %d: %d rows, %d illicit; the reference predictor gives %d, %d",
					tc.name, r.Tree, r.Leaf, r.Support, r.Illicit, c.n, c.bad)
			}
		}
		nleaves := 0
		for ti := range counts {
			nleaves += len(counts[ti])
		}
		if len(rs) != nleaves {
			t.Errorf("%s: %d rules, want one per leaf reached (%d)", tc.name, len(rs), nleaves)
		}
	}
}

// The result does not depend on the number of goroutines.
func TestThreadsAgree(t *testing.T) {
	tc := randomCases(t)[0]
	one, err := Extract(tc.model, tc.X, tc.y, Options{Threads: 1, Similarity: 0.5, Top: 30})
	if err != nil {
		t.Fatal(err)
	}
	four, err := Extract(tc.model, tc.X, tc.y, Options{Threads: 4, Similarity: 0.5, Top: 30})
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != len(four) {
		t.Fatalf("%d rules with 1 thread, %d with 4", len(one), len(four))
	}
	for i := range one {
		if one[i].String() != four[i].String() || one[i].Similar != four[i].Similar {
			t.Errorf("rule %d: %s (similar %d) with 1 thread, %s (similar %d) with 4", i, one[i], one[i].Similar, four[i], four[i].Similar)
		}
	}
}

// The sketch estimate of the Jaccard similarity against exact set
// arithmetic: exact when both sets fit in their sketches, within a few
// standard errors otherwise.
func TestJaccard(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sketchOf := func(rows []int) []uint64 {
		sk := make([]uint64, sketchSize)
		n := 0
		for _, i := range rows {
			n = insert(sk, n, rowHash(i))
		}
		return sk[:n]
	}
	for trial := range 200 {
		universe := 20 + r.IntN(3000)
		var a, b []int
		inA, inB := map[int]bool{}, map[int]bool{}
		pa, pb := r.Float64(), r.Float64()
		for i := range universe {
			if r.Float64() < pa {
				a = append(a, i)
				inA[i] = true
			}
			if inA[i] && r.Float64() < 0.8 || !inA[i] && r.Float64() < pb {
				b = append(b, i)
				inB[i] = true
			}
		}
		if len(a) == 0 || len(b) == 0 {
			continue
		}
		both := 0
		for i := range inA {
			if inB[i] {
				both++
			}
		}
		exact := float64(both) / float64(len(a)+len(b)-both)
		got := jaccard(sketchOf(a), sketchOf(b), len(a), len(b))
		tol := 1e-12
		if len(a) > sketchSize || len(b) > sketchSize {
			tol = 4 * math.Sqrt(exact*(1-exact)/sketchSize)
			tol = max(tol, 0.05)
		}
		if math.Abs(got-exact) > tol {
			t.Errorf("trial %d: |A| %d, |B| %d: estimate %.3f, exact %.3f", trial, len(a), len(b), got, exact)
		}
	}
}
