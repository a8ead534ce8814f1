package explain

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"risklane/internal/testenv"
	"risklane/models/xgb"
)

// handTree: root splits f0 < 0.5 (cover 10); left is a leaf 1.0 (cover 4);
// right splits f1 < 2 (cover 6) into leaves 2.0 (cover 2) and -1.0 (cover 4).
// Expectations by hand: right = (2*2 - 1*4)/6 = 0, root = (1*4 + 0*6)/10 = 0.4.
func handTree() xgb.Tree {
	return xgb.Tree{
		Left:           []int32{1, -1, 3, -1, -1},
		Right:          []int32{2, -1, 4, -1, -1},
		Parent:         []int32{-1, 0, 0, 2, 2},
		SplitIndex:     []int32{0, 0, 1, 0, 0},
		SplitCondition: []float32{0.5, 1, 2, 2, -1},
		DefaultLeft:    []bool{true, false, false, false, false},
		SumHessian:     []float32{10, 4, 6, 2, 4},
	}
}

func TestHandWorked(t *testing.T) {
	m := &xgb.Model{Objective: xgb.RegSquaredError, BaseScore: 0.25, NumFeature: 3, Trees: []xgb.Tree{handTree()}}
	e, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Bias(); math.Abs(got-0.65) > 1e-12 {
		t.Fatalf("bias %v, want 0.25 + 0.4", got)
	}
	nan := math.NaN()
	tests := []struct {
		x      []float64
		want   []float64
		margin float64
	}{
		{[]float64{0.7, 1, 9}, []float64{-0.4, 2, 0}, 2.25},     // root -> right -> leaf 2
		{[]float64{0.7, 5, 9}, []float64{-0.4, -1, 0}, -0.75},   // root -> right -> leaf -1
		{[]float64{0.2, 5, 9}, []float64{0.6, 0, 0}, 1.25},      // root -> left leaf 1
		{[]float64{nan, 5, 9}, []float64{0.6, 0, 0}, 1.25},      // missing goes left
		{[]float64{0.5, nan, 9}, []float64{-0.4, -1, 0}, -0.75}, // 0.5 is not < 0.5; missing f1 goes right
	}
	for _, tc := range tests {
		out := make([]float64, 3)
		margin := e.Contributions(tc.x, out)
		for f := range out {
			if math.Abs(out[f]-tc.want[f]) > 1e-12 {
				t.Errorf("x=%v: contributions %v, want %v", tc.x, out, tc.want)
				break
			}
		}
		if math.Abs(margin-tc.margin) > 1e-12 {
			t.Errorf("x=%v: margin %v, want %v", tc.x, margin, tc.margin)
		}
	}
}

// randomTree grows a random tree of the given depth over nf features.
func randomTree(r *rand.Rand, depth, nf int) xgb.Tree {
	var t xgb.Tree
	var grow func(parent int32, d int) (int32, float64)
	grow = func(parent int32, d int) (int32, float64) {
		id := int32(len(t.Left))
		t.Left = append(t.Left, -1)
		t.Right = append(t.Right, -1)
		t.Parent = append(t.Parent, parent)
		t.SplitIndex = append(t.SplitIndex, 0)
		t.SplitCondition = append(t.SplitCondition, 0)
		t.DefaultLeft = append(t.DefaultLeft, false)
		t.SumHessian = append(t.SumHessian, 0)
		if d == depth || (d > 1 && r.IntN(5) == 0) {
			t.SplitCondition[id] = float32(r.NormFloat64() * 0.3)
			h := 0.5 + r.Float64()*50
			t.SumHessian[id] = float32(h)
			return id, h
		}
		t.SplitIndex[id] = int32(r.IntN(nf))
		t.SplitCondition[id] = float32(r.NormFloat64())
		t.DefaultLeft[id] = r.IntN(2) == 0
		l, hl := grow(id, d+1)
		rr, hr := grow(id, d+1)
		t.Left[id], t.Right[id] = l, rr
		t.SumHessian[id] = float32(hl + hr)
		return id, hl + hr
	}
	grow(-1, 0)
	return t
}

