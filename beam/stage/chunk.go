package stage

import (
	"bytes"
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultChunk is the values a reading DoFn buffers before it emits them,
// one element per key: the shuffle moves a chunk of a key's values per
// element instead of one value. On Prism the cost of an element (encoding,
// the element manager, the shuffle's bookkeeping) is many times the work
// risklane does per row (docs/beam.md).
const DefaultChunk = 1 << 18

// chunker buffers one file's keyed values and emits them one element per
// key present, in the order the keys were first seen, each flush numbered
// (seq): a key's values keep the file's order across flushes. A limit of 1
// emits every value as its own element, the shape of one row per element.
type chunker[K comparable, V any] struct {
	limit int
	n     int
	seq   int
	order []K
	buf   map[K][]V
	emit  func(k K, seq int, vs []V)
}

func newChunker[K comparable, V any](limit int, emit func(K, int, []V)) *chunker[K, V] {
	if limit <= 0 {
		limit = DefaultChunk
	}
	return &chunker[K, V]{limit: limit, buf: map[K][]V{}, emit: emit}
}

func (c *chunker[K, V]) add(k K, v V) {
	vs, ok := c.buf[k]
	if !ok {
		c.order = append(c.order, k)
	}
	c.buf[k] = append(vs, v)
	if c.n++; c.n >= c.limit {
		c.flush()
	}
}

func (c *chunker[K, V]) flush() {
	if c.n == 0 {
		return
	}
	for _, k := range c.order {
		c.emit(k, c.seq, c.buf[k])
	}
	c.seq++
	c.n, c.order = 0, c.order[:0]
	clear(c.buf)
}

// encodeBatch writes a record batch as an Arrow IPC stream.
func encodeBatch(rec arrow.RecordBatch) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	if err := w.Write(rec); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeBatch reads the record batch encodeBatch wrote; the caller releases
// it.
func decodeBatch(b []byte) (arrow.RecordBatch, error) {
	r, err := ipc.NewReader(bytes.NewReader(b), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, err
	}
	defer r.Release()
	if !r.Next() {
		if err := r.Err(); err != nil {
			return nil, err
		}
		return nil, errEmptyBatch
	}
	rec := r.RecordBatch()
	rec.Retain()
	return rec, nil
}

var errEmptyBatch = errors.New("stage: an encoded record batch holds no batch")
