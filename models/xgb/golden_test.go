package xgb_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"risklane/models/xgb"
	"risklane/models/xgb/xgbtest"
)

var update = flag.Bool("update", false, "rewrite testdata/risklane-logistic.model from WriteLegacyBinary")

// expected is what XGBoost 1.7.4 predicted for a golden model's rows.
type expected struct {
	Rows   [][]*float64 `json:"rows"`
	Pred   []float64    `json:"pred"`
	Margin []float64    `json:"margin"`
	Leaf   [][]int      `json:"leaf"`
}

func loadExpected(t *testing.T, path string) (rows [][]float64, e expected) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.Rows {
		row := make([]float64, len(r))
		for j, v := range r {
			row[j] = math.NaN()
			if v != nil {
				row[j] = *v
			}
		}
		rows = append(rows, row)
	}
	return rows, e
}

// checkAgainstXGBoost compares the reference predictor with what XGBoost
// 1.7.4 predicted. Leaves must match exactly; XGBoost sums in float32 as the
// reference does, so margins agree to float32 rounding.
func checkAgainstXGBoost(t *testing.T, m *xgb.Model, rows [][]float64, e expected) {
	t.Helper()
	if len(rows) == 0 || len(rows) != len(e.Pred) {
		t.Fatalf("expected file holds %d rows and %d predictions", len(rows), len(e.Pred))
	}
	for i, row := range rows {
		for k := range m.Trees {
			if got := m.Trees[k].Leaf(row); got != e.Leaf[i][k] {
				t.Errorf("row %d tree %d: leaf %d, XGBoost %d", i, k, got, e.Leaf[i][k])
			}
		}
		if got := m.PredictMargin(row); math.Abs(got-e.Margin[i]) > 1e-6 {
			t.Errorf("row %d: margin %.9g, XGBoost %.9g", i, got, e.Margin[i])
		}
		if got := m.Predict(row); math.Abs(got-e.Pred[i]) > 1e-6 {
			t.Errorf("row %d: prediction %.9g, XGBoost %.9g", i, got, e.Pred[i])
		}
	}
}

func TestGoldenPythonModels(t *testing.T) {
	for _, c := range []struct {
		file, expected string
		objective      string
		trees, deleted int
		names          bool
	}{
		{"python-1.7.4-logistic.json", "python-1.7.4-logistic", xgb.BinaryLogistic, 6, 0, true},
		{"python-1.7.4-logistic.ubj", "python-1.7.4-logistic", xgb.BinaryLogistic, 6, 0, true},
		{"python-1.7.4-squarederror-pruned.json", "python-1.7.4-squarederror-pruned", xgb.RegSquaredError, 4, 2, false},
	} {
		t.Run(c.file, func(t *testing.T) {
			m, err := xgb.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			if m.Objective != c.objective || len(m.Trees) != c.trees || m.NumFeature != 6 {
				t.Fatalf("read %s with %d trees and %d features", m.Objective, len(m.Trees), m.NumFeature)
			}
			if got := len(m.FeatureNames) > 0; got != c.names {
				t.Errorf("feature names %q", m.FeatureNames)
			}
			deleted := 0
			for _, tr := range m.Trees {
				for id := range tr.Left {
					if tr.SplitIndex[id] == xgb.DeletedSplitIndex {
						deleted++
					}
				}
			}
			if deleted != c.deleted {
				t.Errorf("%d deleted nodes, want %d", deleted, c.deleted)
			}
			rows, e := loadExpected(t, filepath.Join("testdata", c.expected+".expected.json"))
			checkAgainstXGBoost(t, m, rows, e)
		})
	}
}

func TestUBJSONReadsLikeJSON(t *testing.T) {
	j, err := xgb.ReadFile("testdata/python-1.7.4-logistic.json")
	if err != nil {
		t.Fatal(err)
	}
	u, err := xgb.ReadFile("testdata/python-1.7.4-logistic.ubj")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j, u) {
		t.Error("the UBJSON and JSON files of one model read differently")
	}
	if j.BaseScore != 0.35 || j.Attributes["best_iteration"] != "5" {
		t.Errorf("base score %v, attributes %v", j.BaseScore, j.Attributes)
	}
}