// predict is the plain margin: base plus the leaf each tree sends x to.
func predict(m *xgb.Model, base float64, x []float64) float64 {
	s := base
	for i := range m.Trees {
		t := &m.Trees[i]
		n := int32(0)
		for t.Left[n] != -1 {
			v := x[t.SplitIndex[n]]
			if math.IsNaN(v) {
				if t.DefaultLeft[n] {
					n = t.Left[n]
				} else {
					n = t.Right[n]
				}
			} else if float32(v) < t.SplitCondition[n] {
				n = t.Left[n]
			} else {
				n = t.Right[n]
			}
		}
		s += float64(t.SplitCondition[n])
	}
	return s
}

// randomModel is a binary:logistic model of 1 to maxTrees random trees of
// depth 1 to maxDepth over nf features, its base score drawn from
// [0.05, 0.95], and its explainer.
func randomModel(t testing.TB, r *rand.Rand, nf, maxTrees, maxDepth int) (*xgb.Model, *Explainer) {
	t.Helper()
	m := &xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: float32(0.05 + 0.9*r.Float64()), NumFeature: nf}
	for range 1 + r.IntN(maxTrees) {
		m.Trees = append(m.Trees, randomTree(r, 1+r.IntN(maxDepth), nf))
	}
	e, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	return m, e
}

// fillRandom fills x with standard normal values, one in ten missing (NaN).
func fillRandom(r *rand.Rand, x []float64) {
	for i := range x {
		x[i] = r.NormFloat64()
		if r.IntN(10) == 0 {
			x[i] = math.NaN()
		}
	}
}

// benchModel is what the benchmarks explain: 100 random trees of depth 6
// over 40 features, and one row without missing values.
func benchModel(b *testing.B) (*Explainer, []float64) {
	r := rand.New(rand.NewPCG(1, 2))
	const nf = 40
	m := &xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: 0.5, NumFeature: nf}
	for range 100 {
		m.Trees = append(m.Trees, randomTree(r, 6, nf))
	}
	e, err := New(m)
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float64, nf)
	for f := range x {
		x[f] = r.NormFloat64()
	}
	return e, x
}

func TestSumsToMarginOnRandomModels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 20 {
		nf := 1 + r.IntN(30)
		m, e := randomModel(t, r, nf, 100, 7)
		base, _ := BaseMargin(m)
		x := make([]float64, nf)
		out := make([]float64, nf)
		for range 200 {
			fillRandom(r, x)
			clear(out)
			margin := e.Contributions(x, out)
			want := predict(m, base, x)
			sum := e.Bias()
			for _, c := range out {
				sum += c
			}
			tol := 1e-9 * (1 + math.Abs(want))
			if math.Abs(margin-want) > tol || math.Abs(sum-want) > tol {
				t.Fatalf("trial %d: margin %v, bias+sum %v, plain prediction %v", trial, margin, sum, want)
			}
		}
	}
}

func TestRejectsMalformedTrees(t *testing.T) {
	cyc := handTree()
	cyc.Left[2] = 0
	outOfRange := handTree()
	outOfRange.Right[0] = 9
	badFeature := handTree()
	badFeature.SplitIndex[2] = 3
	short := handTree()
	short.SumHessian = short.SumHessian[:2]
	for name, tr := range map[string]xgb.Tree{"cycle": cyc, "child out of range": outOfRange,
		"feature out of range": badFeature, "short arrays": short, "empty": {}} {
		m := &xgb.Model{Objective: xgb.RegSquaredError, NumFeature: 3, Trees: []xgb.Tree{tr}}
		if _, err := New(m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(&xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: 1, NumFeature: 1}); err == nil {
		t.Error("base_score 1 for binary:logistic accepted")
	}
}

func TestNoCoverFallsBack(t *testing.T) {
	tr := handTree()
	clear(tr.SumHessian)
	e, err := New(&xgb.Model{Objective: xgb.RegSquaredError, NumFeature: 3, Trees: []xgb.Tree{tr}})
	if err != nil {
		t.Fatal(err)
	}
	// Plain averages: right = 0.5, root = 0.75.
	if math.Abs(e.Bias()-0.75) > 1e-12 {
		t.Fatalf("bias %v, want 0.75", e.Bias())
	}
}

func TestTop(t *testing.T) {
	c := []float64{0.1, -2, 0.5, 0.5, math.NaN(), 0, 3, 0.2}
	tests := []struct {
		k    int
		want []int
	}{
		{0, []int{}},
		{1, []int{6}},
		{3, []int{6, 2, 3}},
		{10, []int{6, 2, 3, 7, 0}},
	}
	for _, tc := range tests {
		if got := Top(c, tc.k, nil); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("Top(k=%d) = %v, want %v", tc.k, got, tc.want)
		}
	}
}

