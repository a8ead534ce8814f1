package sink

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/klauspost/compress/s2"
)

// Parquet enums (parquet.thrift).
const (
	ptBoolean   = 0
	ptInt32     = 1
	ptInt64     = 2
	ptFloat     = 4
	ptDouble    = 5
	ptByteArray = 6

	encPlain         = 0
	encRLE           = 3
	encRLEDictionary = 8

	pageData       = 0
	pageDictionary = 2

	codecSnappy = 1
)

var (
	// pageBytes is the size, before compression, at which a data page is
	// cut. arrow-go's and parquet-go's writers cut at 1 MiB by default;
	// 128 KiB pages keep a column's page buffers (plain values, Snappy's
	// output) in the core's cache and the process's heap smaller: an
	// ingest took 0.78-0.88x the CPU (docs/ingest.md), the file the same
	// size (a page header is a few bytes; Snappy's matches reach back 64
	// KiB whatever the page size).
	pageBytes = 128 << 10
	// dictBytes is the largest dictionary page: past it a column chunk
	// goes on in plain pages (arrow-go's default limit).
	dictBytes = 1 << 20
)

// segment is how many values are encoded between checks of the page size
// and the dictionary's worth.
const segment = 4096

// colKind is how a column's values are laid out and encoded.
type colKind uint8

const (
	kBytes      colKind = iota // BYTE_ARRAY from string/binary (32-bit offsets)
	kLargeBytes                // BYTE_ARRAY from large_string/large_binary
	kInt32                     // INT32 from a 32-bit Arrow type (int32, uint32, date32)
	kInt32Wide                 // INT32 widened from int8, int16, uint8, uint16
	kInt64                     // INT64 from int64, uint64
	kFloat                     // FLOAT
	kDouble                    // DOUBLE
	kBool                      // BOOLEAN
)

// pqColumn encodes one column's chunk of the open row group into pages held
// in memory. Its buffers are reused from row group to row group.
type pqColumn struct {
	kind     colKind
	phys     int32
	unsigned bool // integers ordered as unsigned (uint32, uint64 statistics)
	optional bool
	useDict  bool // try a dictionary in every chunk (not floats, not booleans)
	sticky   bool // a chunk has fallen back to plain: stay plain
	// chunkRows, if not 0, is about how many values a chunk will have
	// (ParquetGroupWriter.SizeFor): the page's dictionary indices are
	// given room for a whole page at once.
	chunkRows int

	// The open chunk.
	dict      bool // dictionary-encoding the values now
	hadDict   bool // the chunk has a dictionary (some pages use it)
	bmemo     bytesMemo
	imemo     intMemo
	values    int64 // values, nulls included
	nonNull   int64
	nulls     int64
	pages     []byte // data page headers and compressed pages
	dictPage  []byte // the dictionary page with its header, if any
	rawSize   int64  // headers and uncompressed pages
	packed    int64  // headers and compressed pages
	dictPages int32  // data pages of dictionary indices
	plainPgs  int32  // plain data pages
	st        colStats

	// The open page.
	pageN   int      // values, nulls included
	defs    []byte   // definition levels as a bitmap (optional columns)
	idx     []uint32 // dictionary indices
	plain   []byte   // plain values
	boolN   int      // booleans in plain (bit-packed)
	body    []byte   // scratch: the uncompressed page
	comp    []byte   // scratch: the compressed page
	hdr     thriftWriter
	scratch []uint32
}

// colStats are a chunk's minimum and maximum so far.
type colStats struct {
	has        bool
	imin, imax int64
	umin, umax uint64
	fmin, fmax float64
	bmin, bmax []byte
	bools      [2]bool // false seen, true seen
}

// chunkMeta is what the footer needs of a finished column chunk.
type chunkMeta struct {
	values, nulls    int64
	rawSize, packed  int64
	hasDict          bool
	dictPageLen      int64
	dictPages, plain int32
	min, max         []byte
	hasMinMax        bool
}

