package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Parquet pages decoded by risklane (docs/ingest.md, "Typed inputs"): for
// the flat files risklane and most tools write (plain and dictionary pages
// of byte arrays, doubles and 32/64-bit integers, optional or required,
// any codec arrow-go decompresses), the column path's record batches are
// built straight from arrow-go's page reader, without pqarrow's record
// reader: values are decoded into buffers of the source's own, reused from
// batch to batch, and handed over as Arrow arrays over them. pqarrow's
// reader allocated every batch's buffers afresh (zeroed by the runtime,
// faulted in by the kernel) and copied every text value into a builder.
//
// The arrays are those pqarrow gives for the same file (same types, values,
// nulls; text columns of dictCols as dictionaries, the others resolved), so
// the conversion that follows (columnar.go) is unchanged:
// TestPagesSameAsPqarrow and FuzzColumnarParquet read files through both.
// A file with anything else (nested or repeated columns, other encodings
// or types, encryption) is read by pqarrow, as before.

// pageKind is how a leaf's values are decoded and handed over.
type pageKind uint8

const (
	pageText   pageKind = iota // byte arrays as a string array
	pageDict                   // byte arrays as a dictionary of strings (int32 indices)
	pageDouble                 // float64
	pageFloat                  // float32
	pageInt32                  // int32 as int32, date32 or int8 (the Arrow type)
	pageInt64                  // int64
)

// pageStreamBuffer is the buffer of each column's stream: page headers
// and small pages.
const pageStreamBuffer = 64 << 10

// pageBatchRows is the rows of a batch, as pqarrow's reader is set up
// (openParquet); a batch never spans two row groups.
const pageBatchRows = 1 << 14

// pageCol reads one leaf column.
type pageCol struct {
	name   string
	leaf   int
	kind   pageKind
	dt     arrow.DataType // the Arrow type pqarrow gives (not a dictionary)
	maxDef int16
	pr     file.PageReader
	stream parquet.BufferedReader // pr's, kept with it from row group to row group

	// The current data page: values left, its definition levels and
	// values still to decode.
	left    int
	defs    hybrid
	enc     parquet.Encoding
	vals    []byte
	indices hybrid // dictionary-encoded pages

	// The row group's dictionary, decoded (nil if none yet): text as
	// offsets into bytes, numbers as values. A fresh one per row group:
	// batches in flight may still use the last one.
	dictStr  *array.String
	dictOffs []int32
	dictData []byte
	dictI32  []int32
	dictI64  []int64
	dictF64  []float64
	dictF32  []float32
	hasDict  bool

	sets [2]pageBuf // batches alternate between two sets of buffers
	ids  []int32    // scratch: dictionary indices of a run
}

// pageBuf holds the values of one batch of one column.
type pageBuf struct {
	valid []byte
	offs  []int32
	data  []byte
	idx   []int32
	i32   []int32
	i8    []int8
	i64   []int64
	f64   []float64
	f32   []float32
}

// pageSource is the state startPages gives a batchSource.
type pageSource struct {
	pf    *file.Reader
	f     io.ReaderAt
	props *parquet.ReaderProperties
	size  int64 // of the file
	// fresh: each row group's page readers are arrow-go's own, new ones
	// (files of parquet-mr before 1.2.9, whose chunk sizes it pads).
	fresh  bool
	cols   []*pageCol
	schema *arrow.Schema // of the batches: the read columns
	group  int           // the row group being read
	left   int64         // its rows still to read
	batch  int           // batches made, for the alternating buffers
}

