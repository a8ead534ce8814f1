package sink

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// testSchema has every physical type risklane tables use, nullable and not.
var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.BinaryTypes.String},
	{Name: "office", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "mass", Type: arrow.PrimitiveTypes.Float64},
	{Name: "illicit", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "rows", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

// testBatches makes batches of the given sizes with seeded values: some
// batches without nulls, one with nothing but nulls in its nullable columns.
func testBatches(sizes []int) []arrow.RecordBatch {
	rng := rand.New(rand.NewPCG(3, 4))
	b := array.NewRecordBuilder(memory.DefaultAllocator, testSchema)
	defer b.Release()
	var out []arrow.RecordBatch
	row := 0
	for k, n := range sizes {
		nullShare := []float64{0, 0.1, 1, 0.3}[k%4]
		null := func() bool { return rng.Float64() < nullShare }
		for range n {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("D%08d", row))
			if null() {
				b.Field(1).AppendNull()
			} else {
				b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("OFF%d", rng.IntN(30)))
			}
			if null() {
				b.Field(2).AppendNull()
			} else {
				b.Field(2).(*array.Date32Builder).Append(arrow.Date32(19000 + rng.IntN(700)))
			}
			if null() {
				b.Field(3).AppendNull()
			} else {
				b.Field(3).(*array.Float64Builder).Append(rng.ExpFloat64() * 1e4)
			}
			b.Field(4).(*array.Float64Builder).Append(rng.Float64())
			if null() {
				b.Field(5).AppendNull()
			} else {
				b.Field(5).(*array.Int8Builder).Append(int8(rng.IntN(2)))
			}
			if null() {
				b.Field(6).AppendNull()
			} else {
				b.Field(6).(*array.Int64Builder).Append(int64(row))
			}
			row++
		}
		out = append(out, b.NewRecordBatch())
	}
	return out
}

// Batches that straddle row groups, are empty, or fill a row group exactly,
// and no batch with rows at all: the file reads back as written through
// arrow-go and parquet-go (checkRoundTrip), with the row groups expected,
// and the same bytes whatever the scheduling.
func TestParquetWriterRowGroups(t *testing.T) {
	const rowGroup = 1000
	for _, tc := range []struct {
		sizes  []int
		groups int
	}{
		{[]int{700, 300, 1500, 0, 2500, 999, 1, 1, 4000, 17}, 11},
		{[]int{0, 0, 1500, 3}, 2},
		{[]int{0}, 0},
		{nil, 0},
	} {
		t.Run(fmt.Sprint(tc.sizes), func(t *testing.T) {
			batches := testBatches(tc.sizes)
			defer func() {
				for _, r := range batches {
					r.Release()
				}
			}()
			want := checkRoundTrip(t, testSchema, batches, rowGroup)
			for run := range 3 { // scheduling must not change a byte
				if got := encodeBytes(t, testSchema, batches, rowGroup); !bytes.Equal(got, want) {
					t.Fatalf("run %d: %d bytes differ from the first run's %d", run, len(got), len(want))
				}
			}
			rd, err := file.NewParquetReader(bytes.NewReader(want))
			if err != nil {
				t.Fatal(err)
			}
			if g := rd.NumRowGroups(); g != tc.groups {
				t.Errorf("%d row groups, want %d", g, tc.groups)
			}
		})
	}
}

// A text column whose first batch is nearly all distinct values (an
// identifier) is written without a dictionary, one with repeated values
// (an office) with one; both read back (TestParquetWriterReadBack).
func TestParquetDictionaryOnlyWhereItPays(t *testing.T) {
	batches := testBatches([]int{5000, 3000})
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	buf := checkRoundTrip(t, testSchema, batches, 4096)
	rd, err := file.NewParquetReader(bytes.NewReader(buf))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"id": false, "office": true, "date": true, "value": false, "mass": false, "illicit": true, "rows": false}
	for g := range rd.NumRowGroups() {
		rg := rd.MetaData().RowGroup(g)
		for c := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			name := testSchema.Field(c).Name
			if cc.HasDictionaryPage() != want[name] {
				t.Errorf("row group %d column %s: dictionary page %v, want %v", g, name, cc.HasDictionaryPage(), want[name])
			}
		}
	}
	// Too few values to judge: the dictionary stays.
	small := testBatches([]int{999})
	defer small[0].Release()
	rd, err = file.NewParquetReader(bytes.NewReader(checkRoundTrip(t, testSchema, small, 4096)))
	if err != nil {
		t.Fatal(err)
	}
	if cc, err := rd.MetaData().RowGroup(0).ColumnChunk(0); err != nil || !cc.HasDictionaryPage() {
		t.Error("a 999-row table lost its id dictionary", err)
	}
}

// A file written through sink reads back value by value as the batches
// written, in every column, null or not.
func TestParquetWriterReadBack(t *testing.T) {
	batches := testBatches([]int{6553, 7000, 0, 3, 12345})
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	path := filepath.Join(t.TempDir(), "t.parquet")
	w, err := Create(path, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range batches {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(rd, pqarrow.ArrowReadProperties{BatchSize: 4096}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	for i, f := range tbl.Schema().Fields() { // the reader adds field ids as metadata
		if w := testSchema.Field(i); f.Name != w.Name || !arrow.TypeEqual(f.Type, w.Type) || f.Nullable != w.Nullable {
			t.Fatalf("field %d read back as %v, want %v", i, f, w)
		}
	}
	want := array.NewTableFromRecords(testSchema, batches)
	defer want.Release()
	if tbl.NumRows() != want.NumRows() {
		t.Fatalf("%d rows read back, want %d", tbl.NumRows(), want.NumRows())
	}
	for c := range testSchema.NumFields() {
		g, err := array.Concatenate(tbl.Column(c).Data().Chunks(), memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		wt, err := array.Concatenate(want.Column(c).Data().Chunks(), memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		for i := range wt.Len() {
			if g.IsNull(i) != wt.IsNull(i) || (wt.IsValid(i) && g.ValueStr(i) != wt.ValueStr(i)) {
				t.Fatalf("column %s row %d: read %q, wrote %q", testSchema.Field(c).Name, i, g.ValueStr(i), wt.ValueStr(i))
			}
		}
		g.Release()
		wt.Release()
	}
}

// An aborted write stops its encoders and leaves no file.
func TestParquetWriterAbort(t *testing.T) {
	batches := testBatches([]int{5000, 5000})
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	path := filepath.Join(t.TempDir(), "t.parquet")
	w, err := Create(path, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range batches {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Abort()
	if err := w.Commit(); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 0 {
		t.Fatalf("left behind %v", entries)
	}
}

// Text in the other Arrow layouts (large_string, binary), with and without
// nulls, sliced across row groups, reads back as written.
func TestParquetWriterOtherTextLayouts(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "large", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "text", Type: arrow.BinaryTypes.String},
	}, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	var batches []arrow.RecordBatch
	for _, n := range []int{700, 1500, 900} {
		for range n {
			if rng.IntN(5) == 0 {
				b.Field(0).AppendNull()
				b.Field(1).AppendNull()
			} else {
				b.Field(0).(*array.LargeStringBuilder).Append(fmt.Sprintf("L%d", rng.IntN(40)))
				b.Field(1).(*array.BinaryBuilder).Append([]byte{byte(rng.IntN(7)), 0, 0xff})
			}
			b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("T%d", rng.IntN(50)))
		}
		batches = append(batches, b.NewRecordBatch())
	}
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	checkRoundTrip(t, schema, batches, 1000)
}
