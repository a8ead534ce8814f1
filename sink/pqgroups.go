package sink

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// ParquetGroupWriter writes a Parquet file whose row groups are encoded
// apart from each other and from the file, with sink's own column encoder
// (pqcolumn.go) and footer (parquet.go): EncodeGroup may run on several
// goroutines at once, each encoding one whole row group (its columns one
// after the other, a batch at a time: BeginGroup) into buffers of its own; WriteGroup appends encoded
// groups to the file one at a time, in the order the caller wants, and
// notes where each column chunk landed; Close writes the footer with those
// offsets. Encoders are kept for the next groups and the pages' buffers
// for the next groups of any file, so memory is faulted in once.
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

	layout    string // of the columns, for idleEncoders
	groupRows int    // SizeFor's

	mu       sync.Mutex
	encoders []*groupEncoder // idle

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

// idleEncoders are the encoders of closed files, by column layout, for the
// groups of the next files of the process: their buffers are sized by then
// (an encoder's first group allocates them, in a fresh process new memory
// that is faulted in). At most GOMAXPROCS are kept per layout.
var idleEncoders = struct {
	sync.Mutex
	m map[string][]*groupEncoder
}{m: map[string][]*groupEncoder{}}

// ParquetGroup is a row group EncodeGroup encoded, waiting for WriteGroup:
// its pages, in the order they were encoded, and where each column's lie.
type ParquetGroup struct {
	w      *ParquetGroupWriter
	rows   int64
	chunks []chunkMeta
	data   Chunks
	// Per column: its dictionary page's place in data (if any), then its
	// data pages' places, in order.
	dict  []span
	pages [][]span
	done  bool // written or released
}

// span is a range of a group's Chunks.
type span struct{ off, n int }

// addSpan appends p to d and returns its place.
func addSpan(d *Chunks, p []byte) span {
	at := span{off: d.Len(), n: len(p)}
	d.Write(p)
	return at
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
		w.layout += fmt.Sprintf("%d/%d/%t/%t;", pf.kind, pf.phys, pf.unsigned, f.Nullable)
	}
	return w, nil
}

// SizeFor says the groups will have about rows rows each, which the
// encoders size their buffers for up front instead of growing them. Call
// it before the first group.
func (w *ParquetGroupWriter) SizeFor(rows int) { w.groupRows = rows }

// ParquetGroupEncoder encodes one row group, batch by batch
// (ParquetGroupWriter.BeginGroup).
type ParquetGroupEncoder struct {
	e *groupEncoder
	g *ParquetGroup
}

// BeginGroup starts encoding a row group apart from the file: Write its
// batches in order, then End. Several groups may be open at once, on
// different goroutines; each is used by one goroutine at a time.
func (w *ParquetGroupWriter) BeginGroup() *ParquetGroupEncoder {
	e := w.takeEncoder()
	for i := range e.cols {
		c := &e.cols[i]
		c.sticky = false // each group decides for itself
		c.chunkRows = w.groupRows
		c.reset()
	}
	n := len(w.fields)
	return &ParquetGroupEncoder{e: e, g: &ParquetGroup{w: w, chunks: make([]chunkMeta, n), dict: make([]span, n), pages: make([][]span, n)}}
}

// Write encodes rec's rows after those already in the group; rec is not
// kept. The bytes depend on how the rows are cut into batches (the
// encoder checks page sizes and the dictionary's worth at batch ends,
// among other places): give a group's rows in the same batches to get the
// same bytes.
func (ge *ParquetGroupEncoder) Write(rec arrow.RecordBatch) error {
	if ge.e == nil {
		return errors.New("internal error: a row group already ended")
	}
	if !rec.Schema().Equal(ge.g.w.schema) {
		return fmt.Errorf("record schema does not match the writer's:\nrecord: %s\nwriter: %s", rec.Schema(), ge.g.w.schema)
	}
	if rec.NumRows() == 0 {
		return nil
	}
	for i := range ge.e.cols {
		ge.e.cols[i].write(rec.Column(i))
		ge.takePages(i)
	}
	ge.g.rows += rec.NumRows()
	return nil
}