func (c *pqColumn) reset() {
	c.dict = c.useDict && !c.sticky
	c.hadDict = false
	c.bmemo.reset()
	c.imemo.reset()
	c.values, c.nonNull, c.nulls = 0, 0, 0
	c.pages = c.pages[:0]
	c.dictPage = c.dictPage[:0]
	c.rawSize, c.packed = 0, 0
	c.dictPages, c.plainPgs = 0, 0
	c.st = colStats{bmin: c.st.bmin[:0], bmax: c.st.bmax[:0]}
	c.resetPage()
}

func (c *pqColumn) resetPage() {
	c.pageN = 0
	c.defs = c.defs[:0]
	c.idx = c.idx[:0]
	c.plain = c.plain[:0]
	c.boolN = 0
}

// appendDefs appends the validity of arr[lo:hi] to the page's levels.
func (c *pqColumn) appendDefs(arr arrow.Array, lo, hi int) {
	n := c.pageN
	need := (n + hi - lo + 7) / 8
	c.defs = reserve(c.defs, need-len(c.defs), 0)
	for len(c.defs) < need {
		c.defs = append(c.defs, 0)
	}
	if arr.NullN() == 0 {
		// Ones: the partial byte, whole bytes, the rest.
		i := n
		end := n + hi - lo
		for ; i < end && i%8 != 0; i++ {
			c.defs[i/8] |= 1 << (i % 8)
		}
		for ; i+8 <= end; i += 8 {
			c.defs[i/8] = 0xff
		}
		for ; i < end; i++ {
			c.defs[i/8] |= 1 << (i % 8)
		}
		return
	}
	for r := lo; r < hi; r++ {
		if arr.IsValid(r) {
			c.defs[n/8] |= 1 << (n % 8)
		}
		n++
	}
}

// write encodes arr (one batch's slice of this column) into the chunk.
func (c *pqColumn) write(arr arrow.Array) {
	n := arr.Len()
	for lo := 0; lo < n; lo += segment {
		hi := min(lo+segment, n)
		if c.optional {
			c.appendDefs(arr, lo, hi)
		}
		nulls := 0
		if arr.NullN() > 0 {
			nulls = countNulls(arr, lo, hi)
		}
		c.nulls += int64(nulls)
		c.nonNull += int64(hi - lo - nulls)
		c.values += int64(hi - lo)
		c.reserve(arr, lo, hi)
		switch c.kind {
		case kBytes:
			a := arr.(binaryArray)
			writeBytes(c, arr, bufferBytes(arr, 2), a.ValueOffsets(), lo, hi)
		case kLargeBytes:
			a := arr.(interface{ ValueOffsets() []int64 })
			writeBytes(c, arr, bufferBytes(arr, 2), a.ValueOffsets(), lo, hi)
		case kInt32:
			writeInts(c, arr, fixedValues[int32](arr), lo, hi)
		case kInt32Wide:
			switch a := arr.(type) {
			case *array.Int8:
				writeInts(c, arr, a.Int8Values(), lo, hi)
			case *array.Int16:
				writeInts(c, arr, a.Int16Values(), lo, hi)
			case *array.Uint8:
				writeInts(c, arr, a.Uint8Values(), lo, hi)
			case *array.Uint16:
				writeInts(c, arr, a.Uint16Values(), lo, hi)
			}
		case kInt64:
			writeInts(c, arr, fixedValues[int64](arr), lo, hi)
		case kFloat:
			writeFloats(c, arr, fixedValues[float32](arr), lo, hi)
		case kDouble:
			writeFloats(c, arr, fixedValues[float64](arr), lo, hi)
		case kBool:
			writeBools(c, arr.(*array.Boolean), lo, hi)
		}
		c.pageN += hi - lo
		if c.dict && c.nonNull >= distinctSample && c.mostlyDistinct() || c.dict && c.dictSize() > dictBytes {
			// Nearly every value new (identifiers), or too many: a
			// dictionary only costs hashing. Plain from here on, and in
			// the next chunks.
			if c.dictPages == 0 {
				c.toPlain() // no page uses the dictionary yet: none at all
			} else {
				c.flushPage()
			}
			c.dict = false
			c.sticky = true
		} else if c.pageSize() >= pageBytes {
			c.flushPage()
		}
	}
}

