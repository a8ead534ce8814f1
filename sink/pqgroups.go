package sink

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// ParquetGroupWriter writes a Parquet file whose row groups are encoded
// apart from each other and from the file, with sink's own column encoder
// (pqcolumn.go) and footer (parquet.go): EncodeGroup may run on several
// goroutines at once, each encoding one whole row group (its columns one
// after the other) into buffers of its own; WriteGroup appends encoded
// groups to the file one at a time, in the order the caller wants, and
// notes where each column chunk landed; Close writes the footer with those
// offsets. Encoders and page buffers are kept for the next groups, so a
// long file faults in its memory once.
//
// Each group is encoded from a fresh state: where the streaming writer
// (sink.Create) keeps a column that fell back to plain pages plain in every
// later row group, here each group decides for itself (an identifier
// column's first 16,384 values are hashed once per group). So a group's
// bytes depend only on its rows, and the file's on its groups and their
// order, not on which goroutine encoded which group or when
// (TestParquetGroupsSameBytes).
//
// Only flat tables of the types sink's encoder takes (pqFieldOf) are
// written; NewParquetGroupWriter refuses others. The schema's metadata is
// the footer's key-value metadata, in order, followed by the Arrow schema
// (ARROW:schema) as pqarrow stores it.
type ParquetGroupWriter struct {
	schema *arrow.Schema
	fields []pqField
	out    countingWriter

	mu       sync.Mutex
	encoders []*groupEncoder // idle
	bufs     []*groupBuffers // idle page buffers

	// WriteGroup's and Close's, on the caller's goroutine.
	groups  []rowGroupMeta
	rows    int64
	started bool
	closed  bool
	err     error
}

// groupEncoder is one column encoder per field.
type groupEncoder struct {
	cols []pqColumn
}

// groupBuffers are a group's encoded column chunks: per column, its
// dictionary page (if any) and its data pages, with their headers. A set
// goes from group to group whole, so each buffer keeps the size its column
// needs.
type groupBuffers struct {
	dict, pages [][]byte
}

// ParquetGroup is a row group EncodeGroup encoded, waiting for WriteGroup.
type ParquetGroup struct {
	w      *ParquetGroupWriter
	rows   int64
	chunks []chunkMeta
	bufs   *groupBuffers
	done   bool // written or released
}

// Rows is the number of rows in the group.
func (g *ParquetGroup) Rows() int64 { return g.rows }

// Bytes is the size of the group's encoded column chunks.
func (g *ParquetGroup) Bytes() int64 {
	var n int64
	for _, m := range g.chunks {
		n += m.packed
	}
	return n
}

// NewParquetGroupWriter starts a Parquet file of schema on out. Nothing is
// written before the first WriteGroup or Close.
func NewParquetGroupWriter(schema *arrow.Schema, out io.Writer) (*ParquetGroupWriter, error) {
	w := &ParquetGroupWriter{schema: schema, out: countingWriter{w: out}}
	for _, f := range schema.Fields() {
		pf, ok := pqFieldOf(f.Type)
		if !ok {
			return nil, fmt.Errorf("column %s: type %s is not written by sink's Parquet encoder", f.Name, f.Type)
		}
		w.fields = append(w.fields, pf)
	}
	return w, nil
}

// EncodeGroup encodes recs, one after the other, as one row group. It does
// not touch the file and may be called from several goroutines at once;
// recs are not kept.
func (w *ParquetGroupWriter) EncodeGroup(recs ...arrow.RecordBatch) (*ParquetGroup, error) {
	for _, r := range recs {
		if !r.Schema().Equal(w.schema) {
			return nil, fmt.Errorf("record schema does not match the writer's:\nrecord: %s\nwriter: %s", r.Schema(), w.schema)
		}
	}
	e, b := w.take()
	g := &ParquetGroup{w: w, chunks: make([]chunkMeta, len(w.fields)), bufs: b}
	for _, r := range recs {
		g.rows += r.NumRows()
	}
	for i := range e.cols {
		c := &e.cols[i]
		c.sticky = false // each group decides for itself
		c.reset()
		for _, r := range recs {
			if r.NumRows() > 0 {
				c.write(r.Column(i))
			}
		}
		g.chunks[i] = c.finish()
		// The group takes the encoded pages; the encoder goes on in the
		// set's empty buffers.
		b.dict[i], c.dictPage = c.dictPage, b.dict[i][:0]
		b.pages[i], c.pages = c.pages, b.pages[i][:0]
	}
	w.mu.Lock()
	w.encoders = append(w.encoders, e)
	w.mu.Unlock()
	return g, nil
}

// take returns an idle encoder and an idle set of buffers, or new ones.
func (w *ParquetGroupWriter) take() (*groupEncoder, *groupBuffers) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var e *groupEncoder
	if n := len(w.encoders); n > 0 {
		e, w.encoders = w.encoders[n-1], w.encoders[:n-1]
	} else {
		e = &groupEncoder{}
		for i, f := range w.schema.Fields() {
			e.cols = append(e.cols, newPQColumn(w.fields[i], f.Nullable))
		}
	}
	var b *groupBuffers
	if n := len(w.bufs); n > 0 {
		b, w.bufs = w.bufs[n-1], w.bufs[:n-1]
	} else {
		b = &groupBuffers{dict: make([][]byte, len(w.fields)), pages: make([][]byte, len(w.fields))}
	}
	return e, b
}

// Release gives the group's buffers back for the next groups; the group is
// then empty. WriteGroup releases the groups it writes; Release is for a
// group that will not be written. Safe to call twice.
func (g *ParquetGroup) Release() {
	if g.done {
		return
	}
	g.done = true
	w := g.w
	w.mu.Lock()
	w.bufs = append(w.bufs, g.bufs)
	w.mu.Unlock()
	g.bufs, g.chunks, g.rows = nil, nil, 0
}

// WriteGroup appends a group this writer encoded after the groups already
// written, and releases it. A group of no rows adds nothing. Not safe for
// concurrent use (nor with Close).
func (w *ParquetGroupWriter) WriteGroup(g *ParquetGroup) error {
	switch {
	case w.closed:
		return errors.New("parquet writer already closed")
	case w.err != nil:
		return w.err
	case g.w != w:
		return errors.New("internal error: a row group encoded for another file")
	case g.done:
		return errors.New("internal error: a row group written or released already")
	}
	defer g.Release()
	if g.rows == 0 {
		return nil
	}
	if err := w.start(); err != nil {
		return err
	}
	m := rowGroupMeta{rows: g.rows, offset: w.out.off, chunks: g.chunks, starts: make([]int64, len(g.chunks))}
	for i := range g.chunks {
		m.starts[i] = w.out.off
		for _, b := range [][]byte{g.bufs.dict[i], g.bufs.pages[i]} {
			if _, err := w.out.Write(b); err != nil {
				w.err = err
				return err
			}
		}
	}
	w.groups = append(w.groups, m)
	w.rows += g.rows
	return nil
}

// start writes the leading magic once.
func (w *ParquetGroupWriter) start() error {
	if w.started {
		return nil
	}
	if _, err := w.out.Write([]byte("PAR1")); err != nil {
		w.err = err
		return err
	}
	w.started = true
	return nil
}

// Close writes the footer (a file of no row groups if none was written).
func (w *ParquetGroupWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if err := w.start(); err != nil {
		return err
	}
	end := (&parquetWriter{schema: w.schema, fields: w.fields, rows: w.rows, groups: w.groups}).fileEnd()
	_, err := w.out.Write(end)
	return err
}
