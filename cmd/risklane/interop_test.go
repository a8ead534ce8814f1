package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"risklane/internal/testenv"
)

// readCSVColumn returns the named column of a CSV file as numbers (NaN for
// an empty field).
func readCSVColumn(t *testing.T, path, name string) []float64 {
	t.Helper()
	recs := readCSV(t, path)
	var err error
	col := -1
	for j, h := range recs[0] {
		if h == name {
			col = j
		}
	}
	if col < 0 {
		t.Fatalf("%s: no column %q in %v", path, name, recs[0])
	}
	out := make([]float64, len(recs)-1)
	for i, r := range recs[1:] {
		out[i] = math.NaN()
		if r[col] != "" {
			if out[i], err = strconv.ParseFloat(r[col], 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// The Python user's path: export the model's features (out of fold on its
// training rows, cluster group included), train Python XGBoost on them,
// predict new rows' exported features in Python and through risklane
// predict; the predictions agree. risklane predict with the model's own
// model.json also gives what risklane evaluate's engine gives (checked by
// XGBoost on the same table).
func TestFeaturesExportTrainInPythonPredictInRisklane(t *testing.T) {
	python := testenv.Python(t, "xgboost", "pandas", "numpy")
	dir := t.TempDir()
	train, valid := writeSynth(t, dir, 6000)
	model := filepath.Join(dir, "model")
	if _, err := execute(t, newTrainCmd, "--profile", "canonical", "--in", train, "--out", model,
		"--rounds", "20", "--max-depth", "4", "--no-revenue-head"); err != nil {
		t.Fatal(err)
	}
	tf, vf := filepath.Join(dir, "train-features.csv"), filepath.Join(dir, "valid-features.csv")
	out, err := execute(t, newFeaturesExportCmd, "--model", model, "--profile", "canonical", "--in", train, "--out", tf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "out-of-fold") {
		t.Errorf("export of the training rows: %q, want out-of-fold values", out)
	}
	if out, err = execute(t, newFeaturesExportCmd, "--model", model, "--profile", "canonical", "--in", valid, "--out", vf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "computes when it scores") {
		t.Errorf("export of new rows: %q", out)
	}
	header, err := os.ReadFile(tf)
	if err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(string(header), "\n", 2)[0]
	for _, want := range []string{"declaration_id,", "uv_cluster_rank", ",illicit,revenue"} {
		if !strings.Contains(first, want) {
			t.Errorf("export header %q lacks %q", first, want)
		}
	}
	script := `
import sys, pandas as pd, numpy as np, xgboost as xgb
tf, vf, own, pymodel, pypred, ownpred = sys.argv[1:7]
t = pd.read_csv(tf, dtype={"declaration_id": str})
v = pd.read_csv(vf, dtype={"declaration_id": str})
feats = [c for c in t.columns if c not in ("declaration_id", "illicit", "revenue")]
lab = t[t.illicit.notna()]
b = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3, "tree_method": "hist", "nthread": 2},
              xgb.DMatrix(lab[feats], label=lab.illicit, missing=np.nan), 15)
b.save_model(pymodel)
b.predict(xgb.DMatrix(v[feats], missing=np.nan)).astype("<f8").tofile(pypred)
k = xgb.Booster(model_file=own)
k.predict(xgb.DMatrix(v[feats], missing=np.nan)).astype("<f8").tofile(ownpred)
`
	pymodel := filepath.Join(dir, "python.json")
	pypred, ownpred := filepath.Join(dir, "python.f64"), filepath.Join(dir, "own.f64")
	if msg, err := exec.Command(python, "-c", script, tf, vf, filepath.Join(model, "model.json"), pymodel, pypred, ownpred).CombinedOutput(); err != nil {
		t.Fatalf("Python XGBoost: %v\n%s", err, msg)
	}
	for _, c := range []struct{ model, want string }{{pymodel, pypred}, {filepath.Join(model, "model.json"), ownpred}} {
		preds := filepath.Join(dir, "predictions.csv")
		if _, err := execute(t, newPredictCmd, "--xgb-model", c.model, "--in", vf, "--id", "declaration_id", "--out", preds); err != nil {
			t.Fatal(err)
		}
		got := readCSVColumn(t, preds, "prediction")
		want := readFloat64s(t, c.want)
		if len(got) != len(want) || len(got) == 0 {
			t.Fatalf("%s: %d predictions, XGBoost %d", c.model, len(got), len(want))
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-6 {
				t.Fatalf("%s row %d: risklane predict %.9g, XGBoost %.9g", filepath.Base(c.model), i, got[i], want[i])
			}
		}
		os.Remove(preds)
	}
}

func readFloat64s(t *testing.T, path string) []float64 {
	t.Helper()
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(buf)/8)
	for i := range out {
		var u uint64
		for k := 7; k >= 0; k-- {
			u = u<<8 | uint64(buf[8*i+k])
		}
		out[i] = math.Float64frombits(u)
	}
	return out
}

// predict refuses a table without the model's columns, naming them, and
// names the file, line and column of a value that is not a number.
func TestPredictErrors(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join("..", "..", "models", "xgb", "testdata", "python-1.7.4-squarederror-pruned.json")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("f0,f1,f2,f3,f4,f5\n1,2,3,4,5,6\n1,x,3,4,5,6\n"), 0o644)
	_, err := execute(t, newPredictCmd, "--xgb-model", model, "--in", bad, "--out", filepath.Join(dir, "p.csv"))
	if err == nil || !strings.Contains(err.Error(), `bad.csv line 3, column "f1": "x" is not a number`) {
		t.Errorf("got %v", err)
	}
	short := filepath.Join(dir, "short.csv")
	os.WriteFile(short, []byte("f0,f1\n1,2\n"), 0o644)
	_, err = execute(t, newPredictCmd, "--xgb-model", model, "--in", short, "--out", filepath.Join(dir, "p.csv"))
	if err == nil || !strings.Contains(err.Error(), `4 columns the model needs are not in the table: "f2", "f3", "f4", "f5"`) {
		t.Errorf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "p.csv")); err == nil {
		t.Error("a failed predict left an output")
	}
}

// bench/reference.py, the plain Python reference of risklane score, ports
// every default feature group, cluster included: its probabilities agree
// with a risklane ranked file of a default-groups model.
func TestPythonReferenceWithDefaultGroups(t *testing.T) {
	python := testenv.Python(t, "xgboost", "pandas", "numpy")
	dir := t.TempDir()
	train, valid := writeSynth(t, dir, 6000)
	model := filepath.Join(dir, "model")
	if _, err := execute(t, newTrainCmd, "--profile", "canonical", "--in", train, "--out", model,
		"--rounds", "20", "--max-depth", "4", "--no-revenue-head"); err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile(filepath.Join(model, "features.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(state), `"uv_cluster_rank"`) {
		t.Fatal("the default groups no longer include the cluster group: this test checks its port")
	}
	ranked := filepath.Join(dir, "ranked.csv")
	if _, err := execute(t, newScoreCmd, "--model", model, "--profile", "canonical", "--in", valid, "--out", ranked); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(testenv.Root(t), "bench", "reference.py")
	out, err := exec.Command(python, ref, "--model", model, "--in", valid, "--out", filepath.Join(dir, "ref.csv"), "--check", ranked).Output()
	if err != nil {
		t.Fatalf("bench/reference.py: %v\n%s", err, out)
	}
	var res struct {
		Diff float64 `json:"check_max_abs_diff"`
		Over int     `json:"check_rows_over_1e-5"`
		Rows int     `json:"rows"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("bench/reference.py printed %q: %v", out, err)
	}
	if res.Rows == 0 || res.Over > 0 || !(res.Diff <= 1e-5) {
		t.Errorf("bench/reference.py against risklane: %d rows, %d differ by more than 1e-5, largest %g", res.Rows, res.Over, res.Diff)
	}
}

// score --contributions K: the red and yellow rows carry their top K
// features by exact contribution, as Python XGBoost's pred_contribs gives
// them for the same rows (exported with features export), within 1e-5.
func TestScoreContributionsAgainstPredContribs(t *testing.T) {
	python := testenv.Python(t, "xgboost", "pandas", "numpy")
	dir := t.TempDir()
	train, valid := writeSynth(t, dir, 6000)
	model := filepath.Join(dir, "model")
	if _, err := execute(t, newTrainCmd, "--profile", "canonical", "--in", train, "--out", model,
		"--rounds", "20", "--max-depth", "4", "--no-revenue-head"); err != nil {
		t.Fatal(err)
	}
	ranked := filepath.Join(dir, "ranked.parquet")
	if _, err := execute(t, newScoreCmd, "--model", model, "--profile", "canonical", "--in", valid, "--out", ranked,
		"--csv", "--contributions", "3"); err != nil {
		t.Fatal(err)
	}
	feats := filepath.Join(dir, "features.csv")
	if _, err := execute(t, newFeaturesExportCmd, "--model", model, "--profile", "canonical", "--in", valid, "--out", feats); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, json, pandas as pd, numpy as np, xgboost as xgb
model, feats, out = sys.argv[1:4]
v = pd.read_csv(feats, dtype={"declaration_id": str})
b = xgb.Booster(model_file=model)
names = b.feature_names
c = b.predict(xgb.DMatrix(v[names].astype(np.float32), missing=np.nan), pred_contribs=True)
json.dump({"ids": v.declaration_id.tolist(), "names": names, "contribs": c[:, :-1].tolist()}, open(out, "w"))
`
	out := filepath.Join(dir, "contribs.json")
	if msg, err := exec.Command(python, "-c", script, filepath.Join(model, "model.json"), feats, out).CombinedOutput(); err != nil {
		t.Fatalf("Python XGBoost: %v\n%s", err, msg)
	}
	var ref struct {
		IDs      []string    `json:"ids"`
		Names    []string    `json:"names"`
		Contribs [][]float64 `json:"contribs"`
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	byID := map[string][]float64{}
	for i, id := range ref.IDs {
		byID[id] = ref.Contribs[i]
	}
	col := map[string]int{}
	for j, n := range ref.Names {
		col[n] = j
	}
	f, err := os.Open(strings.TrimSuffix(ranked, ".parquet") + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0][8:], ","); got != "top1_feature,top1_value,top1_contribution,top2_feature,top2_value,top2_contribution,top3_feature,top3_value,top3_contribution" {
		t.Fatalf("CSV contribution columns %q", got)
	}
	checked := 0
	for _, r := range recs[1:] {
		lane, id := r[4], r[1]
		if lane == "green" || r[5] == "random exploration draw" {
			if r[8] != "" {
				t.Fatalf("%s row %s has contributions", lane, id)
			}
			continue
		}
		want := byID[id]
		for k := range 3 {
			name, c := r[8+3*k], r[10+3*k]
			j, ok := col[name]
			if !ok {
				t.Fatalf("row %s: contribution of unknown feature %q", id, name)
			}
			got, _ := strconv.ParseFloat(c, 64)
			if math.Abs(got-want[j]) > 1e-5 {
				t.Fatalf("row %s feature %s: contribution %v, XGBoost %v", id, name, got, want[j])
			}
			for other, w := range want {
				if math.Abs(w) > math.Abs(want[j])+1e-5 && !strings.Contains(strings.Join(r[8:8+3*k], ","), ref.Names[other]) {
					t.Fatalf("row %s: %s (%v) is in the top 3 but %s (%v) is larger", id, name, want[j], ref.Names[other], w)
				}
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no red or yellow row checked")
	}
	pq, err := os.ReadFile(ranked)
	if err != nil || !strings.Contains(string(pq), "contribution") {
		t.Errorf("the Parquet ranked file has no contributions column (%v)", err)
	}
}

// score --keep carries input columns into the ranked file after run_id:
// every row's kept values are its input row's, in CSV and in Parquet (read
// back with arrow-go), with the run's metadata in the Parquet footer.
func TestScoreKeepColumns(t *testing.T) {
	dir := t.TempDir()
	train, valid := writeSynth(t, dir, 3000)
	model := filepath.Join(dir, "model")
	if _, err := execute(t, newTrainCmd, "--profile", "canonical", "--in", train, "--out", model,
		"--rounds", "10", "--max-depth", "3", "--no-revenue-head"); err != nil {
		t.Fatal(err)
	}
	ranked := filepath.Join(dir, "ranked.parquet")
	if _, err := execute(t, newScoreCmd, "--model", model, "--profile", "canonical", "--in", valid, "--out", ranked,
		"--csv", "--keep", "hs_code,importer_id"); err != nil {
		t.Fatal(err)
	}
	in := readCSV(t, valid)
	want := map[string][2]string{}
	hs, imp, id := slices.Index(in[0], "hs_code"), slices.Index(in[0], "importer_id"), slices.Index(in[0], "declaration_id")
	for _, r := range in[1:] {
		want[r[id]] = [2]string{r[hs], r[imp]}
	}
	out := readCSV(t, strings.TrimSuffix(ranked, ".parquet")+".csv")
	if got := strings.Join(out[0][6:], ","); got != "model_id,run_id,hs_code,importer_id" {
		t.Fatalf("ranked CSV columns end %q", got)
	}
	for _, r := range out[1:] {
		if w := want[r[1]]; r[8] != w[0] || r[9] != w[1] {
			t.Fatalf("row %s: kept %q %q, input %q %q", r[1], r[8], r[9], w[0], w[1])
		}
	}
	f, err := os.Open(ranked)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if v := pf.MetaData().KeyValueMetadata().FindValue("model_id"); v == nil || *v != out[1][6] {
		t.Errorf("footer model_id %v, want %s", v, out[1][6])
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.Schema().Field(8).Name != "hs_code" || tbl.Schema().Field(9).Name != "importer_id" || int(tbl.NumRows()) != len(out)-1 {
		t.Fatalf("Parquet schema %v, %d rows", tbl.Schema(), tbl.NumRows())
	}
	ids := tbl.Column(1).Data().Chunk(0).(*array.String)
	hsCol := tbl.Column(8).Data().Chunk(0).(*array.String)
	for i := range ids.Len() {
		if hsCol.Value(i) != want[ids.Value(i)][0] {
			t.Fatalf("Parquet row %d: hs_code %q, input %q", i, hsCol.Value(i), want[ids.Value(i)][0])
		}
	}
	if _, err := execute(t, newScoreCmd, "--model", model, "--profile", "canonical", "--in", valid, "--out",
		filepath.Join(dir, "x.parquet"), "--keep", "rank"); err == nil || !isUsageError(err) {
		t.Errorf("--keep rank: %v, want a usage error", err)
	}
}