// startPages binds b to the page decoder when every read column of pf
// fits it (see above), reporting false, having done nothing, when one
// does not.
func startPages(b *batchSource, pf *file.Reader, fr *pqarrow.FileReader, cols []int, f io.ReaderAt, size int64,
	props *parquet.ReaderProperties) (bool, error) {
	md := pf.MetaData()
	if md.IsSetEncryptionAlgorithm() || len(cols) == 0 {
		return false, nil
	}
	// A small stream buffer: a page's bytes, larger, are read straight into
	// the page reader's own buffer (bufferedReader.Read), not copied
	// through a buffer of a megabyte per column.
	pp := *props
	pp.BufferSize = pageStreamBuffer
	s := &pageSource{pf: pf, f: f, props: &pp, size: size, fresh: md.WriterVersion().LessThan(metadata.Parquet816FixedVersion)}
	fields := make([]arrow.Field, 0, len(cols))
	for _, c := range cols {
		if c >= len(fr.Manifest.Fields) {
			return false, nil
		}
		sf := fr.Manifest.Fields[c]
		if !sf.IsLeaf() {
			return false, nil
		}
		descr := md.Schema.Column(sf.ColIndex)
		if descr.MaxRepetitionLevel() != 0 || descr.MaxDefinitionLevel() > 1 {
			return false, nil
		}
		pc := &pageCol{name: b.schema.Field(c).Name, leaf: sf.ColIndex, dt: sf.Field.Type, maxDef: descr.MaxDefinitionLevel()}
		switch phys, id := descr.PhysicalType(), sf.Field.Type.ID(); {
		case phys == parquet.Types.ByteArray && id == arrow.STRING:
			pc.kind = pageText
			if slices.Contains(b.dictCols, c) && dictionaryOnly(md, sf.ColIndex) {
				pc.kind = pageDict
			}
		case phys == parquet.Types.Double && id == arrow.FLOAT64:
			pc.kind = pageDouble
		case phys == parquet.Types.Float && id == arrow.FLOAT32:
			pc.kind = pageFloat
		case phys == parquet.Types.Int32 && (id == arrow.INT32 || id == arrow.DATE32 || id == arrow.INT8):
			pc.kind = pageInt32
		case phys == parquet.Types.Int64 && id == arrow.INT64:
			pc.kind = pageInt64
		default:
			return false, nil
		}
		for g := range md.NumRowGroups() {
			rg := md.RowGroup(g)
			cc, err := rg.ColumnChunk(sf.ColIndex)
			if err != nil || cc.CryptoMetadata() != nil || cc.NumValues() != rg.NumRows() {
				return false, nil
			}
			for _, e := range cc.Encodings() {
				switch e {
				case parquet.Encodings.Plain, parquet.Encodings.RLE, parquet.Encodings.RLEDict, parquet.Encodings.PlainDict:
				default:
					return false, nil
				}
			}
		}
		f := *sf.Field // a copy: the manifest's field stays as it is
		if pc.kind == pageDict {
			f.Type = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
		}
		fields = append(fields, f)
		s.cols = append(s.cols, pc)
	}
	s.schema = arrow.NewSchema(fields, nil)
	for i := range b.cols {
		b.cols[i] = -1
	}
	for n, c := range cols {
		b.cols[c] = n
	}
	s.group = -1
	closeFile := b.closeFn
	b.closeFn = func() error {
		s.closeGroup()
		return closeFile()
	}
	b.nextBatch = s.next
	return true, nil
}

// closeGroup closes the current row group's page readers.
func (s *pageSource) closeGroup() {
	for _, c := range s.cols {
		if c.pr != nil {
			c.pr.Close()
			c.pr, c.stream = nil, nil
		}
	}
}

