package market

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/decl"
	"risklane/features"
	"risklane/features/pricecluster"
	"risklane/ingest/prices"
)

var day = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

func price(hs6 string, v float64, unit, source string, d time.Time) prices.Price {
	return prices.Price{HS6: hs6, Product: "p", Price: v, Currency: "USD", Unit: unit, Source: source, FetchedAt: d}
}

// testTable: HS 850440 has three prices per piece (median 20, seen at Duka
// on 2026-11-02) and two per kg (the lower middle one, 8, at List on
// 2026-10-15); HS 100630 one per kg.
func testTable(t *testing.T) *Table {
	t.Helper()
	tab, err := NewTable([]prices.Price{
		price("850440", 25, prices.PerUnit, "Shop B", day),
		price("850440", 20, prices.PerUnit, "Duka", day),
		price("850440", 15, prices.PerUnit, "Shop C", day),
		price("850440", 9, prices.PerKg, "List", day),
		price("850440", 8, prices.PerKg, "List", day.AddDate(0, 0, -18)),
		price("100630", 1.2, prices.PerKg, "Brussels list", day),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func batch(t *testing.T, hs []string, cif, net, qty []float64) arrow.RecordBatch {
	t.Helper()
	fields := []arrow.Field{{Name: decl.HSCode, Type: arrow.BinaryTypes.String, Nullable: true}}
	for _, n := range []string{decl.CIFValue, decl.NetMassKg, decl.Quantity} {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	}
	b := array.NewRecordBuilder(memory.NewGoAllocator(), arrow.NewSchema(fields, nil))
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues(hs, nil)
	for j, col := range [][]float64{cif, net, qty} {
		fb := b.Field(j + 1).(*array.Float64Builder)
		for _, v := range col {
			if math.IsNaN(v) {
				fb.AppendNull()
			} else {
				fb.Append(v)
			}
		}
	}
	rec := b.NewRecordBatch()
	t.Cleanup(rec.Release)
	return rec
}

// Hand-worked: a charger declared at 1,000 for 200 pieces weighing 50 kg is
// 5 per piece (25% of 20) and 20 per kg (250% of 8).
func TestApply(t *testing.T) {
	nan := math.NaN()
	f := FeatureOf(testTable(t))
	if err := f.Fit(nil); err != nil {
		t.Fatal(err)
	}
	rec := batch(t,
		[]string{"8504400000", "1006.30", "100630", "999999", "850440"},
		[]float64{1000, 60, 60, 10, 0},
		[]float64{50, 100, nan, 1, 5},
		[]float64{200, nan, 3, 1, 5})
	out := [][]float64{make([]float64, 5), make([]float64, 5)}
	if err := f.Apply(rec, out); err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{20.0 / 8, 0.6 / 1.2, nan, nan, nan}, {5.0 / 20, nan, nan, nan, nan}}
	for j := range want {
		for i := range want[j] {
			if g, w := out[j][i], want[j][i]; !(g == w || math.IsNaN(g) && math.IsNaN(w)) && math.Abs(g-w) > 1e-12 {
				t.Errorf("%s row %d = %v, want %v", Names[j], i, g, w)
			}
		}
	}
}

type row map[string]string

func (r row) Str(col string) string {
	if v, ok := r[col]; ok {
		return v
	}
	return "?"
}

func TestPhrasesAndState(t *testing.T) {
	f := FeatureOf(testTable(t))
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGroup().(*Feature)
	if err := g.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	r, ok := g.Table().Lookup(850440, prices.PerKg)
	if !ok || r.Price != 8 || r.Source != "List" || r.Date != "2026-10-15" || r.N != 2 {
		t.Errorf("restored per-kg reference %+v", r)
	}
	// Reasons are worded by the phrases of a fresh group (features.Phrases):
	// they name the source and date of the table loaded last.
	ph, _, ok := features.PhraseOf(NewGroup().(features.Worded).Phrases(), "market_uv_ratio_unit")
	if !ok {
		t.Fatal("no phrase for market_uv_ratio_unit")
	}
	got := ph.Say(features.Fact{Name: "market_uv_ratio_unit", V: 0.23, Row: row{decl.HSCode: "8504400000"}})
	if want := "declared at 23% of the market price per piece seen at Duka on 2026-11-02"; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	for _, bad := range []string{`{"version":2}`, `{"version":1,"refs":[{"hs6":"85","unit":"kg","price":1}]}`, `{"version":1,"refs":[{"hs6":"850440","unit":"kg","price":-1}]}`, `[`} {
		if err := NewGroup().UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("restored %s", bad)
		}
	}
	if _, err := NewTable([]prices.Price{price("850440", 1, prices.PerKg, "a", day), {HS6: "850440", Price: 1, Currency: "EUR", Unit: prices.PerKg}}); err == nil || !strings.Contains(err.Error(), "mixes currencies") {
		t.Errorf("mixed currencies: %v", err)
	}
	if err := NewFeature().Fit(nil); err == nil || !strings.Contains(err.Error(), "--market-prices") {
		t.Errorf("fit without a table: %v", err)
	}
}

func FuzzUnmarshalJSON(f *testing.F) {
	b, _ := json.Marshal(wire{Version: 1, Currency: "USD", Refs: []Ref{{HS6: "850440", Unit: "kg", Price: 8, Source: "s", Date: "2026-01-01", N: 1}}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &Feature{}
		if g.UnmarshalJSON(data) != nil {
			return
		}
		out := [][]float64{make([]float64, 1), make([]float64, 1)}
		rec := batch(t, []string{"850440"}, []float64{10}, []float64{1}, []float64{1})
		if err := g.Apply(rec, out); err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			if o[0] < 0 || math.IsInf(o[0], 0) {
				t.Errorf("ratio %v", o[0])
			}
		}
	})
}

func TestWithReferences(t *testing.T) {
	b := array.NewRecordBuilder(memory.NewGoAllocator(), pricecluster.ReferenceSchema)
	defer b.Release()
	for _, r := range []struct {
		hs, basis string
		median    float64
	}{{"850440", "unit", 5}, {"850440", "kg", 12}, {"870321", "kg", 3}} {
		b.Field(0).(*array.StringBuilder).Append(r.hs)
		b.Field(1).(*array.StringBuilder).Append(r.basis)
		b.Field(2).(*array.Int64Builder).Append(40)
		for j := 3; j < 8; j++ {
			b.Field(j).(*array.Float64Builder).Append(r.median)
		}
		b.Field(8).AppendNull()
	}
	ref := b.NewRecordBatch()
	defer ref.Release()
	out, err := testTable(t).WithReferences(memory.NewGoAllocator(), ref)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	price, src, date, share := out.Column(9).(*array.Float64), out.Column(10).(*array.String), out.Column(11).(*array.String), out.Column(12).(*array.Float64)
	if price.Value(0) != 20 || src.Value(0) != "Duka" || date.Value(0) != "2026-11-02" || share.Value(0) != 0.25 {
		t.Errorf("per piece: %v %v %v %v", price.Value(0), src.Value(0), date.Value(0), share.Value(0))
	}
	if price.Value(1) != 8 || share.Value(1) != 1.5 || src.Value(1) != "List" {
		t.Errorf("per kg: %v %v", price.Value(1), share.Value(1))
	}
	if !price.IsNull(2) || !share.IsNull(2) || !src.IsNull(2) {
		t.Error("a code without a market price got one")
	}
}