// xgbJSON is the part of XGBoost's JSON model this test reads, parsed here
// independently of risklane's model readers.
type xgbJSON struct {
	Learner struct {
		Param struct {
			BaseScore  string `json:"base_score"`
			NumFeature string `json:"num_feature"`
		} `json:"learner_model_param"`
		Booster struct {
			Model struct {
				Trees []struct {
					Left       []int32   `json:"left_children"`
					Right      []int32   `json:"right_children"`
					Split      []int32   `json:"split_indices"`
					Cond       []float32 `json:"split_conditions"`
					Default    []int     `json:"default_left"`
					SumHessian []float32 `json:"sum_hessian"`
				} `json:"trees"`
			} `json:"model"`
		} `json:"gradient_booster"`
	} `json:"learner"`
}

// Against real XGBoost: its pred_contribs with approx_contribs=True is the
// same attribution.
func TestMatchesXGBoostApproxContribs(t *testing.T) {
	py := testenv.Python(t, "xgboost", "numpy")
	dir := t.TempDir()
	script := `
import json, sys, numpy as np, xgboost as xgb
d = sys.argv[1]
rng = np.random.default_rng(3)
X = rng.normal(size=(3000, 8))
X[rng.random(X.shape) < 0.1] = np.nan
y = ((np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 3]) ** 2 + rng.normal(scale=0.5, size=3000)) > 0.6).astype(int)
b = xgb.train({"objective": "binary:logistic", "max_depth": 5, "eta": 0.3, "base_score": 0.3, "tree_method": "hist", "seed": 1},
              xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=30)
b.save_model(d + "/model.json")
T = X[:200]
dm = xgb.DMatrix(T, missing=np.nan)
c = b.predict(dm, pred_contribs=True, approx_contribs=True)
m = b.predict(dm, output_margin=True)
json.dump({"x": [[None if np.isnan(v) else float(v) for v in r] for r in T],
           "contribs": c.tolist(), "margin": m.tolist()}, open(d + "/out.json", "w"))
`
	cmd := exec.Command(py, "-c", script, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var mj xgbJSON
	readJSON(t, filepath.Join(dir, "model.json"), &mj)
	var ref struct {
		X        [][]*float64 `json:"x"`
		Contribs [][]float64  `json:"contribs"`
		Margin   []float64    `json:"margin"`
	}
	readJSON(t, filepath.Join(dir, "out.json"), &ref)

	base, _ := strconv.ParseFloat(mj.Learner.Param.BaseScore, 32)
	nf, _ := strconv.Atoi(mj.Learner.Param.NumFeature)
	m := &xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: float32(base), NumFeature: nf}
	for _, jt := range mj.Learner.Booster.Model.Trees {
		tr := xgb.Tree{Left: jt.Left, Right: jt.Right, SplitIndex: jt.Split, SplitCondition: jt.Cond, SumHessian: jt.SumHessian}
		for _, d := range jt.Default {
			tr.DefaultLeft = append(tr.DefaultLeft, d != 0)
		}
		m.Trees = append(m.Trees, tr)
	}
	e, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, nf)
	x := make([]float64, nf)
	for i, row := range ref.X {
		for f, v := range row {
			x[f] = math.NaN()
			if v != nil {
				x[f] = *v
			}
		}
		clear(out)
		margin := e.Contributions(x, out)
		if math.Abs(margin-ref.Margin[i]) > 1e-5 {
			t.Fatalf("row %d: margin %v, XGBoost %v", i, margin, ref.Margin[i])
		}
		for f := range out {
			if math.Abs(out[f]-ref.Contribs[i][f]) > 1e-5 {
				t.Fatalf("row %d feature %d: contribution %v, XGBoost %v (all: %v vs %v)", i, f, out[f], ref.Contribs[i][f], out, ref.Contribs[i])
			}
		}
		if bias := ref.Contribs[i][nf]; math.Abs(e.Bias()-bias) > 1e-5 {
			t.Fatalf("bias %v, XGBoost %v", e.Bias(), bias)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func BenchmarkContributions(b *testing.B) {
	e, x := benchModel(b)
	out := make([]float64, len(x))
	for b.Loop() {
		clear(out)
		e.Contributions(x, out)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestContributionsLeavesLikeContributions: given the leaves XGBoost's
// reference walk (xgb.Tree.Leaf) reaches, the listed paths give the very
// sums of the row-at-a-time walk, bit for bit; an id that is not a leaf is
// refused.
func TestContributionsLeavesLikeContributions(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for trial := range 30 {
		nf := 1 + r.IntN(30)
		m, e := randomModel(t, r, nf, 60, 9)
		n := 1 + r.IntN(40)
		x := make([]float64, n*nf)
		fillRandom(r, x)
		nt := e.NumTrees()
		leaves := make([]int32, n*nt)
		want := make([]float64, n*nf)
		for i := range n {
			row := x[i*nf : (i+1)*nf]
			e.Contributions(row, want[i*nf:(i+1)*nf])
			for k := range m.Trees {
				leaves[i*nt+k] = int32(m.Trees[k].Leaf(row))
			}
		}
		got := make([]float64, n*nf)
		if err := e.ContributionsLeaves(leaves, n, got); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("trial %d: row %d feature %d: %v, Contributions gives %v", trial, i/nf, i%nf, got[i], want[i])
			}
		}
		if m.Trees[0].NumNodes() > 1 {
			bad := slices.Clone(leaves)
			bad[0] = 0 // the root, not a leaf
			if err := e.ContributionsLeaves(bad, n, got); err == nil {
				t.Fatalf("trial %d: the root taken for a leaf", trial)
			}
		}
		bad := slices.Clone(leaves)
		bad[nt-1] = int32(m.Trees[nt-1].NumNodes())
		if err := e.ContributionsLeaves(bad, n, got); err == nil {
			t.Fatalf("trial %d: a node id past the tree accepted", trial)
		}
	}
}

// TestContributionsRowsLikeContributions: ContributionsRows gives, bit for
// bit, what Contributions gives row by row, whatever the number of rows (a
// last group part full included).
func TestContributionsRowsLikeContributions(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for trial := range 20 {
		nf := 1 + r.IntN(30)
		_, e := randomModel(t, r, nf, 60, 7)
		n := 1 + r.IntN(40)
		x := make([]float64, n*nf)
		fillRandom(r, x)
		want := make([]float64, n*nf)
		for i := range n {
			e.Contributions(x[i*nf:(i+1)*nf], want[i*nf:(i+1)*nf])
		}
		got := make([]float64, n*nf)
		e.ContributionsRows(x, n, got)
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("trial %d: row %d feature %d: %v, Contributions gives %v", trial, i/nf, i%nf, got[i], want[i])
			}
		}
	}
}