// startGroup points c at its column chunk in row group rg: the page reader
// and its buffered stream of the last row group are reset to it, so that
// their buffers (a page decompressed, the chunk's bytes read) are reused
// instead of allocated for every column chunk.
func (s *pageSource) startGroup(c *pageCol, rg *file.RowGroupReader) error {
	if s.fresh {
		if c.pr != nil {
			c.pr.Close()
		}
		pr, err := rg.GetColumnPageReader(c.leaf)
		c.pr = pr
		return err
	}
	cc, err := rg.MetaData().ColumnChunk(c.leaf)
	if err != nil {
		return err
	}
	// Where the chunk starts and its length, as RowGroupReader's
	// GetColumnPageReader finds them.
	start, length := cc.DataPageOffset(), cc.TotalCompressedSize()
	if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && start > cc.DictionaryPageOffset() {
		start = cc.DictionaryPageOffset()
	}
	if start < 0 || length < 0 || start > s.size || length > s.size-start {
		return fmt.Errorf("invalid column chunk metadata: offset %d and length %d in a file of %d bytes", start, length, s.size)
	}
	if c.pr == nil {
		if c.stream, err = s.props.GetStream(s.f, start, length); err != nil {
			return err
		}
		c.pr, err = file.NewPageReader(c.stream, cc.NumValues(), cc.Compression(), s.props.Allocator(), nil)
		return err
	}
	c.stream.Reset(io.NewSectionReader(s.f, start, length))
	c.pr.Reset(c.stream, cc.NumValues(), cc.Compression(), nil)
	return c.pr.Err()
}

// next decodes the next batch of at most pageBatchRows rows of the current
// row group (nil, nil at the end). Its arrays are valid until the batch
// after next is decoded: the column path's read-ahead (prefetch) holds one
// batch while the next one is decoded.
func (s *pageSource) next() (arrow.RecordBatch, error) {
	for s.left == 0 {
		s.group++
		if s.group >= s.pf.NumRowGroups() {
			s.closeGroup()
			return nil, nil
		}
		rg := s.pf.RowGroup(s.group)
		s.left = rg.NumRows()
		for _, c := range s.cols {
			if err := s.startGroup(c, rg); err != nil {
				return nil, fmt.Errorf("reading Parquet: column %q, row group %d: %v", c.name, s.group, err)
			}
			c.left, c.hasDict, c.dictStr = 0, false, nil
		}
	}
	n := int(min(s.left, pageBatchRows))
	arrs := make([]arrow.Array, len(s.cols))
	set := s.batch & 1
	for k, c := range s.cols {
		a, err := c.read(n, &c.sets[set])
		if err != nil {
			for _, a := range arrs[:k] {
				a.Release()
			}
			return nil, fmt.Errorf("reading Parquet: column %q, row group %d: %v", c.name, s.group, err)
		}
		arrs[k] = a
	}
	s.left -= int64(n)
	s.batch++
	rec := array.NewRecordBatch(s.schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec, nil
}

var errShortPage = errors.New("a data page holds fewer values than its header says")

// read decodes the next n rows of c into buf and returns them as an array.
func (c *pageCol) read(n int, buf *pageBuf) (arrow.Array, error) {
	buf.valid = slices.Grow(buf.valid[:0], (n+7)/8)[:(n+7)/8]
	clear(buf.valid)
	buf.offs = append(buf.offs[:0], 0)
	buf.data = buf.data[:0]
	buf.idx, buf.i32, buf.i64, buf.f64, buf.f32 = buf.idx[:0], buf.i32[:0], buf.i64[:0], buf.f64[:0], buf.f32[:0]
	nulls := 0
	for row := 0; row < n; {
		if c.left == 0 {
			if err := c.nextPage(); err != nil {
				return nil, err
			}
			continue
		}
		k := min(n-row, c.left)
		// The definition levels of k rows: runs of valid and null rows.
		for j := 0; j < k; {
			run, valid := k-j, true
			if c.maxDef > 0 {
				var err error
				if run, valid, err = c.defs.run(k - j); err != nil {
					return nil, fmt.Errorf("definition levels: %w", err)
				}
			}
			if valid {
				if err := c.values(buf, run); err != nil {
					return nil, err
				}
				setBits(buf.valid, row+j, row+j+run)
			} else {
				c.nulls(buf, run)
				nulls += run
			}
			j += run
		}
		c.left -= k
		row += k
	}
	var vb *memory.Buffer
	if nulls > 0 {
		vb = memory.NewBufferBytes(buf.valid)
	}
	var d arrow.ArrayData
	switch c.kind {
	case pageText:
		d = array.NewData(c.dt, n, []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(buf.offs)),
			memory.NewBufferBytes(buf.data)}, nil, nulls, 0)
	case pageDict:
		idx := array.NewData(arrow.PrimitiveTypes.Int32, n, []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(buf.idx))}, nil, nulls, 0)
		defer idx.Release()
		typ := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
		a := array.NewDictionaryArray(typ, array.MakeFromData(idx), c.dictStr)
		return a, nil
	case pageDouble:
		d = array.NewData(c.dt, n, []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(buf.f64))}, nil, nulls, 0)
	case pageFloat:
		d = array.NewData(c.dt, n, []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Float32Traits.CastToBytes(buf.f32))}, nil, nulls, 0)
	case pageInt32:
		if c.dt.ID() == arrow.INT8 {
			buf.i8 = slices.Grow(buf.i8[:0], n)[:n]
			for i, v := range buf.i32 {
				buf.i8[i] = int8(v)
			}
			d = array.NewData(c.dt, n, []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Int8Traits.CastToBytes(buf.i8))}, nil, nulls, 0)
		} else {
			d = array.NewData(c.dt, n, []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(buf.i32))}, nil, nulls, 0)
		}
	case pageInt64:
		d = array.NewData(c.dt, n, []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(buf.i64))}, nil, nulls, 0)
	}
	defer d.Release()
	return array.MakeFromData(d), nil
}

