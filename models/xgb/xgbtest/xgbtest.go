// Package xgbtest helps tests check risklane's tree models against real
// XGBoost and against each other: deterministic random data and models, and
// a bridge that trains, predicts and times models in Python XGBoost (found
// through testenv.Python, so tests skip where it is missing).
//
// Rows are row-major float64 matrices, NaN marking a missing value, as
// scorer.Scorer takes them.
package xgbtest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"risklane/internal/testenv"
	"risklane/models/xgb"
)

// Python returns a Python interpreter with XGBoost and NumPy, or skips t.
func Python(t testing.TB) string {
	t.Helper()
	return testenv.Python(t, "xgboost", "numpy")
}

// Rows returns nrows rows of nfeat features shaped like customs data, in
// three kinds of column (by column index modulo 3): standard normal values
// in full float64 precision; small integers 0 to 20, so that values equal
// split thresholds exactly; and log-normal amounts around 1,000 (values and
// masses), which float32 cannot hold exactly. A fraction missing of the
// values is NaN.
func Rows(seed uint64, nrows, nfeat int, missing float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	rows := make([]float64, nrows*nfeat)
	for i := range nrows {
		for j := range nfeat {
			v := value(r, j)
			if r.Float64() < missing {
				v = math.NaN()
			}
			rows[i*nfeat+j] = v
		}
	}
	return rows
}

func value(r *rand.Rand, column int) float64 {
	switch column % 3 {
	case 0:
		return r.NormFloat64()
	case 1:
		return float64(r.IntN(21))
	default:
		return math.Exp(7 + 2*r.NormFloat64())
	}
}

// Labels returns a label per row: 0 or 1 for binary:logistic, a real number
// for reg:squarederror. The signal mixes several columns non-linearly and
// uses missingness, so that deep trees and default directions matter.
func Labels(seed uint64, rows []float64, nrows, nfeat int, objective string) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	at := func(i, j int) float64 {
		v := rows[i*nfeat+j%nfeat]
		if math.IsNaN(v) {
			return 0
		}
		return v
	}
	labels := make([]float64, nrows)
	for i := range nrows {
		s := at(i, 0) + 0.2*at(i, 1) - 2 + math.Log1p(at(i, 2))/3 + at(i, 3)*at(i, 6)
		if at(i, 4) > 10 {
			s -= 1
		}
		if math.IsNaN(rows[i*nfeat+5%nfeat]) {
			s += 1.5
		}
		s += 0.5 * r.NormFloat64()
		if objective == xgb.BinaryLogistic {
			if r.Float64() < 1/(1+math.Exp(-s)) {
				labels[i] = 1
			}
		} else {
			labels[i] = s
		}
	}
	return labels
}

// RandomModel builds a model of nTrees full trees of the given depth over
// nFeatures features, node ids laid out as XGBoost lays them out (children
// of node i at 2i+1 and 2i+2). Thresholds are drawn from the same
// distributions as Rows, so that rows reach every leaf.
func RandomModel(seed uint64, objective string, nTrees, depth, nFeatures int) *xgb.Model {
	r := rand.New(rand.NewPCG(seed, 0x632be59bd9b4e019))
	m := &xgb.Model{
		Objective:  objective,
		BaseScore:  0.3,
		NumFeature: nFeatures,
		Trees:      make([]xgb.Tree, nTrees),
	}
	if objective == xgb.RegSquaredError {
		m.BaseScore = 1.5
	}
	n := 1<<(depth+1) - 1
	internal := 1<<depth - 1
	for i := range m.Trees {
		t := xgb.NewTree(n)
		for id := range n {
			t.Parent[id] = int32((id - 1) / 2)
			t.SumHessian[id] = float32(n-id) + r.Float32()
			if id < internal {
				f := r.IntN(nFeatures)
				t.Left[id], t.Right[id] = int32(2*id+1), int32(2*id+2)
				t.SplitIndex[id] = int32(f)
				t.SplitCondition[id] = float32(value(r, f))
				t.DefaultLeft[id] = r.IntN(2) == 0
				t.LossChange[id] = 10 * r.Float32()
				t.BaseWeight[id] = float32(r.NormFloat64())
			} else {
				t.Left[id], t.Right[id] = -1, -1
				leaf := float32(0.1 * r.NormFloat64())
				t.SplitCondition[id] = leaf
				t.BaseWeight[id] = 10 * leaf
			}
		}
		t.Parent[0] = -1
		m.Trees[i] = t
	}
	return m
}

// Prediction is what Python XGBoost's Booster.predict returns for one model:
// the prediction, the margin (output_margin=True) and the leaf id of every
// row in every tree (pred_leaf=True; row-major, one entry per tree).
type Prediction struct {
	Pred, Margin []float64
	Leaf         []int32
}

// Train trains a model in Python XGBoost with xgb.train(params, dtrain,
// rounds) on rows and labels (NaN is missing) and saves it to every path in
// out with save_model, whose extension picks the format (.json, .ubj, or
// anything else for XGBoost's binary).
func Train(t testing.TB, python string, params map[string]any, rounds int, rows, labels []float64, nfeat int, featureNames []string, out ...string) {
	t.Helper()
	dir := t.TempDir()
	spec := map[string]any{
		"mode":    "train",
		"rows":    writeFloats(t, dir, "train.f64", rows),
		"labels":  writeFloats(t, dir, "labels.f64", labels),
		"nfeat":   nfeat,
		"params":  params,
		"rounds":  rounds,
		"out":     out,
		"fnames":  featureNames,
		"threads": 2,
	}
	run(t, python, spec)
}

