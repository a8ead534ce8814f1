package releasetime

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/ingest"
	"risklane/sink"
)

// TableSchema returns the layout of the breakdown table for the given
// targets (hours): dimension, group, declarations, mean_h, median_h, p90_h,
// p95_h, within_<T>h..., mean_working_h, share_inspected, share_prelodged,
// then the mean hours of every stage (<stage>_h).
func TableSchema(targets []float64) *arrow.Schema {
	f := []arrow.Field{
		{Name: "dimension", Type: arrow.BinaryTypes.String},
		{Name: "group", Type: arrow.BinaryTypes.String},
		{Name: "declarations", Type: arrow.PrimitiveTypes.Int64},
	}
	num := func(n string) { f = append(f, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64}) }
	for _, n := range []string{"mean_h", "median_h", "p90_h", "p95_h"} {
		num(n)
	}
	for _, t := range targets {
		num(fmt.Sprintf("within_%gh", t))
	}
	for _, n := range []string{"mean_working_h", "share_inspected", "share_prelodged"} {
		num(n)
	}
	for s := Stage(0); s < NumStages; s++ {
		num(s.String() + "_h")
	}
	return arrow.NewSchema(f, nil)
}

// WriteTable writes rows to path (format from the name), atomically.
func WriteTable(path string, targets []float64, rows []Row) error {
	schema := TableSchema(targets)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(string(r.Dimension))
		b.Field(1).(*array.StringBuilder).Append(r.Group)
		b.Field(2).(*array.Int64Builder).Append(r.N)
		vals := []float64{r.Mean, r.Median, r.P90, r.P95}
		vals = append(vals, r.Within...)
		vals = append(vals, r.MeanWorking, r.Inspected, r.PreLodged)
		vals = append(vals, r.Stages[:]...)
		for i, v := range vals {
			b.Field(3 + i).(*array.Float64Builder).Append(v)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return sink.WriteTable(path, rec)
}

// ReadTable reads a breakdown table that WriteTable wrote, with the targets
// its within_<T>h columns name (the report draws it).
func ReadTable(path string) ([]Row, []float64, error) {
	var targets []float64
	rec, err := ingest.ReadRecord(path, func(names []string) (*arrow.Schema, error) {
		for _, n := range names {
			if t, ok := strings.CutPrefix(n, "within_"); ok {
				v, err := strconv.ParseFloat(strings.TrimSuffix(t, "h"), 64)
				if err != nil || !strings.HasSuffix(t, "h") {
					return nil, fmt.Errorf("column %q: not a release-time table (within_<hours>h)", n)
				}
				targets = append(targets, v)
			}
		}
		return TableSchema(targets), nil
	})
	if err != nil {
		return nil, nil, err
	}
	defer rec.Release()
	str := func(i int) *array.String { return rec.Column(i).(*array.String) }
	num := func(i int) *array.Float64 { return rec.Column(i).(*array.Float64) }
	rows := make([]Row, rec.NumRows())
	for i := range rows {
		r := &rows[i]
		r.Dimension, r.Group = Dimension(str(0).Value(i)), str(1).Value(i)
		r.N = rec.Column(2).(*array.Int64).Value(i)
		c := 3
		next := func() float64 { v := num(c).Value(i); c++; return v }
		r.Mean, r.Median, r.P90, r.P95 = next(), next(), next(), next()
		r.Within = make([]float64, len(targets))
		for k := range r.Within {
			r.Within[k] = next()
		}
		r.MeanWorking, r.Inspected, r.PreLodged = next(), next(), next()
		for s := range r.Stages {
			r.Stages[s] = next()
		}
	}
	return rows, targets, nil
}

// CostSchema is the layout of the budget cost table (Cost.Curve).
var CostSchema = arrow.NewSchema([]arrow.Field{
	{Name: "budget", Type: arrow.BinaryTypes.String},
	{Name: "inspected", Type: arrow.PrimitiveTypes.Int64},
	{Name: "added_hours", Type: arrow.PrimitiveTypes.Float64},
	{Name: "added_hours_per_declaration", Type: arrow.PrimitiveTypes.Float64},
	{Name: "added_hours_per_inspection", Type: arrow.PrimitiveTypes.Float64},
	{Name: "marginal_hours_per_percent", Type: arrow.PrimitiveTypes.Float64},
}, nil)

// WriteCost writes the budget cost table to path (format from the name),
// atomically.
func WriteCost(path string, rows []CostRow) error {
	b := array.NewRecordBuilder(memory.DefaultAllocator, CostSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.Budget)
		b.Field(1).(*array.Int64Builder).Append(int64(r.Inspected))
		for i, v := range []float64{r.AddedHours, r.PerDeclaration, r.PerInspection, r.MarginalPerPercent} {
			b.Field(2 + i).(*array.Float64Builder).Append(v)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return sink.WriteTable(path, rec)
}