// nulls appends k null slots (zero values, empty text).
func (c *pageCol) nulls(buf *pageBuf, k int) {
	switch c.kind {
	case pageText:
		end := buf.offs[len(buf.offs)-1]
		for range k {
			buf.offs = append(buf.offs, end)
		}
	case pageDict:
		buf.idx = append(buf.idx, make([]int32, k)...)
	case pageDouble:
		buf.f64 = append(buf.f64, make([]float64, k)...)
	case pageFloat:
		buf.f32 = append(buf.f32, make([]float32, k)...)
	case pageInt32:
		buf.i32 = append(buf.i32, make([]int32, k)...)
	case pageInt64:
		buf.i64 = append(buf.i64, make([]int64, k)...)
	}
}

// nextPage moves to the next data page, decoding a dictionary page on the
// way.
func (c *pageCol) nextPage() error {
	for {
		if !c.pr.Next() {
			if err := c.pr.Err(); err != nil {
				return err
			}
			return errors.New("the column chunk ends before its row group's rows")
		}
		switch pg := c.pr.Page().(type) {
		case *file.DictionaryPage:
			if e := pg.Encoding(); parquet.Encoding(e) != parquet.Encodings.Plain && parquet.Encoding(e) != parquet.Encodings.PlainDict {
				return fmt.Errorf("dictionary page encoding %s not supported", parquet.Encoding(e))
			}
			if err := c.loadDict(pg.Data(), int(pg.NumValues())); err != nil {
				return fmt.Errorf("dictionary page: %w", err)
			}
		case *file.DataPageV1:
			data := pg.Data()
			if c.maxDef > 0 {
				if pg.DefinitionLevelEncoding() != parquet.Encodings.RLE {
					return fmt.Errorf("definition level encoding %s not supported", pg.DefinitionLevelEncoding())
				}
				if len(data) < 4 {
					return errors.New("a data page too short for its definition levels")
				}
				l := binary.LittleEndian.Uint32(data)
				if uint64(l) > uint64(len(data)-4) {
					return errors.New("definition levels longer than their data page")
				}
				c.defs = hybrid{data: data[4 : 4+l], width: 1}
				data = data[4+l:]
			}
			return c.startValues(parquet.Encoding(pg.Encoding()), data, int(pg.NumValues()))
		case *file.DataPageV2:
			data := pg.Data()
			dl, rl := int(pg.DefinitionLevelByteLen()), int(pg.RepetitionLevelByteLen())
			if rl != 0 || dl > len(data) || dl < 0 {
				return errors.New("a data page's level lengths do not fit it")
			}
			if c.maxDef > 0 {
				c.defs = hybrid{data: data[:dl], width: 1}
			}
			return c.startValues(parquet.Encoding(pg.Encoding()), data[dl:], int(pg.NumValues()))
		}
	}
}

