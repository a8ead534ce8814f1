package gbdtlr_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/internal/testenv"
	"risklane/models"
	"risklane/models/date"
	"risklane/models/gbdtlr"
	"risklane/models/metrics"
	"risklane/models/riskmodel"
)

// TestCompare writes the comparison table of docs/gbdtlr.md and the README:
// the GBDT, GBDT+LR, DATE and a GBDT/DATE blend, each trained with seeds
// 1..5, on KCS (trained on train.csv, scored on valid.csv) and on generated
// data (200,000 rows of 2024, seed S, trained January-September, scored
// October-December). Nothing is tuned on the scored rows. Run on demand:
//
//	RISKLANE_COMPARE=1,2,3,4,5 RISKLANE_COMPARE_OUT=/tmp/compare.md \
//	  nice go test ./models/gbdtlr -run TestCompare -v -timeout 3h
//
// RISKLANE_COMPARE_DATA=kcs or =generated runs one of the two.
func TestCompare(t *testing.T) {
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
	which := os.Getenv("RISKLANE_COMPARE_DATA")
	var out strings.Builder
	if which == "" || which == "kcs" {
		train, valid := readKCS(t, "train.csv"), readKCS(t, "valid.csv")
		res := map[string][]metrics.Report{}
		var order []string
		for _, s := range seeds {
			order = compareOnce(t, fmt.Sprintf("KCS seed %d", s), train, valid, s, res)
		}
		writeTable(&out, "KCS valid (train.csv → valid.csv)", order, res, len(seeds))
	}
	if which == "" || which == "generated" {
		res := map[string][]metrics.Report{}
		var order []string
		for _, s := range seeds {
			all := generated(t, 200_000, s)
			train, test, err := riskmodel.SplitByDate(all, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			order = compareOnce(t, fmt.Sprintf("generated seed %d", s), train, test, s, res)
		}
		writeTable(&out, "Generated (200,000 rows, seed = model seed; Jan-Sep → Oct-Dec)", order, res, len(seeds))
	}
	t.Logf("\n%s", out.String())
	if path := os.Getenv("RISKLANE_COMPARE_OUT"); path != "" {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readKCS(t testing.TB, name string) []arrow.RecordBatch {
	t.Helper()
	path := testenv.SharedData(t, filepath.Join("kcs", name))
	p, err := profile.Resolve("kcs")
	if err != nil {
		t.Fatal(err)
	}
	batches, _, err := ingest.ReadAll([]string{path}, p, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return batches
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

// compareOnce trains the three kinds with seed on train, scores test
// through the seam, and appends each ranking's report to res.
func compareOnce(t *testing.T, name string, train, test []arrow.RecordBatch, seed uint64, res map[string][]metrics.Report) []string {
	t.Helper()
	labels, revenue, err := models.Outcomes(test)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	add := func(model string, score []float64, secs float64) {
		r, err := metrics.Evaluate(score, labels, revenue, nil, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, model)
		res[model] = append(res[model], r)
		var b strings.Builder
		fmt.Fprintf(&b, "COMPARE | %s | %s | %.4f |", name, model, r.AUC)
		for _, a := range r.AtRates {
			fmt.Fprintf(&b, " %.3f/%.3f/%.3f |", a.Precision, a.Recall, a.Revenue)
		}
		fmt.Fprintf(&b, " trained in %.0fs", secs)
		t.Log(b.String())
	}

	start := time.Now()
	gc := riskmodel.DefaultConfig()
	gc.Classifier.Seed, gc.Revenue.Seed = seed, seed
	gm, err := riskmodel.Train(train, nil, gc)
	if err != nil {
		t.Fatal(err)
	}
	gsecs := time.Since(start).Seconds()
	gp, ge := seamScores(t, gm, test)

	start = time.Now()
	lc := gbdtlr.DefaultConfig()
	lc.Seed = seed
	lm, err := gbdtlr.Train(train, lc)
	if err != nil {
		t.Fatal(err)
	}
	lsecs := time.Since(start).Seconds()
	lp, _ := seamScores(t, lm, test)

	dc := date.DefaultConfig()
	dc.Seed = seed
	dm, err := date.Train(train, dc)
	if err != nil {
		t.Fatal(err)
	}
	dp, de := seamScores(t, dm, test)

	bp, be := make([]float64, len(gp)), make([]float64, len(gp))
	for i := range gp {
		bp[i], be[i] = (gp[i]+dp[i])/2, (ge[i]+de[i])/2
	}
	add("GBDT, probability", gp, gsecs)
	add("GBDT, expected revenue", ge, gsecs)
	add("GBDT+LR, probability", lp, lsecs)
	add("DATE, probability", dp, dm.History.Seconds)
	add("DATE, dual score", de, dm.History.Seconds)
	add("GBDT/DATE blend, mean probability", bp, gsecs+dm.History.Seconds)
	add("GBDT/DATE blend, mean expected revenue", be, gsecs+dm.History.Seconds)
	t.Logf("%s: GBDT+LR lambda %g (grid AUCs %v); DATE best epoch %d of %d", name, lm.History.L2, lm.History.GridAUC, dm.History.BestEpoch, len(dm.History.Loss))
	return order
}

// writeTable writes mean ± standard deviation over seeds of each cell.
func writeTable(w *strings.Builder, title string, order []string, res map[string][]metrics.Report, seeds int) {
	fmt.Fprintf(w, "**%s**, mean ± sd over %d seeds; cells Precision / Recall / Revenue\n\n", title, seeds)
	fmt.Fprintf(w, "| model, ranking | AUC | 1%% | 2%% | 5%% | 10%% |\n|---|---|---|---|---|---|\n")
	for _, model := range order {
		rs := res[model]
		cell := func(get func(metrics.Report) float64, digits int) string {
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
		fmt.Fprintf(w, "| %s | %s |", model, cell(func(r metrics.Report) float64 { return r.AUC }, 4))
		for k := range rs[0].AtRates {
			fmt.Fprintf(w, " %s / %s / %s |",
				cell(func(r metrics.Report) float64 { return r.AtRates[k].Precision }, 3),
				cell(func(r metrics.Report) float64 { return r.AtRates[k].Recall }, 3),
				cell(func(r metrics.Report) float64 { return r.AtRates[k].Revenue }, 3))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}
