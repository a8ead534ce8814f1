package modeltest

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
)

// Generated returns every batch synth generates with cfg.
func Generated(t testing.TB, cfg synth.Config) []arrow.RecordBatch {
	t.Helper()
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []arrow.RecordBatch
	for !g.Done() {
		b, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// Declarations returns rows declarations that synth generates from seed
// with its default configuration otherwise.
func Declarations(t testing.TB, rows int64, seed uint64) []arrow.RecordBatch {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed = rows, seed
	return Generated(t, cfg)
}