// startValues begins a data page of n values (nulls included).
func (c *pageCol) startValues(enc parquet.Encoding, data []byte, n int) error {
	c.enc, c.vals, c.left = enc, data, n
	switch enc {
	case parquet.Encodings.Plain:
	case parquet.Encodings.RLEDict, parquet.Encodings.PlainDict:
		if !c.hasDict {
			return errors.New("a dictionary-encoded data page without a dictionary page")
		}
		if len(data) < 1 || data[0] > 32 {
			return errors.New("a dictionary-encoded data page without a valid index bit width")
		}
		c.indices = hybrid{data: data[1:], width: int(data[0])}
	default:
		return fmt.Errorf("data page encoding %s not supported", enc)
	}
	if c.kind == pageDict && enc == parquet.Encodings.Plain {
		return errors.New("a plain data page in a column whose pages the metadata says are all dictionary-encoded")
	}
	return nil
}

// dictLen is the number of dictionary values.
func (c *pageCol) dictLen() int {
	switch c.kind {
	case pageText, pageDict:
		return len(c.dictOffs) - 1
	case pageDouble:
		return len(c.dictF64)
	case pageFloat:
		return len(c.dictF32)
	case pageInt32:
		return len(c.dictI32)
	}
	return len(c.dictI64)
}

// loadDict decodes a dictionary page of n plain values.
func (c *pageCol) loadDict(data []byte, n int) error {
	if n < 0 {
		return errors.New("a negative number of values")
	}
	c.hasDict = true
	used := 0 // bytes the fixed-width values took; -1 when the page is short
	switch c.kind {
	case pageText, pageDict:
		if n > len(data)/4 { // each value has a 4-byte length: a damaged count would allocate for nothing
			return errShortPage
		}
		offs := make([]int32, 1, n+1)
		// The values' bytes: the page less a 4-byte length each, at most.
		vals := make([]byte, 0, max(len(data)-4*n, 0))
		var err error
		if offs, vals, err = plainBytes(data, n, offs, vals); err != nil {
			return err
		}
		c.dictOffs, c.dictData = offs, vals
		if c.kind == pageDict {
			d := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{nil,
				memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs)), memory.NewBufferBytes(vals)}, nil, 0, 0)
			c.dictStr = array.NewStringData(d)
			d.Release()
		}
	case pageDouble:
		c.dictF64, used = plainFixed[float64](nil, data, n, arrow.Float64Traits.CastToBytes)
	case pageFloat:
		c.dictF32, used = plainFixed[float32](nil, data, n, arrow.Float32Traits.CastToBytes)
	case pageInt32:
		c.dictI32, used = plainFixed[int32](nil, data, n, arrow.Int32Traits.CastToBytes)
	case pageInt64:
		c.dictI64, used = plainFixed[int64](nil, data, n, arrow.Int64Traits.CastToBytes)
	}
	if used < 0 {
		return errShortPage
	}
	return nil
}

// plainBytes decodes n plain byte arrays (a 4-byte length, then the
// bytes) from data, appending their ends to offs and their bytes to vals.
func plainBytes(data []byte, n int, offs []int32, vals []byte) ([]int32, []byte, error) {
	p := 0
	for range n {
		if len(data)-p < 4 {
			return offs, vals, errShortPage
		}
		l := binary.LittleEndian.Uint32(data[p:])
		p += 4
		if uint64(l) > uint64(len(data)-p) {
			return offs, vals, errShortPage
		}
		vals = append(vals, data[p:p+int(l)]...)
		p += int(l)
		if len(vals) > maxInt32 {
			return offs, vals, errors.New("more than 2 GiB of text in a batch")
		}
		offs = append(offs, int32(len(vals)))
	}
	return offs, vals, nil
}

