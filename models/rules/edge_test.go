package rules

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"risklane/models/gbdt"
	"risklane/models/xgb"
)

// Degenerate models and data give rules, not panics.
func TestDegenerate(t *testing.T) {
	stump := &xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: 0.5, NumFeature: 2,
		Trees: []xgb.Tree{buildTree([]node{leafNode(0.3)}), buildTree([]node{{1, 1, 2, true}, leafNode(-1), leafNode(1)})}}
	nanCols := &gbdt.Matrix{Rows: 4, Cols: [][]float64{{nan, nan, nan, nan}, {nan, nan, nan, nan}}}
	y := []float64{1, 0, 0, 1}

	rs, err := Extract(stump, nanCols, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Tree 0 is one leaf: every row. Tree 1 sends every missing value left.
	want := []string{
		"every declaration  ->  support 4 (100%), fraud rate 50% (lift 1.0)",
		"f1 < 2 (or missing)  ->  support 4 (100%), fraud rate 50% (lift 1.0)",
	}
	if len(rs) != len(want) {
		t.Fatalf("%d rules: %v", len(rs), rs)
	}
	for i := range want {
		if rs[i].String() != want[i] {
			t.Errorf("rule %d: %s, want %s", i, rs[i], want[i])
		}
	}
	// The two rules reach the same rows: deduplication merges them.
	rs, err = Extract(stump, nanCols, y, DefaultOptions())
	if err != nil || len(rs) != 1 || rs[0].Similar != 1 {
		t.Errorf("identical row sets: %v, %v", rs, err)
	}

	// A code feature with only missing values reads "missing".
	codeModel := &xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: 0.5, NumFeature: 1, FeatureNames: []string{"hs4"},
		Trees: []xgb.Tree{buildTree([]node{{1, 0, 8703, false}, leafNode(-1), {3, 0, 8704, true}, leafNode(1), leafNode(0)})}}
	rs, err = Extract(codeModel, &gbdt.Matrix{Rows: 4, Cols: [][]float64{{nan, nan, nan, nan}}}, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Text(Names([]string{"hs4"})) != "8703 <= HS4 < 8704 (or missing)" {
		t.Errorf("NaN-only code feature: %v", rs)
	}

	// No illicit row, or only illicit rows: the base rate is 0 or 1, every
	// z-score 0, lifts finite, JSON valid.
	for _, labels := range [][]float64{{0, 0, 0, 0}, {1, 1, 1, 1}} {
		rs, err := Extract(stump, nanCols, labels, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Score != 0 || r.Lift != 1 || math.IsNaN(r.FraudRate) {
				t.Errorf("labels %v: %+v", labels, r)
			}
		}
		if _, err := json.Marshal(rs); err != nil {
			t.Errorf("labels %v: %v", labels, err)
		}
	}

	// More rules asked for than there are; a support no leaf reaches.
	if rs, err := Extract(stump, nanCols, y, Options{Top: 100}); err != nil || len(rs) != 2 {
		t.Errorf("top 100: %d rules, %v", len(rs), err)
	}
	deep := &xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: 0.5, NumFeature: 2,
		Trees: []xgb.Tree{buildTree([]node{{1, 0, 0, true}, leafNode(-1), leafNode(1)})}}
	X := &gbdt.Matrix{Rows: 4, Cols: [][]float64{{-1, -1, 1, 2}, {0, 0, 0, 0}}}
	if rs, err := Extract(deep, X, y, Options{MinSupport: 0.6}); err != nil || len(rs) != 0 {
		t.Errorf("min support 60%% of 4 rows split 2/2: %v, %v", rs, err)
	}
	rs, err = Extract(deep, X, y, Options{MinSupport: 0.5})
	if err != nil || len(rs) != 2 {
		t.Fatalf("min support 50%% of 4 rows split 2/2: %v, %v", rs, err)
	}
	// Missing values go left, but no row has one: the text does not say so.
	if c := rs[0].Conditions[0]; !c.Missing || !c.NoneMissing || rs[0].Text(Names(nil))+rs[1].Text(Names(nil)) != "f0 < 0f0 >= 0" {
		t.Errorf("no missing value in the data: %+v, %s; %s", c, rs[0], rs[1])
	}
}

// Bad input is refused with an error that says what is wrong.
func TestInputErrors(t *testing.T) {
	m := handModel()
	X, y := handData()
	broken := handModel()
	broken.Trees[1].Left[2] = 7
	tests := []struct {
		name string
		m    *xgb.Model
		X    *gbdt.Matrix
		y    []float64
		opts Options
		want string
	}{
		{"no model", nil, X, y, Options{}, "invalid model"},
		{"broken model", broken, X, y, Options{}, "tree 1 node 2"},
		{"no data", m, nil, y, Options{}, "no data"},
		{"too few columns", m, &gbdt.Matrix{Rows: 12, Cols: X.Cols[:2]}, y, Options{}, "the model takes 3 features, the data has 2"},
		{"no rows", m, &gbdt.Matrix{Rows: 0, Cols: [][]float64{nil, nil, nil}}, nil, Options{}, "no rows"},
		{"short column", m, &gbdt.Matrix{Rows: 12, Cols: [][]float64{X.Cols[0], X.Cols[1], X.Cols[2][:5]}}, y, Options{}, "feature 2 has 5 values for 12 rows"},
		{"names differ", m, &gbdt.Matrix{Rows: 12, Cols: X.Cols, Names: []string{"hs4", "log_uv_unit", "risk_importer"}}, y, Options{},
			`feature 1 is "log_uv_unit" in the data but "log_uv_kg" in the model`},
		{"labels short", m, X, y[:3], Options{}, "3 labels for 12 rows"},
		{"label 2", m, X, append(append([]float64{}, y[:11]...), 2), Options{}, "label of row 11 is 2"},
		{"no label", m, X, make12(nan), Options{}, "no labelled row"},
		{"top", m, X, y, Options{Top: -1}, "top = -1"},
		{"min support", m, X, y, Options{MinSupport: 5}, "min support = 5"},
		{"min support NaN", m, X, y, Options{MinSupport: nan}, "min support = NaN"},
		{"similarity", m, X, y, Options{Similarity: -0.1}, "similarity = -0.1"},
		{"threads", m, X, y, Options{Threads: -2}, "threads = -2"},
		{"rank", m, X, y, Options{Rank: "lift"}, `unknown ranking "lift"`},
	}
	for _, tc := range tests {
		_, err := Extract(tc.m, tc.X, tc.y, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func make12(v float64) []float64 {
	s := make([]float64, 12)
	for i := range s {
		s[i] = v
	}
	return s
}
