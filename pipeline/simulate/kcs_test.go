package simulate

import (
	"slices"
	"testing"
	"time"

	"risklane/features"
	"risklane/models"
	"risklane/models/kinds"
	"risklane/models/modeltest"
)

// TestKCSExploration is the revenue half of the papers' finding (Kim et al.,
// TKDE 2022) on the data it was found on: Korean customs declarations (the
// shared KCS train and valid files; skipped where they are absent). The
// replay is docs/simulate.md's KCS command, the same as `risklane simulate
// --profile kcs --in train.csv --in valid.csv --start 2020-03-02
// --initial-days 61 --periods 56 --strategy gbdt --strategy
// gbdt:0.9+gatekeeper:0.1 --seed S`: weekly periods, a 10% budget, the
// simulator's gbdt retrained weekly on the kind's default feature groups.
// Asserted over the five seeds 0 to 4: the hybrid that takes a tenth of the
// budget for the gatekeeper's diversity draw (leaf embeddings weighed by
// uncertainty and expected revenue, after bATE/gATE) keeps more revenue over
// the last 20 weeks than pure gbdt exploitation in at least four seeds, and
// more in total. Session 10, nothing tuned on KCS (the gatekeeper was chosen
// on generated data in session 8): +50.7, +23.0, +103.1, +1.3, +1.5% here,
// at the same precision (0.671 to 0.683 against 0.669 to 0.681); the same
// replays with the gatekeeper third of four strategies (other draws) gave
// +64.3, +27.7, +80.0, +28.5, +22.6%. The test can fail: with random in
// place of the gatekeeper it gives +46.2, +11.0, +37.9, -33.2, -30.9% and
// fails: 3 wins of 5 (checked). KCS revenue is heavy-tailed, a few
// declarations carry a week's revenue, and a blind draw finds them or not
// by luck. On generated data with drift the same comparison stays within a
// few percent either way (TestDriftExploration, docs/simulate.md).
func TestKCSExploration(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: 5 replays of 56 weekly retrainings on the KCS data (about 4 CPU-minutes)")
	}
	batches := slices.Concat(modeltest.KCS(t, "train.csv"), modeltest.KCS(t, "valid.csv"))
	gbdt, err := kinds.Lookup(models.DefaultKind)
	if err != nil {
		t.Fatal(err)
	}
	const last = 20
	hybrid := "gbdt:0.9+gatekeeper:0.1"
	wins, total := 0, map[string]float64{}
	for seed := range uint64(5) {
		cfg := Config{Start: time.Date(2020, 3, 2, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: 56, InitialDays: 61,
			Budget: Budget{0.1, 0.1}, RetrainEvery: 1, Seed: seed, Kind: gbdt, Parallel: 2,
			Train: models.TrainConfig{Features: features.Config{Groups: gbdt.Groups, Folds: 5, Smoothing: 10, Seed: seed},
				Params: map[string]float64{"rounds": 60, "max-depth": 6, "eta": 0.2}},
			Strategies: []string{"gbdt", hybrid}}
		rows, err := Run(batches, cfg)
		if err != nil {
			t.Fatal(err)
		}
		rev, prec := map[string]float64{}, map[string][2]float64{}
		for _, s := range cfg.Strategies {
			var g []Row
			for _, r := range rows {
				if r.Strategy == s {
					g = append(g, r)
				}
			}
			if len(g) != cfg.Periods {
				t.Fatalf("seed %d, %s: %d periods, want %d", seed, s, len(g), cfg.Periods)
			}
			var p [2]float64
			for k, r := range g {
				p[0] += float64(r.Frauds)
				p[1] += float64(r.Inspected)
				if k >= len(g)-last {
					rev[s] += r.Revenue
				}
			}
			prec[s] = p
		}
		t.Logf("seed %d: last %d weeks' revenue gbdt %.0f, %s %.0f (%+.1f%%); precision %.3f and %.3f", seed, last,
			rev["gbdt"], hybrid, rev[hybrid], 100*(rev[hybrid]/rev["gbdt"]-1),
			prec["gbdt"][0]/prec["gbdt"][1], prec[hybrid][0]/prec[hybrid][1])
		if rev[hybrid] > rev["gbdt"] {
			wins++
		}
		for s, r := range rev {
			total[s] += r
		}
	}
	if wins < 4 || !(total[hybrid] > total["gbdt"]) {
		t.Errorf("%s kept more revenue than pure gbdt over the last %d weeks in %d of 5 seeds, %.0f against %.0f in all: want at least 4 and more in all", hybrid, last, wins, total[hybrid], total["gbdt"])
	}
}