const maxInt32 = 1<<31 - 1

// plainFixed appends the k fixed-width values at the start of vals, PLAIN
// encoded (little-endian, as Arrow holds them), to dst and says how many
// bytes they took; -1 (dst unchanged) when vals holds fewer than k.
// It checks the length before it grows dst, so a hostile page header cannot
// make it allocate.
func plainFixed[T any](dst []T, vals []byte, k int, bytesOf func([]T) []byte) ([]T, int) {
	var one T
	if need := k * int(unsafe.Sizeof(one)); k < 0 || len(vals) < need {
		return dst, -1
	}
	at := len(dst)
	dst = slices.Grow(dst, k)[:at+k]
	return dst, copy(bytesOf(dst[at:]), vals)
}

// values decodes the next k values (all valid) of the current page into
// buf.
func (c *pageCol) values(buf *pageBuf, k int) error {
	if c.enc == parquet.Encodings.Plain {
		var need int
		switch c.kind {
		case pageText:
			var err error
			start := len(buf.offs)
			buf.offs, buf.data, err = plainBytes(c.vals, k, buf.offs, buf.data)
			if err != nil {
				return err
			}
			// Step past the values just read: 4 bytes of length each.
			n := len(buf.offs) - start
			used := 4*n + int(buf.offs[len(buf.offs)-1]-buf.offs[start-1])
			c.vals = c.vals[used:]
			return nil
		case pageDouble:
			buf.f64, need = plainFixed(buf.f64, c.vals, k, arrow.Float64Traits.CastToBytes)
		case pageFloat:
			buf.f32, need = plainFixed(buf.f32, c.vals, k, arrow.Float32Traits.CastToBytes)
		case pageInt32:
			buf.i32, need = plainFixed(buf.i32, c.vals, k, arrow.Int32Traits.CastToBytes)
		case pageInt64:
			buf.i64, need = plainFixed(buf.i64, c.vals, k, arrow.Int64Traits.CastToBytes)
		}
		if need < 0 {
			return errShortPage
		}
		c.vals = c.vals[need:]
		return nil
	}
	// Dictionary indices.
	var ids []int32
	if c.kind == pageDict {
		at := len(buf.idx)
		buf.idx = slices.Grow(buf.idx, k)[:at+k]
		ids = buf.idx[at:]
	} else {
		c.ids = slices.Grow(c.ids[:0], k)[:k]
		ids = c.ids
	}
	if err := c.indices.read(ids); err != nil {
		return fmt.Errorf("dictionary indices: %w", err)
	}
	nd := uint32(c.dictLen())
	for _, id := range ids {
		if uint32(id) >= nd {
			return fmt.Errorf("dictionary index %d out of range (%d values)", uint32(id), nd)
		}
	}
	switch c.kind {
	case pageText:
		for _, id := range ids {
			buf.data = append(buf.data, c.dictData[c.dictOffs[id]:c.dictOffs[id+1]]...)
			if len(buf.data) > maxInt32 {
				return errors.New("more than 2 GiB of text in a batch")
			}
			buf.offs = append(buf.offs, int32(len(buf.data)))
		}
	case pageDouble:
		buf.f64 = gather(buf.f64, c.dictF64, ids)
	case pageFloat:
		buf.f32 = gather(buf.f32, c.dictF32, ids)
	case pageInt32:
		buf.i32 = gather(buf.i32, c.dictI32, ids)
	case pageInt64:
		buf.i64 = gather(buf.i64, c.dictI64, ids)
	}
	return nil
}

// gather appends dict's values at ids (checked against the dictionary
// before) to dst.
func gather[T any](dst, dict []T, ids []int32) []T {
	for _, id := range ids {
		dst = append(dst, dict[id])
	}
	return dst
}

