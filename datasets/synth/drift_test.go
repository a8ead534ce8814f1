package synth

import (
	"math"
	"testing"
	"time"
)

// TestDrift: with a drift date the rows before it are those of the run
// without drift (but for the code a misclassification picks); after it the fraud moves to other HS x origin flows and
// other importers, and unit values move, all read from the output columns.
func TestDrift(t *testing.T) {
	cfg := smallConfig(120_000)
	base := collect(t, mustNew(t, cfg))
	cfg.Drift = DefaultDrift()
	cfg.Drift.At = time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	dr := collect(t, mustNew(t, cfg))
	again := collect(t, mustNew(t, cfg))
	at := int32(day(cfg.Drift.At))

	if base.len() != dr.len() {
		t.Fatalf("%d rows without drift, %d with", base.len(), dr.len())
	}
	first := -1
	for i := range dr.len() {
		if dr.fraud[i] != again.fraud[i] || dr.fob[i] != again.fob[i] || dr.importer[i] != again.importer[i] {
			t.Fatalf("row %d differs between two runs of the same config", i)
		}
		if dr.date[i] < at {
			// a misclassification may pick another code where the first
			// would land in a flow under-declared after the date
			sameHS := dr.hs[i] == base.hs[i] || dr.fraud[i] == FraudMisclassification
			if dr.fraud[i] != base.fraud[i] || dr.fob[i] != base.fob[i] || !sameHS || dr.illicit[i] != base.illicit[i] {
				t.Fatalf("row %d (before the drift date) differs from the run without drift", i)
			}
		} else if first < 0 {
			first = i
		}
	}
	if first < 0 {
		t.Fatal("no row after the drift date")
	}

	// fraud by importer and by partner x HS6, before and after the date
	type key struct{ a, b string }
	count := func(tb *table, lo, hi int, by func(i int) key) map[key][2]int {
		m := map[key][2]int{}
		for i := lo; i < hi; i++ {
			c := m[by(i)]
			c[0]++
			if tb.fraud[i] != FraudNone {
				c[1]++
			}
			m[by(i)] = c
		}
		return m
	}
	heavy := func(m map[key][2]int) map[key]bool {
		out := map[key]bool{}
		for k, c := range m {
			if c[0] >= 40 && float64(c[1]) > 0.3*float64(c[0]) {
				out[k] = true
			}
		}
		return out
	}
	overlap := func(a, b map[key]bool) float64 {
		n := 0
		for k := range a {
			if b[k] {
				n++
			}
		}
		return float64(n) / float64(max(1, len(a)))
	}
	byImp := func(tb *table) func(int) key { return func(i int) key { return key{tb.importer[i], ""} } }
	byFlow := func(tb *table) func(int) key { return func(i int) key { return key{tb.origin[i], tb.hs[i][:6]} } }
	for _, c := range []struct {
		what string
		by   func(*table) func(int) key
		max  float64
	}{{"importers", byImp, 0.75}, {"partner x HS6 flows", byFlow, 0.5}} {
		before := heavy(count(dr, 0, first, c.by(dr)))
		after := heavy(count(dr, first, dr.len(), c.by(dr)))
		still := heavy(count(base, first, base.len(), c.by(base)))
		o, ob := overlap(before, after), overlap(before, still)
		t.Logf("heavy-fraud %s: %d before, %d after the date; share of the first still heavy: %.2f with drift, %.2f without", c.what, len(before), len(after), o, ob)
		if len(after) == 0 || o > c.max || o >= ob-0.2 {
			t.Errorf("heavy-fraud %s: %.2f of those before the date are still heavy after it (%.2f without drift); want at most %.2f", c.what, o, ob, c.max)
		}
	}

	// prices: the median log ratio of clean unit values after and before,
	// per HS6, spreads out with drift
	spread := func(tb *table) float64 {
		type acc struct {
			s [2]float64
			n [2]int
		}
		m := map[string]*acc{}
		for i := range tb.len() {
			if tb.fraud[i] != FraudNone || tb.net[i] <= 0 {
				continue
			}
			a := m[tb.hs[i][:6]]
			if a == nil {
				a = &acc{}
				m[tb.hs[i][:6]] = a
			}
			side := 0
			if tb.date[i] >= at {
				side = 1
			}
			a.s[side] += math.Log(tb.fob[i] / tb.net[i])
			a.n[side]++
		}
		ss, n := 0.0, 0
		for _, a := range m {
			if a.n[0] >= 50 && a.n[1] >= 50 {
				d := a.s[1]/float64(a.n[1]) - a.s[0]/float64(a.n[0])
				ss += d * d
				n++
			}
		}
		return math.Sqrt(ss / float64(n))
	}
	sb, sd := spread(base), spread(dr)
	t.Logf("rms shift of mean log unit value per HS6 across the date: %.3f without drift, %.3f with (price shift %.2f)", sb, sd, cfg.Drift.PriceShift)
	if !(sd > sb+0.5*cfg.Drift.PriceShift) {
		t.Errorf("price shift: rms %.3f with drift against %.3f without; want at least %.3f more", sd, sb, 0.5*cfg.Drift.PriceShift)
	}

	bad := cfg
	bad.Drift.At = cfg.Start
	if err := bad.Validate(); err == nil {
		t.Error("a drift on the first day was accepted")
	}
}