// reserve gives the buffers that arr[lo:hi]'s values go into room for all
// of them, so that the appends of the encoding loops never grow a buffer:
// append grows a large slice by a quarter at a time, which allocates (and,
// in a fresh process, faults in) about five times the buffer's final size
// on the way; reserve doubles, or sizes the page's dictionary indices for
// a whole page at once when the chunk's length is known (chunkRows).
func (c *pqColumn) reserve(arr arrow.Array, lo, hi int) {
	n := hi - lo
	var textBytes int // of the values as PLAIN stores them
	switch c.kind {
	case kBytes:
		o := arr.(binaryArray).ValueOffsets()
		textBytes = int(o[hi]-o[lo]) + 4*n
	case kLargeBytes:
		o := arr.(interface{ ValueOffsets() []int64 }).ValueOffsets()
		textBytes = int(o[hi]-o[lo]) + 4*n
	}
	if c.dict {
		// A page is cut once its indices take pageBytes at one bit or
		// more each, checked every segment.
		c.idx = reserve(c.idx, n, min(c.chunkRows, pageBytes*8+segment))
		if c.kind == kBytes || c.kind == kLargeBytes {
			c.bmemo.ents = reserve(c.bmemo.ents, n, 0)
			c.bmemo.body = reserve(c.bmemo.body, textBytes, 0)
		} else {
			c.imemo.keys = reserve(c.imemo.keys, n, 0)
		}
		return
	}
	switch c.kind {
	case kBytes, kLargeBytes:
		c.plain = reserve(c.plain, textBytes, 0)
	case kBool:
		c.plain = reserve(c.plain, n/8+1, 0)
	default:
		c.plain = reserve(c.plain, n*c.width(), 0)
	}
}

// reserve returns s with room for n more elements: if it must grow, to at
// least twice its capacity and at least least elements.
func reserve[T any](s []T, n, least int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	t := make([]T, len(s), max(2*cap(s), len(s)+n, least))
	copy(t, s)
	return t
}

// distinctSample is how many values a chunk's dictionary sees before it
// may be judged not worth keeping (mostlyDistinct); a chunk with fewer is
// judged when it ends.
const distinctSample = 1 << 14

// mostlyDistinct reports whether at least 1,000 values were seen and 90% or
// more of them are distinct, as identifiers are (one declaration id per
// row): a dictionary would only cost hashing every value, and arrow-go's
// encoder fell back to plain pages only once the dictionary passed 1 MiB,
// in every row group. Columns with repeated values (offices, importers, HS
// codes, dates) keep it, which makes them several times smaller.
func (c *pqColumn) mostlyDistinct() bool {
	return c.nonNull >= 1000 && c.distinct()*10 >= 9*c.nonNull
}

func countNulls(arr arrow.Array, lo, hi int) int {
	if lo == 0 && hi == arr.Len() {
		return arr.NullN()
	}
	k := 0
	for r := lo; r < hi; r++ {
		if arr.IsNull(r) {
			k++
		}
	}
	return k
}

// bufferBytes is buffer i of arr (nil if absent).
func bufferBytes(arr arrow.Array, i int) []byte {
	if b := arr.Data().Buffers()[i]; b != nil {
		return b.Bytes()
	}
	return nil
}

// fixedValues is the value buffer of a fixed-width array as []T, from the
// array's offset on.
func fixedValues[T int32 | int64 | float32 | float64](arr arrow.Array) []T {
	b := bufferBytes(arr, 1)
	var z T
	size := int(unsafe.Sizeof(z))
	if len(b) < size {
		return nil
	}
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/size)
	off := arr.Data().Offset()
	return all[off : off+arr.Len()]
}

func (c *pqColumn) distinct() int64 {
	if c.kind == kBytes || c.kind == kLargeBytes {
		return int64(len(c.bmemo.ents))
	}
	return int64(len(c.imemo.keys))
}

