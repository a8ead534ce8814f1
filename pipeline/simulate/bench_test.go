package simulate

import (
	"testing"
	"time"

	"risklane/datasets/synth"
	"risklane/features"
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
	defer releaseAll(batches)
	gbdt, err := kinds.Lookup(models.DefaultKind)
	if err != nil {
		b.Fatal(err)
	}
	params := map[string]float64{"rounds": 60, "max-depth": 6, "eta": 0.2}
	if err := gbdt.ParseParams(params); err != nil {
		b.Fatal(err)
	}
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
