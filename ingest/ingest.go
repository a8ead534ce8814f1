// Package ingest reads declarations (CSV, Parquet, Arrow IPC) through a
// profile and streams them as Arrow record batches in the canonical schema
// (package risklane/decl).
//
// The API follows arrow-go's arrow/csv reader (Next / RecordBatch / Err /
// Release, converters chosen once per column), with one difference: a bad
// row never stops the run. It is reported to a RejectSink with its file,
// line, column, raw value and reason, and reading goes on; the counts always
// reconcile, Read = Accepted + Rejected. Problems with a file as a whole
// (unknown columns, unreadable file) fail at Open, before anything is read.
//
// Rows are validated as follows; a row failing any check is rejected:
//   - CSV structure: RFC 4180 quoting (a quote inside a field must be in a
//     quoted field and doubled), the header's field count, UTF-8 in every
//     column the profile uses, no field longer than Options.MaxFieldBytes;
//   - declaration_id, date and hs_code present; at least one of quantity,
//     net_mass_kg, gross_weight_kg and one of fob_value, cif_value present;
//   - numbers: digits with the profile's decimal (and thousands) separator,
//     optional sign and exponent; finite; never negative (quantities, masses,
//     values, tax rate, taxes, revenue);
//   - dates in one of the profile's layouts, years 1900 to 2199;
//   - hs_code: 6 to 10 digits (dots and spaces inside are dropped);
//   - illicit: a value the profile lists, or 0 or 1 (empty = not inspected);
//   - with the profile's UniqueIDs, no declaration_id seen before in the file.
//
// Columns the profile does not use are not looked at. Blank lines are
// skipped and not counted. Values are trimmed of surrounding blanks; an
// empty value is null.
//
// The format is recognised from the content (Parquet and Arrow magic bytes,
// gzip), else from the name; anything else is read as CSV. Parquet is read a
// record batch at a time, only the columns the profile uses. Parquet and
// Arrow values may arrive typed: integers, floats and decimals for numbers
// and codes (an integer HS code keeps its digits), date32, date64 and
// timestamps for dates (the calendar date in the timestamp's own zone),
// booleans or integers for illicit, dictionary-encoded text anywhere; a NaN
// number is null. Such a file's "line" is its 1-based row number.
//
// Duplicate declaration ids are accepted unless the profile sets UniqueIDs:
// docs/DESIGN.md asks for ids unique within a file, but one row is one item and a
// customs declaration usually has several items sharing its id, so only a
// profile that knows one row is one declaration (kcs) can enforce it.
package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/decl"
	"risklane/ingest/profile"
)

// Defaults for Options.
const (
	DefaultBatchSize     = 65536
	DefaultMaxFieldBytes = 4096
)

// maxRejectValue bounds the raw value kept in a Reject.
const maxRejectValue = 256

// headerMaxBytes bounds a CSV header line.
const headerMaxBytes = 1 << 20

// Options tune a Reader. The zero value is usable.
type Options struct {
	// BatchSize is the number of rows per record batch (default 65,536);
	// a batch is cut earlier when its text passes 64 MiB, so that memory
	// stays bounded whatever the field lengths.
	BatchSize int
	// MaxFieldBytes is the longest value accepted in a text field (default
	// 4,096 bytes): a longer one is a corrupt or misaligned row.
	MaxFieldBytes int
	// RequireLabels refuses, at Open, a source without the label columns
	// the profile maps (train and evaluate need them). By default they may be
	// absent, as in a night's declarations: see profile.Binding.MissingLabels.
	RequireLabels bool
	// ReuseMemory lets the Reader build later batches in the memory of
	// earlier ones once they are released (the batch, and everything
	// Retained from it). Set it only when nothing reads a batch's values
	// after releasing it: strings from a String array's Value share the
	// batch's memory. risklane ingest sets it, as its writers copy what
	// they keep; it saves zeroing, page faults and garbage collection of a
	// new batch every 65,536 rows (docs/ingest.md).
	ReuseMemory bool
	// Columns, when not nil, are the only columns read: canonical names or
	// the profile's extras. The others are not looked at and stay null in
	// the batches (whose schema does not change), and the row checks that
	// need them (required columns, one of quantity/mass/weight and of
	// FOB/CIF, the revenue formula) are not made. For commands that use a
	// few columns, as release-time does.
	Columns []string
	// Rejects receives every rejected row, in input order. It may be nil
	// (rejected rows are then only counted). It is called from the Reader's
	// background goroutine, never concurrently.
	Rejects RejectSink

	// rowPath reads Parquet and Arrow inputs row by row (batchSource.cell,
	// rowWriter.row) instead of column by column (columnar.go): the
	// reference the column path is compared with. Only tests set it.
	rowPath bool
	// pqarrow reads Parquet inputs through pqarrow's record reader even
	// when risklane's page decoder (pqpages.go) could: the reference the
	// decoder is compared with. Only tests set it; the row path implies it.
	pqarrow bool
	// workers is the number of CSV parsing goroutines (0: GOMAXPROCS, 1:
	// the serial path); chunkRows and chunkBytes cut the parallel path's
	// chunks (0: chunkRows, chunkBytes). Only tests set them.
	workers, chunkRows, chunkBytes int
}

