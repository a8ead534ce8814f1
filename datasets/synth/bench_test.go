package synth

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/sink"
)

// BenchmarkGenerate measures generation alone, one goroutine, default
// configuration.
func BenchmarkGenerate(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Rows = 1_000_000
	b.ReportAllocs()
	rows := int64(0)
	for b.Loop() {
		g, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := g.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rec.Release()
		}
		rows += cfg.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkGenerateParquet measures the whole of `risklane generate` to a
// Parquet file: generation and encoding on two goroutines.
func BenchmarkGenerateParquet(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Rows = 1_000_000
	dir := b.TempDir()
	rows := int64(0)
	for b.Loop() {
		g, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		w, err := sink.Create(filepath.Join(dir, "d.parquet"), g.Schema())
		if err != nil {
			b.Fatal(err)
		}
		if err := Stream(g, func(rec arrow.RecordBatch) error { return w.Write(rec) }); err != nil {
			b.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
		rows += cfg.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
