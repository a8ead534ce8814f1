package sink

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
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

// parquetProperties are the Parquet writer settings of every risklane
// table: Snappy, dictionaries for text and codes, none for floats, row
// groups of at most rowGroupRows rows (parquetRowGroupRows in files).
// first, the table's first batch (may be nil), turns the dictionary off for
// text columns whose values it shows to be nearly all distinct (see
// mostlyDistinct).
func parquetProperties(schema *arrow.Schema, rowGroupRows int64, first arrow.RecordBatch) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithDictionaryDefault(true),
		parquet.WithMaxRowGroupLength(rowGroupRows),
	}
	// Measured values (masses, amounts) are nearly all distinct: a
	// dictionary only costs hashing every value before falling back to
	// plain encoding (a quarter of the write time, and larger files).
	for i, f := range schema.Fields() {
		if id := f.Type.ID(); id == arrow.FLOAT32 || id == arrow.FLOAT64 {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
		} else if first != nil && mostlyDistinct(first.Column(i)) {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	return parquet.NewWriterProperties(opts...)
}

// mostlyDistinct reports whether arr is a text column of at least 1,000
// values of which 90% or more are distinct (among its first 65,536 rows), as identifiers are (one
// declaration id per row). arrow-go's dictionary encoder hashes every such
// value until the dictionary passes its page-size limit (1 MiB) and then
// falls back to plain encoding, in every row group: hashing for nothing.
// A column with fewer distinct values keeps its dictionary, which makes it
// several times smaller. Deciding from the first batch keeps the file a
// function of the batches written.
func mostlyDistinct(arr arrow.Array) bool {
	a, ok := arr.(interface {
		arrow.Array
		Value(int) string
	})
	if !ok || a.Len()-a.NullN() < 1000 {
		return false
	}
	// A whole table may come as one batch: its first 65,536 rows decide.
	rows := min(a.Len(), 1<<16)
	seen := make(map[string]struct{}, rows)
	n := 0
	for i := range rows {
		if a.IsValid(i) {
			seen[a.Value(i)] = struct{}{}
			n++
		}
	}
	return n >= 1000 && 10*len(seen) >= 9*n
}

// flatSchema reports whether every field is a leaf (no struct, list or
// map), the case parquetWriter handles; others go through pqarrow as is.
func flatSchema(schema *arrow.Schema) bool {
	for _, f := range schema.Fields() {
		switch f.Type.(type) {
		case arrow.NestedType:
			return false
		}
	}
	return true
}

// parquetWriter writes a flat Arrow schema to Parquet with the columns of a
// row group encoded concurrently, one goroutine per column, while the
// caller goes on producing batches. pqarrow's FileWriter encodes the
// columns one after another on the caller's goroutine, which leaves a core
// idle while it is the slowest stage of an ingest (docs/benchmarks.md).
//
// The bytes written are those of pqarrow.FileWriter.WriteBuffered with the
// same properties and batches: each column receives the same slices in the
// same order through pqarrow.WriteArrowToColumn, with the definition levels
// pqarrow would compute for a flat column, into the column writers of a
// buffered row group (each has its own in-memory pages, so columns are
// independent); row groups are cut at the same rows and closed in order on
// the caller's goroutine. Determinism does not depend on scheduling.
type parquetWriter struct {
	out      io.Writer
	fw       *file.Writer        // nil until the first batch with rows
	empty    []arrow.RecordBatch // batches without rows before it
	schema   *arrow.Schema
	rgw      file.BufferedRowGroupWriter
	rgRows   int64
	maxRows  int64
	cols     []*parquetColumn
	pending  sync.WaitGroup // column jobs not finished
	failOnce sync.Once
	failErr  error
	failed   chan struct{} // closed on the first column error
	closed   bool
}

// parquetColumn is one column's encoder goroutine and its queue.
type parquetColumn struct {
	jobs     chan parquetJob
	nullable bool
}

// parquetJob is a slice of one column for one column chunk writer.
type parquetJob struct {
	arr arrow.Array
	cw  file.ColumnChunkWriter
}

func newParquetWriter(schema *arrow.Schema, out io.Writer, rowGroupRows int64) (*parquetWriter, error) {
	// The schema is checked now; the file is started at the first batch,
	// whose values choose the dictionaries (parquetProperties).
	if _, err := pqarrow.ToParquet(schema, parquetProperties(schema, rowGroupRows, nil), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err != nil {
		return nil, err
	}
	w := &parquetWriter{out: out, schema: schema, maxRows: rowGroupRows, failed: make(chan struct{})}
	for _, f := range schema.Fields() {
		c := &parquetColumn{jobs: make(chan parquetJob, parquetQueue), nullable: f.Nullable}
		w.cols = append(w.cols, c)
		go w.encode(c)
	}
	return w, nil
}

// start writes the file header with the properties that first (nil for an
// empty table) gives.
func (w *parquetWriter) start(first arrow.RecordBatch) error {
	props := parquetProperties(w.schema, w.maxRows, first)
	arrProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
	pqschema, err := pqarrow.ToParquet(w.schema, props, arrProps)
	if err != nil {
		return err
	}
	// As pqarrow.NewFileWriter with WithStoreSchema: the schema's metadata,
	// then the Arrow schema itself for readers that want the Arrow types.
	meta := make(metadata.KeyValueMetadata, 0)
	md := w.schema.Metadata()
	for i := range md.Len() {
		meta.Append(md.Keys()[i], md.Values()[i])
	}
	meta.Append("ARROW:schema", base64.StdEncoding.EncodeToString(flight.SerializeSchema(w.schema, props.Allocator())))
	fw, err := file.NewParquetWriterWithError(w.out, pqschema.Root(), file.WithWriterProps(props), file.WithWriteMetadata(meta))
	if err != nil {
		return err
	}
	w.fw = fw
	empty := w.empty
	w.empty = nil
	for i, rec := range empty {
		err := w.write(rec)
		rec.Release()
		if err != nil {
			for _, r := range empty[i+1:] {
				r.Release()
			}
			return err
		}
	}
	return nil
}

// encode runs one column's jobs in order until its queue is closed.
func (w *parquetWriter) encode(c *parquetColumn) {
	ctx := pqarrow.NewArrowWriteContext(context.Background(), nil)
	var levels []int16
	var values []parquet.ByteArray
	for j := range c.jobs {
		select {
		case <-w.failed:
		default:
			var def []int16
			nullable := false
			if c.nullable {
				def, levels = defLevels(j.arr, levels)
				nullable = j.arr.NullN() > 0
			}
			var err error
			bw, ok := j.cw.(*file.ByteArrayColumnChunkWriter)
			bin, ok32 := j.arr.(binaryArray)
			if ok && ok32 && !bw.SupportsArrowOffsets() {
				values, err = writeByteArrays(bw, bin, def, nullable, values)
			} else {
				err = pqarrow.WriteArrowToColumn(ctx, j.cw, j.arr, def, nil, nullable)
			}
			if err != nil {
				w.fail(err)
			}
		}
		j.arr.Release()
		w.pending.Done()
	}
}

// binaryArray is a string or binary array with 32-bit offsets (not an
// extension type, not large_string: those go through pqarrow as they are).
type binaryArray interface {
	arrow.Array
	ValueOffsets() []int32
}

// writeByteArrays is pqarrow.WriteArrowToColumn for a flat string or
// binary column whose writer takes values one by one (a dictionary
// encoder): the same calls with the same arguments, so the same bytes, but
// the []parquet.ByteArray of value views that pqarrow makes anew for every
// batch (1.5 MB a column per 65,536 rows, fresh memory to zero and fault
// in) is buf, reused. It returns buf for the next batch.
func writeByteArrays(cw *file.ByteArrayColumnChunkWriter, arr binaryArray, def []int16, nullable bool, buf []parquet.ByteArray) ([]parquet.ByteArray, error) {
	// As pqarrow decides: whether parent nulls may exist, whether the
	// values have none.
	li := cw.LevelInfo()
	singleNullable := li.DefLevel == li.RepeatedAncestorDefLevel+1 && nullable
	maybeParentNulls := li.HasNullableValues() && !singleNullable
	if maybeParentNulls && !cw.HasBitsBuffer() {
		bits := memory.NewResizableBuffer(cw.Properties().Allocator())
		bits.Resize(int(bitutil.BytesForBits(cw.Properties().WriteBatchSize())))
		cw.SetBitsBuffer(bits)
	}
	noNulls := cw.Descr().SchemaNode().RepetitionType() == parquet.Repetitions.Required || arr.NullN() == 0
	var data []byte
	if b := arr.Data().Buffers()[2]; b != nil {
		data = b.Bytes()
	}
	offsets := arr.ValueOffsets()
	if cap(buf) < arr.Len() {
		buf = make([]parquet.ByteArray, arr.Len())
	}
	values := buf[:arr.Len()]
	for i := range values {
		values[i] = parquet.ByteArray(data[offsets[i]:offsets[i+1]])
	}
	var err error
	if !maybeParentNulls && noNulls {
		_, err = cw.WriteBatch(values, def, nil)
	} else {
		_, err = cw.WriteBatchSpacedWithError(values, def, nil, arr.NullBitmapBytes(), int64(arr.Data().Offset()))
	}
	// Views left here would keep the batch from the collector.
	clear(values)
	return buf, err
}

// defLevels are the definition levels of a flat nullable column as pqarrow
// computes them: 1 for a value, 0 for a null.
func defLevels(arr arrow.Array, buf []int16) (def, reuse []int16) {
	n := arr.Len()
	if cap(buf) < n {
		buf = make([]int16, n)
	}
	def = buf[:n]
	if arr.NullN() == 0 {
		for i := range def {
			def[i] = 1
		}
		return def, buf
	}
	for i := range def {
		if arr.IsValid(i) {
			def[i] = 1
		} else {
			def[i] = 0
		}
	}
	return def, buf
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
// column's queue is full.
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
	if w.fw == nil {
		if rec.NumRows() == 0 {
			// Written once the file is started, in order.
			rec.Retain()
			w.empty = append(w.empty, rec)
			return nil
		}
		if err := w.start(rec); err != nil {
			return err
		}
	}
	return w.write(rec)
}

// write queues the columns of a batch, the file being started.
func (w *parquetWriter) write(rec arrow.RecordBatch) error {
	// Row groups are cut where WriteBuffered cuts them: a batch that fits
	// goes whole into the open row group, else it is split at the limit.
	for off, n := int64(0), rec.NumRows(); ; {
		if w.rgw == nil {
			if err := w.newRowGroup(); err != nil {
				return err
			}
		}
		size := min(n-off, w.maxRows-w.rgRows)
		for i, c := range w.cols {
			cw, err := w.rgw.Column(i)
			if err != nil {
				return err
			}
			var arr arrow.Array
			if off == 0 && size == n {
				arr = rec.Column(i)
				arr.Retain()
			} else {
				arr = array.NewSlice(rec.Column(i), off, off+size)
			}
			w.pending.Add(1)
			c.jobs <- parquetJob{arr: arr, cw: cw}
		}
		w.rgRows += size
		off += size
		if off >= n {
			return nil
		}
		if err := w.closeRowGroup(); err != nil {
			return err
		}
	}
}

func (w *parquetWriter) newRowGroup() error {
	rgw, err := w.fw.AppendBufferedRowGroupChecked()
	if err != nil {
		return err
	}
	w.rgw, w.rgRows = rgw, 0
	return nil
}

// closeRowGroup waits for every column of the open row group and writes
// it out.
func (w *parquetWriter) closeRowGroup() error {
	w.pending.Wait()
	if err := w.err(); err != nil {
		return err
	}
	err := w.rgw.Close()
	w.rgw = nil
	return err
}

// Close finishes the last row group and writes the footer. The encoder
// goroutines end whatever the outcome.
func (w *parquetWriter) Close() error {
	if w.closed {
		return nil
	}
	if w.fw == nil && w.err() == nil {
		// No rows: the file as pqarrow writes it for the batches given.
		if err := w.start(nil); err != nil {
			w.abort()
			return err
		}
	}
	w.closed = true
	w.pending.Wait()
	for _, c := range w.cols {
		close(c.jobs)
	}
	if err := w.err(); err != nil {
		return err
	}
	if w.rgw != nil {
		if err := w.closeRowGroup(); err != nil {
			return err
		}
	}
	return w.fw.Close()
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
	for _, rec := range w.empty {
		rec.Release()
	}
	w.empty = nil
}
