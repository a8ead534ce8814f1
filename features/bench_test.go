package features

import (
	"testing"
)

// BenchmarkFit fits the feature state on the KCS training file.
func BenchmarkFit(b *testing.B) {
	train := readKCS(b, "train.csv")
	rows := 0
	for _, r := range train {
		rows += int(r.NumRows())
	}
	b.ResetTimer()
	for range b.N {
		if _, _, err := Fit(train, Config{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkTransformRows scores the KCS validation file through a fitted
// state, row-major as the tree scorer takes it.
func BenchmarkTransformRows(b *testing.B) {
	st, _, err := Fit(readKCS(b, "train.csv"), Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	valid := readKCS(b, "valid.csv")
	rows := 0
	for _, r := range valid {
		rows += int(r.NumRows())
	}
	var buf []float64
	b.ResetTimer()
	for range b.N {
		for _, r := range valid {
			if buf, err = st.TransformRows(r, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
