package explain

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"risklane/models/xgb"
	"risklane/models/xgb/xgbtest"
)

// shapleyByDefinition is the Shapley value of each feature for one tree,
// from the definition: every subset S of the other features, weighted
// |S|!(M-|S|-1)!/M!, with v(S) the tree's expectation when the features of
// S are known (follow x) and the others are not (average the children by
// cover). Exponential in the number of features: a second implementation
// for small models, independent of TreeSHAP's path bookkeeping.
func shapleyByDefinition(t *xgb.Tree, x []float64) []float64 {
	m := len(x)
	var v func(n int32, known uint) float64
	v = func(n int32, known uint) float64 {
		if t.Left[n] == -1 {
			return float64(t.SplitCondition[n])
		}
		f := t.SplitIndex[n]
		l, r := t.Left[n], t.Right[n]
		if known&(1<<f) != 0 {
			xv := x[f]
			left := t.DefaultLeft[n]
			if !math.IsNaN(xv) {
				left = float32(xv) < t.SplitCondition[n]
			}
			if left {
				return v(l, known)
			}
			return v(r, known)
		}
		hl, hr := float64(t.SumHessian[l]), float64(t.SumHessian[r])
		return (hl*v(l, known) + hr*v(r, known)) / float64(t.SumHessian[n])
	}
	fact := func(k int) float64 {
		p := 1.0
		for i := 2; i <= k; i++ {
			p *= float64(i)
		}
		return p
	}
	phi := make([]float64, m)
	for i := range m {
		for s := uint(0); s < 1<<m; s++ {
			if s&(1<<i) != 0 {
				continue
			}
			k := 0
			for b := s; b != 0; b &= b - 1 {
				k++
			}
			w := fact(k) * fact(m-k-1) / fact(m)
			phi[i] += w * (v(0, s|1<<i) - v(0, s))
		}
	}
	return phi
}

// TreeSHAP equals the Shapley values computed from their definition, on
// random trees that split on the same feature several times along a path
// and send missing values both ways.
func TestSHAPMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const nf = 5
	for trial := range 40 {
		m := &xgb.Model{Objective: xgb.RegSquaredError, BaseScore: 0.5, NumFeature: nf}
		for range 3 {
			m.Trees = append(m.Trees, randomTree(r, 2+trial%5, nf))
		}
		e, err := New(m)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float64, nf)
		for f := range x {
			x[f] = r.NormFloat64()
			if r.IntN(6) == 0 {
				x[f] = math.NaN()
			}
		}
		want := make([]float64, nf)
		for i := range m.Trees {
			for f, p := range shapleyByDefinition(&m.Trees[i], x) {
				want[f] += p
			}
		}
		got := make([]float64, nf)
		margin := e.SHAP(x, got, nil)
		sum := e.Bias()
		for f := range got {
			if math.Abs(got[f]-want[f]) > 1e-9 {
				t.Fatalf("trial %d feature %d: TreeSHAP %v, definition %v (x %v)", trial, f, got[f], want[f], x)
			}
			sum += got[f]
		}
		if math.Abs(sum-margin) > 1e-9 || math.Abs(margin-predict(m, 0.5, x)) > 1e-9 {
			t.Fatalf("trial %d: bias + SHAP = %v, margin %v, predicted %v", trial, sum, margin, predict(m, 0.5, x))
		}
	}
}

// Against real XGBoost: predict(pred_contribs=True) on 10,000 rows with
// missing values, every contribution and the bias column within 1e-5.
func TestSHAPMatchesXGBoostPredContribs(t *testing.T) {
	python := xgbtest.Python(t)
	dir := t.TempDir()
	const nrows, nfeat = 10000, 9
	rows := xgbtest.Rows(21, nrows, nfeat, 0.15)
	labels := xgbtest.Labels(22, rows, nrows, nfeat, xgb.BinaryLogistic)
	model := filepath.Join(dir, "model.json")
	params := map[string]any{"objective": "binary:logistic", "max_depth": 6, "eta": 0.3, "base_score": 0.3, "tree_method": "hist", "seed": 1}
	xgbtest.Train(t, python, params, 40, rows, labels, nfeat, nil, model)
	in := xgbtest.WriteRows(t, filepath.Join(dir, "rows.f64"), rows)
	out := filepath.Join(dir, "contribs.f64")
	script := `
import sys, numpy as np, xgboost as xgb
model, rows, nfeat, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
X = np.fromfile(rows, dtype="<f8").reshape(-1, nfeat)
b = xgb.Booster(model_file=model)
b.set_param({"nthread": 2})
b.predict(xgb.DMatrix(X, missing=np.nan), pred_contribs=True).astype("<f8").tofile(out)
`
	if msg, err := exec.Command(python, "-c", script, model, in, "9", out).CombinedOutput(); err != nil {
		t.Fatalf("Python XGBoost pred_contribs: %v\n%s", err, msg)
	}
	buf, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(buf) != 8*nrows*(nfeat+1) {
		t.Fatalf("XGBoost returned %d values, want %d", len(buf)/8, nrows*(nfeat+1))
	}
	want := make([]float64, nrows*(nfeat+1))
	for i := range want {
		want[i] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:]))
	}
	m, err := xgb.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, nrows*nfeat)
	e.SHAPRows(rows, nrows, got)
	worst := 0.0
	for i := range nrows {
		for f := range nfeat + 1 {
			g := e.Bias()
			if f < nfeat {
				g = got[i*nfeat+f]
			}
			d := math.Abs(g - want[i*(nfeat+1)+f])
			worst = max(worst, d)
			if d > 1e-5 {
				t.Fatalf("row %d column %d: risklane %.9g, XGBoost %.9g", i, f, g, want[i*(nfeat+1)+f])
			}
		}
	}
	t.Logf("largest difference from XGBoost's pred_contribs over %d rows x %d columns: %.3g", nrows, nfeat+1, worst)
}

func BenchmarkSHAP(b *testing.B) {
	e, x := benchModel(b)
	out := make([]float64, len(x))
	var s SHAPScratch
	for b.Loop() {
		clear(out)
		e.SHAP(x, out, &s)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
