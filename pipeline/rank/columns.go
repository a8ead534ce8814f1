package rank

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// arrowSchema is the ranked Parquet file's columns as sink's encoder writes
// them: Header's (rank INT64, score FLOAT, expected_revenue DOUBLE, the rest
// text), then each kept column as text; none nullable (a kept null is
// empty text). cfg.Meta is the footer's key-value metadata, in order.
func arrowSchema(cfg Config) *arrow.Schema {
	types := map[string]arrow.DataType{"rank": arrow.PrimitiveTypes.Int64, "score": arrow.PrimitiveTypes.Float32,
		"expected_revenue": arrow.PrimitiveTypes.Float64}
	var fields []arrow.Field
	for _, name := range append(Header[:len(Header):len(Header)], cfg.Keep...) {
		t, ok := types[name]
		if !ok || len(fields) >= len(Header) {
			t = arrow.BinaryTypes.String
		}
		fields = append(fields, arrow.Field{Name: name, Type: t})
	}
	var keys, values []string
	for _, kv := range cfg.Meta {
		keys, values = append(keys, kv.Key), append(values, kv.Value)
	}
	md := arrow.NewMetadata(keys, values)
	return arrow.NewSchema(fields, &md)
}

// batchRows is how many rows are laid out as columns and given to the
// encoder at a time: both ways of writing (Writer.WriteExtra and
// EncodeGroup) cut a row group into the same batches, counted from its
// first row, so that they give the same bytes. 16,384 rows of columns are
// about 1.5 MB, used again for every batch: the 262,144 rows of a whole
// row group as columns were about 20 MB per encoding goroutine, and
// memory new to the process costs more than copying it on this VM.
const batchRows = 1 << 14

// A row group is a whole number of batches.
var _ [0]struct{} = [RowGroupRows % batchRows]struct{}{}

// columns are rows of a batch laid out as the file's columns, in buffers
// kept from batch to batch.
type columns struct {
	n     int
	rank  []int64
	score []float32
	rev   []float64
	// text are declaration_id, lane, reasons, model_id, run_id, then the
	// kept columns.
	text []textColumn
}

// The places of Row's text columns in columns.text.
const (
	textID = iota
	textLane
	textReasons
	textModel
	textRun
	textKept
)

// textColumn is a string column as Arrow lays it out: the values one after
// the other and the offset of each one's end (offs[0] is 0).
type textColumn struct {
	offs []int32
	data []byte
}

// addAll appends value(i) for i in [0, n), of a batch that will hold about
// batch rows of which had are already in. The values' bytes are
// counted first and room made once for them, and for the rest of the group
// at that rate: grown by doubling, the buffers were copied and cleared
// more than they were filled (BenchmarkWriteRanked).
func (t *textColumn) addAll(n, had, batch int, value func(int) string) error {
	need := 0
	for i := range n {
		need += len(value(i))
	}
	if len(t.data)+need > math.MaxInt32 {
		return errors.New("a row group's text column passes 2 GiB")
	}
	if cap(t.data)-len(t.data) < need {
		size := len(t.data) + need
		if had+n > 0 && had+n < batch {
			size = min(size*batch/(had+n), math.MaxInt32)
		}
		t.data = slices.Grow(t.data, size-len(t.data))
	}
	for i := range n {
		t.data = append(t.data, value(i)...)
		t.offs = append(t.offs, int32(len(t.data)))
	}
	return nil
}

// reset empties c for a group of a file with keep kept columns.
func (c *columns) reset(keep int) {
	c.n = 0
	if cap(c.rank) < batchRows {
		c.rank, c.score, c.rev = make([]int64, 0, batchRows), make([]float32, 0, batchRows), make([]float64, 0, batchRows)
	}
	c.rank, c.score, c.rev = c.rank[:0], c.score[:0], c.rev[:0]
	if len(c.text) != textKept+keep {
		c.text = make([]textColumn, textKept+keep)
	}
	for i := range c.text {
		t := &c.text[i]
		if cap(t.offs) < batchRows+1 {
			t.offs = make([]int32, 0, batchRows+1)
		}
		t.offs, t.data = append(t.offs[:0], 0), t.data[:0]
	}
}

// add appends rows (at most batchRows in all); ex's values for rows[i] are
// its row from+i.
func (c *columns) add(rows []Row, ex *Extra, from, keep int) error {
	for i := range rows {
		r := &rows[i]
		c.rank = append(c.rank, r.Rank)
		c.score = append(c.score, r.Score)
		c.rev = append(c.rev, r.ExpectedRevenue)
	}
	texts := []func(int) string{
		func(i int) string { return rows[i].DeclarationID },
		func(i int) string { return string(rows[i].Lane) },
		func(i int) string { return rows[i].Reasons },
		func(i int) string { return rows[i].ModelID },
		func(i int) string { return rows[i].RunID },
	}
	for k := range keep {
		texts = append(texts, func(i int) string { return ex.kept(from+i, k) })
	}
	for i, value := range texts {
		if err := c.text[i].addAll(len(rows), c.n, batchRows, value); err != nil {
			name := "kept column " + strconv.Itoa(i-textKept+1)
			if i < textKept {
				name = []string{"declaration_id", "lane", "reasons", "model_id", "run_id"}[i]
			}
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	c.n += len(rows)
	return nil
}

// record is c as an Arrow record batch of schema (arrowSchema), sharing c's
// memory: c must not change while it is in use.
func (c *columns) record(schema *arrow.Schema) arrow.RecordBatch {
	arrs := []arrow.Array{
		fixedArray(arrow.PrimitiveTypes.Int64, c.n, arrow.Int64Traits.CastToBytes(c.rank)),
		c.text[textID].array(c.n),
		fixedArray(arrow.PrimitiveTypes.Float32, c.n, arrow.Float32Traits.CastToBytes(c.score)),
		fixedArray(arrow.PrimitiveTypes.Float64, c.n, arrow.Float64Traits.CastToBytes(c.rev)),
		c.text[textLane].array(c.n),
		c.text[textReasons].array(c.n),
		c.text[textModel].array(c.n),
		c.text[textRun].array(c.n),
	}
	for k := textKept; k < len(c.text); k++ {
		arrs = append(arrs, c.text[k].array(c.n))
	}
	rec := array.NewRecordBatch(schema, arrs, int64(c.n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

func fixedArray(t arrow.DataType, n int, values []byte) arrow.Array {
	d := array.NewData(t, n, []*memory.Buffer{nil, memory.NewBufferBytes(values)}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

func (t *textColumn) array(n int) arrow.Array {
	d := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{nil,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(t.offs)), memory.NewBufferBytes(t.data)}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}
