// Package market is the market feature group: a declaration's unit value
// against the market price of its HS6 code in the same unit (per kg or per
// piece), from a price table that package prices collected or imported
// (BACUDA series 4; docs/prices.md). A declared unit value far below what
// the product sells for is the plainest sign of undervaluation, and unlike
// the k-means reference prices it does not depend on the declarations
// themselves being honest.
package market

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/features/pricecluster"
	"risklane/ingest/prices"
)

// GroupName is the feature group's name: risklane train --market-prices.
const GroupName = "market"

// Names are the group's features: declared unit value over the market
// price, per kg and per piece; NaN when the row has no such unit value or
// the HS6 code no such price.
var Names = []string{"market_uv_ratio_kg", "market_uv_ratio_unit"}

// NewGroup returns the group as package features registers it: unfitted,
// to be restored from a saved state or made with a price table.
func NewGroup() features.Signal { return &Feature{} }

// Ref is the market price of one HS6 code in one unit: the median of the
// prices seen (the lower middle one for an even count, so that it is a
// price someone asked), where and when that one was seen, and how many
// prices there were.
type Ref struct {
	HS6    string  `json:"hs6"`
	Unit   string  `json:"unit"`
	Price  float64 `json:"price"`
	Source string  `json:"source"`
	Date   string  `json:"date"`
	N      int     `json:"n"`
}

// Table holds the market prices of a price table by HS6 code and unit.
type Table struct {
	Currency string
	Refs     []Ref
	byKey    map[key]int
}

type key struct {
	hs6  int32
	unit string
}

// NewTable builds the references of a price table. Every price must be in
// one currency, the declarations' (convert with risklane prices --rates).
func NewTable(ps []prices.Price) (*Table, error) {
	if len(ps) == 0 {
		return nil, errors.New("market: the price table is empty")
	}
	t := &Table{Currency: ps[0].Currency}
	groups := map[key][]prices.Price{}
	for _, p := range ps {
		if p.Currency != t.Currency {
			return nil, fmt.Errorf("market: the price table mixes currencies (%s and %s); convert it into the declarations' currency with risklane prices import --rates FILE --to CUR", t.Currency, p.Currency)
		}
		k := key{pricecluster.ParseHS6(p.HS6), p.Unit}
		if k.hs6 == pricecluster.NoHS6 || (p.Unit != prices.PerKg && p.Unit != prices.PerUnit) || !(p.Price > 0) {
			return nil, fmt.Errorf("market: price %+v is not a positive price of an HS6 code per kg or per piece", p)
		}
		groups[k] = append(groups[k], p)
	}
	for _, g := range groups {
		slices.SortStableFunc(g, func(a, b prices.Price) int {
			return cmp.Or(cmp.Compare(a.Price, b.Price), a.FetchedAt.Compare(b.FetchedAt), cmp.Compare(a.Source, b.Source))
		})
		m := g[(len(g)-1)/2]
		t.Refs = append(t.Refs, Ref{HS6: m.HS6, Unit: m.Unit, Price: m.Price, Source: m.Source,
			Date: m.FetchedAt.UTC().Format(time.DateOnly), N: len(g)})
	}
	slices.SortFunc(t.Refs, func(a, b Ref) int { return cmp.Or(cmp.Compare(a.HS6, b.HS6), cmp.Compare(a.Unit, b.Unit)) })
	t.index()
	return t, nil
}

func (t *Table) index() {
	t.byKey = make(map[key]int, len(t.Refs))
	for i, r := range t.Refs {
		t.byKey[key{pricecluster.ParseHS6(r.HS6), r.Unit}] = i
	}
}

// Lookup returns the market price of an HS6 code (pricecluster.ParseHS6)
// in a unit (prices.PerKg, prices.PerUnit).
func (t *Table) Lookup(hs6 int32, unit string) (Ref, bool) {
	i, ok := t.byKey[key{hs6, unit}]
	if !ok {
		return Ref{}, false
	}
	return t.Refs[i], true
}

// ReadTable reads price tables (as risklane prices writes them) into one
// Table; a row the table cannot use is an error naming it.
func ReadTable(paths ...string) (*Table, error) {
	var all []prices.Price
	for _, p := range paths {
		ps, rejects, err := prices.Import(p, prices.ImportOptions{})
		if err != nil {
			return nil, fmt.Errorf("market: %w", err)
		}
		if len(rejects) > 0 {
			return nil, fmt.Errorf("market: price table %s: %s (%d rows unusable)", p, rejects[0].Error(), len(rejects))
		}
		all = append(all, ps...)
	}
	return NewTable(all)
}

// Feature is the market feature group of package features.
type Feature struct {
	paths []string
	table *Table
	pool  sync.Pool // *pricecluster.Rows
}

// NewFeature returns the group that Fit builds from the price table files.
func NewFeature(paths ...string) *Feature { return &Feature{paths: slices.Clone(paths)} }

// FeatureOf returns the group of a table already built.
func FeatureOf(t *Table) *Feature { return &Feature{table: t} }