// TestWeightedContributionsLeaves: each tree's terms weighed by its row's
// weight give the weighted sum of the trees' contributions, each tree
// explained on its own (a one-tree model, Contributions).
func TestWeightedContributionsLeaves(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for trial := range 20 {
		nf := 1 + r.IntN(20)
		m := &xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: 0.5, NumFeature: nf}
		for range 1 + r.IntN(30) {
			m.Trees = append(m.Trees, randomTree(r, 1+r.IntN(8), nf))
		}
		e, err := New(m)
		if err != nil {
			t.Fatal(err)
		}
		nt, n := len(m.Trees), 1+r.IntN(30)
		x, w := make([]float64, n*nf), make([]float64, n*nt)
		for i := range x {
			x[i] = r.NormFloat64()
		}
		for i := range w {
			w[i] = 3 * r.Float64()
		}
		leaves := make([]int32, n*nt)
		want := make([]float64, n*nf)
		one := make([]float64, nf)
		for k := range m.Trees {
			ek, err := New(&xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: 0.5, NumFeature: nf, Trees: m.Trees[k : k+1]})
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				row := x[i*nf : (i+1)*nf]
				leaves[i*nt+k] = int32(m.Trees[k].Leaf(row))
				clear(one)
				ek.Contributions(row, one)
				for f, c := range one {
					want[i*nf+f] += w[i*nt+k] * c
				}
			}
		}
		got := make([]float64, n*nf)
		if err := e.WeightedContributionsLeaves(leaves, w, n, got); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-12*max(1, math.Abs(want[i])) {
				t.Fatalf("trial %d: row %d feature %d: %v, the weighted one-tree contributions %v", trial, i/nf, i%nf, got[i], want[i])
			}
		}
		if err := e.WeightedContributionsLeaves(leaves, w[:len(w)-1], n, got); err == nil {
			t.Fatalf("trial %d: too few weights accepted", trial)
		}
	}
}
