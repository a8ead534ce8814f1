package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"golang.org/x/text/encoding"

	"risklane/decl"
)

// cellKind says how a source value arrived: as text (CSV, string columns) or
// already typed (Parquet, Arrow).
type cellKind uint8

const (
	kindNull cellKind = iota
	kindText
	kindFloat
	kindInt
	kindBool
	kindDays
)

// cell is one source value. Text views source memory and is valid until the
// source moves to the next row.
type cell struct {
	kind cellKind
	text []byte
	f    float64
	i    int64 // kindInt, kindBool (0/1), kindDays
}

// source yields the rows of one input file.
type source interface {
	// names lists the source columns; labels (may be nil) marks those whose
	// metadata says they are labels.
	names() []string
	labels() []bool
	// start begins reading the given columns (indices into names).
	start(cols []int) error
	next() bool
	// line is the current row's position: the physical line where a CSV
	// record starts (the header is line 1), or the 1-based row number.
	line() int64
	cell(col int) cell
	// problem is why the whole current row is unusable (wrong field count,
	// broken quoting), with its raw text; "" if none.
	problem() (string, []byte)
	// validUTF8 reports that all text of the current row is known to be
	// valid UTF-8, so fields need not be checked one by one.
	validUTF8() bool
	err() error
	close() error
}

// MaxColumns bounds the columns of an input file: a declaration file has
// tens of columns, and each costs buffer space per record.
const MaxColumns = 2048

// openSource opens a file and reads its header or schema. Errors here are
// structural: they name the file and say what to do.
// dec, when not nil, decodes a CSV file's character set (profile encoding)
// to UTF-8.
func openSource(path string, comma byte, dec *encoding.Decoder, maxRecord func(ncols int) int) (source, Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, 0, errors.New("is a directory, not a file")
	}
	fm, gz, err := sniff(path, f)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	var src source
	switch fm {
	case CSV:
		src, err = openCSV(path, f, gz, comma, dec, maxRecord)
	case Parquet:
		src, err = openParquet(f)
	case ArrowFile:
		src, err = openArrowFile(f)
	case ArrowStream:
		src, err = openArrowStream(f)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if n := len(src.names()); n > MaxColumns {
		src.close()
		return nil, 0, fmt.Errorf("%d columns, more than the %d risklane reads", n, MaxColumns)
	}
	return src, fm, nil
}

// csvSource reads a CSV file, optionally gzip-compressed.
type csvSource struct {
	f      *os.File
	gz     *gzip.Reader
	sc     *csvScanner
	header []string
	prob   string
}

func openCSV(path string, f *os.File, gz bool, comma byte, dec *encoding.Decoder, maxRecord func(int) int) (*csvSource, error) {
	c := &csvSource{f: f}
	var r io.Reader = f
	if gz {
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		c.gz = z
		r = z
	}
	if dec != nil {
		r = dec.Reader(r)
	}
	// The header is read with a generous limit: its column count fixes the
	// limit for the data records.
	c.sc = newCSVScanner(r, comma, maxRecord(0))
	if err := c.sc.checkText(); err != nil {
		return nil, err
	}
	c.sc.skipBOM()
	if !c.sc.next() {
		if c.sc.err != nil {
			return nil, c.sc.err
		}
		return nil, errors.New("the file is empty: a CSV input needs a header line naming its columns")
	}
	if c.sc.problem != "" {
		return nil, fmt.Errorf("header line %d: %s", c.sc.recLine, c.sc.problem)
	}
	if len(c.sc.fields) > MaxColumns {
		return nil, fmt.Errorf("header line %d has %d columns, more than the %d risklane reads; check the delimiter, or drop unused columns", c.sc.recLine, len(c.sc.fields), MaxColumns)
	}
	for _, h := range c.sc.fields {
		c.header = append(c.header, string(trimSpace(h)))
	}
	if len(c.header) == 1 && comma != ';' && strings.Contains(c.header[0], ";") {
		return nil, fmt.Errorf("the header has a single column %q; if the file is separated by semicolons, set delimiter: \";\" in the profile", c.header[0])
	}
	c.sc.maxRecord = maxRecord(len(c.header))
	return c, nil
}