// Reject describes a rejected row.
type Reject struct {
	File string
	// Line is the physical line where the CSV record starts (the header is
	// line 1), or the 1-based row number in a Parquet or Arrow file.
	Line int64
	// Column is the source column at fault, or "" for the whole row.
	Column string
	// Value is the raw value (for a whole-row problem, the row's text), cut
	// to 256 bytes.
	Value  string
	Reason string
}

// RejectSink receives rejected rows. An error from it stops the Reader.
type RejectSink interface {
	Reject(Reject) error
}

// Stats counts rows. Read = Accepted + Rejected always.
type Stats struct {
	Read, Accepted, Rejected int64
}

// add counts accepted and rejected rows.
func (s *Stats) add(accepted, rejected int64) {
	s.Read += accepted + rejected
	s.Accepted += accepted
	s.Rejected += rejected
}

// count adds rows to the run's and the file's Stats: the one bookkeeping of
// the row, column and parallel paths.
func count(total *Stats, fs *FileStats, accepted, rejected int64) {
	total.add(accepted, rejected)
	fs.add(accepted, rejected)
}

// reject counts one rejected row and hands it to the rejects sink, if any.
func (r *Reader) reject(total *Stats, fs *FileStats, rj Reject) error {
	count(total, fs, 0, 1)
	if r.opt.Rejects == nil {
		return nil
	}
	if err := r.opt.Rejects.Reject(rj); err != nil {
		return fmt.Errorf("rejects: %w", err)
	}
	return nil
}

// FileStats are the Stats of one input file.
type FileStats struct {
	Path   string
	Format string // CSV, Parquet, Arrow IPC file, Arrow IPC stream
	Stats
}

// Reader streams the rows of one or more files as canonical record batches.
type Reader struct {
	prof   *profile.Profile
	opt    Options
	inputs []input
	schema *arrow.Schema

	started bool
	out     chan message
	stop    chan struct{}
	wg      sync.WaitGroup

	cur   arrow.RecordBatch
	err   error
	stats Stats
	files []FileStats
	done  bool
}

// input is one file checked at Open.
type input struct {
	path   string
	format Format
}

// message carries a batch (or the end) from the producer to Next.
type message struct {
	rec   arrow.RecordBatch
	stats Stats
	files []FileStats
	err   error
}

// Open checks one file against the profile and returns a Reader for it.
func Open(path string, p *profile.Profile, opt Options) (*Reader, error) {
	return OpenFiles([]string{path}, p, opt)
}

