package scorer_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dmitryikh/leaves"

	"risklane/models/scorer"
	"risklane/models/xgb"
	"risklane/models/xgb/xgbtest"
)

// oneSplit is a hand-made model: one split on feature 0 at threshold t,
// missing values going right, leaves -1 (left) and +1 (right), base margin 0.
func oneSplit(t float32) *xgb.Model {
	return &xgb.Model{
		Objective:  xgb.RegSquaredError,
		BaseScore:  0,
		NumFeature: 1,
		Trees: []xgb.Tree{{
			Left:           []int32{1, -1, -1},
			Right:          []int32{2, -1, -1},
			Parent:         []int32{-1, 0, 0},
			SplitIndex:     []int32{0, 0, 0},
			SplitCondition: []float32{t, -1, 1},
			DefaultLeft:    []bool{false, false, false},
			BaseWeight:     make([]float32, 3),
			LossChange:     make([]float32, 3),
			SumHessian:     make([]float32, 3),
		}},
	}
}

// XGBoost sends a value left when float32(value) < threshold. Both engines
// must do the same on every case below (the expected sides are worked out
// by hand from XGBoost's rule). Plain leaves loading risklane's legacy
// binary must too when given float32 values, as a leaves user would give
// them; given the raw float64 value, it goes the other way exactly in the
// cases marked leavesDiffers: values that float32 rounds down onto the
// float32 just below the threshold (if leaves ever changes, this test says
// so).
func TestComparisonLikeXGBoost(t *testing.T) {
	f32 := func(x float64) float32 { return float32(x) }
	for _, c := range []struct {
		threshold     float32
		value         float64
		left          bool
		leavesDiffers bool
	}{
		{1, 0.5, true, false},
		{1, 1, false, false},                    // equal: XGBoost goes right
		{1, 0.99999999999, false, false},        // rounds to float32 1
		{1, 0.9999999, true, false},             // float32 0.99999988
		{1, 0.99999995, true, true},             // rounds down to 0.99999994, the float32 below 1
		{1, 1.0000000001, false, false},         // rounds to 1
		{f32(0.1), 0.1, false, false},           // float32(0.1) is 0.10000000149
		{f32(0.1), 0.1000000005, false, false},  // still float32(0.1)
		{f32(0.1), 0.09999999, true, false},     // float32 0.099999994
		{0, 0, false, false},                    // 0 < 0 is false
		{0, math.Copysign(0, -1), false, false}, // -0 < 0 is false
		{0, -1e-45, true, true},                 // rounds to the smallest negative float32
		{0, -1e-46, false, false},               // rounds to -0
		{1e-45, 0, true, false},                 // 0 < the smallest positive float32
		{-math.MaxFloat32, math.Inf(-1), true, false},
		{math.MaxFloat32, math.Inf(1), false, false},
		{math.MaxFloat32, 1e300, false, false},    // float32 overflows to +Inf
		{-math.MaxFloat32, -1e300, true, true},    // float32 overflows to -Inf
		{f32(1234.5677), 1234.5677, false, false}, // rounds up to the float32 threshold
		{1, math.NaN(), false, false},             // missing: default direction (right)
	} {
		t.Run(fmt.Sprintf("%v<%v", c.value, c.threshold), func(t *testing.T) {
			m := oneSplit(c.threshold)
			want := 1.0
			if c.left {
				want = -1
			}
			if got := m.PredictMargin([]float64{c.value}); got != want {
				t.Errorf("reference predictor: %v, want %v", got, want)
			}
			for _, engine := range []scorer.Engine{scorer.Native, scorer.Leaves} {
				s, err := scorer.NewEngine(m, engine)
				if err != nil {
					t.Fatal(err)
				}
				out := make([]float64, 1)
				if err := s.PredictMargin([]float64{c.value}, 1, out, 1); err != nil {
					t.Fatal(err)
				}
				if out[0] != want {
					t.Errorf("%s engine: %v, want %v", engine, out[0], want)
				}
				leafOut := make([]int32, 1)
				if err := s.PredictLeaves([]float64{c.value}, 1, leafOut, 1); err != nil {
					t.Fatal(err)
				}
				if wantLeaf := map[bool]int32{true: 1, false: 2}[c.left]; leafOut[0] != wantLeaf {
					t.Errorf("%s engine: leaf %d, want %d", engine, leafOut[0], wantLeaf)
				}
			}

			var bin bytes.Buffer
			if err := xgb.WriteLegacyBinary(&bin, m); err != nil {
				t.Fatal(err)
			}
			raw, err := leaves.XGEnsembleFromReader(bufio.NewReader(&bin), false)
			if err != nil {
				t.Fatal(err)
			}
			if got := raw.PredictSingle([]float64{float64(float32(c.value))}, 0); got != want {
				t.Errorf("plain leaves on float32(value) gives %v, XGBoost %v", got, want)
			}
			plain := raw.PredictSingle([]float64{c.value}, 0)
			if differs := plain != want; differs != c.leavesDiffers {
				t.Errorf("plain leaves on the float64 value gives %v (XGBoost %v): expected it to differ: %v", plain, want, c.leavesDiffers)
			}
		})
	}
}

