package synth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
)

// DATEHeader is the header of the DATE / BACUDA 14-column format, as in the
// synthetic data of the DATE repository (Roytsai27/Dual-Attentive-Tree-aware-
// Embedding, data/synthetic-imports-declarations.csv).
var DATEHeader = []string{"sgd.id", "sgd.date", "importer.id", "declarant.id", "country", "office.id",
	"tariff.code", "quantity", "gross.weight", "fob.value", "cif.value", "total.taxes", "illicit", "revenue"}

// DATELayout is the layout of sgd.date: two-digit year, month and day
// ("13-01-02" is 2 January 2013), as the DATE repository writes it.
const DATELayout = "06-01-02"

// dateColumns are the canonical columns behind DATEHeader, in its order.
var dateColumns = []string{decl.DeclarationID, decl.Date, decl.ImporterID, decl.DeclarantID, decl.OriginCountry,
	decl.OfficeID, decl.HSCode, decl.Quantity, decl.GrossWeightKg, decl.FOBValue, decl.CIFValue, decl.TotalTaxes,
	decl.Illicit, decl.Revenue}

// DATEWriter writes record batches of the canonical schema in the DATE
// format: comma-separated, header line, "\n" line ends, numbers in the
// shortest form that reads back to the same float64, unlabelled rows with
// empty illicit and revenue. Columns other than DATEHeader's are dropped.
type DATEWriter struct {
	w      *bufio.Writer
	header bool
	line   []byte
}

// NewDATEWriter returns a writer to w; call Flush at the end.
func NewDATEWriter(w io.Writer) *DATEWriter {
	return &DATEWriter{w: bufio.NewWriterSize(w, 1<<20)}
}

// Write appends the rows of rec, which must hold the canonical columns of
// DATEHeader with their canonical types.
func (d *DATEWriter) Write(rec arrow.RecordBatch) error {
	cols := make([]arrow.Array, len(dateColumns))
	for i, name := range dateColumns {
		col, ok := decl.Field(rec, name)
		if !ok {
			return fmt.Errorf("DATE format: the batch has no %q column", name)
		}
		c, _ := decl.Lookup(name)
		if !arrow.TypeEqual(col.DataType(), c.Type) {
			return fmt.Errorf("DATE format: column %q is %s, want %s", name, col.DataType(), c.Type)
		}
		cols[i] = col
	}
	if !d.header {
		d.header = true
		if _, err := d.w.WriteString(strings.Join(DATEHeader, ",") + "\n"); err != nil {
			return err
		}
	}
	for row := 0; row < int(rec.NumRows()); row++ {
		b := d.line[:0]
		for i, col := range cols {
			if i > 0 {
				b = append(b, ',')
			}
			if col.IsNull(row) {
				continue
			}
			switch a := col.(type) {
			case *array.String:
				b = appendCSVField(b, a.Value(row))
			case *array.Date32:
				b = a.Value(row).ToTime().AppendFormat(b, DATELayout)
			case *array.Float64:
				b = strconv.AppendFloat(b, a.Value(row), 'f', -1, 64)
			case *array.Int8:
				b = strconv.AppendInt(b, int64(a.Value(row)), 10)
			default:
				return errors.New("DATE format: unexpected column type " + col.DataType().String())
			}
		}
		b = append(b, '\n')
		d.line = b
		if _, err := d.w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes out buffered data (and the header, for an empty table).
func (d *DATEWriter) Flush() error {
	if !d.header {
		d.header = true
		if _, err := d.w.WriteString(strings.Join(DATEHeader, ",") + "\n"); err != nil {
			return err
		}
	}
	return d.w.Flush()
}

// WriteDATE drains g into w in the DATE format, generating and formatting
// on two goroutines (see Stream).
func WriteDATE(w io.Writer, g *Generator) error {
	dw := NewDATEWriter(w)
	if err := Stream(g, dw.Write); err != nil {
		return err
	}
	return dw.Flush()
}

// appendCSVField appends s, quoted if it holds a comma, quote or line break.
func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
