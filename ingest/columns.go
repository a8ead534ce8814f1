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
