package synth

import (
	"slices"
	"strings"
	"testing"

	"risklane/ingest/prices"
	"risklane/stats"
)

// The market price table is deterministic, covers every code, and sits at
// the clean declarations' typical FOB unit value, measured from the
// generated rows rather than the catalogue.
func TestMarketPrices(t *testing.T) {
	cfg := smallConfig(30_000)
	g := mustNew(t, cfg)
	tb := collect(t, g)
	ps := g.MarketPrices()
	if again := mustNew(t, cfg).MarketPrices(); !slices.Equal(ps, again) {
		t.Fatal("the same configuration gives another price table")
	}
	if len(ps) != cfg.NumHS || !slices.IsSortedFunc(ps, func(a, b prices.Price) int { return strings.Compare(a.HS6, b.HS6) }) {
		t.Errorf("%d prices for %d codes, or not sorted", len(ps), cfg.NumHS)
	}
	uv := map[string][]float64{}
	for i := range tb.len() {
		if tb.fraud[i] == FraudNone {
			uv[tb.hs[i][:6]] = append(uv[tb.hs[i][:6]], tb.fob[i]/tb.net[i])
		}
	}
	var ratios []float64
	for _, p := range ps {
		if p.Currency != "USD" || p.Unit != "kg" || p.Source != MarketSource || !p.FetchedAt.Equal(cfg.Start) {
			t.Fatalf("price %+v", p)
		}
		if v := uv[p.HS6]; len(v) >= 30 {
			ratios = append(ratios, p.Price/stats.MedianOf(v))
		}
	}
	if len(ratios) < 20 {
		t.Fatalf("only %d codes with 30 clean rows", len(ratios))
	}
	// exp(mu) leaves out the origins' price levels, which the rows carry
	// (1.15 for this configuration): a market price near, not at, the
	// declared values, as retail prices are.
	m := stats.MedianOf(ratios)
	t.Logf("market price over the clean median FOB unit value: median %.3f over %d codes", m, len(ratios))
	if m < 0.8 || m > 1.25 {
		t.Errorf("market prices are %.3f times the clean unit values, want 0.8 to 1.25", m)
	}
}