func (c *pqColumn) dictSize() int {
	if c.kind == kBytes || c.kind == kLargeBytes {
		return len(c.bmemo.body)
	}
	return len(c.imemo.keys) * c.width()
}

// width is the plain size of a fixed-width value.
func (c *pqColumn) width() int {
	if c.phys == ptInt64 || c.phys == ptDouble {
		return 8
	}
	return 4
}

func (c *pqColumn) pageSize() int {
	if c.dict {
		return len(c.idx) * bitWidth(uint32(c.distinct())) / 8
	}
	return len(c.plain)
}

func writeBytes[O int32 | int64](c *pqColumn, arr arrow.Array, data []byte, offs []O, lo, hi int) {
	hasNulls := arr.NullN() > 0
	if c.dict {
		for r := lo; r < hi; r++ {
			if hasNulls && arr.IsNull(r) {
				continue
			}
			c.idx = append(c.idx, c.bmemo.index(data[offs[r]:offs[r+1]]))
		}
		return
	}
	st := &c.st
	for r := lo; r < hi; r++ {
		if hasNulls && arr.IsNull(r) {
			continue
		}
		v := data[offs[r]:offs[r+1]]
		c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(len(v)))
		c.plain = append(c.plain, v...)
		st.addBytes(v)
	}
}

func writeInts[T int8 | int16 | int32 | int64 | uint8 | uint16](c *pqColumn, arr arrow.Array, vals []T, lo, hi int) {
	hasNulls := arr.NullN() > 0
	if c.dict {
		for r := lo; r < hi; r++ {
			if hasNulls && arr.IsNull(r) {
				continue
			}
			c.idx = append(c.idx, c.imemo.index(uint64(int64(vals[r]))))
		}
		return
	}
	for r := lo; r < hi; r++ {
		if hasNulls && arr.IsNull(r) {
			continue
		}
		v := int64(vals[r])
		if c.phys == ptInt64 {
			c.plain = binary.LittleEndian.AppendUint64(c.plain, uint64(v))
		} else {
			c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(v))
		}
		c.st.addInt(v, c.unsigned, c.phys)
	}
}

// addBytes adds v to the range (bytes compared unsigned, as parquet-format
// orders BYTE_ARRAY statistics); v is copied.
func (st *colStats) addBytes(v []byte) {
	if !st.has {
		st.has = true
		st.bmin = append(st.bmin[:0], v...)
		st.bmax = append(st.bmax[:0], v...)
	} else if bytes.Compare(v, st.bmax) > 0 {
		st.bmax = append(st.bmax[:0], v...)
	} else if bytes.Compare(v, st.bmin) < 0 {
		st.bmin = append(st.bmin[:0], v...)
	}
}

// addInt adds v (as stored: an int32's bits sign-extended) to the range.
func (st *colStats) addInt(v int64, unsigned bool, phys int32) {
	if unsigned {
		u := uint64(v)
		if phys == ptInt32 {
			u = uint64(uint32(v))
		}
		if !st.has {
			st.has, st.umin, st.umax = true, u, u
		} else if u < st.umin {
			st.umin = u
		} else if u > st.umax {
			st.umax = u
		}
		return
	}
	if !st.has {
		st.has, st.imin, st.imax = true, v, v
	} else if v < st.imin {
		st.imin = v
	} else if v > st.imax {
		st.imax = v
	}
}

func writeFloats[T float32 | float64](c *pqColumn, arr arrow.Array, vals []T, lo, hi int) {
	st := &c.st
	add := func(v float64) {
		if v != v {
			return // NaN is in no range (parquet-format: not in min/max)
		}
		if !st.has {
			st.has, st.fmin, st.fmax = true, v, v
		} else if v < st.fmin {
			st.fmin = v
		} else if v > st.fmax {
			st.fmax = v
		}
	}
	if arr.NullN() == 0 {
		part := vals[lo:hi]
		c.plain = append(c.plain, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(part))), len(part)*int(unsafe.Sizeof(part[0])))...)
		for _, v := range part {
			add(float64(v))
		}
		return
	}
	for r := lo; r < hi; r++ {
		if arr.IsNull(r) {
			continue
		}
		v := vals[r]
		if c.phys == ptDouble {
			c.plain = binary.LittleEndian.AppendUint64(c.plain, math.Float64bits(float64(v)))
		} else {
			c.plain = binary.LittleEndian.AppendUint32(c.plain, math.Float32bits(float32(v)))
		}
		add(float64(v))
	}
}

