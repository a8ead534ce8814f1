package riskmodel

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
	"risklane/features"
	"risklane/internal/testenv"
	"risklane/models"
	"risklane/models/scorer"
	"risklane/models/xgb"
)

// small trains a quick model on generated data and returns it with the
// validation batches.
func small(t *testing.T) (*Model, []arrow.RecordBatch, []arrow.RecordBatch) {
	t.Helper()
	all := generate(t, 8000, 3)
	train, valid, err := SplitByDate(all, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Classifier.NumRounds, cfg.Revenue.NumRounds = 40, 30
	cfg.Profile = "synthetic"
	m, err := Train(train, valid, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, train, valid
}

func scoreAll(t *testing.T, m *Model, batches []arrow.RecordBatch) (prob, exp []float64) {
	t.Helper()
	for _, b := range batches {
		p, e, err := m.Score(b, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		prob, exp = append(prob, p...), append(exp, e...)
	}
	return prob, exp
}

// TestSaveLoad: a saved and loaded model scores bit for bit as the trained
// one, the folder holds every file with the manifest's hashes, and damage
// to any file is refused.
func TestSaveLoad(t *testing.T) {
	m, _, valid := small(t)
	dir := filepath.Join(t.TempDir(), "models", "m1")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ManifestFile, ModelFile, ModelBinFile, RevenueFile, RevenueBinFile, FeaturesFile, MetricsFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("model folder lacks %s", f)
		}
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Manifest.ID == "" || loaded.Manifest.ID != m.Manifest.ID || loaded.Manifest.Profile != "synthetic" {
		t.Errorf("manifest: id %q (saved %q), profile %q", loaded.Manifest.ID, m.Manifest.ID, loaded.Manifest.Profile)
	}
	// the same model trained again has the same id, whatever its timings
	again, _, _ := small(t)
	if err := again.Save(filepath.Join(t.TempDir(), "again")); err != nil {
		t.Fatal(err)
	}
	if again.Manifest.ID != m.Manifest.ID {
		t.Errorf("retraining the same model gave id %s, then %s", m.Manifest.ID, again.Manifest.ID)
	}
	p0, e0 := scoreAll(t, m, valid)
	p1, e1 := scoreAll(t, loaded, valid)
	for i := range p0 {
		if p0[i] != p1[i] || e0[i] != e1[i] {
			t.Fatalf("row %d: %v/%v after loading, %v/%v before", i, p1[i], e1[i], p0[i], e0[i])
		}
	}
	if len(loaded.Metrics.Importance) == 0 || loaded.Metrics.Validation == nil {
		t.Error("metrics.json lost the importance or validation report")
	}
	// the legacy binary is the same ensemble
	bin, err := xgb.ReadFile(filepath.Join(dir, ModelBinFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(bin.Trees) != len(m.Classifier.Trees) {
		t.Errorf("model.bin has %d trees, model.json %d", len(bin.Trees), len(m.Classifier.Trees))
	}

	// damage: one changed byte in each file, then a missing file
	for _, f := range []string{ModelFile, FeaturesFile, RevenueBinFile, MetricsFile} {
		damaged := filepath.Join(t.TempDir(), "m")
		copyDir(t, dir, damaged)
		b, _ := os.ReadFile(filepath.Join(damaged, f))
		b[len(b)/2] ^= 1
		os.WriteFile(filepath.Join(damaged, f), b, 0o644)
		if _, err := Load(damaged); err == nil || !strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), f) {
			t.Errorf("damaged %s: %v", f, err)
		}
	}
	gone := filepath.Join(t.TempDir(), "m")
	copyDir(t, dir, gone)
	os.Remove(filepath.Join(gone, FeaturesFile))
	if _, err := Load(gone); err == nil || !strings.Contains(err.Error(), FeaturesFile) {
		t.Errorf("missing features.json: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a model folder") {
		t.Errorf("empty folder: %v", err)
	}
	// saving over an existing folder replaces it
	if err := loaded.Save(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	os.MkdirAll(to, 0o755)
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(from, e.Name()))
		os.WriteFile(filepath.Join(to, e.Name()), b, 0o644)
	}
}

// TestMismatchedParts: trees and a feature state that were not trained
// together are refused, and data lacking a column is refused by name.
func TestMismatchedParts(t *testing.T) {
	m, train, valid := small(t)
	cfg := DefaultConfig()
	cfg.Features.Groups = []string{features.GroupHS, features.GroupRisk}
	st, _, err := features.Fit(train, cfg.Features)
	if err != nil {
		t.Fatal(err)
	}
	other := &Model{State: st, Classifier: m.Classifier}
	if err := other.prepare(); err == nil || !strings.Contains(err.Error(), "not trained together") {
		t.Errorf("classifier over another state: %v", err)
	}
	renamed := *m.Classifier
	renamed.FeatureNames = append([]string{"bogus"}, m.Classifier.FeatureNames[1:]...)
	if _, err := m.WithClassifier(&renamed); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("classifier with other names: %v", err)
	}
	// drop the origin column from a validation batch
	b := valid[0]
	var fields []arrow.Field
	var cols []arrow.Array
	for i, f := range b.Schema().Fields() {
		if f.Name != decl.OriginCountry {
			fields = append(fields, f)
			cols = append(cols, b.Column(i))
		}
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, b.NumRows())
	defer rec.Release()
	if _, _, err := m.Score(rec, nil, nil); err == nil || !strings.Contains(err.Error(), decl.OriginCountry) {
		t.Errorf("data without %s: %v", decl.OriginCountry, err)
	}
}

// TestAgainstPythonXGBoost: Python XGBoost loads the saved model.json and
// revenue.json and predicts what risklane's leaves scoring predicts; and a
// classifier trained in Python XGBoost on risklane's features scores in
// risklane (WithClassifier) as it does in Python.
func TestAgainstPythonXGBoost(t *testing.T) {
	py := testenv.Python(t, "xgboost", "numpy")
	m, train, valid := small(t)
	dir := filepath.Join(t.TempDir(), "model")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	// validation features (scoring-time) and training features (out of fold)
	var vrows []float64
	for _, b := range valid {
		r, err := m.State.TransformRows(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		vrows = append(vrows, r...)
	}
	nf := len(m.State.Names())
	writeRows(t, filepath.Join(tmp, "valid.csv"), vrows, nf)
	_, fm, err := features.Fit(train, DefaultConfig().Features)
	if err != nil {
		t.Fatal(err)
	}
	labels, _, err := models.Outcomes(train)
	if err != nil {
		t.Fatal(err)
	}
	trows := make([]float64, 0, fm.Rows*(nf+1))
	for i := range fm.Rows {
		trows = append(trows, float64(labels[i]))
		for j := range nf {
			trows = append(trows, fm.Cols[j][i])
		}
	}
	writeRows(t, filepath.Join(tmp, "train.csv"), trows, nf+1)

	script := `
import sys, json, numpy as np, xgboost as xgb
d, tmp = sys.argv[1], sys.argv[2]
v = np.loadtxt(tmp + "/valid.csv", delimiter=",", ndmin=2)
clf = xgb.Booster(model_file=d + "/model.json")
dv = xgb.DMatrix(v, missing=np.nan, feature_names=clf.feature_names)
rev = xgb.Booster(model_file=d + "/revenue.json")
tr = np.loadtxt(tmp + "/train.csv", delimiter=",", ndmin=2)
own = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 4, "eta": 0.3, "seed": 1},
                xgb.DMatrix(tr[:, 1:], label=tr[:, 0], missing=np.nan), 20)
own.save_model(tmp + "/python.json")
json.dump({"prob": clf.predict(dv).tolist(), "rev": rev.predict(dv).tolist(), "own": own.predict(xgb.DMatrix(v, missing=np.nan)).tolist()}, sys.stdout)
`
	cmd := exec.Command(py, "-c", script, dir, tmp)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var res struct{ Prob, Rev, Own []float64 }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	prob, exp := scoreAll(t, m, valid)
	if len(res.Prob) != len(prob) {
		t.Fatalf("python scored %d rows, risklane %d", len(res.Prob), len(prob))
	}
	worst := 0.0
	for i := range prob {
		wantExp := res.Prob[i] * math.Max(0, math.Expm1(res.Rev[i]))
		d := math.Abs(prob[i] - res.Prob[i])
		dr := math.Abs(exp[i]-wantExp) / math.Max(1, wantExp)
		worst = max(worst, d, dr)
		if d > 1e-5 || dr > 1e-5 {
			t.Fatalf("row %d: risklane %v / %v, XGBoost %v / %v", i, prob[i], exp[i], res.Prob[i], wantExp)
		}
	}
	pyModel, err := xgb.ReadFile(filepath.Join(tmp, "python.json"))
	if err != nil {
		t.Fatal(err)
	}
	withPy, err := m.WithClassifier(pyModel)
	if err != nil {
		t.Fatal(err)
	}
	own, _ := scoreAll(t, withPy, valid)
	for i := range own {
		if d := math.Abs(own[i] - res.Own[i]); d > 1e-5 {
			t.Fatalf("python-trained classifier, row %d: risklane %v, XGBoost %v", i, own[i], res.Own[i])
		}
	}
	t.Logf("%d rows: risklane and XGBoost agree within %.2g", len(prob), worst)
}

func writeRows(t *testing.T, path string, rows []float64, width int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i, v := range rows {
		if i%width > 0 {
			w.WriteByte(',')
		}
		if math.IsNaN(v) {
			w.WriteString("nan")
		} else {
			w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		if i%width == width-1 {
			w.WriteByte('\n')
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestNoDiagnosticsSameModel: skipping the diagnostics leaves the model as
// it is: the same probabilities and expected revenue, bit for bit.
func TestNoDiagnosticsSameModel(t *testing.T) {
	m, train, valid := small(t)
	cfg := DefaultConfig()
	cfg.Classifier.NumRounds, cfg.Revenue.NumRounds = 40, 30
	cfg.Profile = "synthetic"
	cfg.NoDiagnostics = true
	lean, err := Train(train, valid, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if lean.Metrics.Training != nil || m.Metrics.Training == nil {
		t.Errorf("in-sample metrics: %v with diagnostics, %v without", m.Metrics.Training != nil, lean.Metrics.Training != nil)
	}
	p, e := scoreAll(t, m, valid)
	lp, le := scoreAll(t, lean, valid)
	for i := range p {
		if p[i] != lp[i] || e[i] != le[i] {
			t.Fatalf("row %d: %v, %v with diagnostics; %v, %v without", i, p[i], e[i], lp[i], le[i])
		}
	}
}

// TestContributionsRowsLikeContributions: the reasons' batch path (the
// native engine's leaves, then each leaf's listed path) gives the very sums
// of the explainer's row-at-a-time walk, bit for bit, on a trained model's
// features, more rows than one leaf-id chunk, both engines.
func TestContributionsRowsLikeContributions(t *testing.T) {
	m, _, valid := small(t)
	nf := len(m.FeatureNames())
	var x []float64
	for _, b := range valid {
		f := make([]float64, int(b.NumRows())*nf)
		if err := m.Features(b, f); err != nil {
			t.Fatal(err)
		}
		x = append(x, f...)
	}
	n := len(x) / nf
	if n <= contribRows {
		t.Fatalf("only %d rows", n)
	}
	want := make([]float64, n*nf)
	for i := range n {
		m.Contributions(x[i*nf:(i+1)*nf], want[i*nf:(i+1)*nf])
	}
	for _, engine := range []scorer.Engine{scorer.Native, scorer.Leaves} {
		if err := m.UseEngine(engine); err != nil {
			t.Fatal(err)
		}
		got := make([]float64, n*nf)
		m.ContributionsRows(x, n, got)
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%s: row %d feature %d: %v, Contributions gives %v", engine, i/nf, i%nf, got[i], want[i])
			}
		}
	}
}

// TestRowHalfLife: --train-halflife reaches both heads as gbdt row weights.
// With no row sampling the first tree's root cover is the weighted hessian
// sum, 0.25 x the sum of the weights at base score 0.5; the weights are
// worked here from the dates: 0.5^(days before the history's latest date /
// 30) (features.RecencyWeights' rule). The manifest records the half-life, and the revenue head changes.
func TestRowHalfLife(t *testing.T) {
	train := generate(t, 6000, 5)
	cfg := DefaultConfig()
	cfg.Classifier.NumRounds, cfg.Revenue.NumRounds = 3, 3
	cfg.Classifier.Subsample, cfg.Revenue.Subsample = 1, 1
	cfg.NoDiagnostics = true
	plain, err := Train(train, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RowHalfLife = 30
	m, err := Train(train, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	labels, _, err := models.Outcomes(train)
	if err != nil {
		t.Fatal(err)
	}
	var days []int32
	for _, b := range train {
		d := b.Column(b.Schema().FieldIndices(decl.Date)[0]).(*array.Date32)
		for i := range d.Len() {
			days = append(days, int32(d.Value(i)))
		}
	}
	latest := slices.Max(days)
	sum, n := 0.0, 0.0
	for i, l := range labels {
		if l >= 0 {
			sum += float64(float32(math.Pow(0.5, float64(latest-days[i])/30)))
			n++
		}
	}
	got, unweighted := float64(m.Classifier.Trees[0].SumHessian[0]), float64(plain.Classifier.Trees[0].SumHessian[0])
	if math.Abs(got-0.25*sum) > 1e-6*sum || math.Abs(unweighted-0.25*n) > 1e-6*n {
		t.Errorf("root cover %v weighted, %v unweighted; want 0.25 x %v and 0.25 x %v", got, unweighted, sum, n)
	}
	if sum > 0.9*n {
		t.Errorf("the weights sum to %v over %v rows: the half-life hardly weighs anything", sum, n)
	}
	if m.Manifest.RowHalfLife != 30 || plain.Manifest.RowHalfLife != 0 {
		t.Errorf("manifest half-life %v, %v without", m.Manifest.RowHalfLife, plain.Manifest.RowHalfLife)
	}
	if m.Revenue == nil || m.Revenue.Trees[0].SumHessian[0] == plain.Revenue.Trees[0].SumHessian[0] {
		t.Errorf("the revenue head's root cover is not weighted")
	}
}