// A random model, no Python: the scorer (leaves) and the reference
// predictor are two implementations that must agree, whatever the thread
// count.
func TestScorerMatchesReference(t *testing.T) {
	const nfeat, nrows = 12, 3000
	for _, objective := range []string{xgb.BinaryLogistic, xgb.RegSquaredError} {
		t.Run(objective, func(t *testing.T) {
			m := xgbtest.RandomModel(3, objective, 40, 6, nfeat)
			rows := xgbtest.Rows(4, nrows, nfeat, 0.1)
			s, err := scorer.New(m)
			if err != nil {
				t.Fatal(err)
			}
			ref := make([]float64, nrows)
			refMargin := make([]float64, nrows)
			refLeaf := make([]int32, nrows*len(m.Trees))
			for r := range nrows {
				row := rows[r*nfeat : (r+1)*nfeat]
				ref[r] = m.Predict(row)
				refMargin[r] = m.PredictMargin(row)
				for k := range m.Trees {
					refLeaf[r*len(m.Trees)+k] = int32(m.Trees[k].Leaf(row))
				}
			}
			var first []float64
			for _, threads := range []int{1, 2, 7, 0} {
				pred, margin := make([]float64, nrows), make([]float64, nrows)
				leaf := make([]int32, nrows*s.NumTrees())
				if err := s.Predict(rows, nrows, pred, threads); err != nil {
					t.Fatal(err)
				}
				if err := s.PredictMargin(rows, nrows, margin, threads); err != nil {
					t.Fatal(err)
				}
				if err := s.PredictLeaves(rows, nrows, leaf, threads); err != nil {
					t.Fatal(err)
				}
				xgbtest.Compare(t, fmt.Sprintf("prediction, %d threads", threads), pred, ref, 1e-5)
				xgbtest.Compare(t, fmt.Sprintf("margin, %d threads", threads), margin, refMargin, 1e-5)
				if !reflect.DeepEqual(leaf, refLeaf) {
					t.Errorf("%d threads: leaf ids differ from the reference", threads)
				}
				if first == nil {
					first = pred
				} else if !reflect.DeepEqual(pred, first) {
					t.Errorf("%d threads: predictions differ from 1 thread", threads)
				}
			}
		})
	}
}

