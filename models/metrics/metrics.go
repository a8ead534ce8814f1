// Package metrics evaluates a ranking of declarations the way the DATE paper
// (KDD 2020) does: Precision@n%, Recall@n% and Revenue@n% at inspection rates
// n, the ROC AUC, and F1 at a stated threshold.
//
// Inputs are columns: one score, one label and one revenue per row, in input
// order. Labels are int8: 1 = illicit, 0 = clean, Unknown (-1) = not
// inspected. Rows with an Unknown label are left out of every metric, so N
// below always counts labelled rows only.
//
// Rows are ranked by score, highest first; equal scores keep their input
// order. A NaN score ranks below every number (as if it were -Inf), both in
// the ranking and in the AUC. For a rate of n percent the top
// k = max(1, round(N*n/100)) rows are taken, where round is math.Round (halves
// away from zero), and k never exceeds N.
//
// A metric whose denominator is zero (Recall with no illicit row, Revenue with
// no revenue, AUC with only one class, F1 with no positives and no predicted
// positives) is NaN; it prints as "n/a" and marshals to JSON as null.
//
// To rank by something other than the model score, such as expected revenue,
// pass that column as the scores.
package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"risklane/stats"
)

// Label values.
const (
	Clean   int8 = 0
	Illicit int8 = 1
	// Unknown marks a row that was not inspected (a null label).
	Unknown int8 = -1
)

// DefaultRates are the inspection rates, in percent, that docs/DESIGN.md asks for.
var DefaultRates = []float64{1, 2, 5, 10}

// ErrOneClass is returned by AUC when the labelled rows are all illicit or
// all clean: the ROC curve is then undefined.
var ErrOneClass = errors.New("metrics: AUC is undefined when every labelled row has the same label")

// ErrNoLabels is returned when no row has a known label.
var ErrNoLabels = errors.New("metrics: no labelled rows (every label is unknown)")

// AtRateResult holds the metrics at one inspection rate.
type AtRateResult struct {
	Rate      float64 // inspection rate in percent
	K         int     // rows inspected: max(1, round(N*Rate/100))
	Hits      int     // illicit rows among the top K
	Precision float64 // Hits / K
	Recall    float64 // Hits / illicit rows; NaN without illicit rows
	Revenue   float64 // revenue of the top K / all revenue; NaN when all revenue is 0 or revenue was not given
}

// Report is the full evaluation of one ranking.
type Report struct {
	Rows       int     // rows given, labelled or not
	N          int     // labelled rows: the population of every metric
	Illicit    int     // labelled rows with label 1
	Unlabelled int     // rows left out because their label is Unknown
	Revenue    float64 // total revenue of the labelled rows (NaN revenue counts as 0)
	AUC        float64 // NaN when only one class is present
	Threshold  float64 // rows with score >= Threshold are predicted illicit
	Precision  float64 // at Threshold; NaN when nothing is predicted illicit
	Recall     float64 // at Threshold; NaN without illicit rows
	F1         float64 // at Threshold: 2TP / (2TP + FP + FN)
	AtRates    []AtRateResult
}

// ranking holds the labelled rows in rank order and their cumulative counts.
type ranking struct {
	order   []int32 // labelled row indices, best score first, ties by index
	illicit int
	revenue float64
}

func validate(scores []float64, labels []int8, revenue []float64) error {
	if len(labels) != len(scores) {
		return fmt.Errorf("metrics: %d scores but %d labels; give one label per scored row", len(scores), len(labels))
	}
	if revenue != nil && len(revenue) != len(scores) {
		return fmt.Errorf("metrics: %d scores but %d revenue values; give one per scored row, or nil", len(scores), len(revenue))
	}
	if len(scores) > math.MaxInt32 {
		return fmt.Errorf("metrics: %d rows is more than this package ranks at once (%d)", len(scores), math.MaxInt32)
	}
	for i, l := range labels {
		if l != Clean && l != Illicit && l != Unknown {
			return fmt.Errorf("metrics: row %d: label %d is not 0 (clean), 1 (illicit) or -1 (unknown)", i, l)
		}
	}
	return nil
}

// rankKey maps NaN below every number so that it sorts last.
func rankKey(s float64) float64 {
	if math.IsNaN(s) {
		return math.Inf(-1)
	}
	return s
}

