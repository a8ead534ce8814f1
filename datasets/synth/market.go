package synth

import (
	"math"
	"math/rand/v2"
	"slices"

	"risklane/ingest/prices"
)

// marketSD is the spread of a market price around its code's median unit
// value: shops do not sell at exactly the typical declared price.
const marketSD = 0.05

// MarketSource names the prices of MarketPrices.
const MarketSource = "synthetic market survey"

// MarketPrices returns a market price table that matches the declarations
// (docs/prices.md): one price per kg for every HS6 code of the catalogue,
// its median true FOB unit value exp(mu) times exp(Normal(0, 0.05)), in
// US$, seen on Config.Start, sorted by code. It draws from a stream of its
// own, so the declarations are the same with or without it, and the same
// Config gives the same table. Undervalued rows declare 10% to 70% of the
// true value, so their unit values fall well below these prices.
func (g *Generator) MarketPrices() []prices.Price {
	r := rand.New(rand.NewPCG(g.cfg.Seed, 7))
	c := g.cat
	ps := make([]prices.Price, c.numCodes)
	for h := range c.numCodes {
		ps[h] = prices.Price{
			HS6: c.hs6Str[h], Product: c.desc[h], Price: roundSig(math.Exp(c.mu[h]+marketSD*r.NormFloat64()), 4),
			Currency: "USD", Unit: prices.PerKg, Source: MarketSource, FetchedAt: g.cfg.Start.UTC(),
		}
	}
	slices.SortFunc(ps, func(a, b prices.Price) int {
		switch {
		case a.HS6 < b.HS6:
			return -1
		case a.HS6 > b.HS6:
			return 1
		}
		return 0
	})
	return ps
}

// roundSig rounds v to n significant digits, as a price list writes it.
func roundSig(v float64, n int) float64 {
	if v == 0 {
		return 0
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}
