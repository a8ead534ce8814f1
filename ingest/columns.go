package ingest

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// colType is the physical type of an output column.
type colType uint8

const (
	colString colType = iota
	colFloat
	colDate
	colInt8
)

// column accumulates one output column of a batch in plain Go slices that
// become the Arrow buffers as they are: cheaper per value than arrow-go's
// builders, which matters at a million rows a second.
type column struct {
	typ     colType
	dt      arrow.DataType
	n       int
	nulls   int
	valid   []byte // validity bitmap, LSB first
	f64     []float64
	d32     []arrow.Date32
	i8      []int8
	offsets []int32
	data    []byte
	// dataHint is the text size to reserve for the next batch: a little
	// more than the last batch needed, so that appends rarely grow (and
	// copy) the text and an empty column reserves little.
	dataHint int
}

// reset starts a new batch of at most rows rows. The previous slices belong
// to the arrays made from them, so new ones are allocated.
func (c *column) reset(rows int) {
	c.n, c.nulls = 0, 0
	c.valid = make([]byte, (rows+7)/8)
	switch c.typ {
	case colString:
		c.offsets = make([]int32, 1, rows+1)
		if c.data == nil {
			c.dataHint = 16 * rows
		} else {
			c.dataHint = max(len(c.data)+len(c.data)/8, 4096)
		}
		c.data = make([]byte, 0, c.dataHint)
	case colFloat:
		c.f64 = make([]float64, 0, rows)
	case colDate:
		c.d32 = make([]arrow.Date32, 0, rows)
	case colInt8:
		c.i8 = make([]int8, 0, rows)
	}
}

func (c *column) setValid() { c.valid[c.n>>3] |= 1 << (c.n & 7) }

func (c *column) appendNull() {
	switch c.typ {
	case colString:
		c.offsets = append(c.offsets, int32(len(c.data)))
	case colFloat:
		c.f64 = append(c.f64, 0)
	case colDate:
		c.d32 = append(c.d32, 0)
	case colInt8:
		c.i8 = append(c.i8, 0)
	}
	c.nulls++
	c.n++
}

func (c *column) appendBytes(b []byte) {
	c.setValid()
	c.data = append(c.data, b...)
	c.offsets = append(c.offsets, int32(len(c.data)))
	c.n++
}

func (c *column) appendFloat(v float64) {
	c.setValid()
	c.f64 = append(c.f64, v)
	c.n++
}

func (c *column) appendDate(v arrow.Date32) {
	c.setValid()
	c.d32 = append(c.d32, v)
	c.n++
}

func (c *column) appendInt8(v int8) {
	c.setValid()
	c.i8 = append(c.i8, v)
	c.n++
}

// array wraps the accumulated values as an Arrow array without copying.
func (c *column) array() arrow.Array {
	var bitmap *memory.Buffer
	if c.nulls > 0 {
		bitmap = memory.NewBufferBytes(c.valid[:(c.n+7)/8])
	}
	var bufs []*memory.Buffer
	switch c.typ {
	case colString:
		bufs = []*memory.Buffer{bitmap, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.offsets)), memory.NewBufferBytes(c.data)}
	case colFloat:
		bufs = []*memory.Buffer{bitmap, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(c.f64))}
	case colDate:
		bufs = []*memory.Buffer{bitmap, memory.NewBufferBytes(arrow.Date32Traits.CastToBytes(c.d32))}
	case colInt8:
		bufs = []*memory.Buffer{bitmap, memory.NewBufferBytes(arrow.Int8Traits.CastToBytes(c.i8))}
	}
	data := array.NewData(c.dt, c.n, bufs, nil, c.nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// clear empties the column for reuse, keeping its memory: for the columns
// of a parallel reader's chunk (parallel.go), which are copied out and never
// become arrays. rows bounds the rows it will receive.
func (c *column) clear(rows int) {
	c.n, c.nulls = 0, 0
	if nb := (rows + 7) / 8; cap(c.valid) < nb {
		c.valid = make([]byte, nb)
	} else {
		c.valid = c.valid[:nb]
		clear(c.valid)
	}
	c.offsets = append(c.offsets[:0], 0)
	c.data = c.data[:0]
	c.f64 = c.f64[:0]
	c.d32 = c.d32[:0]
	c.i8 = c.i8[:0]
}

// appendRange appends rows [a, b) of src, a column of the same type.
func (c *column) appendRange(src *column, a, b int) {
	k := b - a
	if k <= 0 {
		return
	}
	switch {
	case src.nulls == 0:
		for i := range k {
			c.valid[(c.n+i)>>3] |= 1 << ((c.n + i) & 7)
		}
	case src.nulls == src.n:
		c.nulls += k
	default:
		for i := range k {
			if j := a + i; src.valid[j>>3]&(1<<(j&7)) != 0 {
				c.valid[(c.n+i)>>3] |= 1 << ((c.n + i) & 7)
			} else {
				c.nulls++
			}
		}
	}
	switch c.typ {
	case colString:
		lo, hi := src.offsets[a], src.offsets[b]
		base := int32(len(c.data)) - lo
		c.data = append(c.data, src.data[lo:hi]...)
		for _, o := range src.offsets[a+1 : b+1] {
			c.offsets = append(c.offsets, o+base)
		}
	case colFloat:
		c.f64 = append(c.f64, src.f64[a:b]...)
	case colDate:
		c.d32 = append(c.d32, src.d32[a:b]...)
	case colInt8:
		c.i8 = append(c.i8, src.i8[a:b]...)
	}
	c.n += k
}

// textBytes is the text of rows [a, b), for the batch text limit.
func (c *column) textBytes(a, b int) int {
	if c.typ != colString {
		return 0
	}
	return int(c.offsets[b] - c.offsets[a])
}
