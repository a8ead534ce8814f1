package ingest

import (
	"os"
	"strings"
	"testing"
)

// BenchmarkReadFile reads RISKLANE_BENCH_FILE (a canonical Parquet or
// Arrow file, e.g. from risklane generate) through the canonical profile on
// the column path; BenchmarkReadFileRows is the row path, its yardstick in
// the same run. Under load compare the CPU seconds per million rows.
func BenchmarkReadFile(b *testing.B) { benchReadFile(b, false) }

// BenchmarkReadFileRows is BenchmarkReadFile on the row path.
func BenchmarkReadFileRows(b *testing.B) { benchReadFile(b, true) }

// benchReadFile is BenchmarkReadFile on the row path (rowPath) or the
// column path.
func benchReadFile(b *testing.B, rowPath bool) {
	path := os.Getenv("RISKLANE_BENCH_FILE")
	if path == "" {
		b.Skip("set RISKLANE_BENCH_FILE to a canonical Parquet or Arrow file")
	}
	p := mustProfile(b, "canonical")
	var cols []string // RISKLANE_BENCH_COLUMNS: Options.Columns, comma-separated
	if c := os.Getenv("RISKLANE_BENCH_COLUMNS"); c != "" {
		cols = strings.Split(c, ",")
	}
	var rows int64
	cpu0 := processCPU()
	for b.Loop() {
		r, err := Open(path, p, Options{Columns: cols, rowPath: rowPath})
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
	b.ReportMetric((processCPU()-cpu0)/float64(rows)*1e6, "cpu-s/1M-rows")
}