// Name returns GroupName.
func (f *Feature) Name() string { return GroupName }

// Features returns Names.
func (f *Feature) Features() []string { return slices.Clone(Names) }

// Table returns the market prices; nil before Fit or UnmarshalJSON.
func (f *Feature) Table() *Table { return f.table }

// Fit reads the price table; the declarations teach it nothing (no labels
// are used, so there is nothing to leak).
func (f *Feature) Fit([]arrow.RecordBatch) error {
	if f.table != nil && len(f.paths) == 0 {
		return nil
	}
	if len(f.paths) == 0 {
		return errors.New("market: the market features need a price table: give --market-prices FILE (risklane train), or market.NewFeature in features.Config.Signals")
	}
	t, err := ReadTable(f.paths...)
	if err != nil {
		return err
	}
	f.table = t
	latest.Store(t)
	return nil
}

// Apply writes, for every row of rec, its customs value per kg of mass and
// per piece over the market price of its HS6 code in that unit.
func (f *Feature) Apply(rec arrow.RecordBatch, out [][]float64) error {
	if f.table == nil {
		return errors.New("market: the market features are applied before they are built")
	}
	n := int(rec.NumRows())
	if err := features.CheckOutput(GroupName, Names, out, n); err != nil {
		return err
	}
	rows, _ := f.pool.Get().(*pricecluster.Rows)
	if rows == nil {
		rows = new(pricecluster.Rows)
	}
	defer f.pool.Put(rows)
	rows.Reset()
	if err := rows.Append(rec); err != nil {
		return fmt.Errorf("market: %w", err)
	}
	for i := range n {
		out[0][i], out[1][i] = math.NaN(), math.NaN()
		v := rows.Value[i]
		if !(v > 0) {
			continue
		}
		if r, ok := f.table.Lookup(rows.HS6[i], prices.PerKg); ok && rows.Mass[i] > 0 {
			out[0][i] = v / rows.Mass[i] / r.Price
		}
		if r, ok := f.table.Lookup(rows.HS6[i], prices.PerUnit); ok && rows.Qty[i] > 0 {
			out[1][i] = v / rows.Qty[i] / r.Price
		}
	}
	return nil
}

// wire is the saved state.
type wire struct {
	Version  int    `json:"version"`
	Currency string `json:"currency"`
	Refs     []Ref  `json:"refs"`
}

// MarshalJSON saves the market prices, so that a loaded model applies
// exactly the prices it was trained with and needs no price table to score.
func (f *Feature) MarshalJSON() ([]byte, error) {
	if f.table == nil {
		return nil, errors.New("market: the market features are saved before they are built")
	}
	return json.Marshal(wire{Version: 1, Currency: f.table.Currency, Refs: f.table.Refs})
}

// UnmarshalJSON restores what MarshalJSON saved.
func (f *Feature) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("market: %w", err)
	}
	if w.Version != 1 {
		return fmt.Errorf("market: saved state version %d, this risklane reads 1", w.Version)
	}
	t := &Table{Currency: w.Currency, Refs: w.Refs}
	for _, r := range t.Refs {
		if pricecluster.ParseHS6(r.HS6) == pricecluster.NoHS6 || (r.Unit != prices.PerKg && r.Unit != prices.PerUnit) || !(r.Price > 0) {
			return fmt.Errorf("market: saved price %+v is not a positive price of an HS6 code per kg or per piece", r)
		}
	}
	t.index()
	f.table = t
	latest.Store(t)
	return nil
}

// latest is the table most recently fitted or loaded in this process. The
// reasons of a ranked row are worded by phrases that package features
// takes from a fresh, unfitted group (features.Phrases), which has no
// table of its own to name the source and date from; they read this one.
// A program that loads two models with different price tables gets the
// source and date of the later one in both models' reasons (the
// percentage is always the row's own); risklane loads one model per run.
var latest atomic.Pointer[Table]

// Phrases words the features for officers (features.Worded): "declared at
// 23% of the market price seen at SOURCE on DATE".
func (f *Feature) Phrases() []features.Phrase {
	say := func(unit, per string) func(features.Fact) string {
		return func(x features.Fact) string {
			s := "declared at " + features.FormatPercent(x.V) + " of the market price" + per
			t := f.table
			if t == nil {
				t = latest.Load()
			}
			if t != nil {
				if r, ok := t.Lookup(pricecluster.ParseHS6(x.HS(6)), unit); ok {
					s += " seen at " + r.Source + " on " + r.Date
				}
			}
			return s
		}
	}
	return []features.Phrase{
		{Pattern: "*market_uv_ratio_kg", Topic: "market", Say: say(prices.PerKg, " per kg"),
			Term: features.Fixed("unit value per kg as a share of the market price", features.FormatPercent)},
		{Pattern: "*market_uv_ratio_unit", Topic: "market", Say: say(prices.PerUnit, " per piece"),
			Term: features.Fixed("unit value per piece as a share of the market price", features.FormatPercent)},
	}
}