// XGBoost 3.x writes base_score as a vector and adds fields 1.7 lacks; the
// shape here follows XGBoost 3.1's learner.cc and gbtree_model.cc.
func TestReadJSONOfXGBoost3(t *testing.T) {
	data, err := os.ReadFile("testdata/python-1.7.4-logistic.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	learner := doc["learner"].(map[string]any)
	learner["learner_model_param"].(map[string]any)["base_score"] = "[3.5E-1]"
	gbm := learner["gradient_booster"].(map[string]any)["model"].(map[string]any)
	gbm["iteration_indptr"] = []int{0, 1, 2, 3, 4, 5, 6}
	gbm["cats"] = map[string]any{"enc": []any{}, "feature_segments": []int{}, "sorted_idx": []int{}}
	doc["version"] = []int{3, 1, 1}
	data, err = json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	m, err := xgb.ReadJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if m.BaseScore != 0.35 {
		t.Errorf("base score %v, want 0.35", m.BaseScore)
	}
	rows, e := loadExpected(t, "testdata/python-1.7.4-logistic.expected.json")
	checkAgainstXGBoost(t, m, rows, e)
}

func TestRefusesBinaryOfXGBoost17(t *testing.T) {
	_, err := xgb.ReadFile("testdata/python-1.7.4-logistic.model")
	if !errors.Is(err, xgb.ErrNewerBinary) {
		t.Fatalf("got %v, want ErrNewerBinary", err)
	}
	for _, want := range []string{"python-1.7.4-logistic.model", "1.7", "save_model(\"model.json\")"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// The legacy binary risklane writes must not drift: leaves and XGBoost read
// exactly these bytes (the Python tests check that they predict the same).
func TestGoldenLegacyBinary(t *testing.T) {
	m, err := xgb.ReadFile("testdata/python-1.7.4-logistic.json")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := xgb.WriteLegacyBinary(&buf, m); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "risklane-logistic.model")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("WriteLegacyBinary wrote %d bytes that differ from %s (%d bytes)", buf.Len(), golden, len(want))
	}
	back, err := xgb.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	rows, e := loadExpected(t, "testdata/python-1.7.4-logistic.expected.json")
	checkAgainstXGBoost(t, back, rows, e)
	if back.FeatureNames != nil {
		t.Errorf("the legacy binary has no feature names, read %q", back.FeatureNames)
	}
}

// leaves' own test data holds a model written by XGBoost before 1.0 (its
// base_score stored as a margin) and XGBoost's predictions for it.
func TestReadsModelOfXGBoost090(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/dmitryikh/leaves").Output()
	if err != nil {
		t.Skipf("skipping: cannot locate the leaves module: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "testdata")
	m, err := xgb.ReadFile(filepath.Join(dir, "xgagaricus.model"))
	if err != nil {
		if os.IsNotExist(errors.Unwrap(err)) {
			t.Skip("skipping: leaves' test data is not in the module cache")
		}
		t.Fatal(err)
	}
	if m.BaseScore != 0.5 || m.NumFeature != 127 || len(m.Trees) != 3 {
		t.Fatalf("read base score %v, %d features, %d trees", m.BaseScore, m.NumFeature, len(m.Trees))
	}
	want := readColumn(t, filepath.Join(dir, "xgagaricus_true_predictions.txt"))
	rows := readLibSVM(t, filepath.Join(dir, "agaricus_test.libsvm"), m.NumFeature)
	if len(rows) != len(want) {
		t.Fatalf("%d rows, %d predictions", len(rows), len(want))
	}
	for i, row := range rows {
		if got := m.Predict(row); math.Abs(got-want[i]) > 1e-6 {
			t.Fatalf("row %d: %.9g, XGBoost 0.90 %.9g", i, got, want[i])
		}
	}

	_, err = xgb.ReadFile(filepath.Join(dir, "xgdermatology.model"))
	if err == nil || !strings.Contains(err.Error(), "multi-class") {
		t.Errorf("multi-class model: got %v", err)
	}
}

func readColumn(t *testing.T, path string) []float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v []float64
	for _, f := range strings.Fields(string(data)) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatal(err)
		}
		v = append(v, x)
	}
	return v
}