// Trees XGBoost can produce but random full trees do not: a lone leaf, and
// a tree whose pruner left deleted nodes behind (nodes 3 and 4 below).
func TestUnusualTrees(t *testing.T) {
	m := oneSplit(0.5)
	m.BaseScore = 0.25
	m.Trees = append(m.Trees,
		xgb.Tree{
			Left: []int32{-1}, Right: []int32{-1}, Parent: []int32{-1}, SplitIndex: []int32{0},
			SplitCondition: []float32{0.75}, DefaultLeft: []bool{false},
			BaseWeight: []float32{0}, LossChange: []float32{0}, SumHessian: []float32{1},
		},
		xgb.Tree{
			Left:           []int32{1, -1, -1, -1, -1},
			Right:          []int32{2, -1, -1, -1, -1},
			Parent:         []int32{-1, 0, 0, 2, 2},
			SplitIndex:     []int32{0, 0, 0, xgb.DeletedSplitIndex, xgb.DeletedSplitIndex},
			SplitCondition: []float32{2, 0.5, -0.5, 9, 9},
			DefaultLeft:    []bool{true, false, false, true, true},
			BaseWeight:     make([]float32, 5),
			LossChange:     make([]float32, 5),
			SumHessian:     make([]float32, 5),
		})
	s, err := scorer.New(m)
	if err != nil {
		t.Fatal(err)
	}
	rows := []float64{0, 1, 3, math.NaN()}
	// By hand: tree 0 gives -1 below 0.5, +1 from 0.5 on and for NaN; tree
	// 1 gives 0.75; tree 2 gives 0.5 below 2 and for NaN, -0.5 from 2 on.
	want := []float64{0.25 - 1 + 0.75 + 0.5, 0.25 + 1 + 0.75 + 0.5, 0.25 + 1 + 0.75 - 0.5, 0.25 + 1 + 0.75 + 0.5}
	got := make([]float64, 4)
	if err := s.PredictMargin(rows, 4, got, 1); err != nil {
		t.Fatal(err)
	}
	xgbtest.Compare(t, "margin", got, want, 1e-6)
	leaf := make([]int32, 4*3)
	if err := s.PredictLeaves(rows, 4, leaf, 1); err != nil {
		t.Fatal(err)
	}
	if wantLeaf := []int32{1, 0, 1, 2, 0, 1, 2, 0, 2, 2, 0, 1}; !reflect.DeepEqual(leaf, wantLeaf) {
		t.Errorf("leaves %v, want %v", leaf, wantLeaf)
	}
}

