package ingest

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestRelease: every batch's memory goes back, counted by arrow's checked
// allocator; an empty or nil slice is fine.
func TestRelease(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	var batches []arrow.RecordBatch
	for range 3 {
		b := array.NewRecordBuilder(mem, schema)
		b.Field(0).(*array.Float64Builder).AppendValues([]float64{1, 2, 3}, nil)
		batches = append(batches, b.NewRecordBatch())
		b.Release()
	}
	if mem.CurrentAlloc() == 0 {
		t.Fatal("the batches hold no memory: the test cannot tell")
	}
	Release(batches)
	Release(nil)
	mem.AssertSize(t, 0)
}