// takePages moves the pages column i's encoder has cut into the group.
func (ge *ParquetGroupEncoder) takePages(i int) {
	c := &ge.e.cols[i]
	if len(c.pages) > 0 {
		ge.g.pages[i] = append(ge.g.pages[i], addSpan(&ge.g.data, c.pages))
		c.pages = c.pages[:0]
	}
}

// End finishes the group's column chunks and returns them for WriteGroup;
// the encoder goes back to the writer for the next group.
func (ge *ParquetGroupEncoder) End() *ParquetGroup {
	e, g := ge.e, ge.g
	for i := range e.cols {
		c := &e.cols[i]
		g.chunks[i] = c.finish()
		ge.takePages(i)
		if len(c.dictPage) > 0 {
			g.dict[i] = addSpan(&g.data, c.dictPage)
		}
	}
	ge.e = nil
	w := g.w
	w.mu.Lock()
	w.encoders = append(w.encoders, e)
	w.mu.Unlock()
	return g
}

// EncodeGroup encodes recs, one after the other, as one row group
// (BeginGroup, Write, End).
func (w *ParquetGroupWriter) EncodeGroup(recs ...arrow.RecordBatch) (*ParquetGroup, error) {
	g := w.BeginGroup()
	for _, r := range recs {
		if err := g.Write(r); err != nil {
			g.End().Release()
			return nil, err
		}
	}
	return g.End(), nil
}

// takeEncoder returns an idle encoder, of this file or of a closed one, or
// a new one.
func (w *ParquetGroupWriter) takeEncoder() *groupEncoder {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.encoders); n > 0 {
		e := w.encoders[n-1]
		w.encoders = w.encoders[:n-1]
		return e
	}
	idleEncoders.Lock()
	idle := idleEncoders.m[w.layout]
	if n := len(idle); n > 0 {
		e := idle[n-1]
		idleEncoders.m[w.layout] = idle[:n-1]
		idleEncoders.Unlock()
		return e
	}
	idleEncoders.Unlock()
	e := &groupEncoder{}
	for i, f := range w.schema.Fields() {
		e.cols = append(e.cols, newPQColumn(w.fields[i], f.Nullable))
	}
	return e
}

// Release gives the group's buffers back for the next groups; the group is
// then empty. WriteGroup releases the groups it writes; Release is for a
// group that will not be written. Safe to call twice.
func (g *ParquetGroup) Release() {
	if g.done {
		return
	}
	g.done = true
	g.data.Release()
	g.chunks, g.dict, g.pages, g.rows = nil, nil, nil, 0
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
		for _, s := range append([]span{g.dict[i]}, g.pages[i]...) {
			if err := g.data.WriteRange(&w.out, s.off, s.n); err != nil {
				w.err = err
				return err
			}
		}
		if got := w.out.off - m.starts[i]; got != g.chunks[i].packed {
			w.err = fmt.Errorf("internal error: column %d's chunk is %d bytes, its pages say %d", i, got, g.chunks[i].packed)
			return w.err
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

// keepEncoders hands the file's idle encoders to idleEncoders. An encoder
// still encoding a group of this file (one never written) is not kept.
func (w *ParquetGroupWriter) keepEncoders() {
	w.mu.Lock()
	es := w.encoders
	w.encoders = nil
	w.mu.Unlock()
	idleEncoders.Lock()
	defer idleEncoders.Unlock()
	for _, e := range es {
		if len(idleEncoders.m[w.layout]) < runtime.GOMAXPROCS(0) {
			idleEncoders.m[w.layout] = append(idleEncoders.m[w.layout], e)
		}
	}
}

// Close writes the footer (a file of no row groups if none was written).
func (w *ParquetGroupWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.keepEncoders()
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