// checkText refuses an input that is not UTF-8 text before any line is
// read: a UTF-16 file (a byte-order mark, or NUL bytes between ASCII
// letters) or a binary one (NUL bytes), which would otherwise give a wall
// of \x00 escapes, or, for an endless input such as the zero device, no
// end at all.
func (s *csvScanner) checkText() error {
	for s.end-s.pos < 4096 && s.fill() {
	}
	head := s.buf[s.pos:s.end]
	if bytes.HasPrefix(head, []byte("\xff\xfe")) || bytes.HasPrefix(head, []byte("\xfe\xff")) {
		return errors.New("the file is UTF-16 text, which is not supported; save it as UTF-8 (CSV UTF-8 in spreadsheet programs)")
	}
	// A few NUL bytes are damaged values, rejected row by row; text that is
	// a quarter NUL or more is not UTF-8 text at all.
	if nuls := bytes.Count(head, []byte{0}); nuls > 0 && 4*nuls >= len(head) {
		odd := 0 // NULs at odd offsets: UTF-16LE ASCII has them all there
		for i := 1; i < len(head); i += 2 {
			if head[i] == 0 {
				odd++
			}
		}
		if 10*odd >= 9*nuls || 10*odd <= nuls && 2*nuls <= len(head) {
			return errors.New("the file looks like UTF-16 text (a NUL byte beside each letter), which is not supported; save it as UTF-8")
		}
		return fmt.Errorf("the file holds NUL bytes (%d of its first %d): it is not a CSV text file; check what was copied", nuls, len(head))
	}
	return nil
}

// skipBOM drops a UTF-8 byte-order mark at the start of the input, which
// spreadsheet programs write and which would otherwise stick to the first
// column name.
func (s *csvScanner) skipBOM() {
	for s.end-s.pos < 3 && s.fill() {
	}
	if bytes.HasPrefix(s.buf[s.pos:s.end], []byte("\xef\xbb\xbf")) {
		s.pos += 3
	}
}

func (c *csvSource) names() []string   { return c.header }
func (c *csvSource) labels() []bool    { return nil }
func (c *csvSource) start([]int) error { return nil }
func (c *csvSource) line() int64       { return c.sc.recLine }
func (c *csvSource) cell(col int) cell { return cell{kind: kindText, text: c.sc.fields[col]} }

func (c *csvSource) next() bool {
	if !c.sc.next() {
		return false
	}
	c.prob = c.sc.problem
	if c.prob == "" && len(c.sc.fields) != len(c.header) {
		c.prob = fmt.Sprintf("wrong field count: %d fields, the header has %d", len(c.sc.fields), len(c.header))
	}
	return true
}

func (c *csvSource) problem() (string, []byte) { return c.prob, c.sc.raw }

// validUTF8 checks the record's whole text at once: its fields are pieces of
// it cut at ASCII bytes, so they are valid (and free of NUL bytes) if it is.
func (c *csvSource) validUTF8() bool { return validText(c.sc.raw) }

// validText reports whether b is valid UTF-8 without NUL bytes: in one
// pass when it is ASCII, as nearly every declaration line is.
func validText(b []byte) bool {
	return asciiBytes(b) || utf8.Valid(b) && bytes.IndexByte(b, 0) < 0
}

func (c *csvSource) err() error {
	if c.sc.err != nil {
		return fmt.Errorf("reading near line %d: %w", c.sc.line, c.sc.err)
	}
	return nil
}

func (c *csvSource) close() error {
	if c.gz != nil {
		c.gz.Close()
	}
	return c.f.Close()
}

// batchSource reads a typed file (Parquet, Arrow IPC) one record batch at a
// time and hands out its rows.
type batchSource struct {
	schema    *arrow.Schema
	nextBatch func() (arrow.RecordBatch, error) // nil, nil at the end
	closeFn   func() error
	open      func(cols []int) error // optional: start reading only cols
	// untrusted marks sources whose arrays are built from the file's
	// buffers unchecked (Arrow IPC): each batch's read columns are checked
	// by checkArray first.
	untrusted bool
	read      []int // the columns start was given
	// dictCols are the schema columns that may arrive dictionary-encoded
	// when the file stores them so (set before start): Parquet reads them
	// as Arrow dictionaries, whose values the column path checks once each
	// (dictTextColumn), instead of copying every row's value into a plain
	// string array. Only the Reader's column path sets it.
	dictCols []int
	// mayPages: a Parquet file may be read by risklane's page decoder
	// (pqpages.go) instead of pqarrow's record reader. Only the Reader's
	// column path sets it (the row path reads through pqarrow).
	mayPages bool
	// pages: the Parquet file is read by the page decoder.
	pages bool

	cols    []int // schema index -> batch column index, -1 if not read
	getters []func(int) cell
	cur     arrow.RecordBatch
	row, n  int
	rowNo   int64
	e       error
	done    bool
	// ascii: every text value of the read columns of the current batch is
	// ASCII without NUL bytes, so no value needs a UTF-8 check of its own.
	ascii bool
}

