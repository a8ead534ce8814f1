package metrics

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// FuzzReportJSON gives the reader of metrics.json (every model folder has
// one; `risklane models` and the report show it) arbitrary bytes. A report it
// accepts must write and read back unchanged, NaN (null) included, and
// format as text.
func FuzzReportJSON(f *testing.F) {
	r := Report{Rows: 10, N: 9, Illicit: 3, Unlabelled: 1, Revenue: 120.5, AUC: math.NaN(), Threshold: 0.5,
		Precision: 0.25, Recall: math.NaN(), F1: 0,
		AtRates: []AtRateResult{{Rate: 5, K: 1, Hits: 1, Precision: 1, Recall: 1.0 / 3, Revenue: math.NaN()}}}
	good, err := json.Marshal(r)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"rows":1,"auc":null,"at_rates":[{"rate_percent":1e308,"k":-1,"precision":null}]}`))
	f.Add([]byte(`{"auc":"0.5"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Report
		if json.Unmarshal(data, &got) != nil {
			return
		}
		once, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("Marshal of an accepted report: %v", err)
		}
		var back Report
		if err := json.Unmarshal(once, &back); err != nil {
			t.Fatalf("Unmarshal of Marshal: %v\n%s", err, once)
		}
		if !sameReport(got, back) {
			t.Fatalf("round trip changed the report:\n%+v\n%+v", got, back)
		}
		twice, _ := json.Marshal(back)
		if !bytes.Equal(once, twice) {
			t.Fatalf("second write differs:\n%s\n%s", once, twice)
		}
		_ = got.String()
	})
}

// same compares two metrics as the JSON does: NaN equals NaN.
func same(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func sameReport(a, b Report) bool {
	if a.Rows != b.Rows || a.N != b.N || a.Illicit != b.Illicit || a.Unlabelled != b.Unlabelled ||
		!same(a.Revenue, b.Revenue) || !same(a.AUC, b.AUC) || a.Threshold != b.Threshold ||
		!same(a.Precision, b.Precision) || !same(a.Recall, b.Recall) || !same(a.F1, b.F1) || len(a.AtRates) != len(b.AtRates) {
		return false
	}
	for i, x := range a.AtRates {
		y := b.AtRates[i]
		if x.Rate != y.Rate || x.K != y.K || x.Hits != y.Hits || !same(x.Precision, y.Precision) ||
			!same(x.Recall, y.Recall) || !same(x.Revenue, y.Revenue) {
			return false
		}
	}
	return true
}
