package rules

import (
	"testing"

	"risklane/models/xgb"
	"risklane/models/xgb/xgbtest"
)

// BenchmarkExtract measures 100 random trees of depth 6 on 100,000 rows of
// 20 features (10% missing): routing, paths, ranking and deduplication with
// the command's defaults. rows/s counts rows routed through every tree.
func BenchmarkExtract(b *testing.B) {
	const nrows, nfeat = 100_000, 20
	rows := xgbtest.Rows(1, nrows, nfeat, 0.1)
	y := xgbtest.Labels(2, rows, nrows, nfeat, xgb.BinaryLogistic)
	X := columns(rows, nrows, nfeat)
	m := xgbtest.RandomModel(3, xgb.BinaryLogistic, 100, 6, nfeat)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Extract(m, X, y, DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(nrows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