func rank(scores []float64, labels []int8, revenue []float64) ranking {
	var r ranking
	r.order = make([]int32, 0, len(scores))
	for i, l := range labels {
		if l == Unknown {
			continue
		}
		r.order = append(r.order, int32(i))
		if l == Illicit {
			r.illicit++
		}
		if revenue != nil && !math.IsNaN(revenue[i]) {
			r.revenue += revenue[i]
		}
	}
	slices.SortFunc(r.order, func(a, b int32) int {
		if c := cmp.Compare(rankKey(scores[b]), rankKey(scores[a])); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return r
}

// topK returns the number of rows inspected at rate percent of n rows.
func topK(n int, rate float64) int {
	k := int(math.Round(float64(n) * rate / 100))
	return min(max(k, 1), n)
}

func checkRate(rate float64) error {
	if !(rate > 0 && rate <= 100) {
		return fmt.Errorf("metrics: inspection rate %v%% is outside (0, 100]", rate)
	}
	return nil
}

func div(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

func (r ranking) atRate(labels []int8, revenue []float64, rate float64) AtRateResult {
	k := topK(len(r.order), rate)
	res := AtRateResult{Rate: rate, K: k}
	var rev float64
	for _, i := range r.order[:k] {
		if labels[i] == Illicit {
			res.Hits++
		}
		if revenue != nil && !math.IsNaN(revenue[i]) {
			rev += revenue[i]
		}
	}
	res.Precision = float64(res.Hits) / float64(k)
	res.Recall = div(float64(res.Hits), float64(r.illicit))
	res.Revenue = math.NaN()
	if revenue != nil {
		res.Revenue = div(rev, r.revenue)
	}
	return res
}

// auc is stats.AUC over the labelled rows.
func (r ranking) auc(scores []float64, labels []int8) float64 {
	s := make([]float64, len(r.order))
	pos := make([]bool, len(r.order))
	for k, i := range r.order {
		s[k], pos[k] = scores[i], labels[i] == Illicit
	}
	return stats.AUC(s, pos)
}

// AUC returns the area under the ROC curve of the labelled rows, ties
// averaged (the Mann-Whitney form, equal to scikit-learn's roc_auc_score).
// With only one class present it returns NaN and ErrOneClass.
func AUC(scores []float64, labels []int8) (float64, error) {
	if err := validate(scores, labels, nil); err != nil {
		return math.NaN(), err
	}
	r := rank(scores, labels, nil)
	if len(r.order) == 0 {
		return math.NaN(), ErrNoLabels
	}
	a := r.auc(scores, labels)
	if math.IsNaN(a) {
		return a, ErrOneClass
	}
	return a, nil
}

// AtRate returns Precision, Recall and Revenue at one inspection rate, in
// percent. revenue may be nil; Revenue is then NaN.
func AtRate(scores []float64, labels []int8, revenue []float64, rate float64) (AtRateResult, error) {
	if err := validate(scores, labels, revenue); err != nil {
		return AtRateResult{}, err
	}
	if err := checkRate(rate); err != nil {
		return AtRateResult{}, err
	}
	r := rank(scores, labels, revenue)
	if len(r.order) == 0 {
		return AtRateResult{}, ErrNoLabels
	}
	return r.atRate(labels, revenue, rate), nil
}

// Evaluate computes every metric of the ranking given by scores. revenue may
// be nil (Revenue@n% is then NaN); a NaN revenue counts as 0. rates are in
// percent; nil means DefaultRates. Rows with score >= threshold are predicted
// illicit for Precision, Recall and F1. A single class is not an error here:
// AUC is NaN. Evaluate fails when the columns differ in length, a label is
// not 1, 0 or -1, a rate is outside (0, 100], or no row is labelled.
func Evaluate(scores []float64, labels []int8, revenue []float64, rates []float64, threshold float64) (Report, error) {
	if err := validate(scores, labels, revenue); err != nil {
		return Report{}, err
	}
	if rates == nil {
		rates = DefaultRates
	}
	for _, rate := range rates {
		if err := checkRate(rate); err != nil {
			return Report{}, err
		}
	}
	r := rank(scores, labels, revenue)
	if len(r.order) == 0 {
		return Report{}, ErrNoLabels
	}
	rep := Report{
		Rows:       len(scores),
		N:          len(r.order),
		Illicit:    r.illicit,
		Unlabelled: len(scores) - len(r.order),
		Revenue:    r.revenue,
		AUC:        r.auc(scores, labels),
		Threshold:  threshold,
	}
	if revenue == nil {
		rep.Revenue = math.NaN()
	}
	var tp, fp int
	for _, i := range r.order {
		if scores[i] >= threshold {
			if labels[i] == Illicit {
				tp++
			} else {
				fp++
			}
		}
	}
	fn := r.illicit - tp
	rep.Precision = div(float64(tp), float64(tp+fp))
	rep.Recall = div(float64(tp), float64(r.illicit))
	rep.F1 = div(float64(2*tp), float64(2*tp+fp+fn))
	for _, rate := range rates {
		rep.AtRates = append(rep.AtRates, r.atRate(labels, revenue, rate))
	}
	return rep, nil
}