func (b *batchSource) names() []string {
	out := make([]string, b.schema.NumFields())
	for i, f := range b.schema.Fields() {
		out[i] = f.Name
	}
	return out
}

func (b *batchSource) labels() []bool {
	out := make([]bool, b.schema.NumFields())
	for i, f := range b.schema.Fields() {
		v, ok := f.Metadata.GetValue(decl.RoleKey)
		out[i] = ok && v == decl.RoleLabel
	}
	return out
}

func (b *batchSource) start(cols []int) error {
	b.read = cols
	b.cols = make([]int, b.schema.NumFields())
	for i := range b.cols {
		b.cols[i] = i
	}
	b.getters = make([]func(int) cell, b.schema.NumFields())
	for _, c := range cols {
		if err := checkType(b.schema.Field(c).Type); err != nil {
			return fmt.Errorf("column %q: %v", b.schema.Field(c).Name, err)
		}
	}
	if b.open != nil {
		return b.open(cols)
	}
	return nil
}

// nextRecord returns the next record batch with rows, checked if the source
// is untrusted, or nil at the end or on an error (see err). The row path
// (next) and the column path (columnar.go) both read batches through it.
func (b *batchSource) nextRecord() arrow.RecordBatch {
	for !b.done {
		rec, err := b.nextBatch()
		if err != nil {
			b.e = err
			b.done = true
			return nil
		}
		if rec == nil {
			b.done = true
			return nil
		}
		if b.untrusted {
			if err := b.check(rec); err != nil {
				b.e = err
				b.done = true
				return nil
			}
		}
		if rec.NumRows() > 0 {
			return rec
		}
	}
	return nil
}

func (b *batchSource) next() bool {
	for !b.done && (b.cur == nil || b.row+1 >= b.n) {
		rec := b.nextRecord()
		if rec == nil {
			return false
		}
		b.cur, b.n, b.row = rec, int(rec.NumRows()), -1
		for i := range b.getters {
			b.getters[i] = nil
		}
		b.ascii = true
		for _, c := range b.read {
			if b.cols[c] >= 0 && !asciiText(rec.Column(b.cols[c])) {
				b.ascii = false
				break
			}
		}
	}
	if b.done {
		return false
	}
	b.row++
	b.rowNo++
	return true
}

// check refuses a batch whose read columns do not hold its rows.
func (b *batchSource) check(rec arrow.RecordBatch) error {
	if rec.NumCols() != int64(len(b.cols)) {
		return fmt.Errorf("%w: a record batch of %d columns, the schema has %d", errArrowMeta, rec.NumCols(), len(b.cols))
	}
	for _, c := range b.read {
		col := rec.Column(b.cols[c])
		if int64(col.Len()) != rec.NumRows() {
			return fmt.Errorf("%w: column %q has %d rows, its batch %d", errArrowMeta, b.schema.Field(c).Name, col.Len(), rec.NumRows())
		}
		if err := checkArray(col); err != nil {
			return fmt.Errorf("column %q: %w", b.schema.Field(c).Name, err)
		}
	}
	return nil
}

func (b *batchSource) line() int64               { return b.rowNo }
func (b *batchSource) problem() (string, []byte) { return "", nil }
func (b *batchSource) validUTF8() bool           { return b.ascii }

// asciiText reports whether every text value of arr is ASCII without NUL
// bytes, checking its value bytes at once (a value cut out of ASCII text is
// ASCII; that does not hold for UTF-8 text in general, whose values are
// then checked one by one). Columns without text qualify; text types it
// does not know do not.
func asciiText(arr arrow.Array) bool {
	switch a := arr.(type) {
	case *array.Dictionary:
		return asciiText(a.Dictionary())
	case *array.String, *array.LargeString, *array.Binary, *array.LargeBinary:
		// ValueBytes is the bytes of the array's values, from the first
		// value's start to the last one's end.
		return asciiBytes(a.(interface{ ValueBytes() []byte }).ValueBytes())
	}
	switch arr.DataType().ID() {
	case arrow.STRING_VIEW, arrow.BINARY_VIEW:
		return false
	}
	return true // numbers, dates, booleans, nulls
}

