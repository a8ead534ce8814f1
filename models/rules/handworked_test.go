package rules

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"risklane/models/gbdt"
	"risklane/models/xgb"
)

var nan = math.NaN()

// node is one node of a hand-built tree: a split of feature on threshold
// with its children at left and left+1 and missing values going left when
// defaultLeft; or, with left == -1, a leaf whose value is threshold.
type node struct {
	left        int32
	feature     int32
	threshold   float32
	defaultLeft bool
}

func buildTree(nodes []node) xgb.Tree {
	n := len(nodes)
	t := xgb.Tree{Left: make([]int32, n), Right: make([]int32, n), Parent: make([]int32, n),
		SplitIndex: make([]int32, n), SplitCondition: make([]float32, n), DefaultLeft: make([]bool, n),
		BaseWeight: make([]float32, n), LossChange: make([]float32, n), SumHessian: make([]float32, n)}
	t.Parent[0] = -1
	for id, nd := range nodes {
		t.Left[id], t.SplitIndex[id], t.SplitCondition[id], t.DefaultLeft[id] = nd.left, nd.feature, nd.threshold, nd.defaultLeft
		t.Right[id] = -1
		if nd.left >= 0 {
			t.Right[id] = nd.left + 1
			t.Parent[nd.left], t.Parent[nd.left+1] = int32(id), int32(id)
		}
	}
	return t
}

func leafNode(v float32) node { return node{left: -1, threshold: v} }

// handModel is two trees over hs4, log_uv_kg and risk_importer:
//
//	tree 0: 0 hs4 < 8703 (missing right) -> 1 leaf -0.2
//	                                      -> 2 hs4 < 8704 (missing left) -> 3 log_uv_kg < 7 (missing right) -> 5 leaf 0.4
//	                                                                                                       -> 6 leaf 0
//	                                                                      -> 4 leaf -0.1
//	tree 1: 0 risk_importer < 0.2 (missing left) -> 1 leaf -0.1
//	                                             -> 2 log_uv_kg < 6.5 (missing right) -> 3 leaf 0.5
//	                                                                                  -> 4 leaf 0.1
func handModel() *xgb.Model {
	return &xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: 0.5, NumFeature: 3,
		FeatureNames: []string{"hs4", "log_uv_kg", "risk_importer"},
		Trees: []xgb.Tree{
			buildTree([]node{{1, 0, 8703, false}, leafNode(-0.2), {3, 0, 8704, true}, {5, 1, 7, false},
				leafNode(-0.1), leafNode(0.4), leafNode(0)}),
			buildTree([]node{{1, 2, 0.2, true}, leafNode(-0.1), {3, 1, 6.5, false}, leafNode(0.5), leafNode(0.1)}),
		}}
}

// handData is twelve rows; row 11 is not inspected and is left out, so 11
// labelled rows with 5 illicit (rows 0, 1, 4, 7, 10): base rate 5/11.
//
// Tree 0 (HS4 domain of the labelled rows: 8471, 8703, 8704, 8708):
//
//	leaf 1 (hs4 < 8703):                  rows 5, 6          n 2, illicit 0
//	leaf 5 (8703 <= hs4 < 8704 or NaN, uv < 7): rows 0, 1, 4  n 3, illicit 3 (row 4 has no HS4)
//	leaf 6 (same HS4, uv >= 7 or NaN):    rows 2, 3          n 2, illicit 0
//	leaf 4 (hs4 >= 8704):                 rows 7, 8, 9, 10   n 4, illicit 2
//
// Tree 1:
//
//	leaf 1 (risk < 0.2 or NaN):           rows 1, 3, 6, 8, 9 n 5, illicit 1
//	leaf 3 (risk >= 0.2, uv < 6.5):       rows 0, 4, 5, 7, 10 n 5, illicit 4
//	leaf 4 (risk >= 0.2, uv >= 6.5 or NaN): row 2            n 1, illicit 0
func handData() (*gbdt.Matrix, []float64) {
	rows := [][4]float64{
		{8703, 6.0, 0.30, 1},
		{8703, 6.8, 0.10, 1},
		{8703, 7.5, 0.25, 0},
		{8703, nan, 0.05, 0},
		{nan, 6.2, 0.40, 1},
		{8471, 6.0, 0.50, 0},
		{8471, 8.0, 0.02, 0},
		{8704, 5.0, 0.22, 1},
		{8704, 7.2, 0.01, 0},
		{8708, 6.6, nan, 0},
		{8708, 6.4, 0.35, 1},
		{8703, 6.9, 0.15, nan},
	}
	X := &gbdt.Matrix{Rows: len(rows), Cols: make([][]float64, 3), Names: []string{"hs4", "log_uv_kg", "risk_importer"}}
	y := make([]float64, len(rows))
	for i, r := range rows {
		for j := range 3 {
			X.Cols[j] = append(X.Cols[j], r[j])
		}
		y[i] = r[3]
	}
	return X, y
}

