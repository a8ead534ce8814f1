package synth

import (
	"math"
	"slices"
	"strings"
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

// TestDriftHidden: Drift.Hidden flows start concealment at the date, on
// HS6 codes and partners with little fraud before it, and their rows' unit
// values look like the clean rows' of the same code, where undervaluation's
// do not: fraud a model trained before the date has no sign of. Read from
// the output columns.
func TestDriftHidden(t *testing.T) {
	cfg := smallConfig(120_000)
	cfg.Drift = DefaultDrift()
	cfg.Drift.At = time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	cfg.Drift.Hidden = 10
	dr := collect(t, mustNew(t, cfg))
	again := collect(t, mustNew(t, cfg))
	at := int32(day(cfg.Drift.At))
	codes, partners := map[string]bool{}, map[string]bool{}
	var fraud [2][2]int // [before/after][rows, frauds]
	for i := range dr.len() {
		if dr.fraud[i] != again.fraud[i] || dr.fob[i] != again.fob[i] || dr.net[i] != again.net[i] {
			t.Fatalf("row %d differs between two runs of the same config", i)
		}
		side := 0
		if dr.date[i] >= at {
			side = 1
		}
		fraud[side][0]++
		if dr.fraud[i] != FraudNone {
			fraud[side][1]++
		}
		if dr.fraud[i] == FraudQuantity {
			if side == 0 {
				t.Fatalf("row %d: concealment before the drift date", i)
			}
			if !(dr.revenue[i] > 0) && dr.labelled[i] {
				t.Fatalf("row %d: concealment with revenue %v", i, dr.revenue[i])
			}
			codes[dr.hs[i][:6]], partners[dr.origin[i]] = true, true
		}
	}
	if len(codes) == 0 {
		t.Fatal("no concealment after the drift date")
	}
	// Fraud history of those codes and partners before the date, against
	// every row's.
	rate := func(keep func(i int) bool) float64 {
		n, f := 0, 0
		for i := range dr.len() {
			if dr.date[i] < at && keep(i) {
				n++
				if dr.fraud[i] != FraudNone {
					f++
				}
			}
		}
		return float64(f) / float64(max(1, n))
	}
	all := rate(func(int) bool { return true })
	onCodes := rate(func(i int) bool { return codes[dr.hs[i][:6]] })
	onPartners := rate(func(i int) bool { return partners[dr.origin[i]] })
	after := float64(fraud[1][1]) / float64(fraud[1][0])
	t.Logf("%d codes, %d partners; fraud rate before the date: all rows %.4f, those codes %.4f, those partners %.4f; after the date %.4f",
		len(codes), len(partners), all, onCodes, onPartners, after)
	if onCodes > all || onPartners > 1.5*all {
		t.Errorf("the concealment flows' codes (%.4f) or partners (%.4f) had more fraud before the date than all rows (%.4f)", onCodes, onPartners, all)
	}
	if math.Abs(after/all-1) > 0.25 {
		t.Errorf("fraud rate %.4f after the date against %.4f before: the calibration should keep it", after, all)
	}
	// Unit values: mean log fob/net of each fraud type's rows after the date
	// less that of the clean rows of the same flow (partner and code: a
	// partner has its own price level) after the date.
	clean := map[string][2]float64{}
	for i := range dr.len() {
		if dr.date[i] >= at && dr.fraud[i] == FraudNone && dr.net[i] > 0 {
			c := clean[dr.origin[i]+dr.hs[i][:6]]
			clean[dr.origin[i]+dr.hs[i][:6]] = [2]float64{c[0] + math.Log(dr.fob[i]/dr.net[i]), c[1] + 1}
		}
	}
	gap := func(ft string) float64 {
		s, n := 0.0, 0
		for i := range dr.len() {
			c := clean[dr.origin[i]+dr.hs[i][:6]]
			if dr.date[i] >= at && dr.fraud[i] == ft && dr.net[i] > 0 && c[1] >= 20 {
				s += math.Log(dr.fob[i]/dr.net[i]) - c[0]/c[1]
				n++
			}
		}
		return s / float64(max(1, n))
	}
	gq, gu := gap(FraudQuantity), gap(FraudUndervaluation)
	t.Logf("mean log unit value against the clean rows of the same flow: concealment %+.3f, undervaluation %+.3f", gq, gu)
	if math.Abs(gq) > 0.1 || gu > -0.5 {
		t.Errorf("unit value gap: concealment %+.3f (want within 0.1), undervaluation %+.3f (want below -0.5)", gq, gu)
	}
	bad := cfg
	bad.Drift.Hidden = -1
	if err := bad.Validate(); err == nil {
		t.Error("a negative number of hidden flows was accepted")
	}
}

// TestDriftHiddenShare checks the magnitude of the hidden drift
// (Drift.HiddenShare) from the output columns: the share of the frauds and
// of the revenue after the date that concealment carries, for the default
// (0, read as 0.4) and for 0.8 with 40 flows and no new planted flow; the
// fraud rate after the date stays the configured one, and 0.4 given
// explicitly makes the same rows as the default.
func TestDriftHiddenShare(t *testing.T) {
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	shares := func(d Drift) (frauds, revenue, rate float64, out *table) {
		cfg := smallConfig(120_000)
		cfg.Drift, cfg.LabelRate = d, 1 // every revenue known
		out = collect(t, mustNew(t, cfg))
		var n, f, q int
		var rev, qrev float64
		for i := range out.len() {
			if out.date[i] < int32(day(at)) {
				continue
			}
			n++
			if out.fraud[i] != FraudNone {
				f++
				rev += out.revenue[i]
			}
			if out.fraud[i] == FraudQuantity {
				q++
				qrev += out.revenue[i]
			}
		}
		return float64(q) / float64(f), qrev / rev, float64(f) / float64(n), out
	}
	d := DefaultDrift()
	d.At, d.Hidden = at, 20
	f0, r0, rate0, def := shares(d)
	d.HiddenShare = 0.4
	_, _, _, explicit := shares(d)
	for i := range def.len() {
		if def.fraud[i] != explicit.fraud[i] || def.fob[i] != explicit.fob[i] {
			t.Fatalf("row %d: HiddenShare 0.4 differs from the default (0)", i)
		}
	}
	d.HiddenShare, d.Hidden, d.Flows, d.Offenders = 0.8, 40, 0, 1
	f8, r8, rate8, _ := shares(d)
	t.Logf("concealment after the date: default %.3f of frauds, %.3f of revenue (fraud rate %.4f); share 0.8 with 40 flows: %.3f of frauds, %.3f of revenue (fraud rate %.4f)",
		f0, r0, rate0, f8, r8, rate8)
	if !(f0 > 0.2 && f0 < 0.45) || !(f8 > 0.65 && f8 < 0.9) {
		t.Errorf("concealment's share of the frauds after the date: %.3f by default (want 0.2 to 0.45), %.3f at 0.8 (want 0.65 to 0.9)", f0, f8)
	}
	for _, r := range []float64{rate0, rate8} {
		if math.Abs(r/DefaultConfig().FraudRate-1) > 0.15 {
			t.Errorf("fraud rate %.4f after the date: the calibration should keep %.4f", r, DefaultConfig().FraudRate)
		}
	}
	// Persist: the flows planted before the date stay fraudulent at 0.3
	// after it (0 without), and the fraud rate stays the configured one.
	oldFlows := func(tb *table) (before, after float64) {
		var n, f [2]map[string]int
		for s := range n {
			n[s], f[s] = map[string]int{}, map[string]int{}
		}
		for i := range tb.len() {
			s := 0
			if tb.date[i] >= int32(day(at)) {
				s = 1
			}
			k := tb.origin[i] + tb.hs[i][:6]
			n[s][k]++
			if tb.fraud[i] != FraudNone {
				f[s][k]++
			}
		}
		var nb, fb, na, fa int
		for k, c := range n[0] {
			if c >= 30 && float64(f[0][k]) > 0.4*float64(c) { // a planted flow before the date
				nb, fb, na, fa = nb+c, fb+f[0][k], na+n[1][k], fa+f[1][k]
			}
		}
		return float64(fb) / float64(max(1, nb)), float64(fa) / float64(max(1, na))
	}
	dp := DefaultDrift()
	dp.At, dp.Hidden, dp.Flows, dp.Offenders, dp.Persist = at, 20, 0, 1, 0.3
	_, _, rateP, kept := shares(dp)
	pb, pa := oldFlows(kept)
	dp.Persist = 0
	_, _, _, stopped := shares(dp)
	sb, sa := oldFlows(stopped)
	t.Logf("old planted flows' fraud rate before and after the date: persist 0.3 %.3f, %.3f (all rows after %.4f); persist 0 %.3f, %.3f", pb, pa, rateP, sb, sa)
	if !(pa > 0.22 && pa < 0.4) || !(sa < 0.12) || math.Abs(rateP/DefaultConfig().FraudRate-1) > 0.15 {
		t.Errorf("old flows after the date: %.3f with persist 0.3 (want 0.22 to 0.4), %.3f with 0 (want below 0.12); fraud rate %.4f", pa, sa, rateP)
	}

	bad := smallConfig(1000)
	bad.Drift = d
	bad.Drift.HiddenShare = 1
	if err := bad.Validate(); err == nil {
		t.Error("a hidden share of 1 was accepted")
	}
	bad.Drift.HiddenShare, bad.Drift.Persist = 0, 0.7
	if err := bad.Validate(); err == nil {
		t.Error("a persist of 0.7, above a planted flow's 0.6, was accepted")
	}
}

// TestDriftNewcomersTurn checks Drift.Newcomers and Drift.Turn from the
// output columns, on a drift that keeps the old patterns (no flow or
// offender stops, the old flows persist at 0.4, no price shift): the rows
// before the date are those of the same drift without them; after it a
// share Newcomers of the rows comes from importers never seen before, at
// twice the fraud rate or more; with Turn more importers with a clean record
// before the date commit fraud after it, while those that did before still
// do; the fraud rate stays the configured one; the same config gives the
// same rows.
func TestDriftNewcomersTurn(t *testing.T) {
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	run := func(newcomers, turn float64) *table {
		cfg := smallConfig(120_000)
		cfg.Drift = Drift{At: at, Persist: 0.4, Newcomers: newcomers, Turn: turn}
		return collect(t, mustNew(t, cfg))
	}
	plain, both, again := run(0, 0), run(0.05, 1), run(0.05, 1)
	turned := run(0, 1)
	day0 := int32(day(at))
	for i := range plain.len() {
		if both.fraud[i] != again.fraud[i] || both.fob[i] != again.fob[i] || both.importer[i] != again.importer[i] {
			t.Fatalf("row %d differs between two runs of the same config", i)
		}
		if plain.date[i] < day0 && (both.fraud[i] != plain.fraud[i] || both.fob[i] != plain.fob[i] ||
			both.importer[i] != plain.importer[i] || both.hs[i] != plain.hs[i]) {
			t.Fatalf("row %d (before the date) differs from the same drift without newcomers and turn", i)
		}
	}
	// Per importer: rows and frauds before and after the date.
	type cnt struct{ n, f [2]int }
	byImp := func(tb *table) map[string]*cnt {
		m := map[string]*cnt{}
		for i := range tb.len() {
			c := m[tb.importer[i]]
			if c == nil {
				c = &cnt{}
				m[tb.importer[i]] = c
			}
			s := 0
			if tb.date[i] >= day0 {
				s = 1
			}
			c.n[s]++
			if tb.fraud[i] != FraudNone {
				c.f[s]++
			}
		}
		return m
	}
	rate := func(tb *table) float64 {
		var n, f int
		for _, c := range byImp(tb) {
			n, f = n+c.n[1], f+c.f[1]
		}
		return float64(f) / float64(n)
	}
	// newcomers
	var nNew, fNew, nAfter int
	for _, c := range byImp(both) {
		nAfter += c.n[1]
		if c.n[0] == 0 {
			nNew, fNew = nNew+c.n[1], fNew+c.f[1]
		}
	}
	var nNew0 int
	for _, c := range byImp(plain) {
		if c.n[0] == 0 {
			nNew0 += c.n[1]
		}
	}
	shareNew, rateNew := float64(nNew)/float64(nAfter), float64(fNew)/float64(max(1, nNew))
	// turning: importers clean before the date (20+ rows, under 5% fraud)
	// with 20% fraud or more after it; importers heavy before still heavy
	// after
	turning := func(tb *table) (turned int, kept float64) {
		var heavy, still int
		for _, c := range byImp(tb) {
			if c.n[0] >= 20 && float64(c.f[0]) < 0.05*float64(c.n[0]) && c.n[1] >= 20 && float64(c.f[1]) >= 0.2*float64(c.n[1]) {
				turned++
			}
			if c.n[0] >= 20 && float64(c.f[0]) >= 0.3*float64(c.n[0]) && c.n[1] >= 20 {
				heavy++
				if float64(c.f[1]) >= 0.15*float64(c.n[1]) {
					still++
				}
			}
		}
		return turned, float64(still) / float64(max(1, heavy))
	}
	t0, k0 := turning(plain)
	t1, k1 := turning(turned)
	t.Logf("newcomers 0.05: %.4f of the rows after the date from importers never seen before (%.4f without), their fraud rate %.3f; fraud rate after the date %.4f", shareNew, float64(nNew0)/float64(nAfter), rateNew, rate(both))
	t.Logf("turn 1: %d importers under 5%% fraud before the date and 20%%+ after it (%d without); offenders before the date still at 15%%+ after it: %.2f (%.2f without); fraud rate after the date %.4f",
		t1, t0, k1, k0, rate(turned))
	if !(shareNew > 0.035 && shareNew < 0.065) || float64(nNew0)/float64(nAfter) > 0.005 {
		t.Errorf("newcomers' share of the rows after the date: %.4f (want 0.035 to 0.065), %.4f without (want below 0.005)", shareNew, float64(nNew0)/float64(nAfter))
	}
	if rateNew < 2*DefaultConfig().FraudRate {
		t.Errorf("newcomers' fraud rate %.3f: repeat offenders should be at twice the fraud rate or more", rateNew)
	}
	if t1 < t0+10 || k1 < 0.5 {
		t.Errorf("turn 1: %d importers turned (%d without; want 10 more), %.2f of the offenders kept (want 0.5 or more)", t1, t0, k1)
	}
	for _, tb := range []*table{plain, both, turned} {
		if r := rate(tb); math.Abs(r/DefaultConfig().FraudRate-1) > 0.15 {
			t.Errorf("fraud rate %.4f after the date: the calibration should keep %.4f", r, DefaultConfig().FraudRate)
		}
	}
	bad := smallConfig(1000)
	bad.Drift = Drift{At: at, Newcomers: 0.6}
	if err := bad.Validate(); err == nil {
		t.Error("newcomers 0.6 were accepted")
	}
	bad.Drift = Drift{At: at, Turn: -1}
	if err := bad.Validate(); err == nil {
		t.Error("a negative turn was accepted")
	}
}

// TestDriftTurnUniform checks Drift.TurnUniform from the output: the rows
// before the date are those of Turn drawn by activity; Starters lists as
// many turners either way, clean before the date and at three times that
// fraud rate or more after it; drawn uniformly, their median number of rows
// before the date is half the by-activity turners' or less (small traders);
// without drift Starters is empty.
func TestDriftTurnUniform(t *testing.T) {
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	type stat struct {
		n          int
		medRows    int
		rate, prev float64
	}
	var tabs [2]*table
	var stats [2]stat
	for k, uniform := range []bool{false, true} {
		cfg := smallConfig(120_000)
		cfg.Drift = Drift{At: at, Persist: 0.4, Turn: 2, TurnUniform: uniform}
		g := mustNew(t, cfg)
		ids := g.Starters()
		tb := collect(t, g)
		again := mustNew(t, cfg).Starters()
		if !slices.Equal(ids, again) {
			t.Fatalf("uniform %v: two generators of the same config list other starters", uniform)
		}
		turner := map[string]bool{}
		for _, id := range ids {
			turner[id] = true
		}
		rows := map[string]int{}
		day0 := int32(day(at))
		var n, f [2]int
		for i := range tb.len() {
			if !turner[tb.importer[i]] {
				continue
			}
			s := 0
			if tb.date[i] >= day0 {
				s = 1
			} else {
				rows[tb.importer[i]]++
			}
			n[s]++
			if tb.fraud[i] != FraudNone {
				f[s]++
			}
		}
		before := make([]int, 0, len(ids))
		for _, id := range ids {
			before = append(before, rows[id])
		}
		slices.Sort(before)
		stats[k] = stat{n: len(ids), medRows: before[len(before)/2],
			prev: float64(f[0]) / float64(max(1, n[0])), rate: float64(f[1]) / float64(max(1, n[1]))}
		tabs[k] = tb
	}
	for i := range tabs[0].len() {
		if tabs[0].date[i] < int32(day(at)) && (tabs[0].fraud[i] != tabs[1].fraud[i] || tabs[0].importer[i] != tabs[1].importer[i] || tabs[0].fob[i] != tabs[1].fob[i]) {
			t.Fatalf("row %d (before the date) differs between turners drawn by activity and uniformly", i)
		}
	}
	a, u := stats[0], stats[1]
	t.Logf("turn 2 by activity: %d turners, median %d rows before the date, fraud rate %.3f before, %.3f after", a.n, a.medRows, a.prev, a.rate)
	t.Logf("turn 2 uniform:     %d turners, median %d rows before the date, fraud rate %.3f before, %.3f after", u.n, u.medRows, u.prev, u.rate)
	if a.n != u.n || a.n == 0 {
		t.Errorf("%d turners by activity, %d uniform: want the same number, more than 0", a.n, u.n)
	}
	if !(u.medRows*2 <= a.medRows) {
		t.Errorf("median rows before the date: %d uniform, %d by activity: want half or less", u.medRows, a.medRows)
	}
	for _, s := range stats {
		if !(s.prev < 0.05 && s.rate > 3*s.prev && s.rate > 0.1) {
			t.Errorf("turners' fraud rate %.3f before the date, %.3f after: want under 0.05, then over 0.1 and 3 times more", s.prev, s.rate)
		}
	}
	if got := mustNew(t, smallConfig(1000)).Starters(); got != nil {
		t.Errorf("without drift, Starters = %v", got)
	}
}

// TestDriftHiddenEstablished checks Drift.HiddenEstablished from the output:
// the concealment flows it picks have more rows before the date than those
// Hidden picks on its own (more clean labels in a model's history), at a
// fraud rate there below half the overall one; concealment appears only
// after the date and carries the share of the frauds its probability gives
// (HiddenShare, less when the 0.6 cap binds); the fraud rate stays the
// configured one; the declarations before the date are those of Hidden's
// own choice.
func TestDriftHiddenEstablished(t *testing.T) {
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	type flowStats struct {
		before                     map[string]int // rows of each concealment flow before the date
		beforeRate, share, afterFR float64        // their fraud rate before; concealment's share of the frauds after; fraud rate after
		rowShare                   float64        // the concealment flows' share of the rows after
		out                        *table
	}
	measure := func(established bool) flowStats {
		cfg := smallConfig(120_000)
		cfg.LabelRate = 1
		cfg.Drift = Drift{At: at, Hidden: 10, HiddenShare: 0.6, Persist: 0.2, HiddenEstablished: established}
		out := collect(t, mustNew(t, cfg))
		flows := map[string]bool{}
		for i := range out.len() {
			if out.fraud[i] == FraudQuantity {
				if out.date[i] < int32(day(at)) {
					t.Fatalf("row %d: concealment before the drift date", i)
				}
				flows[out.origin[i]+out.hs[i][:6]] = true
			}
		}
		s := flowStats{before: map[string]int{}, out: out}
		var nb, fb, na, fa, qa, ha int
		for i := range out.len() {
			k := out.origin[i] + out.hs[i][:6]
			fraud := out.fraud[i] != FraudNone
			if out.date[i] < int32(day(at)) {
				if flows[k] {
					s.before[k]++
					nb++
					if fraud {
						fb++
					}
				}
				continue
			}
			na++
			if fraud {
				fa++
			}
			if out.fraud[i] == FraudQuantity {
				qa++
			}
			if flows[k] {
				ha++
			}
		}
		s.beforeRate, s.share, s.afterFR = float64(fb)/float64(max(1, nb)), float64(qa)/float64(max(1, fa)), float64(fa)/float64(na)
		s.rowShare = float64(ha) / float64(na)
		return s
	}
	median := func(m map[string]int) int {
		var v []int
		for _, c := range m {
			v = append(v, c)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	est, own := measure(true), measure(false)
	rate := DefaultConfig().FraudRate
	t.Logf("established: %d flows, median %d rows before the date (fraud rate %.3f), %.3f of the rows after it, concealment %.3f of its frauds (fraud rate %.4f); Hidden's own: %d flows, median %d rows (%.3f), %.3f, %.3f (%.4f)",
		len(est.before), median(est.before), est.beforeRate, est.rowShare, est.share, est.afterFR,
		len(own.before), median(own.before), own.beforeRate, own.rowShare, own.share, own.afterFR)
	if len(est.before) != 10 {
		t.Errorf("%d concealment flows, want 10", len(est.before))
	}
	if !(median(est.before) >= 2*median(own.before)) {
		t.Errorf("established flows: median %d rows before the date, want at least twice Hidden's own choice (%d)", median(est.before), median(own.before))
	}
	if !(est.beforeRate < rate/2) {
		t.Errorf("established flows' fraud rate before the date %.3f: want clean trade, below %.3f", est.beforeRate, rate/2)
	}
	// Their probability is min(0.6, 0.6*rate/share of the rows): the share
	// of the frauds after the date follows from the rows' share.
	want := min(0.6, 0.6*rate/est.rowShare) * est.rowShare / rate
	if math.Abs(est.share-want) > 0.07 {
		t.Errorf("concealment %.3f of the frauds after the date; its flows hold %.3f of the rows, so want %.3f", est.share, est.rowShare, want)
	}
	for _, r := range []float64{est.afterFR, own.afterFR} {
		if math.Abs(r/rate-1) > 0.15 {
			t.Errorf("fraud rate %.4f after the date: the calibration should keep %.4f", r, rate)
		}
	}
	// The declarations before the date (the row stream) are the same; the
	// fraud draws may shift from the first misclassification whose every
	// alternative code became a planted flow's (it falls back to
	// undervaluation, one more draw), as between any two drifts.
	differ, n := 0, 0
	for i := range est.out.len() {
		if est.out.date[i] >= int32(day(at)) {
			break
		}
		n++
		if est.out.importer[i] != own.out.importer[i] || est.out.seller[i] != own.out.seller[i] || est.out.declarant[i] != own.out.declarant[i] || est.out.date[i] != own.out.date[i] || est.out.office[i] != own.out.office[i] {
			t.Fatalf("row %d before the date: another declaration than with Hidden's own choice", i)
		}
		if est.out.fraud[i] != own.out.fraud[i] || est.out.fob[i] != own.out.fob[i] {
			differ++
		}
	}
	t.Logf("rows before the date whose fraud differs from Hidden's own choice: %d of %d", differ, n)

	bad := smallConfig(1000)
	bad.Drift = Drift{At: at, HiddenEstablished: true}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "hidden established") {
		t.Errorf("HiddenEstablished without Hidden: error %v", err)
	}
}