// asciiBytes reports whether b holds only ASCII bytes other than NUL,
// eight bytes at a time.
func asciiBytes(b []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		v := binary.LittleEndian.Uint64(b)
		// A byte >= 0x80 sets its top bit; a zero byte sets it in v-lo&^v.
		if (v|(v-lo)&^v)&hi != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c == 0 || c >= 0x80 {
			return false
		}
	}
	return true
}
func (b *batchSource) err() error   { return b.e }
func (b *batchSource) close() error { return b.closeFn() }

func (b *batchSource) cell(col int) cell {
	g := b.getters[col]
	if g == nil {
		g = getter(b.cur.Column(b.cols[col]))
		b.getters[col] = g
	}
	return g(b.row)
}

// checkType refuses column types that cannot become a declaration value.
func checkType(dt arrow.DataType) error {
	switch t := dt.(type) {
	case *arrow.DictionaryType:
		return checkType(t.ValueType)
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			if _, err := loadZone(t.TimeZone); err != nil {
				return fmt.Errorf("time zone %q: %v", t.TimeZone, err)
			}
		}
		return nil
	}
	switch dt.ID() {
	case arrow.NULL, arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64,
		arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW, arrow.BINARY, arrow.LARGE_BINARY,
		arrow.BINARY_VIEW, arrow.DATE32, arrow.DATE64, arrow.DECIMAL128, arrow.DECIMAL256:
		return nil
	}
	return fmt.Errorf("type %s cannot hold a declaration value; convert it to a string, number or date column", dt)
}

// zones caches time zones: time.LoadLocation reads the zone database on
// every call, and readers on several goroutines may ask.
var zones sync.Map // string -> *time.Location

func loadZone(name string) (*time.Location, error) {
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location), nil
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, z)
	return z, nil
}

