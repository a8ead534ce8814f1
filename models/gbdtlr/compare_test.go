package gbdtlr_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
	"risklane/models/date"
	"risklane/models/gbdtlr"
	"risklane/models/metrics"
	"risklane/models/modeltest"
	"risklane/models/riskmodel"
)

// TestCompare writes the comparison table of docs/date.md and the README:
// the GBDT, GBDT+LR, DATE and a GBDT/DATE blend, each trained with seeds
// 1..5, on KCS (trained on train.csv, scored on valid.csv) and on generated
// data (200,000 rows of 2024, seed S, trained January-September, scored
// October-December). Nothing is tuned on the scored rows. Run on demand:
//
//	RISKLANE_COMPARE=1,2,3,4,5 RISKLANE_COMPARE_OUT=/tmp/compare.md \
//	  nice go test ./models/gbdtlr -run TestCompare -v -timeout 3h
//
// RISKLANE_COMPARE_DATA=kcs or =generated runs one of the two;
// RISKLANE_COMPARE_MODELS=gbdt,date (any of gbdt, gbdtlr, date; the blend
// needs gbdt and date) trains only those. RISKLANE_COMPARE_RESULTS=FILE
// appends each ranking's figures to FILE as one JSON line as soon as it
// lands, so seeds can run as separate processes; RISKLANE_COMPARE_TABLE=
// FILE,FILE... trains nothing and writes the tables of those files.
// RISKLANE_COMPARE_DATE_PARAMS=name=value,... trains DATE with those
// parameters of `risklane train --model date` (e.g.
// tree-min-child-weight=100,rev-over-duty=1), as the CLI does.
func TestCompare(t *testing.T) {
	if files := os.Getenv("RISKLANE_COMPARE_TABLE"); files != "" {
		var rows []compareRow
		for _, f := range strings.Split(files, ",") {
			rows = append(rows, readResults(t, f)...)
		}
		writeCompare(t, rows)
		return
	}
	env := os.Getenv("RISKLANE_COMPARE")
	if env == "" {
		t.Skip("skipping: set RISKLANE_COMPARE to a list of seeds to run the GBDT / GBDT+LR / DATE comparison")
	}
	var seeds []uint64
	for _, s := range strings.Split(env, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, v)
	}
	kinds := map[string]bool{}
	for _, k := range strings.Split(cmp.Or(os.Getenv("RISKLANE_COMPARE_MODELS"), "gbdt,gbdtlr,date"), ",") {
		if k != "gbdt" && k != "gbdtlr" && k != "date" {
			t.Fatalf("RISKLANE_COMPARE_MODELS: %q is not gbdt, gbdtlr or date", k)
		}
		kinds[k] = true
	}
	var sink func(compareRow)
	if path := os.Getenv("RISKLANE_COMPARE_RESULTS"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sink = func(r compareRow) {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(append(b, '\n')); err != nil {
				t.Fatal(err)
			}
		}
	}
	which := os.Getenv("RISKLANE_COMPARE_DATA")
	var rows []compareRow
	run := func(data string, seed uint64, train, test []arrow.RecordBatch) {
		for _, r := range compareOnce(t, data, train, test, seed, kinds) {
			if sink != nil {
				sink(r)
			}
			rows = append(rows, r)
		}
	}
	if which == "" || which == "kcs" {
		train, valid := modeltest.KCS(t, "train.csv"), modeltest.KCS(t, "valid.csv")
		for _, s := range seeds {
			run(dataKCS, s, train, valid)
		}
	}
	if which == "" || which == "generated" {
		for _, s := range seeds {
			all := modeltest.Declarations(t, 200_000, s)
			train, test, err := riskmodel.SplitByDate(all, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			run(dataGenerated, s, train, test)
		}
	}
	writeCompare(t, rows)
}

const (
	dataKCS       = "KCS valid (train.csv → valid.csv)"
	dataGenerated = "Generated (200,000 rows, seed = model seed; Jan-Sep → Oct-Dec)"
)

