package gbdt

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"risklane/models/xgb"
)

// A stump worked by hand. Squared error, base score 0.5, lambda 1, eta 1:
// gradients are pred - y = (0.5, 0.5, -0.5, -0.5), hessians 1. The root has
// G = 0, H = 4, gain 0. Splitting at x < 3 gives G = +-1, H = 2 on each side:
// gain 1/3 + 1/3 - 0, weights -+1/3.
func TestHandWorkedStump(t *testing.T) {
	X := &Matrix{Rows: 4, Cols: [][]float64{{1, 2, 3, 4}}}
	y := []float64{0, 0, 1, 1}
	p := DefaultParams()
	p.Objective, p.BaseScore, p.Eta, p.NumRounds, p.MaxDepth = xgb.RegSquaredError, 0.5, 1, 1, 1
	m, _, err := Train(X, y, nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	tr := m.Trees[0]
	want := xgb.Tree{
		Left:           []int32{1, -1, -1},
		Right:          []int32{2, -1, -1},
		Parent:         []int32{-1, 0, 0},
		SplitIndex:     []int32{0, 0, 0},
		SplitCondition: []float32{3, float32(-1.0 / 3), float32(1.0 / 3)},
		DefaultLeft:    []bool{false, false, false},
		BaseWeight:     []float32{0, float32(-1.0 / 3), float32(1.0 / 3)},
		LossChange:     []float32{float32(2.0 / 3), 0, 0},
		SumHessian:     []float32{4, 2, 2},
	}
	checkTreeEqual(t, &tr, &want)
	if m.BaseScore != 0.5 {
		t.Errorf("base score %v", m.BaseScore)
	}
}

// Missing values carry the signal: the best split sends every value left
// and the missing rows right (the forward scan finds it first, as in
// XGBoost), with XGBoost's last cut max + |max| + 1e-5 as threshold.
func TestHandWorkedMissing(t *testing.T) {
	nan := math.NaN()
	X := &Matrix{Rows: 4, Cols: [][]float64{{1, nan, 3, nan}}}
	y := []float64{0, 1, 0, 1}
	p := DefaultParams()
	p.Objective, p.BaseScore, p.Eta, p.NumRounds, p.MaxDepth = xgb.RegSquaredError, 0.5, 1, 1, 1
	p.Lambda, p.MinChildWeight = 0, 0
	m, _, err := Train(X, y, nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	tr := m.Trees[0]
	want := xgb.Tree{
		Left:           []int32{1, -1, -1},
		Right:          []int32{2, -1, -1},
		Parent:         []int32{-1, 0, 0},
		SplitIndex:     []int32{0, 0, 0},
		SplitCondition: []float32{float32(3 + 3 + 1e-5), -0.5, 0.5},
		DefaultLeft:    []bool{false, false, false},
		BaseWeight:     []float32{0, -0.5, 0.5},
		LossChange:     []float32{1, 0, 0},
		SumHessian:     []float32{4, 2, 2},
	}
	checkTreeEqual(t, &tr, &want)
}

func checkTreeEqual(t *testing.T, got, want *xgb.Tree) {
	t.Helper()
	if got.NumNodes() != want.NumNodes() {
		t.Fatalf("%d nodes, want %d: %+v", got.NumNodes(), want.NumNodes(), got)
	}
	for n := range want.NumNodes() {
		if got.Left[n] != want.Left[n] || got.Right[n] != want.Right[n] || got.Parent[n] != want.Parent[n] ||
			got.SplitIndex[n] != want.SplitIndex[n] || got.DefaultLeft[n] != want.DefaultLeft[n] {
			t.Fatalf("node %d structure: got %+v\nwant %+v", n, got, want)
		}
		for _, v := range [][3]float32{
			{0, got.SplitCondition[n], want.SplitCondition[n]},
			{1, got.BaseWeight[n], want.BaseWeight[n]},
			{2, got.LossChange[n], want.LossChange[n]},
			{3, got.SumHessian[n], want.SumHessian[n]},
		} {
			if math.Abs(float64(v[1]-v[2])) > 1e-6 {
				t.Errorf("node %d %s: got %v, want %v", n, []string{"condition", "base weight", "gain", "cover"}[int(v[0])], v[1], v[2])
			}
		}
	}
}

// Degenerate data must train without error, NaN or panic, and the model must
// still reproduce the training margins.
func TestEdgeCases(t *testing.T) {
	nan := math.NaN()
	X, y := synthetic(500, 4, 9)
	constant := make([]float64, 500)
	allNaN := make([]float64, 500)
	for i := range allNaN {
		constant[i] = 7
		allNaN[i] = nan
	}
	huge := make([]float64, 500)
	for i := range huge {
		huge[i] = math.MaxFloat32 * (float64(i%7)/3 - 1) // -max .. +max, both ends included
	}
	zeros := make([]float64, 500)
	for i := range zeros {
		zeros[i] = math.Copysign(0, float64(i%2)-0.5) // -0 and +0 are one value
	}
	ones := make([]float64, 500)
	for i := range ones {
		ones[i] = 1
	}
	hugeLabels := make([]float64, 500)
	for i := range hugeLabels {
		hugeLabels[i] = 1e30 * (X.Cols[0][i] + 0.1)
	}
	cols := func(c ...[]float64) *Matrix { return &Matrix{Rows: len(c[0]), Cols: c} }
	cases := []struct {
		name string
		X    *Matrix
		y    []float64
		edit func(*Params)
	}{
		{"constant and all-NaN features beside real ones", cols(constant, X.Cols[0], allNaN, X.Cols[1]), y, nil},
		{"only a constant feature", cols(constant), y, nil},
		{"only an all-NaN feature", cols(allNaN), y, nil},
		{"single row", cols([]float64{3}), []float64{1}, nil},
		{"single row, squared error", cols([]float64{3}), []float64{-2}, func(p *Params) { p.Objective = xgb.RegSquaredError }},
		{"all labels 0", cols(X.Cols[0], X.Cols[1]), zeros, nil},
		{"all labels 1, no regularisation", cols(X.Cols[0], X.Cols[1]), ones, func(p *Params) { p.Lambda, p.MinChildWeight = 0, 0 }},
		{"features at float32's limits", cols(huge, X.Cols[2]), y, nil},
		{"signed zeros", cols(zeros, X.Cols[3]), y, nil},
		{"huge labels", cols(X.Cols[0], X.Cols[1]), hugeLabels, func(p *Params) { p.Objective = xgb.RegSquaredError }},
		{"three rows, deep, subsampled", cols([]float64{1, 2, 3}), []float64{0, 1, 0}, func(p *Params) { p.Subsample, p.MaxDepth = 0.3, 12 }},
		{"two bins", X, y, func(p *Params) { p.MaxBin = 2 }},
		{"no regularisation at all", X, y, func(p *Params) { p.Lambda, p.MinChildWeight, p.Gamma = 0, 0, 0 }},
		{"huge gamma: no splits", X, y, func(p *Params) { p.Gamma = 1e30 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			p.NumRounds, p.NumThreads = 10, 2
			if tc.edit != nil {
				tc.edit(&p)
			}
			tr, model, rep := trainInternal(t, tc.X, tc.y, tc.X, tc.y, p)
			pred := predictMargins(t, model, tc.X)
			for i, m := range tr.margin {
				if math.IsNaN(float64(m)) || math.IsInf(float64(m), 0) {
					t.Fatalf("row %d: margin %v", i, m)
				}
				if math.Float32bits(m) != math.Float32bits(pred[i]) {
					t.Fatalf("row %d: trained margin %v, model predicts %v", i, m, pred[i])
				}
			}
			for i, v := range rep.Train {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("round %d: train %s %v", i, rep.Metric, v)
				}
			}
			if err := model.Validate(); err != nil {
				t.Fatalf("the model does not validate: %v", err)
			}
		})
	}
}

// Bad input is refused with an error that names what is wrong.
func TestInvalidInput(t *testing.T) {
	X, y := synthetic(50, 3, 1)
	nan, inf := math.NaN(), math.Inf(1)
	with := func(col int, row int, v float64) *Matrix {
		m := &Matrix{Rows: X.Rows, Names: []string{"a", "b", "c"}}
		for j, c := range X.Cols {
			c = append([]float64(nil), c...)
			if j == col {
				c[row] = v
			}
			m.Cols = append(m.Cols, c)
		}
		return m
	}
	labels := func(i int, v float64) []float64 {
		l := append([]float64(nil), y...)
		l[i] = v
		return l
	}
	weighted := func(row int, v float64, n int) *Matrix {
		m := *X
		m.Weights = make([]float64, n)
		for i := range m.Weights {
			m.Weights[i] = 1
		}
		if row >= 0 {
			m.Weights[row] = v
		}
		return &m
	}
	cases := []struct {
		name  string
		X     *Matrix
		y     []float64
		V     *Matrix
		yv    []float64
		edit  func(*Params)
		wants string
	}{
		{"negative weight", weighted(4, -0.5, 50), y, nil, nil, nil, "training row 4 has weight -0.5"},
		{"NaN weight", weighted(0, nan, 50), y, nil, nil, nil, "training row 0 has weight NaN"},
		{"Inf weight", weighted(49, inf, 50), y, nil, nil, nil, "training row 49 has weight +Inf"},
		{"weight beyond float32", weighted(8, 1e39, 50), y, nil, nil, nil, "training row 8 has weight 1e+39"},
		{"weight count", weighted(-1, 0, 49), y, nil, nil, nil, "training matrix has 49 weights for 50 rows"},
		{"zero weights", &Matrix{Rows: X.Rows, Cols: X.Cols, Weights: make([]float64, 50)}, y, nil, nil, nil, "every training weight is 0"},
		{"valid weight", X, y, weighted(2, -1, 50), y, nil, "validation row 2 has weight -1"},
		{"nil matrix", nil, y, nil, nil, nil, "no training matrix"},
		{"no rows", &Matrix{Rows: 0, Cols: [][]float64{{}}}, nil, nil, nil, nil, "no rows"},
		{"no columns", &Matrix{Rows: 3}, []float64{0, 1, 0}, nil, nil, nil, "no feature columns"},
		{"short column", &Matrix{Rows: 3, Cols: [][]float64{{1, 2}}}, []float64{0, 1, 0}, nil, nil, nil, "column 0 has 2 values for 3 rows"},
		{"names", &Matrix{Rows: 1, Cols: [][]float64{{1}}, Names: []string{"a", "b"}}, []float64{1}, nil, nil, nil, "2 names for 1 columns"},
		{"bad name", &Matrix{Rows: 1, Cols: [][]float64{{1}}, Names: []string{"a[1]"}}, []float64{1}, nil, nil, nil, `column 0 is named "a[1]"`},
		{"repeated name", &Matrix{Rows: 1, Cols: [][]float64{{1}, {2}}, Names: []string{"a", "a"}}, []float64{1}, nil, nil, nil, `columns 0 and 1 are both named "a"`},
		{"empty valid", X, y, &Matrix{Rows: 0, Cols: make([][]float64, 3)}, nil, nil, "validation matrix has no rows"},
		{"label count", X, y[:10], nil, nil, nil, "10 training labels for 50 training rows"},
		{"label 2", X, labels(7, 2), nil, nil, nil, "training label 7 is 2"},
		{"NaN label", X, labels(3, nan), nil, nil, nil, "training label 3 is NaN"},
		{"Inf label", X, labels(3, inf), nil, nil, nil, "training label 3 is +Inf"},
		{"huge label", X, labels(4, 1e39), nil, nil, func(p *Params) { p.Objective = xgb.RegSquaredError }, "outside float32's range"},
		{"Inf feature", with(1, 5, inf), y, nil, nil, nil, `column 1 ("b") row 5: value +Inf`},
		{"feature beyond float32", with(2, 6, -1e300), y, nil, nil, nil, `column 2 ("c") row 6: value -1e+300`},
		{"valid width", X, y, &Matrix{Rows: 1, Cols: [][]float64{{1}}}, []float64{1}, nil, "validation matrix has 1 columns"},
		{"valid labels", X, y, X, y[:3], nil, "3 validation labels for 50 validation rows"},
		{"valid label", X, y, X, labels(9, 0.5), nil, "validation label 9 is 0.5"},
		{"labels without matrix", X, y, nil, y, nil, "validation labels but no validation matrix"},
		{"early stopping without valid", X, y, nil, nil, func(p *Params) { p.EarlyStoppingRounds = 5 }, "no validation set"},
		{"auc on one class", X, make([]float64, 50), X, y, func(p *Params) { p.EvalMetric, p.EvalTrain = AUC, true }, "AUC needs both classes"},
		{"objective", X, y, nil, nil, func(p *Params) { p.Objective = "multi:softmax" }, `Objective "multi:softmax" is not supported`},
		{"metric", X, y, nil, nil, func(p *Params) { p.EvalMetric = "mae" }, `EvalMetric "mae" is not supported`},
		{"auc for regression", X, y, nil, nil, func(p *Params) { p.Objective, p.EvalMetric = xgb.RegSquaredError, AUC }, "needs objective"},
		{"rounds", X, y, nil, nil, func(p *Params) { p.NumRounds = 0 }, "NumRounds is 0"},
		{"depth", X, y, nil, nil, func(p *Params) { p.MaxDepth = 0 }, "MaxDepth is 0"},
		{"bins", X, y, nil, nil, func(p *Params) { p.MaxBin = 1000 }, "MaxBin is 1000"},
		{"eta", X, y, nil, nil, func(p *Params) { p.Eta = 0 }, "Eta is 0"},
		{"eta NaN", X, y, nil, nil, func(p *Params) { p.Eta = nan }, "Eta is NaN"},
		{"lambda", X, y, nil, nil, func(p *Params) { p.Lambda = -1 }, "Lambda is -1"},
		{"subsample", X, y, nil, nil, func(p *Params) { p.Subsample = 1.5 }, "Subsample is 1.5"},
		{"colsample", X, y, nil, nil, func(p *Params) { p.ColsampleByNode = -0.1 }, "ColsampleByNode is -0.1"},
		{"scale_pos_weight", X, y, nil, nil, func(p *Params) { p.ScalePosWeight = -2 }, "ScalePosWeight is -2"},
		{"scale_pos_weight for regression", X, y, nil, nil, func(p *Params) { p.Objective, p.ScalePosWeight = xgb.RegSquaredError, 2 }, "applies to binary:logistic only"},
		{"base score", X, y, nil, nil, func(p *Params) { p.BaseScore = 1 }, "BaseScore is 1"},
		{"threads", X, y, nil, nil, func(p *Params) { p.NumThreads = -1 }, "NumThreads is -1"},
		{"overflow", X, y, nil, nil, func(p *Params) { p.Eta = 1e38; p.Objective = xgb.RegSquaredError }, "overflowed float32"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			p.NumRounds = 3
			if tc.edit != nil {
				tc.edit(&p)
			}
			m, rep, err := Train(tc.X, tc.y, tc.V, tc.yv, p)
			if err == nil {
				t.Fatalf("no error (model %v, report %v); want one containing %q", m != nil, rep != nil, tc.wants)
			}
			if !strings.Contains(err.Error(), tc.wants) {
				t.Fatalf("error %q does not contain %q", err, tc.wants)
			}
		})
	}
}

// Weights of 1 are no weights: the same trees and metrics, bit for bit, for
// both objectives.
func TestUnitWeights(t *testing.T) {
	X, y := synthetic(3000, 6, 5)
	for _, obj := range []string{xgb.BinaryLogistic, xgb.RegSquaredError} {
		p := DefaultParams()
		p.Objective, p.NumRounds, p.Subsample, p.Seed = obj, 5, 0.8, 2
		plain, prep, err := Train(X, y, X, y, p)
		if err != nil {
			t.Fatal(err)
		}
		W := *X
		W.Weights = make([]float64, X.Rows)
		for i := range W.Weights {
			W.Weights[i] = 1
		}
		model, rep, err := Train(&W, y, &W, y, p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(plain, model) || !slices.Equal(prep.Train, rep.Train) || !slices.Equal(prep.Valid, rep.Valid) || prep.BaseScore != rep.BaseScore {
			t.Errorf("%s: unit weights changed the model or its metrics (train %v, %v)", obj, prep.Train, rep.Train)
		}
	}
}