// getter returns a function reading row i of arr as a cell. Types were
// checked by checkType.
func getter(arr arrow.Array) func(int) cell {
	nullable := arr.NullN() > 0
	wrap := func(f func(int) cell) func(int) cell {
		if !nullable {
			return f
		}
		return func(i int) cell {
			if arr.IsNull(i) {
				return cell{}
			}
			return f(i)
		}
	}
	switch a := arr.(type) {
	case *array.Null:
		return func(int) cell { return cell{} }
	case *array.Dictionary:
		inner := getter(a.Dictionary())
		return wrap(func(i int) cell { return inner(a.GetValueIndex(i)) })
	case *array.Boolean:
		return wrap(func(i int) cell {
			if a.Value(i) {
				return cell{kind: kindBool, i: 1}
			}
			return cell{kind: kindBool}
		})
	case *array.Int8:
		return wrap(func(i int) cell { return cell{kind: kindInt, i: int64(a.Value(i))} })
	case *array.Int16:
		return wrap(func(i int) cell { return cell{kind: kindInt, i: int64(a.Value(i))} })
	case *array.Int32:
		return wrap(func(i int) cell { return cell{kind: kindInt, i: int64(a.Value(i))} })
	case *array.Int64:
		return wrap(func(i int) cell { return cell{kind: kindInt, i: a.Value(i)} })
	case *array.Uint8:
		return wrap(func(i int) cell { return cell{kind: kindInt, i: int64(a.Value(i))} })
	case *array.Uint16:
		return wrap(func(i int) cell { return cell{kind: kindInt, i: int64(a.Value(i))} })
	case *array.Uint32:
		return wrap(func(i int) cell { return cell{kind: kindInt, i: int64(a.Value(i))} })
	case *array.Uint64:
		return wrap(func(i int) cell {
			v := a.Value(i)
			if v > math.MaxInt64 {
				return cell{kind: kindFloat, f: float64(v)}
			}
			return cell{kind: kindInt, i: int64(v)}
		})
	case *array.Float32:
		return wrap(func(i int) cell { return cell{kind: kindFloat, f: float64(a.Value(i))} })
	case *array.Float64:
		return wrap(func(i int) cell { return cell{kind: kindFloat, f: a.Value(i)} })
	case *array.Date32:
		return wrap(func(i int) cell { return cell{kind: kindDays, i: int64(a.Value(i))} })
	case *array.Date64:
		return wrap(func(i int) cell {
			return cell{kind: kindDays, i: floorDiv(int64(a.Value(i)), 86_400_000)}
		})
	case *array.Timestamp:
		t := a.DataType().(*arrow.TimestampType)
		zone := time.UTC
		if t.TimeZone != "" {
			zone, _ = loadZone(t.TimeZone)
		}
		return wrap(func(i int) cell {
			tm := a.Value(i).ToTime(t.Unit).In(zone)
			return cell{kind: kindDays, i: int64(decl.Days(tm.Year(), int(tm.Month()), tm.Day()))}
		})
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return wrap(func(i int) cell { return cell{kind: kindFloat, f: a.Value(i).ToFloat64(scale)} })
	case *array.Decimal256:
		scale := a.DataType().(*arrow.Decimal256Type).Scale
		return wrap(func(i int) cell { return cell{kind: kindFloat, f: a.Value(i).ToFloat64(scale)} })
	case interface{ Value(int) string }:
		return wrap(func(i int) cell { return cell{kind: kindText, text: stringBytes(a.Value(i))} })
	case interface{ Value(int) []byte }:
		return wrap(func(i int) cell { return cell{kind: kindText, text: a.Value(i)} })
	}
	return func(int) cell { return cell{} }
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// formatCell renders a typed value as text, for string columns fed from
// typed sources and for the rejects file.
func formatCell(dst []byte, v cell) []byte {
	switch v.kind {
	case kindText:
		return append(dst, v.text...)
	case kindFloat:
		if v.f == math.Trunc(v.f) && math.Abs(v.f) < 1e15 {
			return strconv.AppendInt(dst, int64(v.f), 10)
		}
		return strconv.AppendFloat(dst, v.f, 'g', -1, 64)
	case kindInt:
		return strconv.AppendInt(dst, v.i, 10)
	case kindBool:
		return strconv.AppendBool(dst, v.i != 0)
	case kindDays:
		return arrow.Date32(v.i).ToTime().AppendFormat(dst, "2006-01-02")
	}
	return dst
}

// Parquet input: read through pqarrow, a record batch at a time, with a
// buffered column stream so that memory does not grow with row-group size.
func openParquet(f *os.File) (*batchSource, error) {
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled = true
	props.BufferSize = 1 << 20
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	pf, err := file.NewParquetReader(f, file.WithReadProps(props))
	if err != nil {
		return nil, fmt.Errorf("not a readable Parquet file (%v); check that it was copied completely", err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 14}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("reading the Parquet schema: %v", err)
	}
	schema, err := fr.Schema()
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("reading the Parquet schema: %v", err)
	}
	b := &batchSource{schema: schema, closeFn: pf.Close}
	b.open = func(cols []int) error {
		if b.mayPages {
			ok, err := startPages(b, pf, fr, cols, f, size, props)
			if ok || err != nil {
				b.pages = ok
				return err
			}
		}
		if dict := dictLeaves(pf, fr, b.dictCols, cols); len(dict) > 0 {
			props := fr.Props
			for _, leaf := range dict {
				props.SetReadDict(leaf, true)
			}
			var err error
			if fr, err = pqarrow.NewFileReader(pf, props, memory.DefaultAllocator); err != nil {
				return fmt.Errorf("reading the Parquet schema: %v", err)
			}
		}
		return startParquet(b, fr, cols)
	}
	return b, nil
}

// dictLeaves are the leaf columns of want (schema columns) that are also
// read (cols), text (string or binary) and dictionary-encoded throughout:
// every row group has a dictionary page and, by its page encoding stats,
// only dictionary-encoded data pages. pqarrow hands those over as Arrow
// dictionaries without hashing a value; a column that fell back to plain
// pages (a writer's dictionary grown past its limit, as identifiers do)
// would be hashed into one value by value, so it is read plain.
func dictLeaves(pf *file.Reader, fr *pqarrow.FileReader, want, cols []int) []int {
	md := pf.MetaData()
	var out []int
	for _, c := range want {
		if !slices.Contains(cols, c) || c >= len(fr.Manifest.Fields) {
			continue
		}
		sf := fr.Manifest.Fields[c]
		if !sf.IsLeaf() {
			continue
		}
		if id := sf.Field.Type.ID(); id != arrow.STRING && id != arrow.BINARY {
			continue
		}
		if md.NumRowGroups() > 0 && dictionaryOnly(md, sf.ColIndex) {
			out = append(out, sf.ColIndex)
		}
	}
	return out
}

