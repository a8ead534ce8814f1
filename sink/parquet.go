package sink

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// parquetRowGroupRows is the longest row group written (rows). A row
// group's encoded pages stay in memory until it is complete (its columns
// are encoded concurrently), so this bounds the writer's memory: 2^17 rows
// of a declaration table are a few MB of pages, where 2^20 were about 40 MB
// and the page faults of a heap twice that size (docs/ingest.md). DuckDB
// writes row groups of 122,880 rows.
const parquetRowGroupRows = 1 << 17

// parquetQueue is how many batches a column's encoder may lag behind Write:
// enough to even out columns of different cost, few enough that memory
// stays a handful of batches whatever the input size.
const parquetQueue = 4

// parquetCreatedBy names the writer in the footer.
const parquetCreatedBy = "risklane sink parquet encoder version 1.0.0"

// parquetProperties are the settings of the tables sink's own encoder does
// not take (nested or unusual types, written by pqarrow): Snappy,
// dictionaries except for floats, the same row groups.
func parquetProperties(schema *arrow.Schema, rowGroupRows int64) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithDictionaryDefault(true),
		parquet.WithMaxRowGroupLength(rowGroupRows),
	}
	for _, f := range schema.Fields() {
		if id := f.Type.ID(); id == arrow.FLOAT32 || id == arrow.FLOAT64 {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	return parquet.NewWriterProperties(opts...)
}

// pqField is how a supported Arrow type is stored.
type pqField struct {
	kind      colKind
	phys      int32
	converted int32 // -1: none
	logical   int16 // LogicalType union field: 0 none, 1 STRING, 6 DATE, 10 INTEGER
	bits      int8  // INTEGER's width
	signed    bool
	unsigned  bool // statistics in unsigned order
}

// pqFieldOf is the encoding of an Arrow type sink's encoder writes, or false.
func pqFieldOf(t arrow.DataType) (pqField, bool) {
	integer := func(kind colKind, phys int32, conv int32, bits int8, signed bool) (pqField, bool) {
		return pqField{kind: kind, phys: phys, converted: conv, logical: 10, bits: bits, signed: signed, unsigned: !signed}, true
	}
	switch t.ID() {
	case arrow.STRING:
		return pqField{kind: kBytes, phys: ptByteArray, converted: 0, logical: 1}, true
	case arrow.LARGE_STRING:
		return pqField{kind: kLargeBytes, phys: ptByteArray, converted: 0, logical: 1}, true
	case arrow.BINARY:
		return pqField{kind: kBytes, phys: ptByteArray, converted: -1}, true
	case arrow.LARGE_BINARY:
		return pqField{kind: kLargeBytes, phys: ptByteArray, converted: -1}, true
	case arrow.BOOL:
		return pqField{kind: kBool, phys: ptBoolean, converted: -1}, true
	case arrow.INT8:
		return integer(kInt32Wide, ptInt32, 15, 8, true)
	case arrow.INT16:
		return integer(kInt32Wide, ptInt32, 16, 16, true)
	case arrow.INT32:
		return integer(kInt32, ptInt32, 17, 32, true)
	case arrow.INT64:
		return integer(kInt64, ptInt64, 18, 64, true)
	case arrow.UINT8:
		return integer(kInt32Wide, ptInt32, 11, 8, false)
	case arrow.UINT16:
		return integer(kInt32Wide, ptInt32, 12, 16, false)
	case arrow.UINT32:
		return integer(kInt32, ptInt32, 13, 32, false)
	case arrow.UINT64:
		return integer(kInt64, ptInt64, 14, 64, false)
	case arrow.DATE32:
		return pqField{kind: kInt32, phys: ptInt32, converted: 6, logical: 6}, true
	case arrow.FLOAT32:
		return pqField{kind: kFloat, phys: ptFloat, converted: -1}, true
	case arrow.FLOAT64:
		return pqField{kind: kDouble, phys: ptDouble, converted: -1}, true
	}
	return pqField{}, false
}

// newPQColumn is a column encoder for a field stored as pf, ready for its
// first chunk: a dictionary is tried for every type but floats and booleans.
func newPQColumn(pf pqField, nullable bool) pqColumn {
	c := pqColumn{
		kind: pf.kind, phys: pf.phys, unsigned: pf.unsigned, optional: nullable,
		useDict: pf.kind != kFloat && pf.kind != kDouble && pf.kind != kBool,
	}
	c.reset()
	return c
}

// ownEncoder reports whether every field of schema is one sink's encoder
// writes; other tables (nested, decimals, timestamps...) go through pqarrow.
func ownEncoder(schema *arrow.Schema) bool {
	for _, f := range schema.Fields() {
		if _, ok := pqFieldOf(f.Type); !ok {
			return false
		}
	}
	return true
}

// parquetWriter writes a flat Arrow table to Parquet with risklane's own
// column-chunk encoder (pqcolumn.go), written from the Parquet format
// specification: data pages v1 with RLE/bit-packed definition levels, a
// dictionary page and RLE_DICTIONARY pages for every column but floats and
// booleans (falling back to PLAIN within a chunk when nearly every value is
// new or the dictionary passes 1 MiB), Snappy, chunk statistics and page
// encoding statistics, the footer in Thrift's compact protocol with the
// Arrow schema (ARROW:schema) as arrow-go stores it.
//
// Each column is encoded on a goroutine of its own while the caller goes
// on producing batches; when a row group is full its columns are finished
// concurrently and written out in order on the caller's goroutine. The
// bytes depend only on the batches written, not on the scheduling.
type parquetWriter struct {
	out      countingWriter
	schema   *arrow.Schema
	fields   []pqField
	cols     []*parquetColumn
	rgRows   int64
	maxRows  int64
	rows     int64
	groups   []rowGroupMeta
	started  bool
	pending  sync.WaitGroup // column jobs not finished
	failOnce sync.Once
	failErr  error
	failed   chan struct{} // closed on the first error
	closed   bool
}

// countingWriter tracks the offset of the next byte in the file.
type countingWriter struct {
	w   io.Writer
	off int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.off += int64(n)
	return n, err
}

// parquetColumn is one column's encoder goroutine, its queue, and the last
// finished chunk's description.
type parquetColumn struct {
	enc  pqColumn
	jobs chan parquetJob
	meta chunkMeta
}

// parquetJob is a slice of one column to encode, or (arr nil) the end of
// the row group.
type parquetJob struct {
	arr arrow.Array
}

type rowGroupMeta struct {
	rows   int64
	offset int64
	chunks []chunkMeta
	starts []int64 // file offset of each chunk's first page
}

func newParquetWriter(schema *arrow.Schema, out io.Writer, rowGroupRows int64) (*parquetWriter, error) {
	w := &parquetWriter{out: countingWriter{w: out}, schema: schema, maxRows: rowGroupRows, failed: make(chan struct{})}
	for _, f := range schema.Fields() {
		pf, ok := pqFieldOf(f.Type)
		if !ok {
			return nil, fmt.Errorf("column %s: type %s is not written by sink's Parquet encoder", f.Name, f.Type)
		}
		w.fields = append(w.fields, pf)
		c := &parquetColumn{jobs: make(chan parquetJob, parquetQueue), enc: newPQColumn(pf, f.Nullable)}
		w.cols = append(w.cols, c)
		go w.encode(c)
	}
	return w, nil
}

// encode runs one column's jobs in order until its queue is closed.
func (w *parquetWriter) encode(c *parquetColumn) {
	for j := range c.jobs {
		select {
		case <-w.failed:
		default:
			if j.arr == nil {
				c.meta = c.enc.finish()
			} else {
				c.enc.write(j.arr)
			}
		}
		if j.arr != nil {
			j.arr.Release()
		}
		w.pending.Done()
	}
}

func (w *parquetWriter) fail(err error) {
	w.failOnce.Do(func() {
		w.failErr = err
		close(w.failed)
	})
}

func (w *parquetWriter) err() error {
	select {
	case <-w.failed:
		return w.failErr
	default:
		return nil
	}
}

// Write queues a batch's columns for encoding; it blocks only while a
// column's queue is full or a full row group is written out.
func (w *parquetWriter) Write(rec arrow.RecordBatch) error {
	if w.closed {
		return errors.New("parquet writer already closed")
	}
	if !rec.Schema().Equal(w.schema) {
		return fmt.Errorf("record schema does not match the writer's:\nrecord: %s\nwriter: %s", rec.Schema(), w.schema)
	}
	if err := w.err(); err != nil {
		return err
	}
	if !w.started {
		if _, err := w.out.Write([]byte("PAR1")); err != nil {
			w.fail(err)
			return err
		}
		w.started = true
	}
	for off, n := int64(0), rec.NumRows(); off < n; {
		size := min(n-off, w.maxRows-w.rgRows)
		for i, c := range w.cols {
			var arr arrow.Array
			if off == 0 && size == n {
				arr = rec.Column(i)
				arr.Retain()
			} else {
				arr = array.NewSlice(rec.Column(i), off, off+size)
			}
			w.pending.Add(1)
			c.jobs <- parquetJob{arr: arr}
		}
		w.rgRows += size
		off += size
		if w.rgRows == w.maxRows {
			if err := w.closeRowGroup(); err != nil {
				return err
			}
		}
	}
	return nil
}

// closeRowGroup finishes every column of the open row group and writes the
// chunks out in column order.
func (w *parquetWriter) closeRowGroup() error {
	for _, c := range w.cols {
		w.pending.Add(1)
		c.jobs <- parquetJob{}
	}
	w.pending.Wait()
	if err := w.err(); err != nil {
		return err
	}
	g := rowGroupMeta{rows: w.rgRows, offset: w.out.off}
	for _, c := range w.cols {
		g.starts = append(g.starts, w.out.off)
		g.chunks = append(g.chunks, c.meta)
		for _, b := range [][]byte{c.enc.dictPage, c.enc.pages} {
			if _, err := w.out.Write(b); err != nil {
				w.fail(err)
				return err
			}
		}
		c.enc.reset()
	}
	w.groups = append(w.groups, g)
	w.rows += w.rgRows
	w.rgRows = 0
	return nil
}

// Close finishes the last row group and writes the footer. The encoder
// goroutines end whatever the outcome.
func (w *parquetWriter) Close() error {
	if w.closed {
		return nil
	}
	if w.err() == nil && w.rgRows > 0 {
		w.closeRowGroup()
	}
	w.closed = true
	w.pending.Wait()
	for _, c := range w.cols {
		close(c.jobs)
	}
	if err := w.err(); err != nil {
		return err
	}
	if !w.started {
		if _, err := w.out.Write([]byte("PAR1")); err != nil {
			return err
		}
	}
	_, err := w.out.Write(w.fileEnd())
	return err
}

// fileEnd is what closes the file: the footer, its length, the magic.
func (w *parquetWriter) fileEnd() []byte {
	footer := w.footer()
	footer = binary.LittleEndian.AppendUint32(footer, uint32(len(footer)))
	return append(footer, "PAR1"...)
}

// abort stops the encoders without writing the rest of the file.
func (w *parquetWriter) abort() {
	if w.closed {
		return
	}
	w.closed = true
	w.fail(errors.New("aborted"))
	for _, c := range w.cols {
		close(c.jobs)
	}
	w.pending.Wait()
}

// footer is the FileMetaData in Thrift's compact protocol.
func (w *parquetWriter) footer() []byte {
	t := &thriftWriter{}
	t.begin()
	t.i32(1, 2) // version
	// Schema: the root, then one leaf per column.
	fields := w.schema.Fields()
	t.list(2, tcStruct, len(fields)+1)
	t.begin()
	t.str(4, "schema")
	t.i32(5, int32(len(fields)))
	t.end()
	for i, f := range fields {
		pf := w.fields[i]
		t.begin()
		t.i32(1, pf.phys)
		rep := int32(0) // REQUIRED
		if f.Nullable {
			rep = 1 // OPTIONAL
		}
		t.i32(3, rep)
		t.str(4, f.Name)
		if pf.converted >= 0 {
			t.i32(6, pf.converted)
		}
		if pf.logical != 0 {
			t.structField(10)
			t.structField(pf.logical)
			if pf.logical == 10 {
				t.i8(1, pf.bits)
				t.boolean(2, pf.signed)
			}
			t.end()
			t.end()
		}
		t.end()
	}
	t.i64(3, w.rows)
	t.list(4, tcStruct, len(w.groups))
	for k, g := range w.groups {
		t.begin()
		t.list(1, tcStruct, len(g.chunks))
		var raw, packed int64
		for i, m := range g.chunks {
			raw += m.rawSize
			packed += m.packed
			w.columnChunk(t, i, m, g.starts[i])
		}
		t.i64(2, raw)
		t.i64(3, g.rows)
		t.i64(5, g.offset)
		t.i64(6, packed)
		t.field(7, 4) // i16
		t.zigzag(int64(k))
		t.end()
	}
	// Key-value metadata: the schema's own, then the Arrow schema for
	// readers that want the Arrow types back (as pqarrow stores it).
	md := w.schema.Metadata()
	t.list(5, tcStruct, md.Len()+1)
	for i := range md.Len() {
		t.begin()
		t.str(1, md.Keys()[i])
		t.str(2, md.Values()[i])
		t.end()
	}
	t.begin()
	t.str(1, "ARROW:schema")
	t.str(2, base64.StdEncoding.EncodeToString(flight.SerializeSchema(w.schema, memory.DefaultAllocator)))
	t.end()
	t.str(6, parquetCreatedBy)
	// Column orders: min_value/max_value in each type's defined order.
	t.list(7, tcStruct, len(fields))
	for range fields {
		t.begin()
		t.structField(1)
		t.end()
		t.end()
	}
	t.end()
	return t.b
}

// columnChunk writes a ColumnChunk struct for chunk m of column i, whose
// pages start at start.
func (w *parquetWriter) columnChunk(t *thriftWriter, i int, m chunkMeta, start int64) {
	f := w.schema.Field(i)
	pf := w.fields[i]
	t.begin()
	t.i64(2, start+m.packed) // deprecated file_offset: just past the chunk, as parquet-mr
	t.structField(3)
	t.i32(1, pf.phys)
	var encs []int32
	if m.hasDict || m.plain > 0 {
		encs = append(encs, encPlain)
	}
	if f.Nullable {
		encs = append(encs, encRLE)
	}
	if m.dictPages > 0 {
		encs = append(encs, encRLEDictionary)
	}
	t.listI32(2, encs)
	t.listStr(3, []string{f.Name})
	t.i32(4, codecSnappy)
	t.i64(5, m.values)
	t.i64(6, m.rawSize)
	t.i64(7, m.packed)
	t.i64(9, start+m.dictPageLen)
	if m.hasDict {
		t.i64(11, start)
	}
	t.structField(12)
	if m.hasMinMax {
		if pf.phys != ptByteArray && !pf.unsigned {
			// The deprecated fields, in signed order, for old readers.
			t.binary(1, m.max)
			t.binary(2, m.min)
		}
	}
	t.i64(3, m.nulls)
	if m.hasMinMax {
		t.binary(5, m.max)
		t.binary(6, m.min)
	}
	t.end()
	// Page encoding statistics: readers tell from them that every data
	// page uses the dictionary.
	var stats [][3]int32
	if m.hasDict {
		stats = append(stats, [3]int32{pageDictionary, encPlain, 1})
	}
	if m.dictPages > 0 {
		stats = append(stats, [3]int32{pageData, encRLEDictionary, m.dictPages})
	}
	if m.plain > 0 {
		stats = append(stats, [3]int32{pageData, encPlain, m.plain})
	}
	t.list(13, tcStruct, len(stats))
	for _, s := range stats {
		t.begin()
		t.i32(1, s[0])
		t.i32(2, s[1])
		t.i32(3, s[2])
		t.end()
	}
	t.end()
	t.end()
}
