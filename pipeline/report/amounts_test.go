package report

import (
	"math"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/decl"
	"risklane/features"
)

// TestCustomsValueOneRule: a row with CIF = 0 has the same value, mass and
// unit value in the features and in the report (and so in the clusters,
// which the report fits from these columns), by the rule of docs/DESIGN.md:
// CIF unless missing or not positive and a FOB is given; net mass unless
// missing or not positive and a gross weight is given.
func TestCustomsValueOneRule(t *testing.T) {
	nan := math.NaN()
	rows := []struct {
		cif, fob, net, gross float64
		value, mass          float64 // hand-worked
	}{
		{200, 100, 10, 12, 200, 10},  // CIF and net as given
		{0, 100, 10, 12, 100, 10},    // zero CIF beside a FOB: the FOB
		{nan, 50, 5, nan, 50, 5},     // missing CIF: the FOB
		{0, nan, 10, nan, 0, 10},     // zero CIF alone: kept, no unit value
		{300, nan, 0, 20, 300, 20},   // zero net mass beside a gross weight
		{300, nan, nan, 15, 300, 15}, // missing net mass: the gross weight
		{nan, nan, 3, nan, nan, 3},   // no value at all
		{120, 100, 0, nan, 120, 0},   // zero net mass alone: kept
		{80, 70, 4, 5, 80, 4},        // more rows so that the reference fits
		{90, 70, 4, 5, 90, 4},
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, decl.Schema())
	defer b.Release()
	field := func(name string) array.Builder { return b.Field(b.Schema().FieldIndices(name)[0]) }
	float := func(name string, v float64) {
		if math.IsNaN(v) {
			field(name).AppendNull()
		} else {
			field(name).(*array.Float64Builder).Append(v)
		}
	}
	for i, r := range rows {
		for j, f := range b.Schema().Fields() {
			switch f.Name {
			case decl.DeclarationID:
				b.Field(j).(*array.StringBuilder).Append(string(rune('a' + i)))
			case decl.HSCode:
				b.Field(j).(*array.StringBuilder).Append("870323")
			case decl.Date:
				b.Field(j).(*array.Date32Builder).Append(arrow.Date32(19000 + i))
			case decl.Illicit:
				b.Field(j).(*array.Int8Builder).Append(int8(i % 2))
			case decl.CIFValue, decl.FOBValue, decl.NetMassKg, decl.GrossWeightKg:
			default:
				b.Field(j).AppendNull()
			}
		}
		float(decl.CIFValue, r.cif)
		float(decl.FOBValue, r.fob)
		float(decl.NetMassKg, r.net)
		float(decl.GrossWeightKg, r.gross)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	cols, err := ReadColumns([]arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := features.Fit([]arrow.RecordBatch{rec}, features.Config{Groups: []string{features.GroupUnitValue}, MinReference: 1})
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.Transform(rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := slices.Index(st.Names(), "log_uv_kg")
	if k < 0 {
		t.Fatalf("no log_uv_kg among %v", st.Names())
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	for i, r := range rows {
		if !same(cols.Value[i], r.value) || !same(cols.Mass[i], r.mass) {
			t.Errorf("row %d: report value %v mass %v, want %v and %v", i, cols.Value[i], cols.Mass[i], r.value, r.mass)
		}
		want := nan
		if r.value > 0 && r.mass > 0 {
			want = math.Log(r.value / r.mass)
		}
		if got := out[k][i]; !same(got, want) && math.Abs(got-want) > 1e-12 {
			t.Errorf("row %d: feature log_uv_kg %v, want %v", i, got, want)
		}
	}
}
