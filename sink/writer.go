package sink

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Format is an on-disk table format.
type Format string

// The formats risklane reads and writes.
const (
	Parquet Format = "parquet"
	CSV     Format = "csv"
	Arrow   Format = "arrow"
)

// FormatOf infers a format from a file name: .parquet, .csv (or .csv.gz for
// reading), .arrow / .ipc / .feather.
func FormatOf(path string) (Format, error) {
	name := strings.ToLower(filepath.Base(path))
	name = strings.TrimSuffix(name, ".gz")
	switch filepath.Ext(name) {
	case ".parquet", ".pq":
		return Parquet, nil
	case ".csv", ".tsv", ".txt":
		return CSV, nil
	case ".arrow", ".ipc", ".feather", ".arrows":
		return Arrow, nil
	}
	return "", fmt.Errorf("%s: cannot tell the format from the file name; use .parquet, .csv or .arrow", path)
}

// Writer writes record batches of one schema to a file atomically.
type Writer struct {
	path   string
	file   *AtomicFile
	buf    *bufio.Writer
	write  func(arrow.RecordBatch) error
	close  func() error
	abort  func() // stops background work on Abort, if any
	closed bool
}

// Create starts writing a table with the given schema to path, in the format
// that FormatOf infers from its name.
func Create(path string, schema *arrow.Schema) (*Writer, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	return CreateFormat(path, f, schema)
}

// WriteTable writes rec, a whole table, to path atomically, in the format
// that FormatOf infers from its name.
func WriteTable(path string, rec arrow.RecordBatch) error {
	w, err := Create(path, rec.Schema())
	if err != nil {
		return err
	}
	defer w.Abort()
	if err := w.Write(rec); err != nil {
		return err
	}
	return w.Commit()
}

// CreateFormat is Create with an explicit format.
func CreateFormat(path string, format Format, schema *arrow.Schema) (*Writer, error) {
	af, err := CreateAtomic(path)
	if err != nil {
		return nil, err
	}
	w := &Writer{path: path, file: af, buf: bufio.NewWriterSize(&writebackWriter{f: af}, 1<<20)}
	if err := w.open(format, schema, w.buf); err != nil {
		af.Abort()
		return nil, fmt.Errorf("output %s: %w", path, err)
	}
	return w, nil
}

func (w *Writer) open(format Format, schema *arrow.Schema, out io.Writer) error {
	switch format {
	case Parquet:
		if ownEncoder(schema) {
			pw, err := newParquetWriter(schema, out, parquetRowGroupRows)
			if err != nil {
				return err
			}
			w.write, w.close, w.abort = pw.Write, pw.Close, pw.abort
			break
		}
		pw, err := pqarrow.NewFileWriter(schema, out, parquetProperties(schema, parquetRowGroupRows), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		if err != nil {
			return err
		}
		w.write = pw.WriteBuffered
		w.close = pw.Close
	case CSV:
		cw := csv.NewWriter(out, schema, csv.WithHeader(true), csv.WithNullWriter(""))
		w.write = func(rec arrow.RecordBatch) error {
			safe := safeRecord(rec)
			defer safe.Release()
			return cw.Write(safe)
		}
		w.close = cw.Flush
	case Arrow:
		iw, err := ipc.NewFileWriter(out, ipc.WithSchema(schema))
		if err != nil {
			return err
		}
		w.write = iw.Write
		w.close = iw.Close
	default:
		return fmt.Errorf("unknown format %q", format)
	}
	return nil
}

// Write appends one record batch.
func (w *Writer) Write(rec arrow.RecordBatch) error {
	if err := w.write(rec); err != nil {
		return fmt.Errorf("output %s: %w", w.path, err)
	}
	return nil
}

// Commit finishes the file and moves it to its final name.
func (w *Writer) Commit() error {
	if w.closed {
		return fmt.Errorf("output %s: already closed", w.path)
	}
	w.closed = true
	if err := w.close(); err != nil {
		w.file.Abort()
		return fmt.Errorf("output %s: %w", w.path, err)
	}
	if err := w.buf.Flush(); err != nil {
		w.file.Abort()
		return fmt.Errorf("output %s: %w", w.path, err)
	}
	return w.file.Commit()
}

// Abort discards the output; the final path is left as it was. It is safe to
// defer Abort and call Commit on success.
func (w *Writer) Abort() {
	if !w.closed && w.abort != nil {
		w.abort()
	}
	w.closed = true
	w.file.Abort()
}