// handRule is a rule worked out by hand: where it is, its counts, and its
// text (exp(7) = 1,096.6 and exp(6.5) = 665.1 per kg).
type handRule struct {
	tree, leaf, n, bad int
	value              float32
	text               string
}

// The rules in z-score order. With p0 = 5/11 and sd = sqrt(p0 (1 - p0)) =
// 0.4979, z = (p - p0) sqrt(n) / sd:
//
//	tree 0 leaf 5: (1 - 0.4545) * sqrt(3) / 0.4979 =  1.897
//	tree 1 leaf 3: (0.8 - 0.4545) * sqrt(5) / sd   =  1.551
//	tree 0 leaf 4: (0.5 - 0.4545) * 2 / sd         =  0.183
//	tree 1 leaf 4: -0.4545 / sd                    = -0.913
//	tree 1 leaf 1: (0.2 - 0.4545) * sqrt(5) / sd   = -1.143
//	tree 0 leaf 1 and leaf 6: -0.4545 * sqrt(2) / sd = -1.291 (tie: tree, then leaf)
var handRules = []handRule{
	{0, 5, 3, 3, 0.4, "HS4 = 8703 (or missing) and value per kg < 1,097  ->  support 3 (27%), fraud rate 100% (lift 2.2)"},
	{1, 3, 5, 4, 0.5, "importer's past fraud rate >= 20% and value per kg < 665  ->  support 5 (45%), fraud rate 80% (lift 1.8)"},
	{0, 4, 4, 2, -0.1, "HS4 in {8704, 8708}  ->  support 4 (36%), fraud rate 50% (lift 1.1)"},
	{1, 4, 1, 0, 0.1, "importer's past fraud rate >= 20% and value per kg >= 665 (or missing)  ->  support 1 (9.1%), fraud rate 0% (lift 0.00)"},
	{1, 1, 5, 1, -0.1, "importer's past fraud rate < 20% (or missing)  ->  support 5 (45%), fraud rate 20% (lift 0.44)"},
	{0, 1, 2, 0, -0.2, "HS4 = 8471  ->  support 2 (18%), fraud rate 0% (lift 0.00)"},
	{0, 6, 2, 0, 0, "HS4 = 8703 (or missing) and value per kg >= 1,097 (or missing)  ->  support 2 (18%), fraud rate 0% (lift 0.00)"},
}

