package rank

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/parquet-go/parquet-go"

	"risklane/internal/version"
	"risklane/sink"
)

// Row is one line of the ranked file, in the column order docs/DESIGN.md gives.
type Row struct {
	// Rank is 1-based: rank 1 is inspected first.
	Rank          int64  `parquet:"rank"`
	DeclarationID string `parquet:"declaration_id"`
	// Score is the model's probability that the declaration is illicit.
	Score float32 `parquet:"score"`
	// ExpectedRevenue is Score times the revenue the model expects an
	// inspection to raise.
	ExpectedRevenue float64 `parquet:"expected_revenue"`
	Lane            Lane    `parquet:"lane,dict"`
	// Reasons are sentences for an officer, separated by "; ". Empty on green
	// rows.
	Reasons string `parquet:"reasons"`
	ModelID string `parquet:"model_id,dict"`
	RunID   string `parquet:"run_id,dict"`
}

// Contribution is one feature of a row and its exact (TreeSHAP)
// contribution to the row's margin.
type Contribution struct {
	Feature      string  `parquet:"feature,dict"`
	Value        float64 `parquet:"value"` // NaN when missing
	Contribution float64 `parquet:"contribution"`
}

// explainedRow is Row with its contributions, the Parquet layout of a ranked
// file written with Config.Contributions (by parquet-go: sink's encoder
// writes no list column).
type explainedRow struct {
	Rank            int64          `parquet:"rank"`
	DeclarationID   string         `parquet:"declaration_id"`
	Score           float32        `parquet:"score"`
	ExpectedRevenue float64        `parquet:"expected_revenue"`
	Lane            Lane           `parquet:"lane,dict"`
	Reasons         string         `parquet:"reasons"`
	ModelID         string         `parquet:"model_id,dict"`
	RunID           string         `parquet:"run_id,dict"`
	Contributions   []Contribution `parquet:"contributions,list"`
}

// Config is how a ranked file is written beyond its rows.
type Config struct {
	// Meta is the Parquet footer's key-value metadata, in order.
	Meta []Meta
	// Contributions is K of score --contributions K: the file gets a list
	// column contributions (Parquet) or columns top1_feature, top1_value,
	// top1_contribution, ... topK_contribution (CSV). 0: none.
	Contributions int
	// Keep names input columns carried into the file as text columns, after
	// run_id (score --keep).
	Keep []string
}

// Extra is what rows carry beyond Row: per row, its contributions
// (Config.Contributions) and its kept values (Config.Keep, Keep of them).
type Extra struct {
	Contributions [][]Contribution
	Kept          [][]string
	Keep          int
}

func (e *Extra) contributions(i int) []Contribution {
	if e == nil || i >= len(e.Contributions) {
		return nil
	}
	return e.Contributions[i]
}

func (e *Extra) kept(i, k int) string {
	if e == nil || i >= len(e.Kept) || k >= len(e.Kept[i]) {
		return ""
	}
	return e.Kept[i][k]
}

// CheckKeep refuses kept columns whose names the ranked file already has,
// repeat, or cannot be a column name.
func CheckKeep(keep []string) error {
	seen := map[string]bool{}
	for _, h := range Header {
		seen[h] = true
	}
	seen["contributions"] = true
	for _, k := range keep {
		switch {
		case k == "" || strings.ContainsAny(k, "\",`\x00"):
			return fmt.Errorf("--keep: %q cannot be a column name", k)
		case seen[k]:
			return fmt.Errorf("--keep: %q is already a column of the ranked file or named twice", k)
		}
		seen[k] = true
	}
	return nil
}

// dynamicRow is the Parquet row type, for parquet-go, of a file with kept
// columns and contributions: Row's fields, one string field per kept
// column, then the contributions.
func dynamicRow(cfg Config) reflect.Type {
	base := reflect.TypeFor[Row]()
	var fields []reflect.StructField
	for i := range base.NumField() {
		fields = append(fields, base.Field(i))
	}
	for k, name := range cfg.Keep {
		fields = append(fields, reflect.StructField{Name: "Keep" + strconv.Itoa(k), Type: reflect.TypeFor[string](),
			Tag: reflect.StructTag(`parquet:"` + name + `"`)})
	}
	if cfg.Contributions > 0 {
		c, _ := reflect.TypeFor[explainedRow]().FieldByName("Contributions")
		fields = append(fields, c)
	}
	return reflect.StructOf(fields)
}

