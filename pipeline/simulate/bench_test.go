package simulate

import (
	"testing"
	"time"

	"risklane/datasets/synth"
	"risklane/features"
	"risklane/ingest"
	"risklane/models"
	"risklane/models/kinds"
)

// BenchmarkReplay replays pure gbdt exploitation with weekly retraining of
// the simulator's default model (60 rounds of depth 6, every feature group)
// over 12 weeks of 100,000 generated rows with drift: the per-period cost
// the 1M-row, 52-week run of docs/simulate.md is made of.
func BenchmarkReplay(b *testing.B) {
	gc := synth.DefaultConfig()
	gc.Rows, gc.Seed = 100_000, 1
	gc.Start, gc.End = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC)
	gc.Drift = synth.DefaultDrift()
	gc.Drift.At = time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	batches := generated(b, gc)
	defer ingest.Release(batches)
	gbdt, params := simulatorGBDT(b)
	cfg := Config{Start: time.Date(2024, 2, 26, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: 12, InitialDays: 56,
		Budget: Budget{0.1, 0.1}, RetrainEvery: 1, Kind: gbdt,
		Train: models.TrainConfig{Features: features.Config{Groups: features.DefaultGroups, Folds: features.DefaultFolds,
			Smoothing: features.DefaultSmoothing}, Params: params},
		Strategies: []string{"gbdt"}}
	b.ResetTimer()
	for range b.N {
		if _, err := Run(batches, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.Periods*b.N)/b.Elapsed().Seconds(), "periods/s")
}

// BenchmarkReplay1M replays weeks of the speed run: pure gbdt over
// 1,000,000 generated rows of 14 months with drift, weekly retraining of the
// simulator's default model. "early" is its first 4 weeks (8 weeks of
// history, all labelled); "late" stands for its week 30 (38 weeks of
// history, 630,000 rows, of which a quarter labelled, about what 8 labelled
// weeks and 30 weeks of 10% inspections give). Their per-period figures
// bound the cost of a week of the 52-week run, which grows with the history;
// go test -bench Replay1M -cpuprofile shows where it goes.
func BenchmarkReplay1M(b *testing.B) {
	gc := synth.DefaultConfig()
	gc.Rows = 1_000_000
	gc.Start, gc.End = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC)
	gc.Drift = synth.DefaultDrift()
	gc.Drift.At = time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	batches := generated(b, gc)
	defer ingest.Release(batches)
	gbdt, params := simulatorGBDT(b)
	for _, c := range []struct {
		name    string
		start   time.Time
		initial int
		labels  float64
	}{
		{"early", time.Date(2024, 2, 26, 0, 0, 0, 0, time.UTC), 56, 1},
		{"late", time.Date(2024, 9, 23, 0, 0, 0, 0, time.UTC), 38 * 7, 0.25},
	} {
		cfg := Config{Start: c.start, PeriodDays: 7, Periods: 3, InitialDays: c.initial, InitialLabels: c.labels,
			Budget: Budget{0.1, 0.1}, RetrainEvery: 1, Kind: gbdt,
			Train: models.TrainConfig{Features: features.Config{Groups: features.DefaultGroups, Folds: features.DefaultFolds,
				Smoothing: features.DefaultSmoothing}, Params: params},
			Strategies: []string{"gbdt"}}
		b.Run(c.name, func(b *testing.B) {
			cpu := cpuTime()
			for range b.N {
				if _, err := Run(batches, cfg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cfg.Periods*b.N)/b.Elapsed().Seconds(), "periods/s")
			b.ReportMetric(float64(cpuTime()-cpu)/1e9/float64(cfg.Periods*b.N), "cpu-s/period")
		})
	}
}

// simulatorGBDT is the gbdt kind with the simulator's retraining parameters
// (60 rounds of depth 6, eta 0.2), as both replay benchmarks use it.
func simulatorGBDT(b *testing.B) (models.Kind, map[string]float64) {
	b.Helper()
	gbdt, err := kinds.Lookup(models.DefaultKind)
	if err != nil {
		b.Fatal(err)
	}
	params := map[string]float64{"rounds": 60, "max-depth": 6, "eta": 0.2}
	if err := gbdt.ParseParams(params); err != nil {
		b.Fatal(err)
	}
	return gbdt, params
}