// readLibSVM reads a sparse libsvm file; absent entries are missing, as in
// an XGBoost DMatrix.
func readLibSVM(t *testing.T, path string, nfeat int) [][]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		row := make([]float64, nfeat)
		for j := range row {
			row[j] = math.NaN()
		}
		for _, kv := range strings.Fields(sc.Text())[1:] {
			k, v, _ := strings.Cut(kv, ":")
			j, err1 := strconv.Atoi(k)
			x, err2 := strconv.ParseFloat(v, 64)
			if err1 != nil || err2 != nil || j >= nfeat {
				t.Fatalf("%s: bad entry %q", path, kv)
			}
			row[j] = x
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// Python XGBoost loads the files risklane writes and predicts as risklane's
// reference predictor does, for hand-made models that exercise what real
// ones rarely show: deleted nodes, thresholds hit exactly, a base score
// away from 0.5, attributes, and the layout of XGBoost 1.0's binary.
func TestPythonLoadsRisklaneFiles(t *testing.T) {
	py := xgbtest.Python(t)
	const nfeat = 9
	logistic := xgbtest.RandomModel(11, xgb.BinaryLogistic, 20, 4, nfeat)
	logistic.FeatureNames = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	logistic.Attributes = map[string]string{"best_iteration": "19", "note": "written by risklane"}
	pruneNode(&logistic.Trees[3], 5)
	pruneNode(&logistic.Trees[7], 1)
	regression := xgbtest.RandomModel(12, xgb.RegSquaredError, 20, 5, nfeat)
	pruneNode(&regression.Trees[0], 2)

	dir := t.TempDir()
	files := []string{
		xgbtest.WriteFile(t, filepath.Join(dir, "logistic.json"), logistic),
		xgbtest.WriteFile(t, filepath.Join(dir, "logistic.model"), logistic),
		writeVersion10(t, filepath.Join(dir, "logistic-1.0.model"), logistic),
		xgbtest.WriteFile(t, filepath.Join(dir, "regression.json"), regression),
		xgbtest.WriteFile(t, filepath.Join(dir, "regression.model"), regression),
	}
	models := []*xgb.Model{logistic, logistic, logistic, regression, regression}
	rows := xgbtest.Rows(5, 2000, nfeat, 0.1)
	preds := xgbtest.Predict(t, py, rows, nfeat, files...)
	for i, m := range models {
		t.Run(filepath.Base(files[i]), func(t *testing.T) {
			back, err := xgb.ReadFile(files[i])
			if err != nil {
				t.Fatal(err)
			}
			nrows := len(rows) / nfeat
			ref := make([]float64, nrows)
			refMargin := make([]float64, nrows)
			refBack := make([]float64, nrows)
			for r := range nrows {
				row := rows[r*nfeat : (r+1)*nfeat]
				ref[r] = m.Predict(row)
				refMargin[r] = m.PredictMargin(row)
				refBack[r] = back.Predict(row)
				for k := range m.Trees {
					if got, want := int(preds[i].Leaf[r*len(m.Trees)+k]), m.Trees[k].Leaf(row); got != want {
						t.Fatalf("row %d tree %d: XGBoost reaches leaf %d, risklane %d", r, k, got, want)
					}
				}
			}
			xgbtest.Compare(t, "XGBoost vs reference prediction", preds[i].Pred, ref, 1e-6)
			xgbtest.Compare(t, "XGBoost vs reference margin", preds[i].Margin, refMargin, 1e-5)
			xgbtest.Compare(t, "file read back vs reference", refBack, ref, 1e-6)
		})
	}
}

// pruneNode turns internal node id into a leaf and marks its two children
// deleted, as XGBoost's pruner does (their own subtrees must be leaves).
func pruneNode(t *xgb.Tree, id int) {
	l := t.Left[id]
	for _, c := range []int32{l, l + 1} {
		if t.Left[c] != -1 {
			pruneNode(t, int(c))
		}
		t.SplitIndex[c] = xgb.DeletedSplitIndex
		t.DefaultLeft[c] = true
	}
	t.Left[id], t.Right[id] = -1, -1
	t.SplitCondition[id] = 0.05
}

// writeVersion10 writes m in the binary layout of XGBoost 1.0: base_score
// as a probability and major_version 1. WriteLegacyBinary writes 0.90's
// layout, so the file is patched: base_score at offset 0, major_version at
// offset 20.
func writeVersion10(t *testing.T, path string, m *xgb.Model) string {
	t.Helper()
	var buf bytes.Buffer
	if err := xgb.WriteLegacyBinary(&buf, m); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	putUint32(b[0:], math.Float32bits(m.BaseScore))
	putUint32(b[20:], 1)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func putUint32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
