package gbdt

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"risklane/internal/testenv"
	"risklane/models/xgb"
)

// writeCSV writes the columns of X and, when y is not nil, a last column
// "label", with NaN as "nan" (which numpy reads as missing).
func writeCSV(t testing.TB, path string, X *Matrix, y []float64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for j := range X.Cols {
		if j > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "f%d", j)
	}
	if y != nil {
		w.WriteString(",label")
	}
	w.WriteByte('\n')
	buf := make([]byte, 0, 32)
	for i := range X.Rows {
		for j, c := range X.Cols {
			if j > 0 {
				w.WriteByte(',')
			}
			if math.IsNaN(c[i]) {
				w.WriteString("nan")
			} else {
				w.Write(strconv.AppendFloat(buf[:0], c[i], 'g', -1, 64))
			}
		}
		if y != nil {
			w.WriteByte(',')
			w.Write(strconv.AppendFloat(buf[:0], y[i], 'g', -1, 64))
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

var probe struct {
	sync.Mutex
	python string
}

// xgboostPython is testenv.Python(t, "xgboost", "numpy"), probed once per
// test binary: importing xgboost takes seconds on a busy machine.
func xgboostPython(t testing.TB) string {
	t.Helper()
	probe.Lock()
	defer probe.Unlock()
	if probe.python == "" {
		probe.python = testenv.Python(t, "xgboost", "numpy")
	}
	return probe.python
}

// pythonEnv is the environment for Python XGBoost. OpenMP threads wait
// passively: spinning ones make XGBoost many times slower on a busy machine
// (34 s instead of 0.9 s measured here).
func pythonEnv() []string {
	env := os.Environ()
	if os.Getenv("OMP_WAIT_POLICY") == "" {
		env = append(env, "OMP_WAIT_POLICY=PASSIVE")
	}
	return env
}

// xgbParams translates p into XGBoost's parameters.
func xgbParams(p Params, baseScore float64) map[string]any {
	return map[string]any{
		"objective": p.Objective, "tree_method": "hist", "max_depth": p.MaxDepth, "eta": p.Eta,
		"max_bin": p.MaxBin, "lambda": p.Lambda, "alpha": p.Alpha, "gamma": p.Gamma,
		"min_child_weight": p.MinChildWeight, "scale_pos_weight": p.ScalePosWeight,
		"base_score": baseScore, "nthread": 2, "seed": 0,
	}
}

// workerScript reads one JSON list of jobs {"dir", "params", "rounds"} per
// line; each job trains XGBoost on dir/train.csv (label last) and writes
// dir/model.json and the margins of dir/test.csv, one per line, to
// dir/margin.txt. With "weights", the DMatrix takes its weights from
// dir/weight.txt (one per row); with "evals", the training metric of every
// round goes to dir/eval.txt. A job {"dir", "model"} instead loads the model
// file and scores dir/test.csv. It answers each line with a line of timings.
// One worker serves every test: importing xgboost is the slow part.
const workerScript = `
import sys, json, time, numpy as np, xgboost as xgb
for line in sys.stdin:
    done = []
    for job in json.loads(line):
        d = job["dir"]
        t0 = time.perf_counter()
        te = np.loadtxt(d + "/test.csv", delimiter=",", skiprows=1, ndmin=2)
        if job.get("model"):
            bst = xgb.Booster(model_file=job["model"])
            t1 = t2 = time.perf_counter()
        else:
            tr = np.loadtxt(d + "/train.csv", delimiter=",", skiprows=1, ndmin=2)
            t1 = time.perf_counter()
            w = np.loadtxt(d + "/weight.txt", ndmin=1) if job.get("weights") else None
            dtrain = xgb.DMatrix(tr[:, :-1], label=tr[:, -1], weight=w, missing=np.nan)
            res = {}
            evals = [(dtrain, "train")] if job.get("evals") else []
            bst = xgb.train(job["params"], dtrain, job["rounds"], evals=evals, evals_result=res, verbose_eval=False)
            t2 = time.perf_counter()
            bst.save_model(d + "/model.json")
            if evals:
                np.savetxt(d + "/eval.txt", list(res["train"].values())[0], fmt="%.17g")
        m = bst.predict(xgb.DMatrix(te, missing=np.nan, feature_names=bst.feature_names), output_margin=True)
        np.savetxt(d + "/margin.txt", m, fmt="%.9g")
        done.append("%s: load %.2fs, train %.2fs" % (d, t1 - t0, t2 - t1))
    print("; ".join(done), flush=True)
`

// xgbJob is one job of workerScript.
type xgbJob struct {
	Dir     string         `json:"dir"`
	Params  map[string]any `json:"params,omitempty"`
	Rounds  int            `json:"rounds,omitempty"`
	Model   string         `json:"model,omitempty"`
	Weights bool           `json:"weights,omitempty"`
	Evals   bool           `json:"evals,omitempty"`
}

var worker struct {
	sync.Mutex
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr lockedBuffer
}

// lockedBuffer collects the worker's stderr, written by exec's goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runXGBoost runs the jobs in the shared Python worker, starting it on first
// use. It exits when the test binary does (its stdin closes).
func runXGBoost(t testing.TB, python string, jobs []xgbJob) {
	t.Helper()
	worker.Lock()
	defer worker.Unlock()
	if worker.in == nil {
		cmd := exec.Command(python, "-c", workerScript)
		cmd.Env = pythonEnv()
		cmd.Stderr = &worker.stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		worker.in, worker.out = in, bufio.NewScanner(out)
	}
	spec, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := worker.in.Write(append(spec, '\n')); err != nil {
		t.Fatalf("python worker: %v\n%s", err, worker.stderr.String())
	}
	if !worker.out.Scan() {
		t.Fatalf("python worker died: %v\n%s", worker.out.Err(), worker.stderr.String())
	}
	t.Log(worker.out.Text())
}

// xgbJSONTree is the part of a tree in XGBoost's JSON model we compare.
type xgbJSONTree struct {
	Left       []int32   `json:"left_children"`
	Right      []int32   `json:"right_children"`
	SplitIndex []int32   `json:"split_indices"`
	Cond       []float64 `json:"split_conditions"`
	Default    []int     `json:"default_left"`
	BaseWeight []float64 `json:"base_weights"`
	Loss       []float64 `json:"loss_changes"`
	Hess       []float64 `json:"sum_hessian"`
}

func readXGBTrees(t testing.TB, path string) []xgbJSONTree {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Learner struct {
			GradientBooster struct {
				Model struct {
					Trees []xgbJSONTree `json:"trees"`
				} `json:"model"`
			} `json:"gradient_booster"`
		} `json:"learner"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Learner.GradientBooster.Model.Trees
}

func readFloats(t testing.TB, path string) []float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, s := range strings.Fields(string(data)) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// fewValued returns data whose columns have few distinct values (so that
// XGBoost's quantile sketch is exact and both trainers see the same bins),
// with missing values in two columns.
func fewValued(n int, seed uint64) (*Matrix, []float64, []float64) {
	r := rand.New(rand.NewPCG(seed, 11))
	X := &Matrix{Rows: n, Cols: make([][]float64, 5)}
	for f := range X.Cols {
		X.Cols[f] = make([]float64, n)
	}
	y := make([]float64, n)
	yr := make([]float64, n)
	for i := range n {
		a := float64(r.IntN(30))
		b := math.Round(r.NormFloat64()*4) / 4
		c := float64(r.IntN(5)) * 0.1
		d := float64(r.IntN(200)) - 100
		e := float64(r.IntN(3))
		z := 0.15*a - 2 + b*c*2
		if r.Float64() < 0.1 {
			a = math.NaN()
			z += 1.5
		}
		if r.Float64() < 0.2 {
			d = math.NaN()
		} else if d > 40 {
			z -= 1
		}
		for f, v := range []float64{a, b, c, d, e} {
			X.Cols[f][i] = v
		}
		if r.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
		yr[i] = z + r.NormFloat64()*0.5
	}
	return X, y, yr
}

// xgbCase is one training of a comparison with XGBoost: rows, labels and
// the changes to the comparison's base parameters.
type xgbCase struct {
	name   string
	X      *Matrix
	labels []float64
	edit   func(*Params)
}

// With exact bins, risklane must grow XGBoost's trees: same structure,
// features, thresholds and default directions, and the same leaf values,
// gains and covers up to float rounding.
func TestTreesMatchXGBoost(t *testing.T) {
	python := xgboostPython(t)
	X, y, yr := fewValued(600, 1)
	// 20,000 rows of continuous values: XGBoost's sketch is approximate here
	// (its queue overflows into pruned summaries), so matching trees show
	// that the sketch is reproduced step by step.
	big, bigY := synthetic(20000, 6, 77)
	cases := []xgbCase{
		{"logistic", X, y, func(p *Params) {}},
		{"logistic regularised", X, y, func(p *Params) { p.Lambda, p.Alpha, p.Gamma, p.MinChildWeight = 2, 0.3, 0.5, 3 }},
		// 32 bins: fewer than f3's distinct values, so the cut points come
		// from pruning the summary; with 600 rows XGBoost's sketch is exact.
		{"logistic 32 bins", X, y, func(p *Params) { p.MaxBin = 32 }},
		{"squared error", X, yr, func(p *Params) { p.Objective = xgb.RegSquaredError; p.BaseScore = 0.25 }},
		{"scale_pos_weight", X, y, func(p *Params) { p.ScalePosWeight = 3 }},
		{"deep, many rounds", X, y, func(p *Params) { p.MaxDepth, p.NumRounds, p.Eta = 7, 12, 0.1 }},
		{"approximate sketch", big, bigY, func(p *Params) { p.MaxDepth, p.NumRounds = 5, 3 }},
	}
	type run struct {
		model *xgb.Model
		dir   string
	}
	runs := make([]run, len(cases))
	var jobs []xgbJob
	for i, tc := range cases {
		p := DefaultParams()
		p.NumRounds, p.MaxDepth, p.Eta = 4, 4, 0.3
		p.EvalTrain = false
		tc.edit(&p)
		model, _, err := Train(tc.X, tc.labels, nil, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		writeCSV(t, filepath.Join(dir, "train.csv"), tc.X, tc.labels)
		writeCSV(t, filepath.Join(dir, "test.csv"), tc.X, nil)
		runs[i] = run{model, dir}
		jobs = append(jobs, xgbJob{Dir: dir, Params: xgbParams(p, float64(model.BaseScore)), Rounds: p.NumRounds})
	}
	runXGBoost(t, python, jobs)
	for i, tc := range cases {
		model, dir := runs[i].model, runs[i].dir
		t.Run(tc.name, func(t *testing.T) { matchXGBoost(t, model, dir, tc.X) })
	}
}

// matchXGBoost checks model against the trees XGBoost wrote to
// dir/model.json and the margins it wrote to dir/margin.txt for X.
func matchXGBoost(t *testing.T, model *xgb.Model, dir string, X *Matrix) {
	t.Helper()
	want := readXGBTrees(t, filepath.Join(dir, "model.json"))
	if len(want) != len(model.Trees) {
		t.Fatalf("%d trees, XGBoost has %d", len(model.Trees), len(want))
	}
	for k, w := range want {
		g := &model.Trees[k]
		if len(w.Left) != g.NumNodes() {
			t.Fatalf("tree %d: %d nodes, XGBoost has %d", k, g.NumNodes(), len(w.Left))
		}
		for n := range w.Left {
			at := fmt.Sprintf("tree %d node %d", k, n)
			if g.Left[n] != w.Left[n] || g.Right[n] != w.Right[n] {
				t.Fatalf("%s: children %d,%d, XGBoost %d,%d", at, g.Left[n], g.Right[n], w.Left[n], w.Right[n])
			}
			if !g.IsLeaf(n) && (g.SplitIndex[n] != w.SplitIndex[n] || g.SplitCondition[n] != float32(w.Cond[n]) || g.DefaultLeft[n] != (w.Default[n] == 1)) {
				t.Fatalf("%s: split f%d < %v (default left %v), XGBoost f%d < %v (%d)", at, g.SplitIndex[n], g.SplitCondition[n], g.DefaultLeft[n], w.SplitIndex[n], w.Cond[n], w.Default[n])
			}
			for _, v := range []struct {
				what      string
				got, want float64
				tol       float64
			}{
				{"leaf/threshold", float64(g.SplitCondition[n]), w.Cond[n], 1e-5},
				{"base weight", float64(g.BaseWeight[n]), w.BaseWeight[n], 1e-5},
				{"gain", float64(g.LossChange[n]), w.Loss[n], 1e-3},
				{"cover", float64(g.SumHessian[n]), w.Hess[n], 1e-5},
			} {
				if math.Abs(v.got-v.want) > v.tol*math.Max(1, math.Abs(v.want)) {
					t.Errorf("%s: %s %v, XGBoost %v", at, v.what, v.got, v.want)
				}
			}
		}
	}
	// And XGBoost's own predictor agrees with the margins we compute.
	xm := readFloats(t, filepath.Join(dir, "margin.txt"))
	gm := predictMargins(t, model, X)
	for i := range xm {
		if math.Abs(float64(gm[i])-xm[i]) > 1e-5 {
			t.Fatalf("row %d: margin %v, XGBoost %v", i, gm[i], xm[i])
		}
	}
}

// unevenWeights returns n row weights from 0 to 4, about a sixth of them 0,
// written to dir/weight.txt for XGBoost's DMatrix.
func unevenWeights(t testing.TB, n int, seed uint64, dir string) []float64 {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 13))
	w := make([]float64, n)
	var b strings.Builder
	for i := range w {
		if r.IntN(6) > 0 {
			w[i] = math.Round(r.ExpFloat64()*100) / 100
			w[i] = min(w[i], 4)
		}
		b.WriteString(strconv.FormatFloat(w[i], 'g', -1, 64))
		b.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "weight.txt"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// With row weights (uneven, a sixth of them 0), risklane must grow the
// trees XGBoost grows from a DMatrix with the same weight: weighted
// gradients, hessians and covers, min_child_weight on weighted hessians,
// cut points from the weighted sketch (the 20,000-row case), and the
// weighted training metric of every round. Each case's covers differ from
// the unweighted model's, so the test fails if either side drops the weights.
func TestWeightedTreesMatchXGBoost(t *testing.T) {
	python := xgboostPython(t)
	X, y, yr := fewValued(600, 3)
	big, bigY := synthetic(20000, 6, 79)
	cases := []xgbCase{
		{"logistic", X, y, func(p *Params) {}},
		{"logistic auc", X, y, func(p *Params) { p.EvalMetric = AUC }},
		{"min_child_weight 8", X, y, func(p *Params) { p.MinChildWeight, p.Lambda, p.Alpha = 8, 2, 0.3 }},
		{"32 bins", X, y, func(p *Params) { p.MaxBin = 32 }},
		{"scale_pos_weight", X, y, func(p *Params) { p.ScalePosWeight = 3 }},
		{"squared error", X, yr, func(p *Params) { p.Objective = xgb.RegSquaredError; p.BaseScore = 0.25 }},
		{"approximate sketch", big, bigY, func(p *Params) { p.MaxDepth, p.NumRounds = 5, 3 }},
	}
	type run struct {
		model *xgb.Model
		rep   *Report
		dir   string
		X     *Matrix
	}
	runs := make([]run, len(cases))
	var jobs []xgbJob
	for i, tc := range cases {
		p := DefaultParams()
		p.NumRounds, p.MaxDepth, p.Eta = 4, 4, 0.3
		tc.edit(&p)
		dir := t.TempDir()
		WX := *tc.X
		WX.Weights = unevenWeights(t, tc.X.Rows, uint64(i), dir)
		model, rep, err := Train(&WX, tc.labels, nil, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		plain, _, err := Train(tc.X, tc.labels, nil, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		if plain.Trees[0].SumHessian[0] == model.Trees[0].SumHessian[0] {
			t.Fatalf("%s: the weighted root cover equals the unweighted one (%v)", tc.name, plain.Trees[0].SumHessian[0])
		}
		writeCSV(t, filepath.Join(dir, "train.csv"), tc.X, tc.labels)
		writeCSV(t, filepath.Join(dir, "test.csv"), tc.X, nil)
		runs[i] = run{model, rep, dir, tc.X}
		params := xgbParams(p, float64(model.BaseScore))
		params["eval_metric"] = rep.Metric
		jobs = append(jobs, xgbJob{Dir: dir, Params: params, Rounds: p.NumRounds, Weights: true, Evals: true})
	}
	runXGBoost(t, python, jobs)
	for i, tc := range cases {
		r := runs[i]
		t.Run(tc.name, func(t *testing.T) {
			matchXGBoost(t, r.model, r.dir, r.X)
			want := readFloats(t, filepath.Join(r.dir, "eval.txt"))
			if len(want) != len(r.rep.Train) {
				t.Fatalf("%d rounds of training %s, XGBoost %d", len(r.rep.Train), r.rep.Metric, len(want))
			}
			for k, w := range want {
				if math.Abs(r.rep.Train[k]-w) > 1e-5*math.Max(1, math.Abs(w)) {
					t.Errorf("round %d: training %s %v, XGBoost %v", k, r.rep.Metric, r.rep.Train[k], w)
				}
			}
		})
	}
}

// A model trained here and written by package xgb as XGBoost JSON loads in
// Python XGBoost, which scores it exactly as the margins accumulated during
// training (rows the trainer saw and rows it did not, NaNs included).
func TestExportedModelScoresInXGBoost(t *testing.T) {
	python := xgboostPython(t)
	X, y := synthetic(4000, 12, 41)
	V, _ := synthetic(2000, 12, 42)
	p := DefaultParams()
	p.NumRounds, p.Subsample, p.ColsampleByNode, p.Seed = 30, 0.8, 0.7, 3
	X.Names = make([]string, len(X.Cols))
	for j := range X.Names {
		X.Names[j] = fmt.Sprintf("feature_%d", j)
	}
	tr, model, _ := trainInternal(t, X, y, nil, nil, p)
	dir := t.TempDir()
	path := filepath.Join(dir, "risklane.json")
	if err := xgb.WriteFile(path, model); err != nil {
		t.Fatal(err)
	}
	both := &Matrix{Rows: X.Rows + V.Rows, Cols: make([][]float64, len(X.Cols))}
	for j := range both.Cols {
		both.Cols[j] = append(append([]float64(nil), X.Cols[j]...), V.Cols[j]...)
	}
	writeCSV(t, filepath.Join(dir, "test.csv"), both, nil)
	runXGBoost(t, python, []xgbJob{{Dir: dir, Model: path}})
	got := readFloats(t, filepath.Join(dir, "margin.txt"))
	want := predictMargins(t, model, both)
	for i := range want {
		if i < X.Rows && want[i] != tr.margin[i] {
			t.Fatalf("row %d: trained margin %v, model %v", i, tr.margin[i], want[i])
		}
		if math.Abs(got[i]-float64(want[i])) > 1e-5 {
			t.Fatalf("row %d: XGBoost scores %v, risklane %v", i, got[i], want[i])
		}
	}
}
