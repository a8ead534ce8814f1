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

// TestDriftExploration is the done-when test at CI size (the full
// 1M-row run is a command in docs/simulate.md): weekly periods on generated
// data whose fraud patterns move mid-year (synth.Drift), a 5% budget, 8
// weeks of initial history, a small gbdt on the hs and risk features
// retrained weekly. Pure gbdt exploitation's weekly revenue recall falls
// after the drift; on the same data without drift it does not. The
// comparison with gbdt 0.9 / diversity 0.1 over the last 20 weeks is
// logged, not asserted: docs/simulate.md reports it for several settings,
// and exploration does not win in all of them.
func TestDriftExploration(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: 4 replays of 30 weekly retrainings (about a minute of CPU)")
	}
	at := time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC)
	gbdt, err := kinds.Lookup(models.DefaultKind)
	if err != nil {
		t.Fatal(err)
	}
	replay := func(drift bool) map[string][]Row {
		gc := synth.DefaultConfig()
		gc.Rows, gc.Seed = 60_000, 3
		gc.End = time.Date(2024, 10, 31, 0, 0, 0, 0, time.UTC)
		if drift {
			gc.Drift = synth.DefaultDrift()
			gc.Drift.At, gc.Drift.Offenders, gc.Drift.Flows = at, 1, 40
		}
		batches := generated(t, gc)
		defer ingest.Release(batches)
		cfg := Config{Start: time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: 30, InitialDays: 56,
			Budget: Budget{0.05, 0.05}, RetrainEvery: 1, Seed: 1, Kind: gbdt,
			Train: models.TrainConfig{Features: features.Config{Groups: []string{features.GroupHS, features.GroupRisk}, Folds: 5, Smoothing: 10},
				Params: map[string]float64{"rounds": 60, "max-depth": 6, "eta": 0.2}},
			Strategies: []string{"gbdt", "gbdt:0.9+diversity:0.1"}}
		rows, err := Run(batches, cfg)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]Row{}
		for _, r := range rows {
			out[r.Strategy] = append(out[r.Strategy], r)
		}
		return out
	}
	mean := func(rows []Row, from, to time.Time) float64 {
		s, n := 0.0, 0
		for _, r := range rows {
			if !r.From.Before(from) && r.From.Before(to) {
				s += r.RevenueRecall
				n++
			}
		}
		return s / float64(n)
	}
	before, after := at.AddDate(0, 0, -42), at.AddDate(0, 0, 28)
	for _, drift := range []bool{true, false} {
		runs := replay(drift)
		g := runs["gbdt"]
		pre, post := mean(g, before, at), mean(g, at, after)
		last := map[string]float64{}
		for s, rows := range runs {
			for _, r := range rows[len(rows)-20:] {
				last[s] += r.Revenue
			}
		}
		t.Logf("drift %v: gbdt weekly revenue recall %.3f in the 6 weeks before the date, %.3f in the 4 after; revenue over the last 20 weeks: gbdt %.0f, gbdt 0.9 / diversity 0.1 %.0f (%+.1f%%)",
			drift, pre, post, last["gbdt"], last["gbdt:0.9+diversity:0.1"], 100*(last["gbdt:0.9+diversity:0.1"]/last["gbdt"]-1))
		if drift && !(post < 0.75*pre) {
			t.Errorf("with drift, gbdt's revenue recall went from %.3f to %.3f: want a fall of a quarter or more", pre, post)
		}
		if !drift && !(post > 0.85*pre) {
			t.Errorf("without drift, gbdt's revenue recall went from %.3f to %.3f: want no fall", pre, post)
		}
	}
}
