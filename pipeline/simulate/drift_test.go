package simulate

import (
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/datasets/synth"
	"risklane/decl"
	"risklane/features"
	"risklane/ingest"
	"risklane/models"
	"risklane/models/kinds"
)

// driftReplay is one replay of TestDriftExploration: the rows of each
// strategy and the revenue its inspections raised from concealment (the
// hidden drift's fraud type), period by period.
type driftReplay struct {
	rows        map[string][]Row
	concealment map[string][]float64
}

// replayDrift generates the rows of gc and replays strats over weekly
// periods from 2024-02-26, 8 weeks of initial history, a 10% budget, the
// small gbdt on the feature groups given, retrained weekly.
func replayDrift(t *testing.T, gc synth.Config, periods int, groups, strats []string) driftReplay {
	t.Helper()
	batches := generated(t, gc)
	defer ingest.Release(batches)
	gbdt, err := kinds.Lookup(models.DefaultKind)
	if err != nil {
		t.Fatal(err)
	}
	out := driftReplay{rows: map[string][]Row{}, concealment: map[string][]float64{}}
	var mu sync.Mutex
	onPicks := func(s string, p int, bs []arrow.RecordBatch, picks []int, _ []bool) {
		var kind []string
		var rev []float64
		for _, b := range bs {
			sc := b.Schema()
			ft := b.Column(sc.FieldIndices(synth.FraudTypeColumn)[0]).(*array.String)
			rv := b.Column(sc.FieldIndices(decl.Revenue)[0]).(*array.Float64)
			for i := range int(b.NumRows()) {
				kind, rev = append(kind, ft.Value(i)), append(rev, rv.Value(i))
			}
		}
		x := 0.0
		for _, r := range picks {
			if kind[r] == synth.FraudQuantity {
				x += rev[r]
			}
		}
		mu.Lock()
		defer mu.Unlock()
		c := out.concealment[s]
		for len(c) < p {
			c = append(c, 0)
		}
		c[p-1] = x
		out.concealment[s] = c
	}
	cfg := Config{Start: time.Date(2024, 2, 26, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: periods, InitialDays: 56,
		Budget: Budget{0.1, 0.1}, RetrainEvery: 1, Seed: 1, Kind: gbdt, Parallel: 2,
		Train: models.TrainConfig{Features: features.Config{Groups: groups, Folds: 5, Smoothing: 10},
			Params: map[string]float64{"rounds": 60, "max-depth": 6, "eta": 0.2}},
		Strategies: strats, onPicks: onPicks}
	rows, err := Run(batches, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		out.rows[r.Strategy] = append(out.rows[r.Strategy], r)
	}
	return out
}

// TestDriftExploration is the done-when test at CI size (the
// runs behind docs/simulate.md's tables are described there). Generated
// declarations whose fraud moves on 2024-05-06 to concealment on goods and
// partners with no fraud history (synth.Drift with Hidden 40 flows taking
// HiddenShare 0.8 of the fraud rate; the planted flows stop, every repeat
// offender is replaced): strong drift, about 70% of the frauds after the
// date of a kind a model trained before it scores near zero. Asserted: pure
// gbdt exploitation's weekly precision falls by a quarter or more after the
// date, and does not on the same rows without drift (each run fails the
// other's assertion). Logged, not asserted: the revenue of gbdt 0.9 /
// random 0.1 against pure gbdt over the last 20 weeks, and the revenue each
// raised from concealment. The papers' finding, that the hybrid keeps more,
// did not reproduce robustly (docs/simulate.md, "Why exploration does not
// pay here"): with the risk features pure gbdt finds the new fraud itself
// and keeps more at every drift strength measured; without them the hybrid
// kept more in one seed of three; with the old patterns kept and clean
// traders turning (synth.Drift.Turn 2, session 7) it kept 0.3 to 1.3% less
// in three fresh seeds (TestDriftSweep's runs); session 8 replaced random
// by the gatekeeper diversity draw (chosen on a tuning seed) and drew the
// turners uniformly: the gatekeeper hybrid kept more in three fresh seeds
// of five and less in two (+2.0% to -2.8%, mean -0.1%), by no more with
// drift than without, and pure gbdt itself inspects the turners at five
// times their fraud rate, so no seed or size makes the finding more than
// noise to assert (docs/simulate.md, session 8). Session 9 put the
// concealment in established clean flows (synth.Drift.HiddenEstablished,
// where the smoothed rates are pinned low by many clean labels): pure gbdt
// then raises 3 to 14% of the concealment's revenue (32% with Hidden's own
// flows), the hybrids' exploiting part finds more of it in some seeds, but
// the hybrids' last-20-week revenue against pure gbdt still spans both
// signs over the fresh seeds (docs/simulate.md, session 9), so the revenue
// half stays logged, not asserted. Session 10 weighted the fraud rates by
// recency (features.Config.HalfLife, 56 days, chosen on seed 10): pure gbdt
// then finds more of the concealment itself, and the gatekeeper hybrid kept
// more in two fresh seeds of five with turning traders (+4.0% to -3.3%), so
// the revenue half is still not asserted here (docs/simulate.md, session
// 10). It is asserted on the data the papers found it on, Korean customs
// declarations: TestKCSExploration.
func TestDriftExploration(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: 4 replays of 30 weekly retrainings on 75,000 rows (about 60 CPU-s)")
	}
	at := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	const periods, last = 30, 20
	hybrid := "gbdt:0.9+random:0.1"
	for _, drift := range []bool{true, false} {
		gc := synth.DefaultConfig()
		gc.Rows, gc.Seed = 75_000, 3
		gc.Start, gc.End = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 9, 22, 0, 0, 0, 0, time.UTC)
		if drift {
			gc.Drift = synth.DefaultDrift()
			gc.Drift.At, gc.Drift.Hidden, gc.Drift.HiddenShare, gc.Drift.Flows, gc.Drift.Offenders = at, 40, 0.8, 0, 1
		}
		r := replayDrift(t, gc, periods, []string{features.GroupHS, features.GroupRisk}, []string{"gbdt", hybrid})
		g, h := r.rows["gbdt"], r.rows[hybrid]
		prec := func(rows []Row, from, to time.Time) float64 {
			s, n := 0.0, 0
			for _, x := range rows {
				if !x.From.Before(from) && x.From.Before(to) {
					s += x.Precision
					n++
				}
			}
			return s / float64(n)
		}
		pre, post := prec(g, at.AddDate(0, 0, -42), at), prec(g, at, at.AddDate(0, 0, 28))
		sum := func(rows []Row, conc []float64) (rev, c float64) {
			for i := len(rows) - last; i < len(rows); i++ {
				rev += rows[i].Revenue
				c += conc[i]
			}
			return rev, c
		}
		gRev, gConc := sum(g, r.concealment["gbdt"])
		hRev, hConc := sum(h, r.concealment[hybrid])
		t.Logf("drift %v: gbdt weekly precision %.3f in the 6 weeks before %s, %.3f in the 4 after; last %d weeks: revenue gbdt %.0f, gbdt 0.9 / random 0.1 %.0f (%+.1f%%); of it from concealment %.0f and %.0f",
			drift, pre, at.Format(time.DateOnly), post, last, gRev, hRev, 100*(hRev/gRev-1), gConc, hConc)
		if !drift {
			if !(post > 0.85*pre) {
				t.Errorf("without drift, gbdt's precision went from %.3f to %.3f: want no fall", pre, post)
			}
			continue
		}
		if !(post < 0.75*pre) {
			t.Errorf("with drift, gbdt's precision went from %.3f to %.3f: want a fall of a quarter or more", pre, post)
		}
		if gConc == 0 {
			t.Error("with drift, pure gbdt raised nothing from concealment over the last weeks: the hidden drift did not happen")
		}
	}
}
