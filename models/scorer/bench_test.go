package scorer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"risklane/models/gbdt"
	"risklane/models/scorer"
	"risklane/models/xgb"
	"risklane/models/xgb/xgbtest"
)

// The benchmark models are trained by risklane's own trainer (models/gbdt)
// on generated rows shaped like risklane's features (38 columns: normal
// values, small integers that tie with thresholds, log-normal amounts; 10%
// missing), with the parameters of risklane train:
//
//	default: 400 trees of depth 10, eta 0.05, subsample and colsample 0.8
//	         (risklane train's defaults, the model analysts get);
//	small:   100 trees of depth 6, eta 0.1 (the README's first benchmark).
//
// The rows scored are 100,000 others from the same generator.
const (
	benchFeatures = 38
	benchRows     = 100_000
	benchTrain    = 30_000
)

type benchModel struct {
	name         string
	trees, depth int
	eta          float64
	sample       float64
}

var benchModels = []benchModel{
	{"default", 400, 10, 0.05, 0.8},
	{"small", 100, 6, 0.1, 1},
}

var benchRowsOnce = sync.OnceValue(func() []float64 { return xgbtest.Rows(2, benchRows, benchFeatures, 0.1) })

var trained sync.Map // name -> *xgb.Model

func benchTrained(b *testing.B, bm benchModel) *xgb.Model {
	if m, ok := trained.Load(bm.name); ok {
		return m.(*xgb.Model)
	}
	rows := xgbtest.Rows(1, benchTrain, benchFeatures, 0.1)
	y := xgbtest.Labels(7, rows, benchTrain, benchFeatures, xgb.BinaryLogistic)
	cols := make([][]float64, benchFeatures)
	for j := range cols {
		cols[j] = make([]float64, benchTrain)
		for i := range benchTrain {
			cols[j][i] = rows[i*benchFeatures+j]
		}
	}
	p := gbdt.DefaultParams()
	p.Objective = xgb.BinaryLogistic
	p.NumRounds, p.MaxDepth, p.Eta = bm.trees, bm.depth, bm.eta
	p.Subsample, p.ColsampleByTree = bm.sample, bm.sample
	p.Seed = 1
	m, _, err := gbdt.Train(&gbdt.Matrix{Rows: benchTrain, Cols: cols}, y, nil, nil, p)
	if err != nil {
		b.Fatal(err)
	}
	trained.Store(bm.name, m)
	return m
}

// BenchmarkEngines reports rows per second for the native engine and for
// leaves on both benchmark models, with 1 and 2 goroutines, and, in the same
// run on the same model and rows, Python XGBoost's inplace_predict with
// nthread 1 and 2 (skipped without Python):
//
//	go test -run '^$' -bench BenchmarkEngines -benchtime 3x ./models/scorer
//
// With RISKLANE_BENCH_EXPORT=DIR set, the models (DIR/NAME.json) and rows
// (DIR/rows.f64, little-endian float64, 38 per row) are also written there,
// for bench/predict.py.
func BenchmarkEngines(b *testing.B) {
	rows := benchRowsOnce()
	out := make([]float64, benchRows)
	export := os.Getenv("RISKLANE_BENCH_EXPORT")
	for _, bm := range benchModels {
		m := benchTrained(b, bm)
		if export != "" {
			if err := os.MkdirAll(export, 0o755); err != nil {
				b.Fatal(err)
			}
			xgbtest.WriteFile(b, filepath.Join(export, bm.name+".json"), m)
			xgbtest.WriteRows(b, filepath.Join(export, "rows.f64"), rows)
		}
		for _, engine := range []scorer.Engine{scorer.Native, scorer.Leaves} {
			s, err := scorer.NewEngine(m, engine)
			if err != nil {
				b.Fatal(err)
			}
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", bm.name, engine, threads), func(b *testing.B) {
					for b.Loop() {
						if err := s.Predict(rows, benchRows, out, threads); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
				})
			}
		}
		speeds := sync.OnceValue(func() map[int]float64 {
			py := xgbtest.Python(b)
			path := xgbtest.WriteFile(b, filepath.Join(b.TempDir(), "bench.json"), m)
			return xgbtest.PredictSpeed(b, py, path, rows, benchFeatures, 1, 2)
		})
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/xgboost/threads=%d", bm.name, threads), func(b *testing.B) {
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
}

// BenchmarkHeads scores the default classifier and a 200-tree revenue head
// (trained like the small model but deeper: depth 10) in one pass over each
// block (PredictAll), against two separate Predict calls.
func BenchmarkHeads(b *testing.B) {
	rows := benchRowsOnce()
	clf, err := scorer.New(benchTrained(b, benchModels[0]))
	if err != nil {
		b.Fatal(err)
	}
	rev, err := scorer.New(benchTrained(b, benchModel{"revenue", 200, 10, 0.05, 0.8}))
	if err != nil {
		b.Fatal(err)
	}
	p, r := make([]float64, benchRows), make([]float64, benchRows)
	b.Run("one-pass", func(b *testing.B) {
		for b.Loop() {
			if err := scorer.PredictAll(rows, benchRows, 1, scorer.Head{Scorer: clf, Out: p}, scorer.Head{Scorer: rev, Out: r}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("two-calls", func(b *testing.B) {
		for b.Loop() {
			if err := clf.Predict(rows, benchRows, p, 1); err != nil {
				b.Fatal(err)
			}
			if err := rev.Predict(rows, benchRows, r, 1); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
	})
}
