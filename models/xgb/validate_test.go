package xgb_test

import (
	"math"
	"strings"
	"testing"

	"risklane/models/xgb"
)

// smallModel is a hand-made model: one tree of depth 2 over 3 features.
//
//	node 0: f0 < 1   -> 1, 2
//	node 1: f1 < 5   -> 3, 4
//	node 2: f2 < 0.5 -> 5, 6
//	leaves 3..6: -0.2, -0.1, 0.1, 0.2
func smallModel() *xgb.Model {
	return &xgb.Model{
		Objective:  xgb.BinaryLogistic,
		BaseScore:  0.5,
		NumFeature: 3,
		Trees: []xgb.Tree{{
			Left:           []int32{1, 3, 5, -1, -1, -1, -1},
			Right:          []int32{2, 4, 6, -1, -1, -1, -1},
			Parent:         []int32{-1, 0, 0, 1, 1, 2, 2},
			SplitIndex:     []int32{0, 1, 2, 0, 0, 0, 0},
			SplitCondition: []float32{1, 5, 0.5, -0.2, -0.1, 0.1, 0.2},
			DefaultLeft:    []bool{true, false, true, false, false, false, false},
			BaseWeight:     make([]float32, 7),
			LossChange:     make([]float32, 7),
			SumHessian:     make([]float32, 7),
		}},
	}
}

