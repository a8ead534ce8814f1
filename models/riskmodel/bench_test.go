package riskmodel

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models/modeltest"
	"risklane/models/xgb/xgbtest"
)

// BenchmarkScore scores the KCS validation file with a model trained on the
// training file: features from the saved state, then both ensembles through
// leaves.
func BenchmarkScore(b *testing.B) {
	train, valid := modeltest.KCS(b, "train.csv"), modeltest.KCS(b, "valid.csv")
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

// BenchmarkModelEngines times the classifier of a model folder, the very
// one `risklane score` walks, on the features of real input rows: the
// native engine with 1 and 2 goroutines and, in the same run on the same
// rows, Python XGBoost's inplace_predict of the folder's model.json
// (skipped without Python). It is what `make bench-suite` pairs as
// "predict" (docs/benchmarks.md):
//
//	RISKLANE_BENCH_MODEL=DIR RISKLANE_BENCH_IN=night.parquet \
//	go test -run '^$' -bench BenchmarkModelEngines -benchtime 5x ./models/riskmodel
//
// RISKLANE_BENCH_IN is read through the canonical profile; the first
// RISKLANE_BENCH_ROWS rows (default 100,000) are scored. Besides rows/s
// (wall), each run reports cpu-ns/row, the process's CPU time per row,
// which a loaded machine inflates less.
func BenchmarkModelEngines(b *testing.B) {
	m, dir, rows := benchModelRows(b)
	nf := len(m.FeatureNames())
	n := len(rows) / nf
	name := filepath.Base(filepath.Clean(dir))
	out := make([]float64, n)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("%s/native/threads=%d", name, threads), func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				if err := m.clf.Predict(rows, n, out, threads); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*n), "cpu-ns/row")
		})
	}
	speeds := sync.OnceValue(func() map[int]float64 {
		return xgbtest.PredictSpeed(b, xgbtest.Python(b), filepath.Join(dir, ModelFile), rows, nf, 1, 2)
	})
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("%s/xgboost/threads=%d", name, threads), func(b *testing.B) {
			// Python times itself (median of five after a warm-up).
			rate := speeds()[threads]
			for b.Loop() {
			}
			b.ReportMetric(rate, "rows/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// openBenchNight loads RISKLANE_BENCH_MODEL and opens RISKLANE_BENCH_IN with
// the canonical profile, or skips; want is RISKLANE_BENCH_ROWS (default
// 100,000), the rows a benchmark takes from the night's start.
func openBenchNight(b *testing.B) (m *Model, dir string, rd *ingest.Reader, want int) {
	dir, in := os.Getenv("RISKLANE_BENCH_MODEL"), os.Getenv("RISKLANE_BENCH_IN")
	if dir == "" || in == "" {
		b.Skip("set RISKLANE_BENCH_MODEL (a model folder) and RISKLANE_BENCH_IN (canonical Parquet or CSV)")
	}
	want = 100_000
	if s := os.Getenv("RISKLANE_BENCH_ROWS"); s != "" {
		var err error
		if want, err = strconv.Atoi(s); err != nil || want <= 0 {
			b.Fatalf("RISKLANE_BENCH_ROWS=%q: want a positive number", s)
		}
	}
	m, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	p, err := profile.Resolve("canonical")
	if err != nil {
		b.Fatal(err)
	}
	rd, err = ingest.OpenFiles([]string{in}, p, ingest.Options{BatchSize: 16384})
	if err != nil {
		b.Fatal(err)
	}
	return m, dir, rd, want
}

// benchModelRows loads RISKLANE_BENCH_MODEL and the features of the first
// RISKLANE_BENCH_ROWS rows (default 100,000) of RISKLANE_BENCH_IN, or skips.
func benchModelRows(b *testing.B) (*Model, string, []float64) {
	m, dir, rd, want := openBenchNight(b)
	nf := len(m.FeatureNames())
	var rows []float64
	for len(rows) < want*nf && rd.Next() {
		rec := rd.RecordBatch()
		at := len(rows)
		rows = append(rows, make([]float64, int(rec.NumRows())*nf)...)
		if err := m.Features(rec, rows[at:]); err != nil {
			b.Fatal(err)
		}
	}
	if err := rd.Err(); err != nil {
		b.Fatal(err)
	}
	rd.Close()
	return m, dir, rows[:min(len(rows), want*nf)]
}

// BenchmarkModelReasons times the path contributions the reasons of red
// and yellow rows need, on the classifier of RISKLANE_BENCH_MODEL and the
// features of RISKLANE_BENCH_IN's rows (as BenchmarkModelEngines):
// "walk" is the explainer's own eight-rows-at-a-time walk
// (explain.ContributionsRows), "leaves" what the scoring run uses (the
// native engine's leaves, then each leaf's listed path). One goroutine.
func BenchmarkModelReasons(b *testing.B) {
	m, dir, rows := benchModelRows(b)
	nf := len(m.FeatureNames())
	n := len(rows) / nf
	name := filepath.Base(filepath.Clean(dir))
	out := make([]float64, n*nf)
	ids := make([]int32, n*m.clf.NumTrees())
	if err := m.clf.PredictLeaves(rows, n, ids, 1); err != nil {
		b.Fatal(err)
	}
	for _, way := range []string{"walk", "leaves", "leafids", "paths"} {
		b.Run(name+"/"+way, func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				clear(out)
				if way == "walk" {
					m.ex.ContributionsRows(rows, n, out)
				} else if way == "paths" {
					m.ex.ContributionsLeaves(ids, n, out)
				} else if way == "leafids" {
					if err := m.clf.PredictLeaves(rows, n, ids, 1); err != nil {
						b.Fatal(err)
					}
				} else {
					m.ContributionsRows(rows, n, out)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*n), "cpu-ns/row")
		})
	}
}

// BenchmarkModelFeatures times the features of RISKLANE_BENCH_MODEL's state
// on the first RISKLANE_BENCH_ROWS rows (default 100,000) of
// RISKLANE_BENCH_IN, 4,096 rows a call as the scoring stage computes them
// (pipeline/score's subBatch). One goroutine; cpu-ns/row as
// BenchmarkModelEngines.
func BenchmarkModelFeatures(b *testing.B) {
	m, _, rd, want := openBenchNight(b)
	defer rd.Close()
	var subs []arrow.RecordBatch
	n := 0
	for n < want && rd.Next() {
		rec := rd.RecordBatch()
		for i := int64(0); i < rec.NumRows(); i += 4096 {
			s := rec.NewSlice(i, min(i+4096, rec.NumRows()))
			subs = append(subs, s)
			n += int(s.NumRows())
		}
	}
	if err := rd.Err(); err != nil {
		b.Fatal(err)
	}
	feats := make([]float64, 4096*len(m.FeatureNames()))
	cpu0 := cpuTime()
	for b.Loop() {
		for _, s := range subs {
			if err := m.Features(s, feats); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*n), "cpu-ns/row")
}