// OpenFiles checks every file against the profile (format, header or
// schema, required columns) and returns a Reader that reads them in order as
// one stream. All files must yield the same schema. Any error here is
// structural: it names the file and says what to do, and nothing has been
// read yet.
func OpenFiles(paths []string, p *profile.Profile, opt Options) (*Reader, error) {
	if p == nil {
		return nil, errors.New("ingest: no profile")
	}
	for _, c := range opt.Columns {
		if !slices.ContainsFunc(decl.Columns, func(f decl.Column) bool { return f.Name == c }) &&
			!slices.ContainsFunc(p.Extras, func(e profile.Extra) bool { return e.Name == c }) && !p.ByName {
			return nil, fmt.Errorf("ingest: column %q is neither canonical nor an extra of profile %s", c, p.Name)
		}
	}
	if len(paths) == 0 {
		return nil, errors.New("ingest: no input files")
	}
	if opt.BatchSize < 0 || opt.MaxFieldBytes < 0 {
		return nil, fmt.Errorf("ingest: batch size and field limit must be positive")
	}
	if opt.BatchSize == 0 {
		opt.BatchSize = DefaultBatchSize
	}
	if opt.MaxFieldBytes == 0 {
		opt.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	r := &Reader{prof: p, opt: opt}
	for _, path := range paths {
		src, fm, b, err := r.openBound(path)
		if err != nil {
			return nil, err
		}
		src.close()
		if r.schema == nil {
			r.schema = b.Schema
		} else if !r.schema.Equal(b.Schema) {
			return nil, fmt.Errorf("%s: its columns give the schema\n%v\nbut %s gives\n%v\nread files with different columns in separate runs",
				path, b.Schema, paths[0], r.schema)
		}
		r.inputs = append(r.inputs, input{path: path, format: fm})
		r.files = append(r.files, FileStats{Path: path, Format: fm.String()})
	}
	return r, nil
}

// openBound opens a file, binds the profile to its columns and starts it.
func (r *Reader) openBound(path string) (_ source, _ Format, _ *profile.Binding, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: %w", path, damaged(p))
		}
	}()
	dec, _ := r.prof.Decoder() // checked by Validate at Open
	src, fm, err := openSource(path, r.prof.Comma(), dec, r.maxRecord)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := r.prof.Bind(src.names(), src.labels())
	if err != nil {
		src.close()
		name := r.prof.Name
		if r.prof.File != "" {
			name = r.prof.File
		}
		hint := fmt.Sprintf("check --profile; 'risklane profiles show %s' prints what it expects", name)
		for _, name := range profile.Names() {
			if other, _ := profile.Builtin(name); name != r.prof.Name {
				if _, err := other.Bind(src.names(), src.labels()); err == nil {
					hint = fmt.Sprintf("the file fits the built-in profile %s: try --profile %s", name, name)
					break
				}
			}
		}
		return nil, 0, nil, fmt.Errorf("%s does not fit profile %s:\n%w\n(%s)", path, r.prof.Name, err, hint)
	}
	if r.opt.RequireLabels && len(b.MissingLabels) > 0 {
		src.close()
		what := "the label column " + b.MissingLabels[0] + " is"
		if len(b.MissingLabels) > 1 {
			what = fmt.Sprintf("the label columns %s are", strings.Join(b.MissingLabels, ", "))
		}
		return nil, 0, nil, fmt.Errorf("%s: %s not in the header: training and evaluation need labelled declarations "+
			"(scoring, clustering and the other commands do not)", path, what)
	}
	p := newPlan(b, src.names(), r.opt.Columns)
	if bs, ok := src.(*batchSource); ok && !r.opt.rowPath {
		bs.mayPages = !r.opt.pqarrow
		// Text columns stored with a dictionary are read as dictionaries
		// on the column path (dictTextColumn, dictHSColumn).
		for _, c := range p.cols {
			if c.kind == convString || c.kind == convHS {
				bs.dictCols = append(bs.dictCols, c.src)
			}
		}
	}
	if err := src.start(p.read); err != nil {
		src.close()
		return nil, 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	return src, fm, b, nil
}

// maxRecord is the longest CSV record accepted for a header of ncols
// columns (see recordLimit).
func (r *Reader) maxRecord(ncols int) int { return recordLimit(r.opt.MaxFieldBytes)(ncols) }

// recordLimit returns the longest CSV record accepted for a header of ncols
// columns when fields may hold maxField bytes: every field at the limit,
// plus separators and quotes; headerMaxBytes for the header itself
// (ncols <= 0).
func recordLimit(maxField int) func(ncols int) int {
	return func(ncols int) int {
		if ncols <= 0 {
			return headerMaxBytes
		}
		return max(64<<10, ncols*(maxField+3))
	}
}

// Schema returns the canonical schema of the batches: decl.SchemaFields
// with the profile's extra attributes.
func (r *Reader) Schema() *arrow.Schema { return r.schema }

// Next advances to the next record batch. It returns false at the end of the
// input or on a fatal error (see Err). Parsing runs on background
// goroutines (a CSV's on one per core, see parallel.go), a batch ahead of
// the caller.
func (r *Reader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done {
		return false
	}
	if !r.started {
		r.started = true
		r.out = make(chan message, 1)
		r.stop = make(chan struct{})
		r.wg.Add(1)
		go r.produce()
	}
	for m := range r.out {
		r.stats, r.files = m.stats, m.files
		if m.err != nil && r.err == nil {
			r.err = m.err
		}
		if m.rec != nil {
			r.cur = m.rec
			return true
		}
	}
	r.done = true
	return false
}

// RecordBatch returns the current batch. It is valid until the next call to
// Next or Close; Retain it to keep it longer.
func (r *Reader) RecordBatch() arrow.RecordBatch { return r.cur }

// Err returns the error that stopped the Reader early (an I/O error, a
// failing RejectSink), or nil. Rejected rows are not errors.
func (r *Reader) Err() error { return r.err }

// Stats returns the counts so far, over all files; final once Next has
// returned false.
func (r *Reader) Stats() Stats { return r.stats }

// Files returns the counts of each input file, in input order.
func (r *Reader) Files() []FileStats { return append([]FileStats(nil), r.files...) }