// dictionaryOnly reports whether leaf column leaf has a dictionary page and
// only dictionary-encoded data pages in every row group (false when the
// file does not say: no page encoding stats).
func dictionaryOnly(md *metadata.FileMetaData, leaf int) bool {
	for g := range md.NumRowGroups() {
		cc, err := md.RowGroup(g).ColumnChunk(leaf)
		if err != nil || !cc.HasDictionaryPage() {
			return false
		}
		data := 0
		for _, st := range cc.EncodingStats() {
			switch int(st.PageType) {
			case 0, 3: // DATA_PAGE, DATA_PAGE_V2 (parquet.thrift's PageType)
				if st.Encoding != parquet.Encodings.RLEDict && st.Encoding != parquet.Encodings.PlainDict {
					return false
				}
				data++
			}
		}
		if data == 0 {
			return false
		}
	}
	return true
}

// startParquet opens pqarrow's record reader on the needed columns only.
func startParquet(b *batchSource, fr *pqarrow.FileReader, cols []int) error {
	var leaves []int
	for i := range b.cols {
		b.cols[i] = -1
	}
	for n, c := range cols {
		sf := fr.Manifest.Fields[c]
		if !sf.IsLeaf() {
			return fmt.Errorf("column %q is nested (%s); only flat columns can be read", b.schema.Field(c).Name, b.schema.Field(c).Type)
		}
		leaves = append(leaves, sf.ColIndex)
		b.cols[c] = n
	}
	if len(leaves) == 0 {
		return errors.New("no columns to read")
	}
	rr, err := fr.GetRecordReader(context.Background(), leaves, nil)
	if err != nil {
		return fmt.Errorf("reading Parquet: %v", err)
	}
	closeFile := b.closeFn
	b.closeFn = func() error {
		rr.Release()
		return closeFile()
	}
	b.nextBatch = func() (arrow.RecordBatch, error) {
		if rr.Next() {
			return rr.RecordBatch(), nil
		}
		if err := rr.Err(); err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading Parquet: %v", err)
		}
		return nil, nil
	}
	return nil
}

func openArrowFile(f *os.File) (*batchSource, error) {
	size, err := fileSize(f)
	if err != nil {
		return nil, err
	}
	if err := checkArrowFile(f, size); err != nil {
		return nil, fmt.Errorf("not a readable Arrow IPC file (%v); check that it was copied completely", err)
	}
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(newBoundedAllocator(size)), ipc.WithBodySizeLimit(size), ipc.WithMetadataSizeLimit(size))
	if err != nil {
		return nil, fmt.Errorf("not a readable Arrow IPC file (%v); check that it was copied completely", err)
	}
	i := 0
	return &batchSource{
		schema:    r.Schema(),
		untrusted: true,
		nextBatch: func() (arrow.RecordBatch, error) {
			if i >= r.NumRecords() {
				return nil, nil
			}
			rec, err := r.RecordBatch(i)
			i++
			if err != nil {
				return nil, fmt.Errorf("reading Arrow record batch %d: %v", i, err)
			}
			return rec, nil
		},
		closeFn: func() error {
			r.Close()
			return f.Close()
		},
	}, nil
}

func openArrowStream(f *os.File) (*batchSource, error) {
	size, err := fileSize(f)
	if err != nil {
		return nil, err
	}
	if err := checkArrowStream(f, size); err != nil {
		return nil, fmt.Errorf("not a readable Arrow IPC stream (%v); check that it was copied completely", err)
	}
	r, err := ipc.NewReader(f, ipc.WithAllocator(newBoundedAllocator(size)), ipc.WithBodySizeLimit(size), ipc.WithMetadataSizeLimit(size))
	if err != nil {
		return nil, fmt.Errorf("not a readable Arrow IPC stream (%v); check that it was copied completely", err)
	}
	return &batchSource{
		schema:    r.Schema(),
		untrusted: true,
		nextBatch: func() (arrow.RecordBatch, error) {
			if r.Next() {
				return r.RecordBatch(), nil
			}
			if err := r.Err(); err != nil && err != io.EOF {
				return nil, fmt.Errorf("reading the Arrow stream: %v", err)
			}
			return nil, nil
		},
		closeFn: func() error {
			r.Release()
			return f.Close()
		},
	}, nil
}

// fileSize is the size of an open regular file, which bounds what its
// metadata may claim.
func fileSize(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return 0, errors.New("an Arrow IPC input must be a regular file")
	}
	return st.Size(), nil
}
