package riskmodel

import (
	"testing"
)

// BenchmarkScore scores the KCS validation file with a model trained on the
// training file: features from the saved state, then both ensembles through
// leaves.
func BenchmarkScore(b *testing.B) {
	train, valid := readKCS(b, "train.csv"), readKCS(b, "valid.csv")
	cfg := DefaultConfig()
	m, err := Train(train, nil, cfg)
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	for _, r := range valid {
		rows += int(r.NumRows())
	}
	var p, e []float64
	b.ResetTimer()
	for range b.N {
		for _, r := range valid {
			if p, e, err = m.Score(r, p, e); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