func writeBools(c *pqColumn, a *array.Boolean, lo, hi int) {
	for r := lo; r < hi; r++ {
		if a.IsNull(r) {
			continue
		}
		v := a.Value(r)
		if c.boolN%8 == 0 {
			c.plain = append(c.plain, 0)
		}
		if v {
			c.plain[len(c.plain)-1] |= 1 << (c.boolN % 8)
			c.st.bools[1] = true
		} else {
			c.st.bools[0] = true
		}
		c.boolN++
		c.st.has = true
	}
}

// toPlain turns the open page's dictionary indices into plain values and
// empties the dictionary (no page of the chunk uses it yet).
func (c *pqColumn) toPlain() {
	if c.kind == kBytes || c.kind == kLargeBytes {
		m := &c.bmemo
		size := 0
		for _, i := range c.idx {
			size += 4 + int(m.ents[i].n)
		}
		c.plain = reserve(c.plain, size, 0)
		for _, i := range c.idx {
			e := m.ents[i]
			c.plain = append(c.plain, m.body[e.off-4:e.off+e.n]...)
		}
		c.st.addDict(c)
	} else {
		c.plain = reserve(c.plain, len(c.idx)*c.width(), 0)
		for _, i := range c.idx {
			k := c.imemo.keys[i]
			if c.phys == ptInt64 {
				c.plain = binary.LittleEndian.AppendUint64(c.plain, k)
			} else {
				c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(k))
			}
		}
		c.st.addDict(c)
	}
	c.idx = c.idx[:0]
	c.bmemo.reset()
	c.imemo.reset()
}

// addDict adds the dictionary's values to the range.
func (st *colStats) addDict(c *pqColumn) {
	if c.kind == kBytes || c.kind == kLargeBytes {
		for _, e := range c.bmemo.ents {
			v := c.bmemo.body[e.off : e.off+e.n]
			st.addBytes(v)
		}
		return
	}
	for _, k := range c.imemo.keys {
		st.addInt(int64(k), c.unsigned, c.phys)
	}
}

// flushPage writes the open page, if it has values, as a data page.
func (c *pqColumn) flushPage() {
	if c.pageN == 0 {
		return
	}
	enc := int32(encPlain)
	if !c.optional && !(c.dict && c.distinct() > 0) {
		// No levels, plain values: the page is c.plain as it is.
		c.plainPgs++
		c.pages = c.appendPage(c.pages, pageData, enc, int32(c.pageN), c.plain)
		c.resetPage()
		return
	}
	// Room for the levels (at most a header per bitmap byte), the indices
	// bit-packed (at most 32 bits each, and a run header per eight) or the
	// plain values.
	room := 4 + 2*len(c.defs) + len(c.plain)
	if c.dict && c.distinct() > 0 {
		room += 1 + len(c.idx)*(bitWidth(uint32(c.distinct()-1))+2)/8 + 16
	}
	body := reserve(c.body[:0], room, 0)
	if c.optional {
		body = append(body, 0, 0, 0, 0)
		body = appendLevels(body, c.defs, c.pageN)
		binary.LittleEndian.PutUint32(body, uint32(len(body)-4))
	}
	if c.dict && c.distinct() > 0 {
		enc = encRLEDictionary
		w := bitWidth(uint32(c.distinct() - 1))
		body = append(body, byte(w))
		body = appendHybrid(body, c.idx, w)
		c.dictPages++
		c.hadDict = true
	} else {
		body = append(body, c.plain...)
		c.plainPgs++
	}
	c.body = body
	c.pages = c.appendPage(c.pages, pageData, enc, int32(c.pageN), body)
	c.resetPage()
}