// Header is the column names of the ranked file.
var Header = []string{"rank", "declaration_id", "score", "expected_revenue", "lane", "reasons", "model_id", "run_id"}

// RowGroupRows is the number of rows per Parquet row group. The writer holds
// one row group in memory, so this bounds its memory whatever the file size.
// A scoring run's rank range is one row group (score.bucketRows).
const RowGroupRows = 1 << 18

// File describes a written output file, for the run manifest.
type File struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Writer writes a ranked file atomically: under a temporary name that Commit
// renames, so a killed run leaves the previous file (or none) in place.
//
// A Parquet file is written by sink's own encoder (sink.ParquetGroupWriter),
// one row group per RowGroupRows rows, each encoded from the rows alone:
// WriteExtra fills a row group's columns and encodes it when it is full;
// EncodeGroup encodes a row group apart from the file, on any goroutine,
// and WriteGroup appends it, so that both give the same bytes. Only a file
// with contributions (a list column, which sink's encoder does not write)
// is written by parquet-go, one row at a time.
type Writer struct {
	path   string
	format sink.Format
	file   *sink.AtomicFile
	out    *bufio.Writer
	sum    hash.Hash
	count  *countingWriter
	// Parquet without contributions.
	pg       *sink.ParquetGroupWriter
	schema   *arrow.Schema
	cols     chan *columns             // EncodeGroup's, kept for the next group
	open     *sink.ParquetGroupEncoder // WriteExtra's open row group
	openRows int64                     // its rows encoded
	pending  *columns                  // and those not yet encoded
	// Parquet with contributions (parquet-go).
	pqx   *parquet.GenericWriter[explainedRow]
	pqd   *parquet.Writer // with Config.Keep too
	dyn   reflect.Type    // its row type
	xrows []explainedRow
	k     int // Config.Contributions
	keep  int // len(Config.Keep)
	// CSV.
	csv    *sink.CSVWriter
	rec    []string
	rows   int64
	closed bool
}

// Meta is one key-value pair of a Parquet file's footer metadata.
type Meta struct{ Key, Value string }

// RunMeta is the footer a scoring run gives its ranked file: model_id,
// run_id and risklane_version (docs/interop.md), wherever it was scored.
func RunMeta(modelID, runID string) []Meta {
	return []Meta{{Key: "model_id", Value: modelID}, {Key: "run_id", Value: runID}, {Key: "risklane_version", Value: version.String()}}
}

// Create starts a ranked file at path: Parquet for .parquet, CSV for .csv.
// A Parquet file carries meta in its footer, in the order given (the run
// gives model_id, run_id and risklane_version: docs/interop.md); a CSV file
// has no place for it.
func Create(path string, meta ...Meta) (*Writer, error) {
	return CreateConfig(path, Config{Meta: meta})
}

// CreateConfig is Create with a Config.
func CreateConfig(path string, cfg Config) (*Writer, error) {
	meta := cfg.Meta
	format, err := sink.FormatOf(path)
	if err != nil {
		return nil, err
	}
	if format != sink.Parquet && format != sink.CSV {
		return nil, fmt.Errorf("%s: the ranked file is written as .parquet or .csv", path)
	}
	af, err := sink.CreateAtomic(path)
	if err != nil {
		return nil, err
	}
	w := &Writer{path: path, format: format, file: af, sum: sha256.New(), k: cfg.Contributions, keep: len(cfg.Keep),
		cols: make(chan *columns, 4)}
	w.count = &countingWriter{w: io.MultiWriter(af, w.sum)}
	w.out = bufio.NewWriterSize(w.count, 1<<20)
	switch {
	case format == sink.Parquet && cfg.Contributions == 0:
		w.schema = arrowSchema(cfg)
		if w.pg, err = sink.NewParquetGroupWriter(w.schema, w.out); err != nil {
			af.Abort()
			return nil, fmt.Errorf("output %s: internal error: %w", path, err)
		}
		w.pg.SizeFor(RowGroupRows)
	case format == sink.Parquet:
		opts := []parquet.WriterOption{
			&parquet.WriterConfig{CreatedBy: "risklane"}, // no library version: same rows, same bytes
			parquet.Compression(&parquet.Snappy),
			parquet.MaxRowsPerRowGroup(RowGroupRows),
		}
		for _, kv := range meta {
			opts = append(opts, parquet.KeyValueMetadata(kv.Key, kv.Value))
		}
		if len(cfg.Keep) > 0 {
			w.dyn = dynamicRow(cfg)
			w.pqd = parquet.NewWriter(w.out, append(opts, parquet.SchemaOf(reflect.New(w.dyn).Interface()))...)
		} else {
			w.pqx = parquet.NewGenericWriter[explainedRow](w.out, opts...)
		}
	default:
		w.csv = sink.NewCSVWriter(w.out)
		header := append(slices.Clone(Header), cfg.Keep...)
		for k := range cfg.Contributions {
			p := "top" + strconv.Itoa(k+1) + "_"
			header = append(header, p+"feature", p+"value", p+"contribution")
		}
		w.rec = make([]string, len(header))
		if err := w.csv.Write(header); err != nil {
			af.Abort()
			return nil, fmt.Errorf("output %s: %w", path, err)
		}
	}
	return w, nil
}

