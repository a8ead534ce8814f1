package rank

import (
	"fmt"
	"math"

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

// columns are one row group's rows laid out as the file's columns, in
// buffers kept from group to group (Writer.cols).
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

func (t *textColumn) add(s string) {
	t.data = append(t.data, s...)
	t.offs = append(t.offs, int32(len(t.data)))
}

// reset empties c for a group of a file with keep kept columns.
func (c *columns) reset(keep int) {
	c.n = 0
	c.rank, c.score, c.rev = c.rank[:0], c.score[:0], c.rev[:0]
	if len(c.text) != textKept+keep {
		c.text = make([]textColumn, textKept+keep)
	}
	for i := range c.text {
		t := &c.text[i]
		t.offs, t.data = append(t.offs[:0], 0), t.data[:0]
	}
}

// add appends rows; ex's values for rows[i] are its row from+i.
func (c *columns) add(rows []Row, ex *Extra, from, keep int) error {
	for i := range rows {
		r := &rows[i]
		c.rank = append(c.rank, r.Rank)
		c.score = append(c.score, r.Score)
		c.rev = append(c.rev, r.ExpectedRevenue)
		c.text[textID].add(r.DeclarationID)
		c.text[textLane].add(string(r.Lane))
		c.text[textReasons].add(r.Reasons)
		c.text[textModel].add(r.ModelID)
		c.text[textRun].add(r.RunID)
		for k := range keep {
			c.text[textKept+k].add(ex.kept(from+i, k))
		}
	}
	c.n += len(rows)
	for i := range c.text {
		if len(c.text[i].data) > math.MaxInt32 {
			return fmt.Errorf("a row group's text column %d passes 2 GiB", i+1)
		}
	}
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
