package ingest

import (
	"sync"
	"unsafe"

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
	// pool, when set, supplies the slices of each new batch and takes them
	// back when the batch's arrays are released (Options.ReuseMemory).
	pool *batchPool
	// validKept: the last batch had no nulls, so its bitmap was not handed
	// to an array and is still the column's.
	validKept bool
}

// reset starts a new batch of at most rows rows. The previous slices belong
// to the arrays made from them, so new ones are allocated.
func (c *column) reset(rows int) {
	c.n, c.nulls = 0, 0
	if nb := (rows + 7) / 8; c.pool == nil {
		c.valid = make([]byte, nb)
	} else if c.validKept && cap(c.valid) >= nb {
		c.valid = c.valid[:nb]
		clear(c.valid)
	} else {
		c.valid = c.pool.get(nb)[:nb]
		clear(c.valid)
	}
	c.validKept = false
	switch c.typ {
	case colString:
		c.offsets = poolSlice[int32](c.pool, rows+1)[:1]
		c.offsets[0] = 0
		if c.data == nil {
			c.dataHint = 16 * rows
		} else {
			c.dataHint = max(len(c.data)+len(c.data)/8, 4096)
		}
		c.data = c.pool.get(c.dataHint)
	case colFloat:
		c.f64 = poolSlice[float64](c.pool, rows)
	case colDate:
		c.d32 = poolSlice[arrow.Date32](c.pool, rows)
	case colInt8:
		c.i8 = poolSlice[int8](c.pool, rows)
	}
}

// reuseMemory makes w's batches take their memory from pool and give it
// back there once released.
func (w *rowWriter) reuseMemory(pool *batchPool) {
	for i := range w.cols {
		w.cols[i].pool = pool
	}
}

// batchPool recycles the memory of a Reader's batches: each new batch takes
// its slices from the pool, and the Arrow buffers made of them give them
// back when their last reference is released (the pool is their
// memory.Allocator). Without it every batch is fresh memory that the
// runtime zeroes, the kernel faults in and the collector reclaims
// (docs/ingest.md). Only for consumers that read nothing of a batch after
// releasing it (Options.ReuseMemory).
//
// A nil *batchPool allocates with make and never recycles.
type batchPool struct {
	mu   sync.Mutex
	free [][]byte
}

// maxPooled bounds the slices a pool keeps idle: about two batches of a
// declaration table (two or three slices a column). Once a consumer's queue
// is full a batch comes back for each one built, so more would only be
// memory held for nothing (and a higher heap goal for the collector).
const maxPooled = 96

// get returns an empty slice of capacity n or more: the smallest pooled one
// that fits, else a new one.
func (p *batchPool) get(n int) []byte {
	if p == nil {
		return make([]byte, 0, n)
	}
	p.mu.Lock()
	best := -1
	for i, b := range p.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(p.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := p.free[best]
		last := len(p.free) - 1
		p.free[best], p.free[last] = p.free[last], nil
		p.free = p.free[:last]
		p.mu.Unlock()
		return b[:0]
	}
	p.mu.Unlock()
	return make([]byte, 0, n)
}

// poolSlice is get for n values of a fixed-size type.
func poolSlice[T any](p *batchPool, n int) []T {
	if p == nil {
		return make([]T, 0, n)
	}
	size := int(unsafe.Sizeof(*new(T)))
	b := p.get(n * size)
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b[:cap(b)]))), cap(b)/size)[:0]
}

// Allocate, Reallocate and Free make the pool the allocator of the Arrow
// buffers of its batches; only Free is called on it (buffers made by
// memory.NewBufferWithAllocator are never resized).
func (p *batchPool) Allocate(size int) []byte { return p.get(size)[:size] }

func (p *batchPool) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *batchPool) Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	p.mu.Lock()
	if len(p.free) < maxPooled {
		p.free = append(p.free, b[:0])
	}
	p.mu.Unlock()
}

// poolBytes is the memory of s as bytes: len(s) values visible, its whole
// capacity kept for the pool.
func poolBytes[T any](s []T) []byte {
	size := int(unsafe.Sizeof(*new(T)))
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), cap(s)*size)[:len(s)*size]
}

// setBits sets bits [lo, hi) of bitmap: single bits up to a byte
// boundary, whole bytes, single bits after the last.
func setBits(bitmap []byte, lo, hi int) {
	i := lo
	for ; i < hi && i&7 != 0; i++ {
		bitmap[i>>3] |= 1 << (i & 7)
	}
	for ; i+8 <= hi; i += 8 {
		bitmap[i>>3] = 0xff
	}
	for ; i < hi; i++ {
		bitmap[i>>3] |= 1 << (i & 7)
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
		bitmap = c.buffer(c.valid[:(c.n+7)/8])
	} else {
		c.validKept = true
	}
	var bufs []*memory.Buffer
	switch c.typ {
	case colString:
		bufs = []*memory.Buffer{bitmap, c.buffer(poolBytes(c.offsets)), c.buffer(c.data)}
	case colFloat:
		bufs = []*memory.Buffer{bitmap, c.buffer(poolBytes(c.f64))}
	case colDate:
		bufs = []*memory.Buffer{bitmap, c.buffer(poolBytes(c.d32))}
	case colInt8:
		bufs = []*memory.Buffer{bitmap, c.buffer(poolBytes(c.i8))}
	}
	data := array.NewData(c.dt, c.n, bufs, nil, c.nulls, 0)
	defer data.Release()
	if c.pool != nil {
		// data holds the buffers now; with a pool their references count.
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
	}
	return array.MakeFromData(data)
}

// buffer wraps b as an Arrow buffer that goes back to the column's pool, if
// it has one, when its last reference is released.
func (c *column) buffer(b []byte) *memory.Buffer {
	if c.pool == nil {
		return memory.NewBufferBytes(b)
	}
	return memory.NewBufferWithAllocator(b, c.pool)
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
		setBits(c.valid, c.n, c.n+k)
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
