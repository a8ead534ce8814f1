package run

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"risklane/datasets/synth"
	"risklane/features"
	"risklane/models"
	"risklane/models/gbdt"
	"risklane/models/riskmodel"
	"risklane/pipeline/rank"
	"risklane/sink"
)

// benchRows is the input size of BenchmarkScoreRun: RISKLANE_BENCH_ROWS, or
// 200,000.
func benchRows(b *testing.B) int64 {
	if s := os.Getenv("RISKLANE_BENCH_ROWS"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("RISKLANE_BENCH_ROWS=%q: %v", s, err)
		}
		return n
	}
	return 200_000
}

// BenchmarkScoreRun scores generated declarations from Parquet with a
// 100-tree, depth-6 model (trained on 50,000 other generated rows) and
// reports each stage's rate. RISKLANE_BENCH_MODEL (a model folder) and
// RISKLANE_BENCH_IN (a canonical Parquet or CSV file) score an existing
// model and input instead, for profiling a real run
// (docs/scoring-engine.md).
func BenchmarkScoreRun(b *testing.B) {
	dir := b.TempDir()
	in := os.Getenv("RISKLANE_BENCH_IN")
	if in == "" {
		in = filepath.Join(dir, "night.parquet")
		generateNight(b, in)
	}
	var model models.Model
	if d := os.Getenv("RISKLANE_BENCH_MODEL"); d != "" {
		var err error
		if model, err = LoadModel(d); err != nil {
			b.Fatal(err)
		}
	} else {
		model = benchModel(b)
	}
	out := filepath.Join(dir, "ranked.parquet")
	var m *Manifest
	var err error
	b.ResetTimer()
	for b.Loop() {
		m, err = Score(context.Background(), Config{Inputs: []string{in}, Profile: canonical(b), Model: model,
			Out: out, Plan: rank.DefaultPlan(), Manifest: filepath.Join(dir, "manifest.json")})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(m.Reasons.Candidates)/float64(m.Counts.Scored), "candidates/row")
	b.ReportMetric(float64(m.Reasons.Repaired), "repaired")
	for _, s := range m.Timings {
		if s.RowsPerSecond > 0 {
			b.ReportMetric(s.RowsPerSecond, s.Name+"-rows/s")
			b.ReportMetric(s.CPUSeconds*1e6/float64(s.Rows), s.Name+"-cpu-us/row")
		}
	}
}

// generateNight writes benchRows generated declarations to in (Parquet).
func generateNight(b *testing.B, in string) {
	n := benchRows(b)
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed = n, 2
	g, err := synth.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	w, err := sink.Create(in, g.Schema())
	if err != nil {
		b.Fatal(err)
	}
	if err := synth.Stream(g, w.Write); err != nil {
		b.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
}

func benchModel(b *testing.B) *riskmodel.Model {
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed = 50_000, 1
	g, err := synth.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var batches []arrowBatch
	for {
		rec, err := g.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		batches = append(batches, rec)
	}
	st, mat, err := features.Fit(batches, features.Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var labels []int8
	for _, rec := range batches {
		labels, _ = features.ReadLabels(rec, labels)
	}
	y := make([]float64, len(labels))
	for i, l := range labels {
		y[i] = float64(max(l, 0))
	}
	p := gbdt.DefaultParams()
	p.NumRounds, p.MaxDepth, p.Eta, p.EvalTrain = 100, 6, 0.1, false
	tm, _, err := gbdt.Train(&gbdt.Matrix{Rows: mat.Rows, Cols: mat.Cols, Names: mat.Names}, y, nil, nil, p)
	if err != nil {
		b.Fatal(err)
	}
	m, err := riskmodel.New(st, tm, nil)
	if err != nil {
		b.Fatal(err)
	}
	return m
}
