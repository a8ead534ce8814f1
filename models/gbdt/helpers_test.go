package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"

	"risklane/models/xgb"
)

// synthetic returns n rows of nf features with a nonlinear binary signal:
// normal, uniform, skewed and few-valued integer columns, about 5% NaN in
// every third column, and labels drawn from a logistic of interactions,
// thresholds and a missing-value effect.
func synthetic(n, nf int, seed uint64) (*Matrix, []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	m := &Matrix{Rows: n, Cols: make([][]float64, nf)}
	for f := range nf {
		col := make([]float64, n)
		for i := range col {
			switch f % 4 {
			case 0:
				col[i] = r.NormFloat64()
			case 1:
				col[i] = r.Float64()*20 - 5
			case 2:
				col[i] = math.Exp(r.NormFloat64() * 2) // long tail, like customs values
			case 3:
				col[i] = float64(r.IntN(12))
			}
			if f%3 == 2 && r.Float64() < 0.05 {
				col[i] = math.NaN()
			}
		}
		m.Cols[f] = col
	}
	y := make([]float64, n)
	for i := range y {
		at := func(f int) float64 { return m.Cols[f%nf][i] }
		z := math.Sin(at(0)*1.5) + at(4)*at(7)*0.3 - 1
		if at(1) > 7 {
			z += 1.5
		}
		if x := at(2); x != x {
			z += 1 // missingness carries signal
		} else {
			z += 0.4 * math.Log(x)
		}
		if int(at(3))%3 == 0 {
			z -= 1
		}
		if x := at(5); x == x && x > 0 {
			z += 0.7
		}
		if r.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
	}
	return m, y
}

// predictMargins scores X with model the way XGBoost's CPU predictor does:
// float32 comparisons, NaN following the default direction, leaf values
// summed in float32 onto the base margin. It is independent of the
// trainer's own bookkeeping.
func predictMargins(t testing.TB, model *xgb.Model, X *Matrix) []float32 {
	t.Helper()
	base := model.BaseScore
	if model.Objective == xgb.BinaryLogistic {
		base = float32(-math.Log(float64(1/model.BaseScore - 1)))
	}
	out := make([]float32, X.Rows)
	for i := range out {
		out[i] = base
	}
	for ti := range model.Trees {
		tr := &model.Trees[ti]
		checkTree(t, tr, model.NumFeature)
		for i := range out {
			n := int32(0)
			for !tr.IsLeaf(int(n)) {
				x := float32(X.Cols[tr.SplitIndex[n]][i])
				switch {
				case math.IsNaN(float64(x)):
					if tr.DefaultLeft[n] {
						n = tr.Left[n]
					} else {
						n = tr.Right[n]
					}
				case x < tr.SplitCondition[n]:
					n = tr.Left[n]
				default:
					n = tr.Right[n]
				}
			}
			out[i] += tr.SplitCondition[n]
		}
	}
	return out
}

// checkTree checks the invariants the file-format code relies on: parallel
// arrays of one length, parents and children consistent, finite values.
func checkTree(t testing.TB, tr *xgb.Tree, nf int) {
	t.Helper()
	n := tr.NumNodes()
	for _, l := range []int{len(tr.Right), len(tr.Parent), len(tr.SplitIndex), len(tr.SplitCondition), len(tr.DefaultLeft), len(tr.BaseWeight), len(tr.LossChange), len(tr.SumHessian)} {
		if l != n {
			t.Fatalf("tree arrays have different lengths: %d vs %d", l, n)
		}
	}
	if n == 0 || tr.Parent[0] != -1 {
		t.Fatalf("root missing or has a parent: %v", tr.Parent)
	}
	for i := range n {
		if math.IsNaN(float64(tr.SplitCondition[i])) || math.IsNaN(float64(tr.BaseWeight[i])) || math.IsNaN(float64(tr.LossChange[i])) || math.IsNaN(float64(tr.SumHessian[i])) {
			t.Fatalf("node %d has NaN: cond %v weight %v gain %v cover %v", i, tr.SplitCondition[i], tr.BaseWeight[i], tr.LossChange[i], tr.SumHessian[i])
		}
		if tr.IsLeaf(i) {
			if tr.Right[i] != -1 || tr.LossChange[i] != 0 {
				t.Fatalf("leaf %d: right %d gain %v", i, tr.Right[i], tr.LossChange[i])
			}
			continue
		}
		l, r := tr.Left[i], tr.Right[i]
		if l <= int32(i) || r <= int32(i) || int(l) >= n || int(r) >= n || tr.Parent[l] != int32(i) || tr.Parent[r] != int32(i) {
			t.Fatalf("node %d: children %d, %d inconsistent", i, l, r)
		}
		if f := tr.SplitIndex[i]; f < 0 || int(f) >= nf {
			t.Fatalf("node %d splits on feature %d of %d", i, f, nf)
		}
		if !(tr.LossChange[i] > 0) {
			t.Fatalf("node %d split with gain %v", i, tr.LossChange[i])
		}
	}
}

// rowsOf returns the rows [lo, hi) of m as a new matrix.
func rowsOf(m *Matrix, lo, hi int) *Matrix {
	out := &Matrix{Rows: hi - lo, Names: m.Names, Cols: make([][]float64, len(m.Cols))}
	for f, c := range m.Cols {
		out.Cols[f] = c[lo:hi]
	}
	return out
}

// trainInternal runs Train's steps and returns the trainer, to reach the
// margins accumulated during training.
func trainInternal(t testing.TB, X *Matrix, y []float64, V *Matrix, yv []float64, p Params) (*trainer, *xgb.Model, *Report) {
	t.Helper()
	c, err := newConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkData(X, y, V, yv, c); err != nil {
		t.Fatal(err)
	}
	tr, err := newTrainer(X, y, V, yv, c)
	if err != nil {
		t.Fatal(err)
	}
	m, rep, err := tr.run()
	if err != nil {
		t.Fatal(err)
	}
	return tr, m, rep
}
