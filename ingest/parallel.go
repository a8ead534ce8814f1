package ingest

import (
	"fmt"
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
)

// A CSV file is read on several goroutines (docs/ingest.md):
//
//   - the splitter runs the file's csvScanner, the only code that decides
//     where a record ends, which line it starts on and whether its quoting
//     is broken; it copies records into chunks of about chunkBytes, leaving
//     lines without quotes (nearly all of them) unsplit;
//   - workers, one per core, split those lines and check, convert and
//     append each row (rowWriter.row, as the serial path does) into the
//     chunk's own columns, noting every reject with the number of accepted
//     rows before it;
//   - the Reader's goroutine takes the chunks in file order, hands the
//     rejects to the RejectSink and copies the accepted rows into record
//     batches, cutting them where the serial path cuts them.
//
// The batches, rejects (file, line, column, value, reason, in input order)
// and counts are those of the serial path, whatever the scheduling
// (TestParallelSameAsSerial, FuzzParallelCSV). A profile with UniqueIDs,
// whose check depends on every earlier row, is read on the serial path.

// Chunk limits: a chunk ends after the record that passes chunkBytes of
// text or at chunkRows records (tests cut chunks everywhere through
// Options.chunkRows and Options.chunkBytes).
const (
	chunkBytes = 256 << 10
	chunkRows  = 4096
)

// parseWorkers is the number of parsing goroutines: Options.workers (set
// by tests; 1 is the serial path), else GOMAXPROCS.
func (o *Options) parseWorkers() int {
	if o.workers > 0 {
		return o.workers
	}
	return runtime.GOMAXPROCS(0)
}

// chunkLimits are the chunk limits in records and bytes: chunkRows and
// chunkBytes unless a test set others.
func (o *Options) chunkLimits() (rows, bytes int) {
	rows, bytes = chunkRows, chunkBytes
	if o.chunkRows > 0 {
		rows = o.chunkRows
	}
	if o.chunkBytes > 0 {
		bytes = o.chunkBytes
	}
	return rows, bytes
}

type recKind uint8

const (
	recPlain   recKind = iota // a line without quotes, split by the worker
	recFields                 // fields cut by the scanner (quoted), after the raw text
	recProblem                // unusable as a whole: see problem
)

// chunkRec is one record of a chunk. It holds no pointers, so that the
// garbage collector need not look through a chunk's records.
type chunkRec struct {
	line       int64
	start, end int // raw text in chunk.data
	f0, f1     int // recFields: its field ends are chunk.ends[f0:f1]
	kind       recKind
	problem    int // recProblem: index in chunk.problems
}

// chunk is a run of consecutive records of one file, and what a worker
// made of them.
type chunk struct {
	data     []byte
	recs     []chunkRec
	ends     []int
	problems []string
	// err ends the file after these records: a read error, or a panic in
	// the scanner.
	err error

	// Filled by the worker; done is closed when it has finished.
	cols     []column
	rejects  []chunkReject
	accepted int
	fail     error
	done     chan struct{}
}

// chunkReject is a rejected row of a chunk and the number of the chunk's
// accepted rows before it, which places it among them.
type chunkReject struct {
	before int
	Reject
}

// fillChunk copies records from the scanner into ch. It returns false at
// the end of the file (or on a read error, see the scanner's err).
func fillChunk(sc *csvScanner, ch *chunk, maxRows, maxBytes int) bool {
	for len(ch.recs) < maxRows && len(ch.data) < maxBytes {
		if !sc.next() {
			return false
		}
		rec := chunkRec{line: sc.recLine, start: len(ch.data)}
		ch.data = append(ch.data, sc.raw...)
		rec.end = len(ch.data)
		switch {
		case sc.problem != "":
			rec.kind, rec.problem = recProblem, len(ch.problems)
			ch.problems = append(ch.problems, sc.problem)
		case sc.plain:
			rec.kind = recPlain
		default:
			rec.kind = recFields
			rec.f0 = len(ch.ends)
			for _, f := range sc.fields {
				ch.data = append(ch.data, f...)
				ch.ends = append(ch.ends, len(ch.data))
			}
			rec.f1 = len(ch.ends)
		}
		ch.recs = append(ch.recs, rec)
	}
	return true
}

// chunkSource is a source over the records of a chunk, for rowWriter.row.
type chunkSource struct {
	ch     *chunk
	i      int
	ncols  int
	comma  byte
	fields [][]byte
	raw    []byte
	prob   string
	ascii  bool // raw is ASCII without NUL (known from splitting it)
}

func (c *chunkSource) reset(ch *chunk) { c.ch, c.i = ch, -1 }

func (c *chunkSource) next() bool {
	c.i++
	if c.i >= len(c.ch.recs) {
		return false
	}
	rec := &c.ch.recs[c.i]
	c.raw = c.ch.data[rec.start:rec.end]
	c.prob = ""
	c.fields = c.fields[:0]
	c.ascii = false
	switch rec.kind {
	case recProblem:
		c.prob = c.ch.problems[rec.problem]
		return true
	case recPlain:
		c.fields, c.ascii = splitFields(c.fields, c.raw, c.comma)
	case recFields:
		start := rec.end
		for _, e := range c.ch.ends[rec.f0:rec.f1] {
			c.fields = append(c.fields, c.ch.data[start:e])
			start = e
		}
	}
	if len(c.fields) != c.ncols {
		c.prob = fmt.Sprintf("wrong field count: %d fields, the header has %d", len(c.fields), c.ncols)
	}
	return true
}

