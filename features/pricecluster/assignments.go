package pricecluster

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/decl"
)

// AssignmentSchema is the layout of the per-declaration assignments that
// risklane cluster writes (--out), one row per accepted input row in input
// order.
var AssignmentSchema = arrow.NewSchema([]arrow.Field{
	{Name: decl.DeclarationID, Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: decl.HSCode, Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "group", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "group_level", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "basis", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "unit_value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "cluster_rank", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "low_cluster", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "log_dist_median", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "uv_percentile", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

// GroupTablePath names the group table beside the assignments:
// clusters.parquet -> clusters.groups.parquet (risklane cluster --out, and
// risklane-beam cluster --out).
func GroupTablePath(out string) string {
	ext := filepath.Ext(out)
	if strings.EqualFold(ext, ".gz") {
		ext = filepath.Ext(strings.TrimSuffix(out, ext)) + ext
	}
	return strings.TrimSuffix(out, ext) + ".groups" + ext
}

// AssignmentColumns picks from an input batch the columns the assignments
// carry beside each row's group (AssignmentTable's ids and hs): the
// declaration ids and the HS codes. risklane cluster and the Beam cluster
// stage (risklane-beam cluster) read them through it, with its errors.
func AssignmentColumns(rec arrow.RecordBatch) (ids arrow.Array, hs *array.String, err error) {
	ids, ok := decl.Field(rec, decl.DeclarationID)
	if !ok {
		return nil, nil, fmt.Errorf("cluster: the input has no %s column", decl.DeclarationID)
	}
	hs, err = decl.Need[*array.String](rec, decl.HSCode)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: %w", err)
	}
	return ids, hs, nil
}

// AssignmentTable returns rows from to from+hs.Len()-1 of a, the
// assignments of one input batch whose declaration ids and HS codes are
// ids and hs, as a batch in AssignmentSchema. An id that is not a string
// (or a null) is written as null, and so are the columns of a row without
// a group. The caller releases the batch.
func (m *Model) AssignmentTable(mem memory.Allocator, ids arrow.Array, hs *array.String, a *Assignment, from int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, AssignmentSchema)
	defer b.Release()
	names := map[int32]string{}
	s, _ := ids.(*array.String)
	row := from
	for i := range ids.Len() {
		if s != nil && s.IsValid(i) {
			b.Field(0).(*array.StringBuilder).Append(s.Value(i))
		} else {
			b.Field(0).AppendNull()
		}
		if hs.IsValid(i) {
			b.Field(1).(*array.StringBuilder).Append(hs.Value(i))
		} else {
			b.Field(1).AppendNull()
		}
		g := a.Group[row]
		if g < 0 {
			// No unit value, or (for a model applied to other data) no group
			// of its basis.
			for f := 2; f < len(b.Fields()); f++ {
				b.Field(f).AppendNull()
			}
			row++
			continue
		}
		grp := &m.Groups[g]
		name, ok := names[g]
		if !ok {
			name = grp.Name()
			names[g] = name
		}
		b.Field(2).(*array.StringBuilder).Append(name)
		b.Field(3).(*array.StringBuilder).Append(grp.Level.String())
		b.Field(4).(*array.StringBuilder).Append(grp.Basis.String())
		b.Field(5).(*array.Float64Builder).Append(math.Exp(a.LogUV[row]))
		b.Field(6).(*array.Int8Builder).Append(a.Rank[row])
		b.Field(7).(*array.BooleanBuilder).Append(a.Low[row] == 1)
		b.Field(8).(*array.Float64Builder).Append(a.LogDist[row])
		b.Field(9).(*array.Float64Builder).Append(a.Pctl[row])
		row++
	}
	return b.NewRecordBatch()
}