// appendPage appends a page header and the compressed body to dst.
func (c *pqColumn) appendPage(dst []byte, typ, enc, n int32, body []byte) []byte {
	if need := s2.MaxEncodedLen(len(body)); cap(c.comp) < need {
		c.comp = make([]byte, max(need, 2*cap(c.comp)))
	}
	c.comp = s2.EncodeSnappy(c.comp[:cap(c.comp)], body)
	h := &c.hdr
	h.b = h.b[:0]
	h.begin()
	h.i32(1, typ)
	h.i32(2, int32(len(body)))
	h.i32(3, int32(len(c.comp)))
	if typ == pageData {
		h.structField(5)
		h.i32(1, n)
		h.i32(2, enc)
		h.i32(3, encRLE)
		h.i32(4, encRLE)
		h.end()
	} else {
		h.structField(7)
		h.i32(1, n)
		h.i32(2, enc)
		h.end()
	}
	h.end()
	c.rawSize += int64(len(h.b) + len(body))
	c.packed += int64(len(h.b) + len(c.comp))
	dst = reserve(dst, len(h.b)+len(c.comp), 0)
	dst = append(dst, h.b...)
	return append(dst, c.comp...)
}

// finish closes the chunk: the last page, the dictionary page, statistics.
func (c *pqColumn) finish() chunkMeta {
	if c.dict && c.dictPages == 0 && c.mostlyDistinct() {
		c.toPlain()
		c.dict = false
		c.sticky = true
	}
	c.flushPage()
	m := chunkMeta{values: c.values, nulls: c.nulls}
	st := &c.st
	if c.hadDict {
		// Dictionary values: their range joins that of the plain pages.
		body := c.body[:0]
		if c.kind == kBytes || c.kind == kLargeBytes {
			body = append(body, c.bmemo.body...)
		} else {
			for _, k := range c.imemo.keys {
				if c.phys == ptInt64 {
					body = binary.LittleEndian.AppendUint64(body, k)
				} else {
					body = binary.LittleEndian.AppendUint32(body, uint32(k))
				}
			}
		}
		st.addDict(c)
		c.body = body
		c.dictPage = c.appendPage(c.dictPage[:0], pageDictionary, encPlain, int32(c.distinct()), body)
		m.hasDict = true
		m.dictPageLen = int64(len(c.dictPage))
	}
	m.rawSize, m.packed = c.rawSize, c.packed
	m.dictPages, m.plain = c.dictPages, c.plainPgs
	if st.has {
		m.hasMinMax = true
		switch c.phys {
		case ptByteArray:
			// Copies: the buffers serve the next chunk.
			m.min, m.max = bytes.Clone(st.bmin), bytes.Clone(st.bmax)
			if len(st.bmin) > 4096 || len(st.bmax) > 4096 {
				m.hasMinMax = false // not worth its place in the footer
			}
		case ptInt32:
			lo, hi := uint32(st.imin), uint32(st.imax)
			if c.unsigned {
				lo, hi = uint32(st.umin), uint32(st.umax)
			}
			m.min = binary.LittleEndian.AppendUint32(nil, lo)
			m.max = binary.LittleEndian.AppendUint32(nil, hi)
		case ptInt64:
			lo, hi := uint64(st.imin), uint64(st.imax)
			if c.unsigned {
				lo, hi = st.umin, st.umax
			}
			m.min = binary.LittleEndian.AppendUint64(nil, lo)
			m.max = binary.LittleEndian.AppendUint64(nil, hi)
		case ptFloat, ptDouble:
			lo, hi := st.fmin, st.fmax
			// parquet-format: a zero minimum is written -0, a zero maximum +0.
			if lo == 0 {
				lo = math.Copysign(0, -1)
			}
			if hi == 0 {
				hi = 0
			}
			if c.phys == ptFloat {
				m.min = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(lo)))
				m.max = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(hi)))
			} else {
				m.min = binary.LittleEndian.AppendUint64(nil, math.Float64bits(lo))
				m.max = binary.LittleEndian.AppendUint64(nil, math.Float64bits(hi))
			}
		case ptBoolean:
			lo, hi := byte(1), byte(0)
			if st.bools[0] {
				lo = 0
			}
			if st.bools[1] {
				hi = 1
			}
			m.min, m.max = []byte{lo}, []byte{hi}
		}
	}
	return m
}