// Write appends rows in rank order.
func (w *Writer) Write(rows []Row) error { return w.WriteExtra(rows, nil) }

// WriteExtra appends rows in rank order with what they carry beyond Row
// (ex may be nil): a Writer created with Config.Contributions writes each
// row's contributions as a list column (Parquet) or 3K columns (CSV), one
// created with Config.Keep the kept values; any other ignores them.
func (w *Writer) WriteExtra(rows []Row, ex *Extra) error {
	at := ex.contributions
	switch {
	case w.pg != nil:
		for from := 0; from < len(rows); {
			if w.pending == nil {
				w.pending = w.takeColumns()
			}
			k := min(len(rows)-from, batchRows-w.pending.n)
			if err := w.pending.add(rows[from:from+k], ex, from, w.keep); err != nil {
				return fmt.Errorf("output %s: %w", w.path, err)
			}
			from += k
			if w.pending.n == batchRows {
				if err := w.encodePending(); err != nil {
					return err
				}
			}
		}
		return nil // flushPending counts the rows
	case w.pqd != nil:
		v := reflect.New(w.dyn).Elem()
		nb := reflect.TypeFor[Row]().NumField()
		for i := range rows {
			v.SetZero()
			for f := range nb {
				v.Field(f).Set(reflect.ValueOf(rows[i]).Field(f))
			}
			for k := range w.keep {
				v.Field(nb + k).SetString(ex.kept(i, k))
			}
			if w.k > 0 {
				v.Field(nb + w.keep).Set(reflect.ValueOf(at(i)))
			}
			if err := w.pqd.Write(v.Addr().Interface()); err != nil {
				return fmt.Errorf("output %s: %w", w.path, err)
			}
		}
	case w.pqx != nil:
		w.xrows = slices.Grow(w.xrows[:0], len(rows))[:len(rows)]
		for i := range rows {
			r := &rows[i]
			w.xrows[i] = explainedRow{r.Rank, r.DeclarationID, r.Score, r.ExpectedRevenue, r.Lane, r.Reasons, r.ModelID, r.RunID, at(i)}
		}
		if _, err := w.pqx.Write(w.xrows); err != nil {
			return fmt.Errorf("output %s: %w", w.path, err)
		}
	default:
		if err := w.writeCSV(w.csv, w.rec, rows, ex); err != nil {
			return fmt.Errorf("output %s: %w", w.path, err)
		}
	}
	w.rows += int64(len(rows))
	return nil
}