func TestValidate(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		name   string
		mutate func(m *xgb.Model)
		want   string // "" for valid
	}{
		{"valid", func(m *xgb.Model) {}, ""},
		{"leaf right marker of exact method", func(m *xgb.Model) { m.Trees[0].Right[3] = 0 }, ""},
		{"pruned node", func(m *xgb.Model) {
			tr := &m.Trees[0]
			tr.Left[2], tr.Right[2] = -1, -1
			for _, c := range []int{5, 6} {
				tr.SplitIndex[c], tr.DefaultLeft[c] = xgb.DeletedSplitIndex, true
			}
		}, ""},
		{"no trees", func(m *xgb.Model) { m.Trees = nil }, ""},
		{"feature names", func(m *xgb.Model) { m.FeatureNames = []string{"a", "b", "c"} }, ""},

		{"unknown objective", func(m *xgb.Model) { m.Objective = "multi:softprob" }, `objective "multi:softprob" is not supported`},
		{"base score 0 for logistic", func(m *xgb.Model) { m.BaseScore = 0 }, "base_score 0 is not a probability"},
		{"base score 1 for logistic", func(m *xgb.Model) { m.BaseScore = 1 }, "base_score 1 is not a probability"},
		{"NaN base score", func(m *xgb.Model) { m.Objective, m.BaseScore = xgb.RegSquaredError, nan }, "base_score NaN is not a finite number"},
		{"no features", func(m *xgb.Model) { m.NumFeature = 0 }, "num_feature 0 out of range"},
		{"names count", func(m *xgb.Model) { m.FeatureNames = []string{"a"} }, "1 feature names for 3 features"},
		{"duplicate names", func(m *xgb.Model) { m.FeatureNames = []string{"a", "b", "a"} }, `features 0 and 2 are both named "a"`},
		{"bracket in name", func(m *xgb.Model) { m.FeatureNames = []string{"a", "b[1]", "c"} }, `feature 1 name "b[1]" contains`},
		{"too many trees", func(m *xgb.Model) { m.Trees = make([]xgb.Tree, xgb.MaxTrees+1) }, "100001 trees: more than the 100000"},

		{"empty tree", func(m *xgb.Model) { m.Trees = append(m.Trees, xgb.Tree{}) }, "tree 1: no nodes"},
		{"short array", func(m *xgb.Model) { m.Trees[0].SumHessian = m.Trees[0].SumHessian[:6] }, "tree 0: sum_hessian has 6 entries but left_children has 7"},
		{"right child out of range", func(m *xgb.Model) { m.Trees[0].Right[2] = 90 }, "tree 0 node 2: right child 90 out of range (tree has 7 nodes)"},
		{"negative left child", func(m *xgb.Model) { m.Trees[0].Left[1] = -5 }, "tree 0 node 1: left child -5 out of range"},
		{"cycle to the root", func(m *xgb.Model) { m.Trees[0].Left[2], m.Trees[0].Right[2] = 0, 1 }, "tree 0 node 2: left child 0 is already reached"},
		{"shared children", func(m *xgb.Model) { m.Trees[0].Left[2], m.Trees[0].Right[2] = 3, 4 }, "tree 0 node 3: parent is 1 but node 2 has it as a child"},
		{"self loop", func(m *xgb.Model) { m.Trees[0].Left[2], m.Trees[0].Right[2] = 2, 3 }, "tree 0 node 2: left child 2 is already reached"},
		{"siblings apart", func(m *xgb.Model) { m.Trees[0].Left[1], m.Trees[0].Right[1] = 4, 3 }, "tree 0 node 1: right child 3 does not follow left child 4"},
		{"wrong parent", func(m *xgb.Model) { m.Trees[0].Parent[5] = 1 }, "tree 0 node 5: parent is 1 but node 2 has it as a child"},
		{"root with a parent", func(m *xgb.Model) { m.Trees[0].Parent[0] = 2147483647 }, "tree 0 node 0: the root has parent 2147483647"},
		{"split feature out of range", func(m *xgb.Model) { m.Trees[0].SplitIndex[1] = 3 }, "tree 0 node 1: splits on feature 3 but the model has 3 features"},
		{"NaN threshold", func(m *xgb.Model) { m.Trees[0].SplitCondition[2] = nan }, "tree 0 node 2: split threshold NaN is not a finite number"},
		{"infinite leaf", func(m *xgb.Model) { m.Trees[0].SplitCondition[6] = float32(math.Inf(1)) }, "tree 0 node 6: leaf value +Inf is not a finite number"},
		{"NaN statistic", func(m *xgb.Model) { m.Trees[0].SumHessian[4] = nan }, "tree 0 node 4: sum_hessian NaN"},
		{"unreachable node", func(m *xgb.Model) { m.Trees[0].Left[2], m.Trees[0].Right[2] = -1, -1 }, "tree 0 node 5: not reachable from the root and not marked deleted"},
		{"deleted yet reachable", func(m *xgb.Model) {
			m.Trees[0].SplitIndex[4], m.Trees[0].DefaultLeft[4] = xgb.DeletedSplitIndex, true
		}, "tree 0 node 4: marked deleted but reachable"},
		{"deleted node with bad parent", func(m *xgb.Model) {
			tr := &m.Trees[0]
			tr.Left[2], tr.Right[2] = -1, -1
			for _, c := range []int{5, 6} {
				tr.SplitIndex[c], tr.DefaultLeft[c] = xgb.DeletedSplitIndex, true
			}
			tr.Parent[6] = 77
		}, "tree 0 node 6: deleted node has parent 77 out of range"},
		{"leaf right child out of range", func(m *xgb.Model) { m.Trees[0].Right[3] = 7 }, "tree 0 node 3: leaf has right child 7 out of range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := smallModel()
			c.mutate(m)
			err := m.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("no error, want %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

// The reference predictor, worked by hand on smallModel: margins are leaf
// values (base score 0.5 is margin 0), compared in float32 with "<".
func TestReferencePredictor(t *testing.T) {
	m := smallModel()
	nan := math.NaN()
	cases := []struct {
		row    []float64
		leaf   int
		margin float64
	}{
		{[]float64{0, 4, 0}, 3, -0.2},
		{[]float64{0, 5, 0}, 4, -0.1},            // 5 is not < 5
		{[]float64{1, 0, 0}, 5, 0.1},             // 1 is not < 1
		{[]float64{0.99999999999, 0, 9}, 6, 0.2}, // float32 rounds it to 1
		{[]float64{0.9999999, 0, 9}, 3, -0.2},    // float32 0.99999988 < 1
		{[]float64{nan, nan, 9}, 4, -0.1},        // defaults: left at node 0, right at node 1
		{[]float64{7, 0, nan}, 5, 0.1},           // default left at node 2
	}
	for _, c := range cases {
		if got := m.Trees[0].Leaf(c.row); got != c.leaf {
			t.Errorf("row %v: leaf %d, want %d", c.row, got, c.leaf)
		}
		if got := m.PredictMargin(c.row); math.Abs(got-c.margin) > 1e-7 {
			t.Errorf("row %v: margin %v, want %v", c.row, got, c.margin)
		}
		want := 1 / (1 + math.Exp(-c.margin))
		if got := m.Predict(c.row); math.Abs(got-want) > 1e-7 {
			t.Errorf("row %v: prediction %v, want %v", c.row, got, want)
		}
	}
	m.BaseScore = 0.2
	if got, want := m.PredictMargin([]float64{0, 4, 0}), math.Log(0.2/0.8)-0.2; math.Abs(got-want) > 1e-6 {
		t.Errorf("base score 0.2: margin %v, want %v", got, want)
	}
}
