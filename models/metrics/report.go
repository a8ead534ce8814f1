package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"text/tabwriter"
)

// String formats the report as an aligned text table:
//
//	rows 1000: 900 labelled (87 illicit), 100 unlabelled; AUC 0.8123
//	threshold 0.5: precision 0.4100  recall 0.5200  F1 0.4587
//	rate   k   illicit  precision  recall  revenue
//	1%     9   7        0.7778     0.0805  0.1234
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rows %d: %d labelled (%d illicit), %d unlabelled; AUC %s\n",
		r.Rows, r.N, r.Illicit, r.Unlabelled, num(r.AUC))
	fmt.Fprintf(&b, "threshold %g: precision %s  recall %s  F1 %s\n",
		r.Threshold, num(r.Precision), num(r.Recall), num(r.F1))
	if len(r.AtRates) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "rate\tk\tillicit\tprecision\trecall\trevenue")
		for _, a := range r.AtRates {
			fmt.Fprintf(tw, "%g%%\t%d\t%d\t%s\t%s\t%s\n", a.Rate, a.K, a.Hits, num(a.Precision), num(a.Recall), num(a.Revenue))
		}
		tw.Flush()
	}
	return b.String()
}

func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", v)
}

// nullable is a float64 that encoding/json writes as null when it is NaN or
// infinite (JSON has no NaN) and reads back from null as NaN.
type nullable float64

func (v nullable) MarshalJSON() ([]byte, error) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

func (v *nullable) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = nullable(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*v = nullable(f)
	return nil
}

type atRateJSON struct {
	Rate      float64  `json:"rate_percent"`
	K         int      `json:"k"`
	Hits      int      `json:"illicit"`
	Precision nullable `json:"precision"`
	Recall    nullable `json:"recall"`
	Revenue   nullable `json:"revenue"`
}

type reportJSON struct {
	Rows       int          `json:"rows"`
	N          int          `json:"labelled"`
	Illicit    int          `json:"illicit"`
	Unlabelled int          `json:"unlabelled"`
	Revenue    nullable     `json:"total_revenue"`
	AUC        nullable     `json:"auc"`
	Threshold  float64      `json:"threshold"`
	Precision  nullable     `json:"precision"`
	Recall     nullable     `json:"recall"`
	F1         nullable     `json:"f1"`
	AtRates    []atRateJSON `json:"at_rates"`
}

// MarshalJSON writes the report with snake_case names; undefined metrics
// (NaN) are null.
func (r Report) MarshalJSON() ([]byte, error) {
	j := reportJSON{
		Rows: r.Rows, N: r.N, Illicit: r.Illicit, Unlabelled: r.Unlabelled,
		Revenue: nullable(r.Revenue), AUC: nullable(r.AUC), Threshold: r.Threshold,
		Precision: nullable(r.Precision), Recall: nullable(r.Recall), F1: nullable(r.F1),
		AtRates: make([]atRateJSON, len(r.AtRates)),
	}
	for i, a := range r.AtRates {
		j.AtRates[i] = atRateJSON{Rate: a.Rate, K: a.K, Hits: a.Hits,
			Precision: nullable(a.Precision), Recall: nullable(a.Recall), Revenue: nullable(a.Revenue)}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes; null metrics become NaN.
func (r *Report) UnmarshalJSON(b []byte) error {
	var j reportJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("metrics report: %w", err)
	}
	*r = Report{
		Rows: j.Rows, N: j.N, Illicit: j.Illicit, Unlabelled: j.Unlabelled,
		Revenue: float64(j.Revenue), AUC: float64(j.AUC), Threshold: j.Threshold,
		Precision: float64(j.Precision), Recall: float64(j.Recall), F1: float64(j.F1),
	}
	for _, a := range j.AtRates {
		r.AtRates = append(r.AtRates, AtRateResult{Rate: a.Rate, K: a.K, Hits: a.Hits,
			Precision: float64(a.Precision), Recall: float64(a.Recall), Revenue: float64(a.Revenue)})
	}
	return nil
}
