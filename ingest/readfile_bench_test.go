package ingest

import (
	"os"
	"testing"
)

// BenchmarkReadFile reads RISKLANE_BENCH_FILE (a canonical Parquet or
// Arrow file) through the canonical profile, on the path columnar selects.
func BenchmarkReadFile(b *testing.B) {
	path := os.Getenv("RISKLANE_BENCH_FILE")
	if path == "" {
		b.Skip("set RISKLANE_BENCH_FILE to a canonical Parquet or Arrow file")
	}
	p := mustProfile(b, "canonical")
	var rows int64
	for b.Loop() {
		r, err := Open(path, p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for r.Next() {
		}
		if err := r.Err(); err != nil {
			b.Fatal(err)
		}
		rows += r.Stats().Read
		r.Close()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
