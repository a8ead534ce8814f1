package pricecluster

import (
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// GroupSchema is the layout of GroupTable: one row per cluster of every
// group, the group's own columns repeated on each of its rows. Prices are
// unit values (not logs) per kg or per unit as basis says; spread_log is in
// log units.
var GroupSchema = arrow.NewSchema([]arrow.Field{
	{Name: "group", Type: arrow.BinaryTypes.String},
	{Name: "level", Type: arrow.BinaryTypes.String},
	{Name: "basis", Type: arrow.BinaryTypes.String},
	{Name: "n", Type: arrow.PrimitiveTypes.Int64},
	{Name: "fit_rows", Type: arrow.PrimitiveTypes.Int64},
	{Name: "k", Type: arrow.PrimitiveTypes.Int32},
	{Name: "silhouette", Type: arrow.PrimitiveTypes.Float64},
	{Name: "median_uv", Type: arrow.PrimitiveTypes.Float64},
	{Name: "low_gap_log", Type: arrow.PrimitiveTypes.Float64},
	{Name: "low_threshold_uv", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "cluster_rank", Type: arrow.PrimitiveTypes.Int32},
	{Name: "centre_uv", Type: arrow.PrimitiveTypes.Float64},
	{Name: "size", Type: arrow.PrimitiveTypes.Int64},
	{Name: "spread_log", Type: arrow.PrimitiveTypes.Float64},
	{Name: "low", Type: arrow.FixedWidthTypes.Boolean},
}, nil)

// sig6 rounds a price to 6 significant digits, which is all a reference
// price means and keeps the CSV readable.
func sig6(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	if err != nil {
		return v
	}
	return r
}

// GroupTable returns the fitted groups in the GroupSchema layout. The caller
// releases it.
func (m *Model) GroupTable(mem memory.Allocator) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, GroupSchema)
	defer b.Release()
	for i := range m.Groups {
		g := &m.Groups[i]
		thr, hasThr := g.LowThreshold()
		for c := range g.K {
			b.Field(0).(*array.StringBuilder).Append(g.Name())
			b.Field(1).(*array.StringBuilder).Append(g.Level.String())
			b.Field(2).(*array.StringBuilder).Append(g.Basis.String())
			b.Field(3).(*array.Int64Builder).Append(int64(g.N))
			b.Field(4).(*array.Int64Builder).Append(int64(g.FitRows))
			b.Field(5).(*array.Int32Builder).Append(int32(g.K))
			b.Field(6).(*array.Float64Builder).Append(g.Silhouette)
			b.Field(7).(*array.Float64Builder).Append(sig6(math.Exp(g.Median())))
			b.Field(8).(*array.Float64Builder).Append(g.LowGap)
			if hasThr {
				b.Field(9).(*array.Float64Builder).Append(sig6(math.Exp(thr)))
			} else {
				b.Field(9).AppendNull()
			}
			b.Field(10).(*array.Int32Builder).Append(int32(c))
			b.Field(11).(*array.Float64Builder).Append(sig6(math.Exp(g.Centres[c])))
			b.Field(12).(*array.Int64Builder).Append(int64(g.Sizes[c]))
			b.Field(13).(*array.Float64Builder).Append(g.Spreads[c])
			b.Field(14).(*array.BooleanBuilder).Append(c < g.NumLow)
		}
	}
	return b.NewRecordBatch()
}

// ReferenceSchema is the layout of ReferencePrices: one row per fitted HS6
// group and basis, unit values rounded to 6 significant digits.
// low_threshold is the unit value below which a declaration falls in a low
// cluster, null when the group has none.
var ReferenceSchema = arrow.NewSchema([]arrow.Field{
	{Name: "hs6", Type: arrow.BinaryTypes.String},
	{Name: "basis", Type: arrow.BinaryTypes.String},
	{Name: "n", Type: arrow.PrimitiveTypes.Int64},
	{Name: "median", Type: arrow.PrimitiveTypes.Float64},
	{Name: "p10", Type: arrow.PrimitiveTypes.Float64},
	{Name: "p25", Type: arrow.PrimitiveTypes.Float64},
	{Name: "p75", Type: arrow.PrimitiveTypes.Float64},
	{Name: "p90", Type: arrow.PrimitiveTypes.Float64},
	{Name: "low_threshold", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

// ReferencePrices returns reference unit prices per HS6 group for analysts
// (a valuation database seed). The caller releases it.
func (m *Model) ReferencePrices(mem memory.Allocator) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, ReferenceSchema)
	defer b.Release()
	for i := range m.Groups {
		g := &m.Groups[i]
		if g.Level != LevelHS6 {
			continue
		}
		b.Field(0).(*array.StringBuilder).Append(g.Name())
		b.Field(1).(*array.StringBuilder).Append(g.Basis.String())
		b.Field(2).(*array.Int64Builder).Append(int64(g.N))
		for f, p := range []int{50, 10, 25, 75, 90} {
			b.Field(3 + f).(*array.Float64Builder).Append(sig6(math.Exp(g.Quantile(p))))
		}
		if thr, ok := g.LowThreshold(); ok {
			b.Field(8).(*array.Float64Builder).Append(sig6(math.Exp(thr)))
		} else {
			b.Field(8).AppendNull()
		}
	}
	return b.NewRecordBatch()
}