// Predict loads each model file in Python XGBoost (Booster(model_file=...))
// and predicts rows (nfeat features, NaN is missing) through a DMatrix.
func Predict(t testing.TB, python string, rows []float64, nfeat int, models ...string) []Prediction {
	t.Helper()
	dir := t.TempDir()
	spec := map[string]any{
		"mode":   "predict",
		"rows":   writeFloats(t, dir, "rows.f64", rows),
		"nfeat":  nfeat,
		"models": models,
		"out":    filepath.Join(dir, "out"),
	}
	run(t, python, spec)
	nrows := len(rows) / nfeat
	preds := make([]Prediction, len(models))
	for i := range models {
		prefix := filepath.Join(dir, fmt.Sprintf("out%d", i))
		preds[i].Pred = readFloats(t, prefix+".pred")
		preds[i].Margin = readFloats(t, prefix+".margin")
		preds[i].Leaf = readInt32s(t, prefix+".leaf")
		if len(preds[i].Pred) != nrows || len(preds[i].Margin) != nrows {
			t.Fatalf("xgbtest: Python returned %d predictions for %d rows", len(preds[i].Pred), nrows)
		}
	}
	return preds
}

// PredictSpeed times Python XGBoost's inplace_predict on rows with each
// thread count (the median of five runs after a warm-up) and returns rows
// per second by thread count.
func PredictSpeed(t testing.TB, python, model string, rows []float64, nfeat int, threads ...int) map[int]float64 {
	t.Helper()
	dir := t.TempDir()
	spec := map[string]any{
		"mode":    "time",
		"rows":    writeFloats(t, dir, "rows.f64", rows),
		"nfeat":   nfeat,
		"models":  []string{model},
		"threads": threads,
		"out":     filepath.Join(dir, "speed.json"),
	}
	run(t, python, spec)
	data, err := os.ReadFile(filepath.Join(dir, "speed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var speeds map[string]float64
	if err := json.Unmarshal(data, &speeds); err != nil {
		t.Fatalf("xgbtest: Python timing output: %v", err)
	}
	out := make(map[int]float64, len(speeds))
	for _, n := range threads {
		out[n] = speeds[fmt.Sprint(n)]
	}
	return out
}

const script = `
import json, sys, time
import numpy as np
import xgboost as xgb

spec = json.load(sys.stdin)
X = np.fromfile(spec["rows"], dtype="<f8").reshape(-1, spec["nfeat"])
mode = spec["mode"]
if mode == "train":
    y = np.fromfile(spec["labels"], dtype="<f8")
    d = xgb.DMatrix(X, label=y, missing=np.nan, feature_names=spec["fnames"], nthread=spec["threads"])
    params = dict(spec["params"])
    params.setdefault("nthread", spec["threads"])
    bst = xgb.train(params, d, spec["rounds"])
    for path in spec["out"]:
        bst.save_model(path)
elif mode == "predict":
    for i, path in enumerate(spec["models"]):
        bst = xgb.Booster(model_file=path)
        d = xgb.DMatrix(X, missing=np.nan, feature_names=bst.feature_names)
        prefix = spec["out"] + str(i)
        bst.predict(d).astype("<f8").tofile(prefix + ".pred")
        bst.predict(d, output_margin=True).astype("<f8").tofile(prefix + ".margin")
        bst.predict(d, pred_leaf=True).astype("<i4").tofile(prefix + ".leaf")
elif mode == "time":
    bst = xgb.Booster(model_file=spec["models"][0])
    speeds = {}
    for n in spec["threads"]:
        bst.set_param({"nthread": n})
        bst.inplace_predict(X, missing=np.nan)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            bst.inplace_predict(X, missing=np.nan)
            times.append(time.perf_counter() - t0)
        speeds[str(n)] = X.shape[0] / sorted(times)[2]
    with open(spec["out"], "w") as f:
        json.dump(speeds, f)
`

func run(t testing.TB, python string, spec map[string]any) {
	t.Helper()
	in, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil {
		t.Fatalf("xgbtest: Python XGBoost (%s) failed: %v\n%s%s", spec["mode"], err, out, stderr.Bytes())
	}
}

func writeFloats(t testing.TB, dir, name string, v []float64) string {
	t.Helper()
	path := filepath.Join(dir, name)
	buf := make([]byte, 8*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(f))
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFloats(t testing.TB, path string) []float64 {
	t.Helper()
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float64, len(buf)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:]))
	}
	return v
}

func readInt32s(t testing.TB, path string) []int32 {
	t.Helper()
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]int32, len(buf)/4)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(buf[4*i:]))
	}
	return v
}

// WriteFile writes m to path in the format its extension names, failing t
// on error.
func WriteFile(t testing.TB, path string, m *xgb.Model) string {
	t.Helper()
	if err := xgb.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	return path
}

// Compare fails t when got and want differ by more than tol at any row,
// reporting the first few differences and the largest.
func Compare(t testing.TB, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, at, bad := 0.0, -1, 0
	for i := range got {
		d := math.Abs(got[i] - want[i])
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > worst {
			worst, at = d, i
		}
		if d > tol {
			if bad < 3 {
				t.Errorf("%s: row %d: got %.9g, want %.9g (difference %.3g > %.3g)", what, i, got[i], want[i], d, tol)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d rows differ by more than %g; largest difference %.3g at row %d", what, bad, len(got), tol, worst, at)
	}
}

// WriteRows writes rows to path as little-endian float64 (the layout
// bench/predict.py and the Python bridge read), failing t on error.
func WriteRows(t testing.TB, path string, rows []float64) string {
	t.Helper()
	return writeFloats(t, filepath.Dir(path), filepath.Base(path), rows)
}
