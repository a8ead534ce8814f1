package mirror

import (
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/ingest"
	"risklane/sink"
)

// TableSchema is the Arrow schema of the gap table: one row per flow, money
// in US dollars (computed in cents), weights in kg. Unknown statistics are
// nulls.
var TableSchema = arrow.NewSchema([]arrow.Field{
	{Name: "rank", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "status", Type: arrow.BinaryTypes.String},
	{Name: "reporter", Type: arrow.BinaryTypes.String},
	{Name: "partner", Type: arrow.BinaryTypes.String},
	{Name: "hs", Type: arrow.BinaryTypes.String},
	{Name: "level", Type: arrow.PrimitiveTypes.Int8},
	{Name: "year", Type: arrow.PrimitiveTypes.Int16},
	{Name: "month", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "import_cif", Type: arrow.PrimitiveTypes.Float64},
	{Name: "import_fob", Type: arrow.PrimitiveTypes.Float64},
	{Name: "import_fob_reported", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "export_fob", Type: arrow.PrimitiveTypes.Float64},
	{Name: "value_gap", Type: arrow.PrimitiveTypes.Float64},
	{Name: "rel_gap", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "log_ratio", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "robust_z", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "import_kg", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "export_kg", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "weight_gap", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "qty_unit", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	{Name: "import_qty", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "export_qty", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "qty_gap", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "import_uv", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "export_uv", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "uv_ratio", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "duty_rate", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "rate_source", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "revenue_gap", Type: arrow.PrimitiveTypes.Float64},
	{Name: "undervaluation", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "misclassification", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "misclass_peer", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// Table returns the gap table as one record batch: the HS6 flows in rank
// order (then small, import-only and export-only flows), then the roll-ups.
// The caller releases it.
func (g *Gaps) Table(mem memory.Allocator) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, TableSchema)
	defer b.Release()
	for _, list := range [][]FlowGap{g.Flows, g.Rollups} {
		for i := range list {
			appendFlow(b, g.Summary.Reporter, &list[i])
		}
	}
	return b.NewRecordBatch()
}

func appendFlow(b *array.RecordBuilder, reporter string, f *FlowGap) {
	fl := func(i int, v float64) {
		fb := b.Field(i).(*array.Float64Builder)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	}
	str := func(i int, s string) {
		sb := b.Field(i).(*array.StringBuilder)
		if s == "" {
			sb.AppendNull()
		} else {
			sb.Append(s)
		}
	}
	if f.Rank > 0 {
		b.Field(0).(*array.Int32Builder).Append(int32(f.Rank))
	} else {
		b.Field(0).AppendNull()
	}
	b.Field(1).(*array.StringBuilder).Append(f.Status.String())
	b.Field(2).(*array.StringBuilder).Append(reporter)
	b.Field(3).(*array.StringBuilder).Append(f.Partner)
	b.Field(4).(*array.StringBuilder).Append(f.HS)
	b.Field(5).(*array.Int8Builder).Append(int8(f.Level))
	b.Field(6).(*array.Int16Builder).Append(int16(f.Year))
	if f.Month > 0 {
		b.Field(7).(*array.Int8Builder).Append(int8(f.Month))
	} else {
		b.Field(7).AppendNull()
	}
	b.Field(8).(*array.Float64Builder).Append(f.ImportCIF.Dollars())
	b.Field(9).(*array.Float64Builder).Append(f.ImportFOB.Dollars())
	b.Field(10).(*array.BooleanBuilder).Append(f.FOBReported)
	b.Field(11).(*array.Float64Builder).Append(f.ExportFOB.Dollars())
	b.Field(12).(*array.Float64Builder).Append(f.ValueGap.Dollars())
	fl(13, f.RelGap)
	fl(14, f.LogRatio)
	fl(15, f.Z)
	fl(16, f.ImportKg)
	fl(17, f.ExportKg)
	fl(18, f.WeightGap)
	if f.QtyUnit >= 0 {
		b.Field(19).(*array.Int16Builder).Append(int16(f.QtyUnit))
	} else {
		b.Field(19).AppendNull()
	}
	fl(20, f.ImportQty)
	fl(21, f.ExportQty)
	fl(22, f.QtyGap)
	fl(23, f.ImportUV)
	fl(24, f.ExportUV)
	fl(25, f.UVRatio)
	fl(26, f.RatePct)
	str(27, f.RateFrom)
	b.Field(28).(*array.Float64Builder).Append(f.RevenueGap.Dollars())
	b.Field(29).(*array.BooleanBuilder).Append(f.Undervalued)
	b.Field(30).(*array.BooleanBuilder).Append(f.Misclassified)
	str(31, f.Peer)
}

// WriteTable writes the gap table to path (Parquet, CSV or Arrow IPC, from
// the file name) atomically: the file appears complete or not at all.
func (g *Gaps) WriteTable(path string) error {
	rec := g.Table(memory.DefaultAllocator)
	defer rec.Release()
	return sink.WriteTable(path, rec)
}

// WriteRejects writes the rejected rows to path atomically, as a rejects
// file of ingest (ingest.RejectHeader, ingest.Reject.Record).
func (g *Gaps) WriteRejects(path string) error {
	return sink.WriteAtomic(path, func(f io.Writer) error {
		w := sink.NewCSVWriter(f)
		w.Write(ingest.RejectHeader)
		for _, r := range g.Rejects {
			w.Write(ingest.Reject{File: r.File, Line: int64(r.Line), Column: r.Column, Value: r.Value, Reason: r.Reason}.Record())
		}
		if more := g.Summary.Rejected - len(g.Rejects); more > 0 {
			w.Write([]string{"", "", "", "", fmt.Sprintf("%d more rejected rows not written: a rejects file keeps the first %d", more, len(g.Rejects))})
		}
		w.Flush()
		return w.Error()
	})
}