// compareRow is one ranking's figures on one seed: AUC, and Precision,
// Recall and Revenue at each inspection rate.
type compareRow struct {
	Data, Model string
	Seed        uint64
	AUC         float64
	At          [][3]float64
	Seconds     float64
}

func readResults(t *testing.T, path string) []compareRow {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []compareRow
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r compareRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s line %d: %v", path, i+1, err)
		}
		rows = append(rows, r)
	}
	return rows
}

// writeCompare logs the tables of rows (one per data set, in the order
// met) and writes them to RISKLANE_COMPARE_OUT when set.
func writeCompare(t *testing.T, rows []compareRow) {
	t.Helper()
	var out strings.Builder
	var datas []string
	for _, r := range rows {
		if !slices.Contains(datas, r.Data) {
			datas = append(datas, r.Data)
		}
	}
	for _, d := range datas {
		writeTable(&out, d, rows)
	}
	t.Logf("\n%s", out.String())
	if path := os.Getenv("RISKLANE_COMPARE_OUT"); path != "" {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// seamScores scores every row of batches through the model seam.
func seamScores(t testing.TB, m models.Model, batches []arrow.RecordBatch) (score, exp []float64) {
	t.Helper()
	F := len(m.FeatureNames())
	for _, rec := range batches {
		n := int(rec.NumRows())
		feats := make([]float64, n*F)
		if err := m.Features(rec, feats); err != nil {
			t.Fatal(err)
		}
		s, e := make([]float64, n), make([]float64, n)
		if err := m.Predict(rec, feats, s, e); err != nil {
			t.Fatal(err)
		}
		score, exp = append(score, s...), append(exp, e...)
	}
	return score, exp
}

// compareOnce trains the chosen kinds with seed on train, scores test
// through the seam, and returns each ranking's figures.
func compareOnce(t *testing.T, data string, train, test []arrow.RecordBatch, seed uint64, kinds map[string]bool) []compareRow {
	t.Helper()
	labels, revenue, err := models.Outcomes(test)
	if err != nil {
		t.Fatal(err)
	}
	var rows []compareRow
	add := func(model string, score []float64, secs float64) {
		r, err := metrics.Evaluate(score, labels, revenue, nil, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		row := compareRow{Data: data, Model: model, Seed: seed, AUC: r.AUC, Seconds: secs}
		var b strings.Builder
		fmt.Fprintf(&b, "COMPARE | %s seed %d | %s | %.4f |", data, seed, model, r.AUC)
		for _, a := range r.AtRates {
			row.At = append(row.At, [3]float64{a.Precision, a.Recall, a.Revenue})
			fmt.Fprintf(&b, " %.3f/%.3f/%.3f |", a.Precision, a.Recall, a.Revenue)
		}
		fmt.Fprintf(&b, " trained in %.0fs", secs)
		t.Log(b.String())
		rows = append(rows, row)
	}

	var gp, ge []float64
	var gsecs float64
	if kinds["gbdt"] {
		start := time.Now()
		gc := riskmodel.DefaultConfig()
		gc.Classifier.Seed, gc.Revenue.Seed = seed, seed
		gm, err := riskmodel.Train(train, nil, gc)
		if err != nil {
			t.Fatal(err)
		}
		gsecs = time.Since(start).Seconds()
		gp, ge = seamScores(t, gm, test)
		add("GBDT, probability", gp, gsecs)
		add("GBDT, expected revenue", ge, gsecs)
	}
	if kinds["gbdtlr"] {
		lc := gbdtlr.DefaultConfig()
		lc.Seed = seed
		lm, err := gbdtlr.Train(train, lc)
		if err != nil {
			t.Fatal(err)
		}
		lp, _ := seamScores(t, lm, test)
		add("GBDT+LR, probability", lp, lm.History.Seconds)
		t.Logf("%s seed %d: GBDT+LR lambda %g (grid AUCs %v), %d L-BFGS iterations, %.0f passes over the rows", data, seed, lm.History.L2, lm.History.GridAUC, lm.History.Iterations, lm.History.Passes)
	}
	if kinds["date"] {
		dc := date.DefaultConfig()
		dc.Seed = seed
		if env := os.Getenv("RISKLANE_COMPARE_DATE_PARAMS"); env != "" {
			params := map[string]float64{}
			for _, kv := range strings.Split(env, ",") {
				k, v, ok := strings.Cut(kv, "=")
				x, err := strconv.ParseFloat(v, 64)
				if !ok || err != nil {
					t.Fatalf("RISKLANE_COMPARE_DATE_PARAMS: %q is not name=number", kv)
				}
				params[k] = x
			}
			var err error
			if dc, err = date.ConfigOf(models.TrainConfig{Features: dc.Features, Seed: seed, Params: params}); err != nil {
				t.Fatalf("RISKLANE_COMPARE_DATE_PARAMS: %v", err)
			}
			t.Logf("DATE with %v", params)
		}
		dm, err := date.Train(train, dc)
		if err != nil {
			t.Fatal(err)
		}
		dp, de := seamScores(t, dm, test)
		add("DATE, probability", dp, dm.History.Seconds)
		add("DATE, dual score", de, dm.History.Seconds)
		t.Logf("%s seed %d: DATE best epoch %d of %d", data, seed, dm.History.BestEpoch, len(dm.History.Loss))
		if kinds["gbdt"] {
			bp, be := make([]float64, len(gp)), make([]float64, len(gp))
			for i := range gp {
				bp[i], be[i] = (gp[i]+dp[i])/2, (ge[i]+de[i])/2
			}
			add("GBDT/DATE blend, mean probability", bp, gsecs+dm.History.Seconds)
			add("GBDT/DATE blend, mean expected revenue", be, gsecs+dm.History.Seconds)
		}
	}
	return rows
}

// writeTable writes the mean ± standard deviation over seeds of each cell
// of data's rows, models in the order first met.
func writeTable(w *strings.Builder, data string, all []compareRow) {
	var order []string
	byModel := map[string][]compareRow{}
	seeds := map[uint64]bool{}
	for _, r := range all {
		if r.Data != data {
			continue
		}
		if _, ok := byModel[r.Model]; !ok {
			order = append(order, r.Model)
		}
		byModel[r.Model] = append(byModel[r.Model], r)
		seeds[r.Seed] = true
	}
	fmt.Fprintf(w, "**%s**, mean ± sd over %d seeds; cells Precision / Recall / Revenue\n\n", data, len(seeds))
	fmt.Fprintf(w, "| model, ranking | seeds | AUC | 1%% | 2%% | 5%% | 10%% |\n|---|---|---|---|---|---|---|\n")
	for _, model := range order {
		rs := byModel[model]
		cell := func(get func(compareRow) float64, digits int) string {
			var s, ss float64
			for _, r := range rs {
				s += get(r)
			}
			mean := s / float64(len(rs))
			for _, r := range rs {
				ss += (get(r) - mean) * (get(r) - mean)
			}
			sd := 0.0
			if len(rs) > 1 {
				sd = math.Sqrt(ss / float64(len(rs)-1))
			}
			return fmt.Sprintf("%.*f±%.*f", digits, mean, digits, sd)
		}
		fmt.Fprintf(w, "| %s | %d | %s |", model, len(rs), cell(func(r compareRow) float64 { return r.AUC }, 4))
		for k := range rs[0].At {
			fmt.Fprintf(w, " %s / %s / %s |",
				cell(func(r compareRow) float64 { return r.At[k][0] }, 3),
				cell(func(r compareRow) float64 { return r.At[k][1] }, 3),
				cell(func(r compareRow) float64 { return r.At[k][2] }, 3))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}
