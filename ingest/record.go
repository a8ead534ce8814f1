package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ReadRecord reads a table whole as one record with the schema that want
// gives for the file's column names: a table sink.WriteTable wrote, in any
// input format (CSV, Parquet, Arrow IPC, told by its first bytes as
// declaration inputs are, with their safety checks). Columns are matched by
// name, so their order in the file does not matter and extra columns are
// ignored. String, Int64, Int32, Float64, Boolean and Date32 columns are
// read; a typed column must hold values of its kind (numbers for Float64,
// whole numbers for the integers, booleans for Boolean, dates for Date32,
// text for String), and CSV text is parsed.
// Empty CSV cells are nulls, except in String columns; cells that
// sink.WriteTable's CSV writer protected against spreadsheet formulas
// (sink.SafeCell) are read as written, with their quote.
//
// A missing column, a damaged row or a value that does not fit its column
// is an error naming the file (and, for a value, its line and column).
func ReadRecord(path string, want func(names []string) (*arrow.Schema, error)) (rec arrow.RecordBatch, err error) {
	defer func() {
		if p := recover(); p != nil {
			rec, err = nil, fmt.Errorf("%s: %w", path, damaged(p))
		}
	}()
	src, err := openTable(path)
	if err != nil {
		return nil, err
	}
	defer src.close()
	names := src.names()
	schema, err := want(names)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	at := make([]int, schema.NumFields())
	for i, f := range schema.Fields() {
		if at[i] = slices.Index(names, f.Name); at[i] < 0 {
			return nil, fmt.Errorf("%s: no column %q", path, f.Name)
		}
	}
	if err := src.start(uniq(slices.Clone(at))); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for src.next() {
		if why, _ := src.problem(); why != "" {
			return nil, fmt.Errorf("%s line %d: %s", path, src.line(), why)
		}
		for i, f := range schema.Fields() {
			c := src.cell(at[i])
			if err := appendCell(b.Field(i), c); err != nil {
				return nil, fmt.Errorf("%s line %d, column %q: %q: %w", path, src.line(), f.Name, formatCell(nil, c), err)
			}
		}
	}
	if err := src.err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b.NewRecordBatch(), nil
}

// appendCell appends one value to a builder of the types sink.WriteTable's
// tables use.
func appendCell(b array.Builder, c cell) error {
	if c.kind == kindNull {
		b.AppendNull()
		return nil
	}
	text := c.kind == kindText
	if text && len(c.text) == 0 {
		if _, ok := b.(*array.StringBuilder); !ok {
			b.AppendNull()
			return nil
		}
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		if !text {
			return errors.New("not text")
		}
		if !utf8.Valid(c.text) {
			return errors.New("not valid UTF-8 text")
		}
		b.BinaryBuilder.Append(c.text)
	case *array.Float64Builder:
		switch {
		case c.kind == kindFloat:
			b.Append(c.f)
		case text:
			v, err := strconv.ParseFloat(string(c.text), 64)
			if err != nil {
				return errors.New("not a number")
			}
			b.Append(v)
		default:
			return errors.New("not a floating-point number")
		}
	case *array.Int64Builder:
		switch {
		case c.kind == kindInt:
			b.Append(c.i)
		case text:
			v, err := strconv.ParseInt(string(c.text), 10, 64)
			if err != nil {
				return errors.New("not an integer")
			}
			b.Append(v)
		default:
			return errors.New("not an integer")
		}
	case *array.Int32Builder:
		switch {
		case c.kind == kindInt && c.i == int64(int32(c.i)):
			b.Append(int32(c.i))
		case text:
			v, err := strconv.ParseInt(string(c.text), 10, 32)
			if err != nil {
				return errors.New("not a 32-bit integer")
			}
			b.Append(int32(v))
		default:
			return errors.New("not a 32-bit integer")
		}
	case *array.BooleanBuilder:
		switch {
		case c.kind == kindBool:
			b.Append(c.i != 0)
		case text:
			v, err := strconv.ParseBool(string(c.text))
			if err != nil {
				return errors.New("not true or false")
			}
			b.Append(v)
		default:
			return errors.New("not true or false")
		}
	case *array.Date32Builder:
		switch {
		case c.kind == kindDays:
			b.Append(arrow.Date32(c.i))
		case text:
			t, err := time.Parse(time.DateOnly, strings.TrimSpace(string(c.text)))
			if err != nil {
				return errors.New("not a date (YYYY-MM-DD)")
			}
			b.Append(arrow.Date32FromTime(t))
		default:
			return errors.New("not a date")
		}
	default:
		return fmt.Errorf("cannot read a %s column", b.Type())
	}
	return nil
}
