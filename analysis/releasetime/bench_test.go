package releasetime

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
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