func TestScorerArguments(t *testing.T) {
	s, err := scorer.New(oneSplit(1))
	if err != nil {
		t.Fatal(err)
	}
	if s.NumFeature() != 1 || s.NumTrees() != 1 {
		t.Fatalf("NumFeature %d, NumTrees %d", s.NumFeature(), s.NumTrees())
	}
	for _, c := range []struct {
		rows  []float64
		nrows int
		out   int
		want  string
	}{
		{[]float64{1, 2}, 3, 3, "2 values for 3 rows of 1 features (want 3)"},
		{[]float64{1, 2}, 2, 1, "output has room for 1 values, need 2"},
		{nil, -1, 0, "nrows -1 is negative"},
	} {
		err := s.Predict(c.rows, c.nrows, make([]float64, c.out), 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	if err := s.Predict(nil, 0, nil, 2); err != nil {
		t.Errorf("no rows: %v", err)
	}

	bad := oneSplit(1)
	bad.Trees[0].Right[0] = 7
	if _, err := scorer.New(bad); err == nil || !strings.Contains(err.Error(), "tree 0 node 0: right child 7 out of range") {
		t.Errorf("invalid model: %v", err)
	}
	empty := oneSplit(1)
	empty.Trees = nil
	if _, err := scorer.New(empty); err == nil || !strings.Contains(err.Error(), "no trees") {
		t.Errorf("empty model: %v", err)
	}
}

// The acceptance test: models trained by Python XGBoost (with NaNs, 100
// trees of depth 6, on 30 features) and saved as JSON and UBJSON are scored
// by both engines as XGBoost scores them, on 100,000 rows (20,000 for the
// regression) of which many hold
// a split threshold of the model exactly (ties) or are missing: the native
// engine within 1e-6 of XGBoost's probability (it sums in float32 as XGBoost
// does), leaves within 1e-5 (it sums in float64), leaf ids identical. The
// JSON and legacy binary risklane writes from them load in Python XGBoost and
// predict the same; and the legacy binary, loaded by plain leaves exactly as
// a leaves user would (XGEnsembleFromFile, PredictDense on float32 values),
// predicts XGBoost's probabilities within 1e-5.
func TestScoresLikePythonXGBoost(t *testing.T) {
	py := xgbtest.Python(t)
	const nfeat, ntrain = 30, 5000
	names := make([]string, nfeat)
	for j := range names {
		names[j] = fmt.Sprintf("feature_%02d", j)
	}
	train := xgbtest.Rows(100, ntrain, nfeat, 0.1)
	dir := t.TempDir()
	for _, objective := range []string{xgb.BinaryLogistic, xgb.RegSquaredError} {
		t.Run(objective, func(t *testing.T) {
			stem := filepath.Join(dir, strings.ReplaceAll(objective, ":", "-"))
			params := map[string]any{"objective": objective, "max_depth": 6, "eta": 0.1, "tree_method": "hist", "max_bin": 256}
			xgbtest.Train(t, py, params, 100, train, xgbtest.Labels(7, train, ntrain, nfeat, objective), nfeat, names,
				stem+".json", stem+".ubj")

			m, err := xgb.ReadFile(stem + ".json")
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Trees) != 100 || m.NumFeature != nfeat || !reflect.DeepEqual(m.FeatureNames, names) {
				t.Fatalf("read %d trees, %d features, names %v", len(m.Trees), m.NumFeature, m.FeatureNames)
			}
			u, err := xgb.ReadFile(stem + ".ubj")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(u, m) {
				t.Fatal("the UBJSON file reads differently from the JSON file")
			}
			nrows := 100_000 // the probabilities; fewer for the regression, to keep the test short
			if objective == xgb.RegSquaredError {
				nrows = 20_000
			}
			rows := tieRows(m, xgbtest.Rows(200, nrows, nfeat, 0.1))
			files := []string{
				stem + ".json",
				xgbtest.WriteFile(t, stem+"-risklane.json", m),
				xgbtest.WriteFile(t, stem+"-risklane.model", m),
			}
			preds := xgbtest.Predict(t, py, rows, nfeat, files...)
			want := preds[0]

			var native []float64
			for _, c := range []struct {
				engine scorer.Engine
				tol    float64
			}{{scorer.Native, 1e-6}, {scorer.Leaves, 1e-5}} {
				s, err := scorer.NewEngine(m, c.engine)
				if err != nil {
					t.Fatal(err)
				}
				pred, margin := make([]float64, nrows), make([]float64, nrows)
				leaf := make([]int32, nrows*s.NumTrees())
				if err := s.Predict(rows, nrows, pred, 2); err != nil {
					t.Fatal(err)
				}
				if err := s.PredictMargin(rows, nrows, margin, 2); err != nil {
					t.Fatal(err)
				}
				if err := s.PredictLeaves(rows, nrows, leaf, 2); err != nil {
					t.Fatal(err)
				}
				xgbtest.Compare(t, fmt.Sprintf("risklane (%s) vs XGBoost prediction", c.engine), pred, want.Pred, c.tol)
				xgbtest.Compare(t, fmt.Sprintf("risklane (%s) vs XGBoost margin", c.engine), margin, want.Margin, 1e-5)
				if !reflect.DeepEqual(leaf, want.Leaf) {
					t.Errorf("%s: leaf ids differ from XGBoost's pred_leaf", c.engine)
				}
				if native == nil {
					native = pred
				} else {
					xgbtest.Compare(t, "leaves vs native", pred, native, 1e-5)
				}
			}
			ref := make([]float64, nrows)
			for r := range nrows {
				ref[r] = m.Predict(rows[r*nfeat : (r+1)*nfeat])
			}
			xgbtest.Compare(t, "reference predictor vs XGBoost", ref, want.Pred, 1e-6)

			// risklane's JSON holds the very same float32 numbers, so XGBoost
			// predicts bit for bit the same from it; the legacy binary stores
			// base_score as a margin, which costs float32 rounding, and
			// thresholds one float32 lower (no row here sits there).
			xgbtest.Compare(t, "XGBoost on risklane's JSON vs risklane", preds[1].Pred, native, 1e-6)
			xgbtest.Compare(t, "XGBoost on risklane's JSON vs XGBoost on its own", preds[1].Pred, want.Pred, 0)
			xgbtest.Compare(t, "XGBoost on risklane's legacy binary vs risklane", preds[2].Pred, native, 1e-5)

			// Plain leaves, as its README shows, on the first 10,000 rows in
			// float32 (an XGBoost user's numpy array).
			const nplain = 10_000
			ens, err := leaves.XGEnsembleFromFile(files[2], objective == xgb.BinaryLogistic)
			if err != nil {
				t.Fatal(err)
			}
			x32 := make([]float64, nplain*nfeat)
			for i, v := range rows[:nplain*nfeat] {
				x32[i] = float64(float32(v))
			}
			plain := make([]float64, nplain)
			if err := ens.PredictDense(x32, nplain, nfeat, plain, 0, 1); err != nil {
				t.Fatal(err)
			}
			xgbtest.Compare(t, "plain leaves on risklane's legacy binary vs XGBoost", plain, want.Pred[:nplain], 1e-5)
		})
	}
}

// tieRows sets a third of the values of rows (those not missing) to a split
// threshold of the model on the same feature, drawn in turn, so that many
// rows sit exactly on a split.
func tieRows(m *xgb.Model, rows []float64) []float64 {
	cuts := make([][]float32, m.NumFeature)
	for i := range m.Trees {
		tr := &m.Trees[i]
		for id, l := range tr.Left {
			if l != -1 {
				f := tr.SplitIndex[id]
				cuts[f] = append(cuts[f], tr.SplitCondition[id])
			}
		}
	}
	k := 0
	for i, v := range rows {
		f := i % m.NumFeature
		if k++; k%3 != 0 || math.IsNaN(v) || len(cuts[f]) == 0 {
			continue
		}
		rows[i] = float64(cuts[f][(i/m.NumFeature)%len(cuts[f])])
	}
	return rows
}

// PredictAllColumns gives PredictAll's predictions bit for bit, from the
// same features given column by column: two heads, both engines, several
// thread counts, a row count that is no multiple of a block, missing
// values, ±0 and ±Inf.
func TestColumnsLikeRows(t *testing.T) {
	const nfeat, nrows = 9, 3001
	rows := xgbtest.Rows(6, nrows, nfeat, 0.1)
	for i := 0; i < len(rows); i += 97 {
		rows[i] = []float64{math.Copysign(0, -1), 0, math.Inf(1), math.Inf(-1)}[i%4]
	}
	cols := make([][]float64, nfeat)
	for j := range cols {
		cols[j] = make([]float64, nrows+5) // longer than nrows: only nrows are read
		for i := range nrows {
			cols[j][i] = rows[i*nfeat+j]
		}
	}
	clf := xgbtest.RandomModel(7, xgb.BinaryLogistic, 30, 5, nfeat)
	reg := xgbtest.RandomModel(8, xgb.RegSquaredError, 20, 4, nfeat)
	for _, engine := range []scorer.Engine{scorer.Native, scorer.Leaves} {
		c, err := scorer.NewEngine(clf, engine)
		if err != nil {
			t.Fatal(err)
		}
		r, err := scorer.NewEngine(reg, engine)
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2, 7} {
			out := make([][]float64, 4)
			for k := range out {
				out[k] = make([]float64, nrows)
			}
			if err := scorer.PredictAll(rows, nrows, threads, scorer.Head{Scorer: c, Out: out[0]}, scorer.Head{Scorer: r, Out: out[1], Margin: true}); err != nil {
				t.Fatal(err)
			}
			if err := scorer.PredictAllColumns(cols, nrows, threads, scorer.Head{Scorer: c, Out: out[2]}, scorer.Head{Scorer: r, Out: out[3], Margin: true}); err != nil {
				t.Fatal(err)
			}
			for h := range 2 {
				for i := range nrows {
					if math.Float64bits(out[h][i]) != math.Float64bits(out[h+2][i]) {
						t.Fatalf("%s, %d threads, head %d, row %d: %v from rows, %v from columns", engine, threads, h, i, out[h][i], out[h+2][i])
					}
				}
			}
		}
		if err := scorer.PredictAllColumns(cols[:nfeat-1], nrows, 1, scorer.Head{Scorer: c, Out: make([]float64, nrows)}); err == nil {
			t.Errorf("%s: a missing column gave no error", engine)
		}
		if err := scorer.PredictAllColumns(cols, nrows+6, 1, scorer.Head{Scorer: c, Out: make([]float64, nrows+6)}); err == nil {
			t.Errorf("%s: short columns gave no error", engine)
		}
	}
}
