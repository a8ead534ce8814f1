package features

import (
	"errors"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
)

// MaxHalfLife bounds Config.HalfLife: with a longer half-life a row a year
// old weighs 1 to within 3e-10, no different from no half-life, and the
// value is taken for a mistake (a unit or a typo).
const MaxHalfLife = 1e12

// RecencyWeights returns every row's recency weight with half-life h days:
// 0.5^(age/h), age the days between the latest date of the history and the
// row's date, so a row of the latest day weighs 1. A row without a date
// weighs as the oldest dated row: its age is unknown, and it never counts
// for more than any dated evidence. h 0 returns nil: every row weighs 1.
// It is the one rule for both uses of a half-life: the smoothed fraud rates
// (Config.HalfLife) and the training rows' weights
// (risklane/models.TrainConfig.RowHalfLife).
func RecencyWeights(batches []arrow.RecordBatch, h float64) ([]float64, error) {
	if err := CheckHalfLife(h); err != nil {
		return nil, err
	}
	if h == 0 {
		return nil, nil
	}
	var days []int32
	for bi, b := range batches {
		d, err := readDays(b, days)
		if err != nil {
			return nil, fmt.Errorf("features: a half-life needs the declarations' dates: training batch %d: %w", bi+1, err)
		}
		days = d
	}
	first, last := int32(math.MaxInt32), int32(math.MinInt32)
	for _, d := range days {
		if d != noDay {
			first, last = min(first, d), max(last, d)
		}
	}
	if first > last {
		return nil, errors.New("features: a half-life needs the declarations' dates, and no training row has one")
	}
	w := make([]float64, len(days))
	for i, d := range days {
		if d == noDay {
			d = first
		}
		w[i] = math.Exp2(-float64(last-d) / h)
	}
	return w, nil
}