// writeCSV writes rows as CSV records to c, rec being room for one record.
func (w *Writer) writeCSV(c *sink.CSVWriter, rec []string, rows []Row, ex *Extra) error {
	at := ex.contributions
	for i := range rows {
		r := &rows[i]
		rec[0] = strconv.FormatInt(r.Rank, 10)
		rec[1] = r.DeclarationID
		rec[2] = strconv.FormatFloat(float64(r.Score), 'g', -1, 32)
		rec[3] = strconv.FormatFloat(r.ExpectedRevenue, 'f', -1, 64)
		rec[4] = string(r.Lane)
		rec[5] = r.Reasons
		rec[6] = r.ModelID
		rec[7] = r.RunID
		for k := range w.keep {
			rec[8+k] = ex.kept(i, k)
		}
		for k := range w.k {
			f, v, c := "", "", ""
			if cs := at(i); k < len(cs) {
				e := cs[k]
				f, c = e.Feature, strconv.FormatFloat(e.Contribution, 'g', -1, 64)
				if !math.IsNaN(e.Value) {
					v = strconv.FormatFloat(e.Value, 'g', -1, 64)
				}
			}
			at := 8 + w.keep + 3*k
			rec[at], rec[at+1], rec[at+2] = f, v, c
		}
		if err := c.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

// Group is rows encoded apart from their file by EncodeGroup, to be
// appended to it by WriteGroup: a Parquet row group, or CSV lines.
type Group struct {
	pq   *sink.ParquetGroup
	buf  *sink.Chunks // CSV lines
	rows int64
}

// EncodesApart reports whether EncodeGroup can encode rows for w: a Parquet
// file without contributions, or a CSV file.
func (w *Writer) EncodesApart() bool { return w.pg != nil || w.csv != nil }

// EncodeGroup encodes rows (at most RowGroupRows, and on a Parquet file
// exactly RowGroupRows unless they are the file's last) as WriteExtra would
// write them, without touching the file: several goroutines may encode
// groups at once, which WriteGroup then appends one by one in rank order.
// The file's bytes are those WriteExtra writes for the same rows
// (TestGroupsSameBytes): a Parquet row group is encoded from its rows
// alone (sink.ParquetGroupWriter), whoever encodes it.
func (w *Writer) EncodeGroup(rows []Row, ex *Extra) (*Group, error) {
	g, err := w.BeginGroup()
	if err != nil {
		return nil, err
	}
	if err := g.Add(rows, ex); err != nil {
		g.Abort()
		return nil, err
	}
	return g.End()
}

// GroupEncoder is EncodeGroup given its rows a batch at a time (Add), so
// that a caller fills a few thousand rows at once instead of a whole row
// group's (a scoring run's write stage: a row group of Rows was 27 MB per
// goroutine, memory new to the process). The bytes do not depend on how
// the rows are cut into calls (TestGroupEncoderSameBytes).
type GroupEncoder struct {
	w    *Writer
	ge   *sink.ParquetGroupEncoder
	c    *columns
	buf  *sink.Chunks
	csv  *sink.CSVWriter
	rec  []string
	rows int64
}

// BeginGroup starts a group encoded apart from the file, as EncodeGroup
// encodes one: End gives it to WriteGroup, Abort drops it.
func (w *Writer) BeginGroup() (*GroupEncoder, error) {
	switch {
	case w.pg != nil:
		return &GroupEncoder{w: w, c: w.takeColumns(), ge: w.pg.BeginGroup()}, nil
	case w.csv != nil:
		buf := new(sink.Chunks)
		return &GroupEncoder{w: w, buf: buf, csv: sink.NewCSVWriter(buf), rec: make([]string, len(w.rec))}, nil
	}
	return nil, fmt.Errorf("output %s: internal error: rows with contributions are not encoded apart in Parquet", w.path)
}

// Add appends rows to the group; ex (which may be nil) holds their extra
// values, rows[i]'s at index i. The strings of rows are copied: the caller
// may reuse their memory once Add returns.
func (g *GroupEncoder) Add(rows []Row, ex *Extra) error {
	w := g.w
	if g.rows+int64(len(rows)) > RowGroupRows && g.ge != nil {
		return fmt.Errorf("output %s: %d rows for a row group of at most %d", w.path, g.rows+int64(len(rows)), RowGroupRows)
	}
	if g.csv != nil {
		if err := w.writeCSV(g.csv, g.rec, rows, ex); err != nil {
			return fmt.Errorf("output %s: %w", w.path, err)
		}
		g.rows += int64(len(rows))
		return nil
	}
	// Cut into the batches EncodeGroup and WriteExtra cut a group into,
	// counted from the group's first row.
	for from := 0; from < len(rows); {
		k := min(len(rows)-from, batchRows-g.c.n)
		if err := g.c.add(rows[from:from+k], ex, from, w.keep); err != nil {
			return fmt.Errorf("output %s: %w", w.path, err)
		}
		from += k
		if g.c.n == batchRows {
			if err := g.flush(); err != nil {
				return err
			}
		}
	}
	g.rows += int64(len(rows))
	return nil
}

// flush encodes the rows of the batch under way.
func (g *GroupEncoder) flush() error {
	if g.c.n == 0 {
		return nil
	}
	if err := g.w.encodeBatch(g.ge, g.c); err != nil {
		return fmt.Errorf("output %s: %w", g.w.path, err)
	}
	g.c.reset(g.w.keep)
	return nil
}

// End finishes the group for WriteGroup.
func (g *GroupEncoder) End() (*Group, error) {
	if g.csv != nil {
		g.csv.Flush()
		if err := g.csv.Error(); err != nil {
			return nil, fmt.Errorf("output %s: %w", g.w.path, err)
		}
		buf := g.buf
		g.buf = nil
		return &Group{buf: buf, rows: g.rows}, nil
	}
	if err := g.flush(); err != nil {
		g.Abort()
		return nil, err
	}
	pq := g.ge.End()
	g.ge = nil
	g.w.putColumns(g.c)
	return &Group{pq: pq, rows: g.rows}, nil
}

// Abort drops the group.
func (g *GroupEncoder) Abort() {
	if g.ge != nil {
		g.ge.End().Release()
		g.w.putColumns(g.c)
		g.ge = nil
	}
	if g.buf != nil {
		g.buf.Release()
		g.buf = nil
	}
}

// encodeBatch encodes c's rows into the row group ge.
func (w *Writer) encodeBatch(ge *sink.ParquetGroupEncoder, c *columns) error {
	rec := c.record(w.schema)
	defer rec.Release()
	if err := ge.Write(rec); err != nil {
		return fmt.Errorf("internal error: %w", err)
	}
	return nil
}

// takeColumns returns empty column buffers, kept from an earlier group if
// there are some.
func (w *Writer) takeColumns() *columns {
	var c *columns
	select {
	case c = <-w.cols:
	default:
		c = new(columns)
	}
	c.reset(w.keep)
	return c
}

// putColumns keeps c for the next group.
func (w *Writer) putColumns(c *columns) {
	select {
	case w.cols <- c:
	default:
	}
}

// encodePending encodes WriteExtra's rows not yet encoded into its open
// row group, and writes the group once it is full.
func (w *Writer) encodePending() error {
	c := w.pending
	if c == nil || c.n == 0 {
		return nil
	}
	if w.open == nil {
		w.open = w.pg.BeginGroup()
	}
	if err := w.encodeBatch(w.open, c); err != nil {
		return fmt.Errorf("output %s: %w", w.path, err)
	}
	w.openRows += int64(c.n)
	c.reset(w.keep)
	if w.openRows == RowGroupRows {
		return w.flushPending()
	}
	return nil
}

// flushPending encodes and writes WriteExtra's open row group, full or not.
func (w *Writer) flushPending() error {
	if err := w.encodePending(); err != nil {
		return err
	}
	if w.open == nil {
		return nil
	}
	g := &Group{pq: w.open.End(), rows: w.openRows}
	w.open, w.openRows = nil, 0
	return w.WriteGroup(g)
}

// WriteGroup appends a group EncodeGroup encoded for w, after the rows
// already written.
func (w *Writer) WriteGroup(g *Group) error {
	switch {
	case w.pg != nil && g.pq != nil:
		if err := w.flushPending(); err != nil { // rows WriteExtra took come first
			return err
		}
		if err := w.pg.WriteGroup(g.pq); err != nil {
			return fmt.Errorf("output %s: %w", w.path, err)
		}
	case w.csv != nil && g.buf != nil:
		w.csv.Flush() // the header, and rows WriteExtra took
		if err := w.csv.Error(); err != nil {
			return fmt.Errorf("output %s: %w", w.path, err)
		}
		if _, err := g.buf.WriteTo(w.out); err != nil {
			return fmt.Errorf("output %s: %w", w.path, err)
		}
		g.buf.Release()
		g.buf = nil
	default:
		return fmt.Errorf("output %s: internal error: a group not encoded for this file", w.path)
	}
	w.rows += g.rows
	return nil
}

// Commit finishes the file, renames it to its final name and describes it.
func (w *Writer) Commit() (File, error) {
	if w.closed {
		return File{}, fmt.Errorf("output %s: already closed", w.path)
	}
	w.closed = true
	var err error
	switch {
	case w.pg != nil:
		if err = w.flushPending(); err == nil {
			err = w.pg.Close()
		}
	case w.pqx != nil:
		err = w.pqx.Close()
	case w.pqd != nil:
		err = w.pqd.Close()
	default:
		w.csv.Flush()
		err = w.csv.Error()
	}
	if err == nil {
		err = w.out.Flush()
	}
	if err != nil {
		w.file.Abort()
		return File{}, fmt.Errorf("output %s: %w", w.path, err)
	}
	if err := w.file.Commit(); err != nil {
		return File{}, err
	}
	return File{Path: w.path, Format: string(w.format), Rows: w.rows, Bytes: w.count.n,
		SHA256: hex.EncodeToString(w.sum.Sum(nil))}, nil
}

// Abort discards the file; the final path keeps what it held. Safe after
// Commit, so callers can defer it.
func (w *Writer) Abort() {
	w.closed = true
	w.file.Abort()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
