package sink

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// MaxRejectRows is the number of rejected rows a rejects file (or a list
// of rejects in memory) holds; past it rows are only counted, and the file's
// last line says how many were left out. An 18 MB .csv.gz of bad lines once
// wrote a 10.7 GB rejects file: the first rows show what is wrong, the
// counts say how much.
const MaxRejectRows = 100_000

// SafeCell neutralises a CSV cell that a spreadsheet would evaluate as a
// formula (CSV injection; docs/input-safety.md): a cell starting with = + -
// @, a tab or a carriage return gets a leading single quote, which
// spreadsheets show as text and do not evaluate (the OWASP rule). A plain
// number such as -3 or +1.5e3 is left alone: a spreadsheet reads it as the
// number it is. Every CSV risklane writes goes through SafeCell; Parquet
// and Arrow outputs keep the true value.
func SafeCell(s string) string {
	if !needsQuote(s) {
		return s
	}
	return "'" + s
}

func needsQuote(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		_, err := strconv.ParseFloat(s, 64)
		return err != nil
	}
	return false
}

// CSVWriter is encoding/csv's Writer with every cell passed through
// SafeCell.
type CSVWriter struct {
	*csv.Writer
	rec []string
}

// NewCSVWriter returns a CSVWriter writing to w.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{Writer: csv.NewWriter(w)} }

// Write writes one record, neutralising its cells.
func (w *CSVWriter) Write(rec []string) error {
	w.rec = w.rec[:0]
	for _, c := range rec {
		w.rec = append(w.rec, SafeCell(c))
	}
	return w.Writer.Write(w.rec)
}

// safeRecord returns rec with the text cells that SafeCell changes
// neutralised, for arrow-go's CSV writer; rec itself (retained) when none
// needs it, the common case, which costs one scan of the text.
func safeRecord(rec arrow.RecordBatch) arrow.RecordBatch {
	var cols []arrow.Array
	for i, col := range rec.Columns() {
		s, ok := col.(*array.String)
		if !ok {
			continue
		}
		dirty := false
		for k := 0; k < s.Len() && !dirty; k++ {
			dirty = s.IsValid(k) && needsQuote(s.Value(k))
		}
		if !dirty {
			continue
		}
		if cols == nil {
			cols = append([]arrow.Array(nil), rec.Columns()...)
		}
		b := array.NewStringBuilder(memory.DefaultAllocator)
		for k := 0; k < s.Len(); k++ {
			if s.IsNull(k) {
				b.AppendNull()
			} else {
				b.Append(SafeCell(s.Value(k)))
			}
		}
		cols[i] = b.NewArray()
		b.Release()
	}
	if cols == nil {
		rec.Retain()
		return rec
	}
	out := array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
	for i, c := range cols {
		if c != rec.Column(i) {
			c.Release()
		}
	}
	return out
}
