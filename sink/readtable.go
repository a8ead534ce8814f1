package sink

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ReadTable reads back a table that WriteTable wrote (Parquet, Arrow or CSV,
// by the file's name) as one record with the schema that want gives for the
// file's column names: columns are matched by name, so their order in the
// file does not matter and extra columns are ignored. A missing column, a
// column of another type, or a CSV cell that does not parse is an error
// naming the file (and, for CSV, the line and column). Empty CSV cells are
// nulls. Cells that WriteTable's CSV writer protected against spreadsheet
// formulas (SafeCell) are read as written, with their quote.
func ReadTable(path string, want func(names []string) (*arrow.Schema, error)) (arrow.RecordBatch, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	if format == CSV {
		return readCSVTable(path, want)
	}
	var cols []arrow.Array
	var schema *arrow.Schema
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	var tbl arrow.Table
	switch format {
	case Parquet:
		pf, err := file.OpenParquetFile(path, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer pf.Close()
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if tbl, err = fr.ReadTable(context.Background()); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	case Arrow:
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, err := ipc.NewFileReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer r.Close()
		var recs []arrow.RecordBatch
		for i := 0; i < r.NumRecords(); i++ {
			rec, err := r.RecordBatch(i)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			recs = append(recs, rec)
		}
		tbl = array.NewTableFromRecords(r.Schema(), recs)
	}
	defer tbl.Release()
	names := make([]string, tbl.NumCols())
	for i := range names {
		names[i] = tbl.Schema().Field(i).Name
	}
	if schema, err = want(names); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, f := range schema.Fields() {
		idx := tbl.Schema().FieldIndices(f.Name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("%s: no column %q", path, f.Name)
		}
		col := tbl.Column(idx[0])
		if !arrow.TypeEqual(col.DataType(), f.Type) {
			return nil, fmt.Errorf("%s: column %q is %s, want %s", path, f.Name, col.DataType(), f.Type)
		}
		var a arrow.Array
		if chunks := col.Data().Chunks(); len(chunks) == 1 {
			a = chunks[0]
			a.Retain()
		} else if len(chunks) == 0 {
			a = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, 0)
		} else if a, err = array.Concatenate(chunks, memory.DefaultAllocator); err != nil {
			return nil, fmt.Errorf("%s: column %q: %w", path, f.Name, err)
		}
		cols = append(cols, a)
	}
	return array.NewRecordBatch(schema, cols, tbl.NumRows()), nil
}

// readCSVTable is ReadTable for CSV files.
func readCSVTable(path string, want func(names []string) (*arrow.Schema, error)) (arrow.RecordBatch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file, no header", path)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	header = append([]string(nil), header...)
	schema, err := want(header)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	at := make([]int, schema.NumFields())
	for i, fd := range schema.Fields() {
		at[i] = -1
		for j, h := range header {
			if h == fd.Name {
				at[i] = j
				break
			}
		}
		if at[i] < 0 {
			return nil, fmt.Errorf("%s: no column %q in the header", path, fd.Name)
		}
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := cr.FieldPos(0)
		for i, fd := range schema.Fields() {
			cell := rec[at[i]]
			if err := appendCell(b.Field(i), cell); err != nil {
				_, col := cr.FieldPos(at[i])
				return nil, fmt.Errorf("%s:%d:%d: column %q: %q: %w", path, line, col, fd.Name, cell, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

// appendCell parses one CSV cell into a builder of the types WriteTable's
// tables use.
func appendCell(b array.Builder, cell string) error {
	if cell == "" {
		if _, ok := b.(*array.StringBuilder); !ok {
			b.AppendNull()
			return nil
		}
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		b.Append(cell)
	case *array.Float64Builder:
		v, err := strconv.ParseFloat(cell, 64)
		if err != nil {
			return errors.New("not a number")
		}
		b.Append(v)
	case *array.Int64Builder:
		v, err := strconv.ParseInt(cell, 10, 64)
		if err != nil {
			return errors.New("not an integer")
		}
		b.Append(v)
	case *array.Int32Builder:
		v, err := strconv.ParseInt(cell, 10, 32)
		if err != nil {
			return errors.New("not a 32-bit integer")
		}
		b.Append(int32(v))
	case *array.BooleanBuilder:
		v, err := strconv.ParseBool(cell)
		if err != nil {
			return errors.New("not true or false")
		}
		b.Append(v)
	case *array.Date32Builder:
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(cell))
		if err != nil {
			return errors.New("not a date (YYYY-MM-DD)")
		}
		b.Append(arrow.Date32FromTime(t))
	default:
		return fmt.Errorf("cannot read a %s column from CSV", b.Type())
	}
	return nil
}