// hybrid decodes Parquet's RLE / bit-packed hybrid encoding of values of
// width bits (definition levels, dictionary indices): runs, each a ULEB128
// header, then one value (header&1 == 0: header>>1 repeats, the value in
// whole bytes) or header>>1 groups of 8 bit-packed values.
type hybrid struct {
	data   []byte
	width  int
	rle    int    // values left in the current repeated run
	val    uint32 // its value
	packed int    // values left in the current bit-packed run
	bits   []byte // its bytes
	bit    int    // position of its next value, in bits
}

// fill starts the next run.
func (h *hybrid) fill() error {
	hdr, n := binary.Uvarint(h.data)
	if n <= 0 {
		return errShortPage
	}
	h.data = h.data[n:]
	if hdr&1 == 0 {
		nb := (h.width + 7) / 8
		if len(h.data) < nb {
			return errShortPage
		}
		var v uint32
		for i := nb - 1; i >= 0; i-- {
			v = v<<8 | uint32(h.data[i])
		}
		h.data = h.data[nb:]
		if h.width < 32 && v>>h.width != 0 {
			return fmt.Errorf("a repeated value %d wider than %d bits", v, h.width)
		}
		if hdr>>1 == 0 || hdr>>1 > 1<<31 {
			return errors.New("a run of no values or of more than 2^31")
		}
		h.rle, h.val = int(hdr>>1), v
		return nil
	}
	groups := hdr >> 1
	if groups == 0 || groups > 1<<28 {
		return errors.New("a bit-packed run of no values or of more than 2^31")
	}
	nb := int(groups) * h.width
	// The last run may be cut short: only the values it holds whole count.
	nb = min(nb, len(h.data))
	h.packed = int(groups) * 8
	if h.width > 0 {
		h.packed = min(h.packed, nb*8/h.width)
	}
	if h.packed == 0 {
		return errShortPage
	}
	h.bits, h.bit = h.data[:nb], 0
	h.data = h.data[nb:]
	return nil
}

// unpack returns the next value of a bit-packed run.
func (h *hybrid) unpack() uint32 {
	var v uint64
	p := h.bit >> 3
	if p+8 <= len(h.bits) {
		v = binary.LittleEndian.Uint64(h.bits[p:])
	} else {
		for i := len(h.bits) - 1; i >= p; i-- {
			v = v<<8 | uint64(h.bits[i])
		}
	}
	v >>= uint(h.bit & 7)
	h.bit += h.width
	h.packed--
	return uint32(v & (1<<uint(h.width) - 1))
}

// run returns how many of the next at most k levels (width 1) are the
// same, and whether they are 1, consuming them.
func (h *hybrid) run(k int) (int, bool, error) {
	if h.rle == 0 && h.packed == 0 {
		if err := h.fill(); err != nil {
			return 0, false, err
		}
	}
	if h.rle > 0 {
		n := min(k, h.rle)
		h.rle -= n
		return n, h.val == 1, nil
	}
	v := h.unpack()
	n := 1
	for n < k && h.packed > 0 {
		// Look at the next bit without taking it.
		if uint32(h.bits[h.bit>>3]>>(h.bit&7))&1 != v {
			break
		}
		h.bit++
		h.packed--
		n++
	}
	return n, v == 1, nil
}

// read decodes len(dst) values.
func (h *hybrid) read(dst []int32) error {
	for i := 0; i < len(dst); {
		if h.rle == 0 && h.packed == 0 {
			if err := h.fill(); err != nil {
				return err
			}
		}
		if h.rle > 0 {
			n := min(len(dst)-i, h.rle)
			v := int32(h.val)
			for j := i; j < i+n; j++ {
				dst[j] = v
			}
			h.rle -= n
			i += n
			continue
		}
		for i < len(dst) && h.packed > 0 {
			dst[i] = int32(h.unpack())
			i++
		}
	}
	return nil
}
