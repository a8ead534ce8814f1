package decl

import (
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestCustomsValueRule(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct{ cif, fob, want float64 }{
		{200, 100, 200},
		{0, 100, 100},   // a zero CIF beside a FOB: unfilled
		{nan, 100, 100}, // missing CIF
		{0, nan, 0},     // a zero CIF alone is what was declared
		{0, 0, 0},
		{nan, 0, 0},
		{nan, nan, nan},
		{200, nan, 200},
	} {
		got := CustomsValue(tc.cif, tc.fob)
		if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("CustomsValue(%v, %v) = %v, want %v", tc.cif, tc.fob, got, tc.want)
		}
		if m := Mass(tc.cif, tc.fob); m != got && !(math.IsNaN(m) && math.IsNaN(got)) {
			t.Errorf("Mass(%v, %v) = %v, want the same rule as CustomsValue: %v", tc.cif, tc.fob, m, got)
		}
	}
}

func TestGet(t *testing.T) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{
		{Name: CIFValue, Type: arrow.PrimitiveTypes.Int64},
		{Name: HSCode, Type: arrow.BinaryTypes.String},
	}, nil))
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(5)
	b.Field(1).(*array.StringBuilder).AppendNull()
	rec := b.NewRecordBatch()
	defer rec.Release()
	if _, err := Float64s(rec, CIFValue); err == nil || !strings.Contains(err.Error(), `column "cif_value" is int64; the canonical schema has float64`) {
		t.Errorf("wrong type: %v", err)
	}
	if c, err := Float64s(rec, FOBValue); c != nil || err != nil {
		t.Errorf("absent column: %v, %v", c, err)
	}
	if _, err := Need[*array.Float64](rec, FOBValue); err == nil || !strings.Contains(err.Error(), `no "fob_value" column`) {
		t.Errorf("required column: %v", err)
	}
	s, ok, err := Strings(rec, HSCode)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if v, ok := s.Value(0); ok || v != "" {
		t.Errorf("null string read as %q, %v", v, ok)
	}
	if s, ok, err := Strings(rec, OfficeID); ok || err != nil {
		t.Errorf("absent string column: %v, %v", ok, err)
	} else if v, ok := s.Value(0); ok || v != "" {
		t.Errorf("absent string column read as %q, %v", v, ok)
	}
	if got := FloatAt(nil, 3); !math.IsNaN(got) {
		t.Errorf("FloatAt(nil) = %v", got)
	}
}
