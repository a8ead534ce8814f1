package releasetime

import (
	"os"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/ingest"
	"risklane/ingest/profile"
)

// BenchmarkAdd measures the analysis alone (no file reading) on generated
// declarations with milestones, in rows per second of one core.
func BenchmarkAdd(b *testing.B) {
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Timestamps = 200_000, true
	g, err := synth.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var recs []arrow.RecordBatch
	if err := synth.Stream(g, func(rec arrow.RecordBatch) error { rec.Retain(); recs = append(recs, rec); return nil }); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		a := New(Config{})
		for _, r := range recs {
			if err := a.Add(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(cfg.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkFile reads RISKLANE_BENCH_FILE (canonical declarations with
// milestones, e.g. risklane generate --timestamps) through ingest as
// risklane release-time does, only Columns, and analyses it; it reports
// rows per second and CPU seconds per million rows.
func BenchmarkFile(b *testing.B) {
	path := os.Getenv("RISKLANE_BENCH_FILE")
	if path == "" {
		b.Skip("set RISKLANE_BENCH_FILE to canonical declarations with milestones")
	}
	p, err := profile.Resolve("canonical")
	if err != nil {
		b.Fatal(err)
	}
	var rows int64
	cpu0 := processCPU()
	for b.Loop() {
		r, err := ingest.OpenFiles([]string{path}, p, ingest.Options{Columns: Columns})
		if err != nil {
			b.Fatal(err)
		}
		a := New(Config{})
		for r.Next() {
			if err := a.Add(r.RecordBatch()); err != nil {
				b.Fatal(err)
			}
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

// processCPU is the CPU time the process has used, in seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