func (c *chunkSource) names() []string           { return nil }
func (c *chunkSource) labels() []bool            { return nil }
func (c *chunkSource) start([]int) error         { return nil }
func (c *chunkSource) line() int64               { return c.ch.recs[c.i].line }
func (c *chunkSource) cell(col int) cell         { return cell{kind: kindText, text: c.fields[col]} }
func (c *chunkSource) problem() (string, []byte) { return c.prob, c.raw }
func (c *chunkSource) validUTF8() bool           { return c.ascii || validText(c.raw) }
func (c *chunkSource) err() error                { return nil }
func (c *chunkSource) close() error              { return nil }

// parseChunk runs the rows of ch through w into the chunk's columns.
func parseChunk(w *rowWriter, src *chunkSource, p *plan, path string, ch *chunk, maxRows int) {
	defer func() {
		if r := recover(); r != nil {
			ch.fail = fmt.Errorf("%s: %w", path, damaged(r))
		}
	}()
	for i := range ch.cols {
		ch.cols[i].clear(maxRows)
	}
	w.cols, w.textBytes = ch.cols, 0
	ch.rejects, ch.accepted = ch.rejects[:0], 0
	src.reset(ch)
	for src.next() {
		rej := w.row(src, p)
		if rej == nil {
			ch.accepted++
			continue
		}
		ch.rejects = append(ch.rejects, chunkReject{before: ch.accepted, Reject: Reject{
			File: path, Line: src.line(), Column: rej.column, Value: clip(rej.value), Reason: rej.reason,
		}})
	}
}

// readCSVParallel reads the rows of one CSV file, opened and bound to p, on
// the splitter and worker goroutines, and appends them to w's batches,
// sending each full batch. It counts into total and fs, and reports whether
// reading may go on (false once an error was sent or the consumer
// stopped).
func (r *Reader) readCSVParallel(cs *csvSource, p *plan, path string, w *rowWriter, total *Stats, fs *FileStats,
	send func(arrow.RecordBatch, error) bool) bool {
	nw := r.opt.parseWorkers()
	maxRows, maxBytes := r.opt.chunkLimits()
	quit := make(chan struct{})
	// At most cap(order) chunks wait for or are in the workers' hands, and
	// as many are kept for reuse: a few MB whatever the file's size.
	work := make(chan *chunk, nw)
	order := make(chan *chunk, nw+2)
	free := make(chan *chunk, nw+3)
	newChunk := func() *chunk {
		ch := &chunk{cols: make([]column, len(w.cols))}
		for i := range ch.cols {
			ch.cols[i] = column{typ: w.cols[i].typ, dt: w.cols[i].dt}
		}
		return ch
	}

	go func() {
		defer close(work)
		defer close(order)
		cs.sc.lazy = true
		for more := true; more; {
			var ch *chunk
			select {
			case ch = <-free:
				ch.data, ch.recs, ch.ends, ch.problems = ch.data[:0], ch.recs[:0], ch.ends[:0], ch.problems[:0]
				ch.err, ch.fail = nil, nil
			default:
				ch = newChunk()
			}
			func() {
				defer func() {
					if p := recover(); p != nil {
						ch.err, more = damaged(p), false
					}
				}()
				more = fillChunk(cs.sc, ch, maxRows, maxBytes)
			}()
			if !more && ch.err == nil {
				ch.err = cs.err()
			}
			ch.done = make(chan struct{})
			select {
			case order <- ch:
			case <-quit:
				return
			}
			select {
			case work <- ch:
			case <-quit:
				return
			}
		}
	}()

	workers := make(chan struct{}, nw)
	for range nw {
		go func() {
			defer func() { workers <- struct{}{} }()
			ww := newRowWriter(r.prof, r.schema, r.opt.MaxFieldBytes, 0)
			ww.startFile(p)
			src := &chunkSource{ncols: len(cs.header), comma: cs.sc.comma}
			for ch := range work {
				parseChunk(ww, src, p, path, ch, maxRows)
				close(ch.done)
			}
		}()
	}
	stop := func() {
		close(quit)
		for range order {
		}
		for range nw {
			<-workers
		}
	}

	for ch := range order {
		<-ch.done
		if ch.fail != nil {
			send(nil, ch.fail)
			stop()
			return false
		}
		a, rj := 0, 0
		for {
			for ; rj < len(ch.rejects) && ch.rejects[rj].before <= a; rj++ {
				if err := r.reject(total, fs, ch.rejects[rj].Reject); err != nil {
					send(nil, err)
					stop()
					return false
				}
			}
			if a == ch.accepted {
				break
			}
			lim := ch.accepted
			if rj < len(ch.rejects) {
				lim = ch.rejects[rj].before
			}
			k := w.appendRows(ch.cols, a, lim)
			a += k
			count(total, fs, int64(k), 0)
			if w.full() && !send(w.flush(), nil) {
				stop()
				return false
			}
		}
		if ch.err != nil {
			send(nil, fmt.Errorf("%s: %w", path, ch.err))
			stop()
			return false
		}
		select {
		case free <- ch:
		default:
		}
	}
	stop()
	return true
}
