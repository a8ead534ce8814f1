package models

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
)

// CheckRowHalfLife refuses a TrainConfig.RowHalfLife that is negative or
// not a finite number.
func CheckRowHalfLife(days float64) error {
	if !(days >= 0) || math.IsInf(days, 0) {
		return fmt.Errorf("--train-halflife %g: want a number of days >= 0 (0: every training row weighs 1)", days)
	}
	return nil
}

// RecencyWeights returns, for every row of batches in order, the weight
// 0.5^(age / halfLife) of TrainConfig.RowHalfLife, age being the days from
// the latest date among the labelled rows (labels[i] >= 0, as Outcomes
// reads them) to the row's date: the latest labelled rows weigh 1, rows one
// half-life older 0.5. Unlabelled rows get a weight too (0 when they have
// no date), which training does not read. A labelled row without a date is
// an error, as is a halfLife that CheckRowHalfLife refuses or 0.
func RecencyWeights(batches []arrow.RecordBatch, labels []int8, halfLife float64) ([]float64, error) {
	if err := CheckRowHalfLife(halfLife); err != nil {
		return nil, err
	}
	if halfLife == 0 {
		return nil, fmt.Errorf("--train-halflife 0 weighs every row 1: no weights to compute")
	}
	days := make([]int32, 0, len(labels))
	valid := make([]bool, 0, len(labels))
	for bi, b := range batches {
		d, err := decl.Need[*array.Date32](b, decl.Date)
		if err != nil {
			return nil, fmt.Errorf("--train-halflife needs the declaration dates: batch %d: %w", bi+1, err)
		}
		for i := range d.Len() {
			days = append(days, int32(d.Value(i)))
			valid = append(valid, d.IsValid(i))
		}
	}
	if len(days) != len(labels) {
		return nil, fmt.Errorf("recency weights: %d labels for %d rows", len(labels), len(days))
	}
	latest, any := int32(math.MinInt32), false
	for i, l := range labels {
		if l < 0 {
			continue
		}
		if !valid[i] {
			return nil, fmt.Errorf("--train-halflife: labelled training row %d has no date, so no age to weigh it by", i+1)
		}
		latest, any = max(latest, days[i]), true
	}
	w := make([]float64, len(days))
	if !any {
		return w, nil
	}
	for i := range w {
		if valid[i] {
			w[i] = math.Exp2(-float64(latest-days[i]) / halfLife)
		}
	}
	return w, nil
}