func TestHandWorked(t *testing.T) {
	X, y := handData()
	got, err := Extract(handModel(), X, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(handRules) {
		t.Fatalf("%d rules, want %d:\n%v", len(got), len(handRules), got)
	}
	p0 := 5.0 / 11
	for i, w := range handRules {
		r := got[i]
		if r.Tree != w.tree || r.Leaf != w.leaf || r.Support != w.n || r.Illicit != w.bad {
			t.Errorf("rule %d: tree %d leaf %d, %d rows, %d illicit; want tree %d leaf %d, %d rows, %d illicit",
				i, r.Tree, r.Leaf, r.Support, r.Illicit, w.tree, w.leaf, w.n, w.bad)
			continue
		}
		p := float64(w.bad) / float64(w.n)
		z := (p - p0) * math.Sqrt(float64(w.n)) / math.Sqrt(p0*(1-p0))
		for _, c := range []struct {
			what      string
			got, want float64
		}{{"support share", r.SupportShare, float64(w.n) / 11}, {"fraud rate", r.FraudRate, p},
			{"lift", r.Lift, p / p0}, {"score", r.Score, z}, {"value", r.Value, float64(w.value)}} {
			if math.Abs(c.got-c.want) > 1e-12 {
				t.Errorf("rule %d (tree %d leaf %d): %s %v, want %v", i, w.tree, w.leaf, c.what, c.got, c.want)
			}
		}
		if s := r.String(); s != w.text {
			t.Errorf("rule %d:\n got %s\nwant %s", i, s, w.text)
		}
	}
	// The HS4 condition of tree 0 leaf 5, with its codes.
	c := got[0].Conditions[0]
	want := Condition{Feature: 0, Lo: 8703, Hi: 8704, Missing: true, Code: true, In: []float64{8703}, Out: []float64{8471, 8704, 8708}}
	if c.Feature != want.Feature || c.Lo != want.Lo || c.Hi != want.Hi || c.Missing != want.Missing || !c.Code ||
		!slices.Equal(c.In, want.In) || !slices.Equal(c.Out, want.Out) {
		t.Errorf("condition %+v, want %+v", c, want)
	}
}

// Options select, rank and merge the same rules.
func TestHandWorkedOptions(t *testing.T) {
	X, y := handData()
	type tl struct{ tree, leaf, similar int }
	tests := []struct {
		name string
		opts Options
		want []tl
	}{
		{"top 3", Options{Top: 3}, []tl{{0, 5, 0}, {1, 3, 0}, {0, 4, 0}}},
		// At least 30% of 11 rows: 4 rows.
		{"min support", Options{MinSupport: 0.3}, []tl{{1, 3, 0}, {0, 4, 0}, {1, 1, 0}}},
		// Tree 1 leaf 3 shares rows 0 and 4 of the 6 rows of it and tree 0
		// leaf 5 (Jaccard 1/3); tree 0 leaf 6 shares row 2 with tree 1 leaf
		// 4 (1/2). Tree 1 leaf 1 and tree 0 leaf 4 share 2 of 7 (0.29).
		{"similarity", Options{Similarity: 0.3}, []tl{{0, 5, 1}, {0, 4, 0}, {1, 4, 1}, {1, 1, 0}, {0, 1, 0}}},
		{"similarity 0.5 top 2", Options{Similarity: 0.5, Top: 2}, []tl{{0, 5, 0}, {1, 3, 0}}},
		{"similarity 0.5", Options{Similarity: 0.5}, []tl{{0, 5, 0}, {1, 3, 0}, {0, 4, 0}, {1, 4, 1}, {1, 1, 0}, {0, 1, 0}}},
		{"by rate", Options{Rank: ByRate}, []tl{{0, 5, 0}, {1, 3, 0}, {0, 4, 0}, {1, 1, 0}, {0, 1, 0}, {0, 6, 0}, {1, 4, 0}}},
		// Equal leaf values -0.1: the larger support first.
		{"by value", Options{Rank: ByValue}, []tl{{1, 3, 0}, {0, 5, 0}, {1, 4, 0}, {0, 6, 0}, {1, 1, 0}, {0, 4, 0}, {0, 1, 0}}},
	}
	for _, tc := range tests {
		rs, err := Extract(handModel(), X, y, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []tl
		for _, r := range rs {
			got = append(got, tl{r.Tree, r.Leaf, r.Similar})
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: (tree, leaf, similar) %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestHandWorkedJSON(t *testing.T) {
	X, y := handData()
	rs, err := Extract(handModel(), X, y, Options{Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Text       string `json:"text"`
		Conditions []struct {
			Feature int      `json:"feature"`
			Name    string   `json:"name"`
			Text    string   `json:"text"`
			Min     *float64 `json:"min"`
			Max     *float64 `json:"max"`
			Missing bool     `json:"missing"`
			In      []string `json:"in"`
			NotIn   []string `json:"not_in"`
		} `json:"conditions"`
		Support      int     `json:"support"`
		SupportShare float64 `json:"support_share"`
		Illicit      int     `json:"illicit"`
		FraudRate    float64 `json:"fraud_rate"`
		Lift         float64 `json:"lift"`
		Tree         int     `json:"tree"`
		Leaf         int     `json:"leaf"`
		Value        float64 `json:"leaf_value"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if len(got) != 1 {
		t.Fatalf("%d rules in %s", len(got), b)
	}
	r := got[0]
	if r.Text != "HS4 = 8703 (or missing) and value per kg < 1,097" || r.Support != 3 || r.Illicit != 3 ||
		r.FraudRate != 1 || math.Abs(r.SupportShare-3.0/11) > 1e-15 || math.Abs(r.Lift-2.2) > 1e-12 ||
		r.Tree != 0 || r.Leaf != 5 || r.Value != float64(float32(0.4)) || len(r.Conditions) != 2 {
		t.Fatalf("rule %s", b)
	}
	hs, uv := r.Conditions[0], r.Conditions[1]
	if hs.Feature != 0 || hs.Name != "hs4" || hs.Text != "HS4 = 8703 (or missing)" || hs.Min == nil || *hs.Min != 8703 ||
		hs.Max == nil || *hs.Max != 8704 || !hs.Missing || !slices.Equal(hs.In, []string{"8703"}) ||
		!slices.Equal(hs.NotIn, []string{"8471", "8704", "8708"}) {
		t.Errorf("HS4 condition in %s", b)
	}
	if uv.Feature != 1 || uv.Name != "log_uv_kg" || uv.Text != "value per kg < 1,097" || uv.Min != nil || uv.Max == nil ||
		*uv.Max != 7 || uv.Missing || uv.In != nil || uv.NotIn != nil {
		t.Errorf("unit value condition in %s", b)
	}
}
