package riskmodel

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
)

// SplitByDate divides batches into the rows dated before from and the rows
// dated from it on (a validation period after a training period). Rows with
// a null date go to the earlier part. The result batches are new; the inputs
// are not released.
func SplitByDate(batches []arrow.RecordBatch, from time.Time) (before, after []arrow.RecordBatch, err error) {
	cut := arrow.Date32FromTime(from)
	for bi, b := range batches {
		d, ok, err := decl.Get[*array.Date32](b, decl.Date)
		if err != nil {
			return nil, nil, fmt.Errorf("riskmodel: %w", err)
		}
		if !ok {
			return nil, nil, fmt.Errorf("riskmodel: batch %d has no %q column to split on", bi+1, decl.Date)
		}
		late := func(i int) bool { return d.IsValid(i) && d.Value(i) >= cut }
		// runs of rows on one side, so that sorted data is two slices
		var runs [2][][2]int
		for i := 0; i < d.Len(); {
			j, side := i, late(i)
			for j < d.Len() && late(j) == side {
				j++
			}
			s := 0
			if side {
				s = 1
			}
			runs[s] = append(runs[s], [2]int{i, j})
			i = j
		}
		for s, rs := range runs {
			if len(rs) == 0 {
				continue
			}
			rec, err := decl.Take(b, rs)
			if err != nil {
				return nil, nil, err
			}
			if s == 0 {
				before = append(before, rec)
			} else {
				after = append(after, rec)
			}
		}
	}
	return before, after, nil
}
