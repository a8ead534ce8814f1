package riskmodel

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/models/modeltest"
)

// generate returns synthetic declarations of 2024 (every row labelled).
func generate(t testing.TB, rows int64, seed uint64) []arrow.RecordBatch {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed = rows, seed
	cfg.NumImporters, cfg.NumSellers = 2000, 1200
	return modeltest.Generated(t, cfg)
}

// TestSynthQuality is issue 4's bar on generated data: the default model,
// trained on January to September and scored on October to December, finds
// fraud at five inspections in a hundred at least three times as often as
// random inspection does, and ranking by expected revenue brings in more of
// the revenue at 10% than ranking by probability.
func TestSynthQuality(t *testing.T) {
	all := generate(t, 60_000, 7)
	train, valid, err := SplitByDate(all, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(train, valid, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if m.Revenue == nil {
		t.Fatalf("no revenue head: %s", m.Metrics.RevenueHead.Note)
	}
	byP, byR := m.Metrics.Validation, m.Metrics.ValidationByRevenue
	rate := float64(byP.Illicit) / float64(byP.N)
	p5, revP, revR := byP.AtRates[2], byP.AtRates[3], byR.AtRates[3]
	t.Logf("synthetic valid: %d rows, fraud rate %.4f, AUC %.4f, Precision@5%% %.3f (%.1fx), Revenue@10%% %.3f by probability, %.3f by expected revenue",
		byP.N, rate, byP.AUC, p5.Precision, p5.Precision/rate, revP.Revenue, revR.Revenue)
	if p5.Rate != 5 || revP.Rate != 10 || revR.Rate != 10 {
		t.Fatalf("unexpected rates in the report: %v %v %v", p5.Rate, revP.Rate, revR.Rate)
	}
	if p5.Precision < 3*rate {
		t.Errorf("Precision@5%% %.3f is less than 3 x the fraud rate %.4f", p5.Precision, rate)
	}
	if revR.Revenue <= revP.Revenue {
		t.Errorf("Revenue@10%% by expected revenue %.4f is not above by probability %.4f", revR.Revenue, revP.Revenue)
	}
}
