package riskmodel

import "github.com/apache/arrow-go/v18/arrow"

// Outcomes reads the labels and revenue of batches, as training reads them:
// labels 1, 0 or -1 (not inspected), revenue NaN where null or when the data
// has no revenue column. Other model kinds train on the same outcomes.
func Outcomes(batches []arrow.RecordBatch) ([]int8, []float64, error) {
	return outcomes(batches)
}
