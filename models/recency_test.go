package models

import (
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/decl"
)

// datedBatch is a batch of the date column alone, a null for day < 0.
func datedBatch(t *testing.T, days ...int32) arrow.RecordBatch {
	t.Helper()
	b := array.NewDate32Builder(memory.DefaultAllocator)
	defer b.Release()
	for _, d := range days {
		if d < 0 {
			b.AppendNull()
		} else {
			b.Append(arrow.Date32(d))
		}
	}
	col := b.NewArray()
	defer col.Release()
	sc := arrow.NewSchema([]arrow.Field{{Name: decl.Date, Type: arrow.FixedWidthTypes.Date32, Nullable: true}}, nil)
	return array.NewRecordBatch(sc, []arrow.Array{col}, int64(len(days)))
}

// Hand-worked: half-life 10 days, the latest labelled row on day 100 (the
// unlabelled day-120 row does not count): ages 0, 10, 30 and 5 give
// weights 1, 0.5, 0.125 and 2^-0.5.
func TestRecencyWeights(t *testing.T) {
	batches := []arrow.RecordBatch{datedBatch(t, 100, 90), datedBatch(t, 70, 120, 95, -1)}
	labels := []int8{0, 1, 0, -1, 1, -1}
	w, err := RecencyWeights(batches, labels, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 0.5, 0.125, 4, math.Sqrt(0.5), 0}
	for i := range want {
		if math.Abs(w[i]-want[i]) > 1e-15 {
			t.Errorf("row %d: weight %v, want %v", i+1, w[i], want[i])
		}
	}
	for _, c := range []struct {
		labels []int8
		half   float64
		want   string
	}{
		{[]int8{0, 1, 0, -1, 1, 0}, 10, "labelled training row 6 has no date"},
		{labels, -3, "--train-halflife -3: want a number of days >= 0"},
		{labels, 0, "no weights to compute"},
		{labels[:3], 10, "3 labels for 6 rows"},
	} {
		if _, err := RecencyWeights(batches, c.labels, c.half); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("labels %v, half-life %v: %v, want %q", c.labels, c.half, err, c.want)
		}
	}
}
