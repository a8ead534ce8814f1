package market

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/features/pricecluster"
	"risklane/ingest/prices"
)

// ReferenceFields are the columns WithReferences adds to the cluster
// reference prices: the market price of the group's HS6 code in its basis,
// where and when it was seen, and the declarations' median unit value as a
// share of it (null where the table has no price).
var ReferenceFields = []arrow.Field{
	{Name: "market_price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "market_source", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "market_date", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "median_vs_market", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}

// WithReferences returns the reference prices of risklane cluster
// (pricecluster.ReferencePrices, whose layout is pricecluster.ReferenceSchema)
// with the market columns appended. The caller releases the result.
func (t *Table) WithReferences(mem memory.Allocator, ref arrow.RecordBatch) (arrow.RecordBatch, error) {
	if !ref.Schema().Equal(pricecluster.ReferenceSchema) {
		return nil, fmt.Errorf("market: reference prices of layout %s, want pricecluster.ReferenceSchema", ref.Schema())
	}
	hs := ref.Column(0).(*array.String)
	basis := ref.Column(1).(*array.String)
	median := ref.Column(3).(*array.Float64)
	price := array.NewFloat64Builder(mem)
	source := array.NewStringBuilder(mem)
	date := array.NewStringBuilder(mem)
	share := array.NewFloat64Builder(mem)
	defer func() {
		for _, b := range []array.Builder{price, source, date, share} {
			b.Release()
		}
	}()
	for i := range int(ref.NumRows()) {
		unit := prices.PerKg
		if basis.Value(i) == pricecluster.PerUnit.String() {
			unit = prices.PerUnit
		}
		r, ok := t.Lookup(pricecluster.ParseHS6(hs.Value(i)), unit)
		if !ok {
			price.AppendNull()
			source.AppendNull()
			date.AppendNull()
			share.AppendNull()
			continue
		}
		price.Append(r.Price)
		source.Append(r.Source)
		date.Append(r.Date)
		if m := median.Value(i); m > 0 && !math.IsInf(m, 0) {
			share.Append(m / r.Price)
		} else {
			share.AppendNull()
		}
	}
	fields := append(ref.Schema().Fields(), ReferenceFields...)
	cols := append(ref.Columns(), price.NewArray(), source.NewArray(), date.NewArray(), share.NewArray())
	out := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, ref.NumRows())
	for _, c := range cols[len(cols)-4:] {
		c.Release()
	}
	return out, nil
}
