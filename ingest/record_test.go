package ingest

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/sink"
)

func TestReadRecordRoundTrip(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "group", Type: arrow.BinaryTypes.String},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32},
		{Name: "p", Type: arrow.PrimitiveTypes.Int32},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"a b", "=cmd", "c,\"d\""}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{1, -2, 1 << 40}, nil)
	fb := b.Field(2).(*array.Float64Builder)
	fb.Append(0.1)
	fb.AppendNull()
	fb.Append(math.NaN())
	b.Field(3).(*array.Date32Builder).AppendValues([]arrow.Date32{0, 19800, 20000}, nil)
	b.Field(4).(*array.Int32Builder).AppendValues([]int32{7, -1 << 31, 1<<31 - 1}, nil)
	b.Field(5).(*array.BooleanBuilder).AppendValues([]bool{true, false, true}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	// The reader asks for the columns in another order, and not all.
	want := arrow.NewSchema([]arrow.Field{schema.Field(3), schema.Field(2), schema.Field(0), schema.Field(1), schema.Field(4), schema.Field(5)}, nil)
	for _, name := range []string{"t.parquet", "t.csv", "t.arrow"} {
		path := filepath.Join(t.TempDir(), name)
		if err := sink.WriteTable(path, rec); err != nil {
			t.Fatal(err)
		}
		var seen []string
		got, err := ReadRecord(path, func(names []string) (*arrow.Schema, error) { seen = names; return want, nil })
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Join(seen, ",") != "group,n,v,day,p,ok" {
			t.Errorf("%s: names %v", name, seen)
		}
		if got.NumRows() != 3 || got.NumCols() != 6 {
			t.Fatalf("%s: %d rows %d cols", name, got.NumRows(), got.NumCols())
		}
		day := got.Column(0).(*array.Date32)
		v := got.Column(1).(*array.Float64)
		grp := got.Column(2).(*array.String)
		n := got.Column(3).(*array.Int64)
		if day.Value(1) != 19800 || n.Value(2) != 1<<40 || v.Value(0) != 0.1 || !v.IsNull(1) || !math.IsNaN(v.Value(2)) {
			t.Errorf("%s: values %v %v %v", name, day, n, v)
		}
		p, ok := got.Column(4).(*array.Int32), got.Column(5).(*array.Boolean)
		if p.Value(0) != 7 || p.Value(1) != -1<<31 || p.Value(2) != 1<<31-1 || !ok.Value(0) || ok.Value(1) {
			t.Errorf("%s: int32 %v, booleans %v", name, p, ok)
		}
		first := grp.Value(1)
		if name == "t.csv" {
			first = strings.TrimPrefix(first, "'") // SafeCell's quote
		}
		if grp.Value(0) != "a b" || first != "=cmd" || grp.Value(2) != "c,\"d\"" {
			t.Errorf("%s: strings %q", name, []string{grp.Value(0), grp.Value(1), grp.Value(2)})
		}
		got.Release()
		// A column the file does not have.
		_, err = ReadRecord(path, func([]string) (*arrow.Schema, error) {
			return arrow.NewSchema([]arrow.Field{{Name: "missing", Type: arrow.BinaryTypes.String}}, nil), nil
		})
		if err == nil || !strings.Contains(err.Error(), `"missing"`) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: missing column: %v", name, err)
		}
		// A column of another type.
		if name != "t.csv" {
			_, err = ReadRecord(path, func([]string) (*arrow.Schema, error) {
				return arrow.NewSchema([]arrow.Field{{Name: "group", Type: arrow.PrimitiveTypes.Float64}}, nil), nil
			})
			if err == nil || !strings.Contains(err.Error(), `"group"`) {
				t.Errorf("%s: wrong type: %v", name, err)
			}
		}
	}
}

// TestReadRecordCSVCellErrors: a value that does not fit its column, or a
// damaged row, is an error naming the file, the line and the column.
func TestReadRecordCSVCellErrors(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "group", Type: arrow.BinaryTypes.String},
		{Name: "v", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}, nil)
	for _, c := range []struct{ data, want string }{
		{"group,v,n,day\na,1.5,1,2024-01-31\nb,x1,2,\n", `bad.csv line 3, column "v": "x1": not a number`},
		{"group,v,n,day\na,1.5,1.5,\n", `bad.csv line 2, column "n": "1.5": not an integer`},
		{"group,v,n,day\na,,,31/01/2024\n", `bad.csv line 2, column "day": "31/01/2024": not a date (YYYY-MM-DD)`},
		{"group,v,n,day\n\"a\nb\",1,2,\nc,1,2\n", `bad.csv line 4: wrong field count: 3 fields, the header has 4`},
		{"group,v,n,day\na\xff,1,2,\n", `bad.csv line 2, column "group": "a\xff": not valid UTF-8 text`},
		{"v,n,day\n1,2,\n", `bad.csv: no column "group"`},
		{"", "bad.csv: the file is empty"},
	} {
		path := filepath.Join(t.TempDir(), "bad.csv")
		if err := os.WriteFile(path, []byte(c.data), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadRecord(path, func([]string) (*arrow.Schema, error) { return schema, nil })
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), path) {
			t.Errorf("%q: got %v, want %s", c.data, err, c.want)
		}
	}
}

// TestReadRecordFormats: every input format reads, told by its first bytes
// whatever the file's name (a gzip-compressed CSV, an Arrow IPC stream),
// and a typed column of another kind is refused.
func TestReadRecordFormats(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{7, -1}, nil)
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{0.25, 1e300}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	dir := t.TempDir()
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write([]byte("n,v\n7,0.25\n-1,1e300\n"))
	z.Close()
	var stream bytes.Buffer
	w := ipc.NewWriter(&stream, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Close()
	files := map[string][]byte{"t.csv.gz": gz.Bytes(), "t.arrows": stream.Bytes()}
	for _, name := range []string{"t.parquet", "t.arrow"} {
		if err := sink.WriteTable(filepath.Join(dir, name), rec); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"t.parquet", "t.arrow", "t.csv.gz", "t.arrows"} {
		path := filepath.Join(dir, name)
		got, err := ReadRecord(path, func([]string) (*arrow.Schema, error) { return schema, nil })
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !array.RecordEqual(got, rec) {
			t.Errorf("%s: got %v, want %v", name, got, rec)
		}
		got.Release()
		if name == "t.csv.gz" {
			continue // text: any column may be parsed as a number
		}
		_, err = ReadRecord(path, func([]string) (*arrow.Schema, error) {
			return arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Float64}}, nil), nil
		})
		if err == nil || !strings.Contains(err.Error(), path+` line 1, column "n": "7": not a floating-point number`) {
			t.Errorf("%s: an int64 column read as float64: %v", name, err)
		}
	}
}

// FuzzReadRecordCSV: any bytes give a table or an error, never a panic.
func FuzzReadRecordCSV(f *testing.F) {
	f.Add([]byte("group,n,v,day\na,1,0.5,2024-01-31\n"))
	f.Add([]byte("day,v\n,\n"))
	f.Add([]byte("group,n,v,day\n\"a\nb\",x,,\n"))
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "group", Type: arrow.BinaryTypes.String},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}, nil)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "f.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rec, err := ReadRecord(path, func([]string) (*arrow.Schema, error) { return schema, nil })
		if err == nil {
			if rec.NumCols() != 4 {
				t.Fatalf("%d columns", rec.NumCols())
			}
			rec.Release()
		}
	})
}