// Close stops reading and releases the current batch. It is safe to call
// more than once.
func (r *Reader) Close() error {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.started && !r.done {
		close(r.stop)
		for m := range r.out {
			if m.rec != nil {
				m.rec.Release()
			}
		}
		r.done = true
	}
	r.wg.Wait()
	return nil
}

// Release is Close, for symmetry with arrow-go readers.
func (r *Reader) Release() { r.Close() }

// produce reads every file and sends batches to Next.
func (r *Reader) produce() {
	defer r.wg.Done()
	defer close(r.out)
	w := newRowWriter(r.prof, r.schema, r.opt.MaxFieldBytes, r.opt.BatchSize)
	if r.opt.ReuseMemory {
		w.reuseMemory(&batchPool{})
	}
	var total Stats
	files := append([]FileStats(nil), r.files...)
	send := func(rec arrow.RecordBatch, err error) bool {
		m := message{rec: rec, stats: total, files: append([]FileStats(nil), files...), err: err}
		select {
		case r.out <- m:
			return true
		case <-r.stop:
			if rec != nil {
				rec.Release()
			}
			return false
		}
	}
	// A panic while reading (arrow-go's readers panic on damaged data that
	// the checks of arrowcheck.go did not catch) ends the read with an
	// error naming the file, never the process.
	var src source
	path := ""
	defer func() {
		if p := recover(); p != nil {
			if src != nil {
				src.close()
			}
			send(nil, fmt.Errorf("%s: %w", path, damaged(p)))
		}
	}()
	for i, in := range r.inputs {
		path = in.path
		var b *profile.Binding
		var err error
		src, _, b, err = r.openBound(in.path)
		if err != nil {
			send(nil, err)
			return
		}
		p := newPlan(b, src.names(), r.opt.Columns)
		w.startFile(p)
		fs := &files[i]
		if bs, ok := src.(*batchSource); ok && !r.opt.rowPath {
			ok := r.readColumns(bs, p, in.path, w, &total, fs, send)
			err := bs.err()
			src.close()
			src = nil
			if !ok {
				return
			}
			if err != nil {
				send(nil, fmt.Errorf("%s: %w", in.path, err))
				return
			}
			continue
		}
		if cs, ok := src.(*csvSource); ok && !r.prof.UniqueIDs && r.opt.parseWorkers() > 1 {
			ok := r.readCSVParallel(cs, p, in.path, w, &total, fs, send)
			src.close()
			src = nil
			if !ok {
				return
			}
			continue
		}
		for src.next() {
			rej := w.row(src, p)
			if rej == nil {
				count(&total, fs, 1, 0)
				if w.full() && !send(w.flush(), nil) {
					src.close()
					return
				}
				continue
			}
			err := r.reject(&total, fs, Reject{
				File: in.path, Line: src.line(), Column: rej.column,
				Value: clip(rej.value), Reason: rej.reason,
			})
			if err != nil {
				src.close()
				send(nil, err)
				return
			}
		}
		err = src.err()
		src.close()
		src = nil
		if err != nil {
			send(nil, fmt.Errorf("%s: %w", in.path, err))
			return
		}
	}
	if w.rows() > 0 {
		if !send(w.flush(), nil) {
			return
		}
	}
	send(nil, nil)
}

// ErrDamaged marks a file whose reading failed inside a reader library
// (a panic turned into an error).
var ErrDamaged = errors.New("the file is damaged")

// damaged turns a recovered panic into an error.
func damaged(p any) error {
	if err, ok := p.(error); ok {
		return fmt.Errorf("%w: %w; check that it was copied completely", ErrDamaged, err)
	}
	return fmt.Errorf("%w: %v; check that it was copied completely", ErrDamaged, p)
}

// clip copies a raw value for a Reject, cut to maxRejectValue bytes.
func clip(b []byte) string {
	if len(b) <= maxRejectValue {
		return string(b)
	}
	return fmt.Sprintf("%s... (%d bytes)", b[:maxRejectValue], len(b))
}

// ReadAll reads every batch of the files, for stages that need the whole
// input in memory (training). The caller releases the batches. On error
// the batches read so far are released and the error returned, with the
// counts reached.
func ReadAll(paths []string, p *profile.Profile, opt Options) ([]arrow.RecordBatch, Stats, error) {
	r, err := OpenFiles(paths, p, opt)
	if err != nil {
		return nil, Stats{}, err
	}
	defer r.Close()
	var out []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		out = append(out, rec)
	}
	if err := r.Err(); err != nil {
		Release(out)
		return nil, r.Stats(), err
	}
	return out, r.Stats(), nil
}

// Release releases every batch of batches, as ReadAll's callers do when
// done with them.
func Release(batches []arrow.RecordBatch) {
	for _, b := range batches {
		b.Release()
	}
}
