package gbdt

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"risklane/internal/testenv"
	"risklane/models/metrics"
	"risklane/models/xgb"
)

// aucOfMargins is the AUC of margins against 0/1 labels, by the metrics
// package (ties averaged).
func aucOfMargins(t testing.TB, margins []float64, y []float64) float64 {
	t.Helper()
	labels := make([]int8, len(y))
	for i, v := range y {
		labels[i] = int8(v)
	}
	a, err := metrics.AUC(margins, labels)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// comparison is one dataset trained by both risklane and XGBoost with the
// same parameters, scored on held-out rows.
type comparison struct {
	name      string
	X, Xtest  *Matrix
	y, ytest  []float64
	p         Params
	dir       string
	model     *xgb.Model
	trainedIn time.Duration
}

// The quality bar: with the same features and hyper-parameters (100
// trees, depth 6, eta 0.1, 256 bins, hist), risklane's AUC is within 0.005 of
// XGBoost's on held-out data.
func TestQualityMatchesXGBoost(t *testing.T) {
	python := xgboostPython(t)
	p := DefaultParams()
	p.NumRounds, p.MaxDepth, p.Eta, p.MaxBin = 100, 6, 0.1, 256
	p.EvalTrain = false

	X, y := synthetic(20000, 20, 11)
	cases := []*comparison{{
		name: "synthetic 20k x 20", X: rowsOf(X, 0, 14000), y: y[:14000],
		Xtest: rowsOf(X, 14000, 20000), ytest: y[14000:], p: p,
	}}
	if kcsAvailable(t) {
		Xk, yk, Xkv, ykv := kcsMatrices(t)
		cases = append(cases, &comparison{
			name: "kcs train -> valid", X: Xk, y: yk, Xtest: Xkv, ytest: ykv, p: p,
		})
	} else {
		t.Log("../shared/data/kcs not found: comparing on synthetic data only")
	}

	var jobs []xgbJob
	for _, c := range cases {
		start := time.Now()
		model, _, err := Train(c.X, c.y, nil, nil, c.p)
		if err != nil {
			t.Fatal(err)
		}
		c.trainedIn = time.Since(start)
		c.model = model
		c.dir = t.TempDir()
		writeCSV(t, filepath.Join(c.dir, "train.csv"), c.X, c.y)
		writeCSV(t, filepath.Join(c.dir, "test.csv"), c.Xtest, nil)
		jobs = append(jobs, xgbJob{Dir: c.dir, Params: xgbParams(c.p, float64(model.BaseScore)), Rounds: c.p.NumRounds})
	}
	runXGBoost(t, python, jobs)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ours := predictMargins(t, c.model, c.Xtest)
			theirs := readFloats(t, filepath.Join(c.dir, "margin.txt"))
			if len(theirs) != len(ours) {
				t.Fatalf("XGBoost scored %d rows, we scored %d", len(theirs), len(ours))
			}
			o := make([]float64, len(ours))
			for i, m := range ours {
				o[i] = float64(m)
			}
			a, b := aucOfMargins(t, o, c.ytest), aucOfMargins(t, theirs, c.ytest)
			t.Logf("%s: risklane AUC %.5f (trained in %v), XGBoost %.5f", c.name, a, c.trainedIn.Round(time.Millisecond), b)
			if math.Abs(a-b) > 0.005 {
				t.Errorf("%s: risklane AUC %.5f, XGBoost %.5f: differ by more than 0.005", c.name, a, b)
			}
		})
	}
}

// kcsAvailable reports whether testenv.SharedData would find the kcs data
// (it skips the whole test when not; here the synthetic case still runs).
func kcsAvailable(t testing.TB) bool {
	dir := os.Getenv("RISKLANE_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join(testenv.Root(t), "..", "shared", "data")
	}
	_, err := os.Stat(filepath.Join(dir, "kcs", "train.csv"))
	return err == nil
}

// kcsMatrices encodes ../shared/data/kcs train and valid numerically, the
// simple way a notebook would: numeric columns as they are, unit value and
// day of year derived, HS6 and its HS2/HS4 prefixes as numbers, every other
// column label-encoded in order of first appearance in train (unseen or
// empty values are missing). The label is Fraud.
func kcsMatrices(t testing.TB) (X *Matrix, y []float64, Xv *Matrix, yv []float64) {
	t.Helper()
	trainRows := readCSVFile(t, testenv.SharedData(t, "kcs/train.csv"))
	validRows := readCSVFile(t, testenv.SharedData(t, "kcs/valid.csv"))
	head := trainRows[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	categorical := []string{"Office ID", "Process Type", "Import Type", "Import Use", "Payment Type",
		"Mode of Transport", "Declarant ID", "Importer ID", "Seller ID", "Courier ID",
		"Country of Departure", "Country of Origin", "Tax Type", "Country of Origin Indicator"}
	codes := make([]map[string]float64, len(categorical))
	for j, name := range categorical {
		codes[j] = map[string]float64{}
		for _, r := range trainRows[1:] {
			if v := r[col[name]]; v != "" {
				if _, ok := codes[j][v]; !ok {
					codes[j][v] = float64(len(codes[j]))
				}
			}
		}
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.NaN()
		}
		return v
	}
	encode := func(rows [][]string) (*Matrix, []float64) {
		names := []string{"tax_rate", "net_mass", "item_price", "unit_value", "day_of_year", "hs6", "hs4", "hs2"}
		names = append(names, categorical...)
		m := &Matrix{Rows: len(rows), Names: names, Cols: make([][]float64, len(names))}
		for j := range m.Cols {
			m.Cols[j] = make([]float64, len(rows))
		}
		labels := make([]float64, len(rows))
		for i, r := range rows {
			mass, price := num(r[col["Net Mass"]]), num(r[col["Item Price"]])
			unit := math.NaN()
			if mass > 0 {
				unit = price / mass
			}
			day := math.NaN()
			if d, err := time.Parse("2006-01-02", r[col["Date"]]); err == nil {
				day = float64(d.YearDay())
			}
			hs := num(r[col["HS6 Code"]])
			vals := []float64{num(r[col["Tax Rate"]]), mass, price, unit, day, hs, math.Floor(hs / 100), math.Floor(hs / 10000)}
			for j, name := range categorical {
				v, ok := codes[j][r[col[name]]]
				if !ok {
					v = math.NaN()
				}
				vals = append(vals, v)
			}
			for j, v := range vals {
				m.Cols[j][i] = v
			}
			labels[i] = num(r[col["Fraud"]])
		}
		return m, labels
	}
	X, y = encode(trainRows[1:])
	Xv, yv = encode(validRows[1:])
	return X, y, Xv, yv
}

func readCSVFile(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}
