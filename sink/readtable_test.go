package sink

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestReadTableRoundTrip(t *testing.T) {
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
		if err := WriteTable(path, rec); err != nil {
			t.Fatal(err)
		}
		var seen []string
		got, err := ReadTable(path, func(names []string) (*arrow.Schema, error) { seen = names; return want, nil })
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
		_, err = ReadTable(path, func([]string) (*arrow.Schema, error) {
			return arrow.NewSchema([]arrow.Field{{Name: "missing", Type: arrow.BinaryTypes.String}}, nil), nil
		})
		if err == nil || !strings.Contains(err.Error(), `"missing"`) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: missing column: %v", name, err)
		}
		// A column of another type.
		if name != "t.csv" {
			_, err = ReadTable(path, func([]string) (*arrow.Schema, error) {
				return arrow.NewSchema([]arrow.Field{{Name: "group", Type: arrow.PrimitiveTypes.Float64}}, nil), nil
			})
			if err == nil || !strings.Contains(err.Error(), `"group"`) {
				t.Errorf("%s: wrong type: %v", name, err)
			}
		}
	}
}

func TestReadTableCSVCellErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(path, []byte("group,v\na,1.5\nb,x1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadTable(path, func([]string) (*arrow.Schema, error) {
		return arrow.NewSchema([]arrow.Field{{Name: "group", Type: arrow.BinaryTypes.String}, {Name: "v", Type: arrow.PrimitiveTypes.Float64}}, nil), nil
	})
	if err == nil || !strings.Contains(err.Error(), "bad.csv:3:3") || !strings.Contains(err.Error(), "not a number") {
		t.Fatalf("got %v, want the file, line 3, column 3 and the reason", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.csv")
	os.WriteFile(empty, nil, 0o644)
	if _, err := ReadTable(empty, func([]string) (*arrow.Schema, error) { return arrow.NewSchema(nil, nil), nil }); err == nil {
		t.Fatal("an empty CSV file was read")
	}
}

// FuzzReadTableCSV: any bytes give a table or an error, never a panic.
func FuzzReadTableCSV(f *testing.F) {
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
		rec, err := ReadTable(path, func([]string) (*arrow.Schema, error) { return schema, nil })
		if err == nil {
			if rec.NumCols() != 4 {
				t.Fatalf("%d columns", rec.NumCols())
			}
			rec.Release()
		}
	})
}