// bytesMemo gives each distinct byte string an index, in order of first
// appearance, and keeps them PLAIN-encoded (a dictionary page's body):
// open addressing on a hash of the bytes, reset for every column chunk.
type bytesMemo struct {
	slots []uint32 // entry index + 1; 0 is empty
	ents  []memoEntry
	body  []byte
	seed  maphash.Seed
	init  bool
}

type memoEntry struct {
	hash uint32
	off  uint32 // of the value in body (after its length)
	n    uint32
}

func (m *bytesMemo) reset() {
	if !m.init {
		m.seed = maphash.MakeSeed()
		m.slots = make([]uint32, 1024)
		m.init = true
	}
	clear(m.slots)
	m.ents = m.ents[:0]
	m.body = m.body[:0]
}

func (m *bytesMemo) index(v []byte) uint32 {
	h := maphash.Bytes(m.seed, v)
	h32 := uint32(h >> 32)
	mask := uint64(len(m.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := m.slots[i]
		if s == 0 {
			e := memoEntry{hash: h32, off: uint32(len(m.body) + 4), n: uint32(len(v))}
			m.body = binary.LittleEndian.AppendUint32(m.body, uint32(len(v)))
			m.body = append(m.body, v...)
			m.ents = append(m.ents, e)
			m.slots[i] = uint32(len(m.ents))
			if 2*len(m.ents) > len(m.slots) {
				m.grow()
			}
			return uint32(len(m.ents) - 1)
		}
		e := &m.ents[s-1]
		if e.hash == h32 && int(e.n) == len(v) && string(m.body[e.off:e.off+e.n]) == string(v) {
			return s - 1
		}
	}
}

func (m *bytesMemo) grow() {
	m.slots = make([]uint32, 2*len(m.slots))
	mask := uint64(len(m.slots) - 1)
	for k, e := range m.ents {
		v := m.body[e.off : e.off+e.n]
		i := maphash.Bytes(m.seed, v) & mask
		for m.slots[i] != 0 {
			i = (i + 1) & mask
		}
		m.slots[i] = uint32(k + 1)
	}
}

// intMemo is bytesMemo for integers (as 64-bit patterns).
type intMemo struct {
	slots []uint32
	keys  []uint64
	shift uint
}

func (m *intMemo) reset() {
	if m.slots == nil {
		m.slots = make([]uint32, 1024)
		m.shift = 64 - 10
	}
	clear(m.slots)
	m.keys = m.keys[:0]
}

func (m *intMemo) index(k uint64) uint32 {
	mask := uint64(len(m.slots) - 1)
	for i := (k * 0x9e3779b97f4a7c15) >> m.shift; ; i = (i + 1) & mask {
		s := m.slots[i]
		if s == 0 {
			m.keys = append(m.keys, k)
			m.slots[i] = uint32(len(m.keys))
			if 2*len(m.keys) > len(m.slots) {
				m.grow()
			}
			return uint32(len(m.keys) - 1)
		}
		if m.keys[s-1] == k {
			return s - 1
		}
	}
}

func (m *intMemo) grow() {
	m.slots = make([]uint32, 2*len(m.slots))
	m.shift--
	mask := uint64(len(m.slots) - 1)
	for j, k := range m.keys {
		i := (k * 0x9e3779b97f4a7c15) >> m.shift
		for m.slots[i] != 0 {
			i = (i + 1) & mask
		}
		m.slots[i] = uint32(j + 1)
	}
}

// binaryArray is a string or binary array with 32-bit offsets.
type binaryArray interface {
	arrow.Array
	ValueOffsets() []int32
}
