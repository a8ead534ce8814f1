package scorer_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"risklane/models/scorer"
	"risklane/models/xgb"
	"risklane/models/xgb/xgbtest"
)

// The benchmark model and rows: 100 trees of depth 6 over 30 features, as a
// customs model, and 100,000 rows with 10% missing values.
const (
	benchTrees, benchDepth, benchFeatures = 100, 6, 30
	benchRows                             = 100_000
)

var bench = sync.OnceValues(func() (*xgb.Model, []float64) {
	return xgbtest.RandomModel(1, xgb.BinaryLogistic, benchTrees, benchDepth, benchFeatures),
		xgbtest.Rows(2, benchRows, benchFeatures, 0.1)
})

// BenchmarkScore reports rows per second for risklane's Predict (through
// leaves) and PredictLeaves (risklane's own traversal) with 1 and 2
// goroutines, and, side by side on the same model and rows, for Python
// XGBoost's inplace_predict with nthread 1 and 2 (skipped without Python).
//
//	go test -run '^$' -bench BenchmarkScore -benchtime 20x ./models/scorer
func BenchmarkScore(b *testing.B) {
	m, rows := bench()
	s, err := scorer.New(m)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float64, benchRows)
	leaves := make([]int32, benchRows*benchTrees)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("leaves/threads=%d", threads), func(b *testing.B) {
			for b.Loop() {
				if err := s.Predict(rows, benchRows, out, threads); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
		})
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("leafids/threads=%d", threads), func(b *testing.B) {
			for b.Loop() {
				if err := s.PredictLeaves(rows, benchRows, leaves, threads); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
		})
	}
	speeds := sync.OnceValue(func() map[int]float64 {
		py := xgbtest.Python(b)
		path := xgbtest.WriteFile(b, filepath.Join(b.TempDir(), "bench.json"), m)
		return xgbtest.PredictSpeed(b, py, path, rows, benchFeatures, 1, 2)
	})
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("xgboost/threads=%d", threads), func(b *testing.B) {
			// Python times itself (median of five after a warm-up); b.N is
			// not used, so the metric is reported once.
			rate := speeds()[threads]
			for b.Loop() {
			}
			b.ReportMetric(rate, "rows/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
