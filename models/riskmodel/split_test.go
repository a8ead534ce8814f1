package riskmodel

import (
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/decl"
)

func TestSplitByDate(t *testing.T) {
	schema := decl.Schema()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	day := func(s string) arrow.Date32 {
		d, _ := time.Parse("2006-01-02", s)
		return arrow.Date32FromTime(d)
	}
	dates := []string{"2020-12-31", "2021-01-01", "2020-06-01", "2021-03-01", "", "2021-01-02"}
	for i, d := range dates {
		for f := range schema.NumFields() {
			switch fb := b.Field(f).(type) {
			case *array.StringBuilder:
				fb.Append(string(rune('a' + i)))
			case *array.Date32Builder:
				if d == "" {
					fb.AppendNull()
				} else {
					fb.Append(day(d))
				}
			default:
				fb.AppendNull()
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	before, after, err := SplitByDate([]arrow.RecordBatch{rec, rec.NewSlice(3, 6)}, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	ids := func(bs []arrow.RecordBatch) []string {
		var out []string
		for _, b := range bs {
			c := b.Column(0).(*array.String)
			for i := range c.Len() {
				out = append(out, c.Value(i))
			}
		}
		return out
	}
	// the second batch is rows d, e, f of the first
	if got, want := ids(before), []string{"a", "c", "e", "e"}; !slices.Equal(got, want) {
		t.Errorf("before: %v, want %v", got, want)
	}
	if got, want := ids(after), []string{"b", "d", "f", "d", "f"}; !slices.Equal(got, want) {
		t.Errorf("after: %v, want %v", got, want)
	}
}
