package sink

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pq "github.com/parquet-go/parquet-go"
)

// encodeBytes writes batches with sink's encoder into memory.
func encodeBytes(t testing.TB, schema *arrow.Schema, batches []arrow.RecordBatch, rowGroup int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newParquetWriter(schema, &buf, rowGroup)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range batches {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cell is one value as both readers can give it: null, an integer (any
// width, unsigned as its bits), a float's bits, bytes or a boolean.
type cell struct {
	null bool
	i    int64
	b    string
}

func (c cell) String() string {
	if c.null {
		return "null"
	}
	if c.b != "" {
		return fmt.Sprintf("%q", c.b)
	}
	return fmt.Sprint(c.i)
}

// arrowCell is row r of arr as a cell.
func arrowCell(arr arrow.Array, r int) cell {
	if arr.IsNull(r) {
		return cell{null: true}
	}
	switch a := arr.(type) {
	case *array.String:
		return cell{b: "s" + a.Value(r)}
	case *array.LargeString:
		return cell{b: "s" + a.Value(r)}
	case *array.Binary:
		return cell{b: "s" + string(a.Value(r))}
	case *array.LargeBinary:
		return cell{b: "s" + string(a.Value(r))}
	case *array.Boolean:
		if a.Value(r) {
			return cell{i: 1}
		}
		return cell{i: 0}
	case *array.Int8:
		return cell{i: int64(a.Value(r))}
	case *array.Int16:
		return cell{i: int64(a.Value(r))}
	case *array.Int32:
		return cell{i: int64(a.Value(r))}
	case *array.Int64:
		return cell{i: a.Value(r)}
	case *array.Uint8:
		return cell{i: int64(a.Value(r))}
	case *array.Uint16:
		return cell{i: int64(a.Value(r))}
	case *array.Uint32:
		return cell{i: int64(a.Value(r))}
	case *array.Uint64:
		return cell{i: int64(a.Value(r))}
	case *array.Date32:
		return cell{i: int64(a.Value(r))}
	case *array.Float32:
		return cell{i: int64(math.Float32bits(a.Value(r)))}
	case *array.Float64:
		return cell{i: int64(math.Float64bits(a.Value(r)))}
	}
	panic(fmt.Sprintf("type %s", arr.DataType()))
}

// pqCell is a parquet-go value of Arrow type typ as a cell.
func pqCell(v pq.Value, typ arrow.DataType) cell {
	if v.IsNull() {
		return cell{null: true}
	}
	switch typ.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		return cell{b: "s" + string(v.ByteArray())}
	case arrow.BOOL:
		if v.Boolean() {
			return cell{i: 1}
		}
		return cell{i: 0}
	case arrow.UINT32:
		return cell{i: int64(uint32(v.Int32()))}
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.UINT8, arrow.UINT16, arrow.DATE32:
		return cell{i: int64(v.Int32())}
	case arrow.INT64, arrow.UINT64:
		return cell{i: v.Int64()}
	case arrow.FLOAT32:
		return cell{i: int64(math.Float32bits(v.Float()))}
	case arrow.FLOAT64:
		return cell{i: int64(math.Float64bits(v.Double()))}
	}
	panic(fmt.Sprintf("type %s", typ))
}

// checkRoundTrip writes batches with sink's encoder and reads the file back
// with arrow-go's pqarrow and with parquet-go, two independent readers:
// every value, null and type must come back, and each column chunk's
// statistics (arrow-go's decoding) must be the null count and the range of
// its values. It returns the file.
func checkRoundTrip(t testing.TB, schema *arrow.Schema, batches []arrow.RecordBatch, rowGroup int64) []byte {
	t.Helper()
	data := encodeBytes(t, schema, batches, rowGroup)
	checkReadBack(t, schema, batches, data)
	return data
}

// checkReadBack is checkRoundTrip's reading: data, a Parquet file of
// batches, read back by arrow-go and parquet-go.
func checkReadBack(t testing.TB, schema *arrow.Schema, batches []arrow.RecordBatch, data []byte) {
	t.Helper()
	want := make([][]cell, schema.NumFields())
	for _, r := range batches {
		for c := range want {
			for i := range int(r.NumRows()) {
				want[c] = append(want[c], arrowCell(r.Column(c), i))
			}
		}
	}
	rows := 0
	if len(want) > 0 {
		rows = len(want[0])
	}

	// arrow-go.
	rd, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("arrow-go opens the file: %v", err)
	}
	fr, err := pqarrow.NewFileReader(rd, pqarrow.ArrowReadProperties{BatchSize: 1000}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("arrow-go reads the file: %v", err)
	}
	defer tbl.Release()
	if int(tbl.NumRows()) != rows {
		t.Fatalf("arrow-go: %d rows, want %d", tbl.NumRows(), rows)
	}
	for c, f := range tbl.Schema().Fields() {
		w := schema.Field(c)
		if f.Name != w.Name || !arrow.TypeEqual(f.Type, w.Type) || f.Nullable != w.Nullable {
			t.Fatalf("arrow-go: field %d read back as %v, want %v", c, f, w)
		}
		r := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := range chunk.Len() {
				if g := arrowCell(chunk, i); g != want[c][r] {
					t.Fatalf("arrow-go: column %s row %d: %v, wrote %v", w.Name, r, g, want[c][r])
				}
				r++
			}
		}
	}

	// Statistics, as arrow-go decodes them.
	start := 0
	for g := range rd.NumRowGroups() {
		rg := rd.MetaData().RowGroup(g)
		n := int(rg.NumRows())
		for c := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			checkStats(t, schema.Field(c), cc, batches, start, start+n)
		}
		start += n
	}
	if start != rows {
		t.Fatalf("row groups hold %d rows, want %d", start, rows)
	}

	// parquet-go.
	pf, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet-go opens the file: %v", err)
	}
	if int(pf.NumRows()) != rows {
		t.Fatalf("parquet-go: %d rows, want %d", pf.NumRows(), rows)
	}
	got := make([]int, schema.NumFields())
	for _, rg := range pf.RowGroups() {
		for c, cc := range rg.ColumnChunks() {
			typ := schema.Field(c).Type
			pages := cc.Pages()
			for {
				p, err := pages.ReadPage()
				if err != nil {
					if err.Error() == "EOF" {
						break
					}
					t.Fatalf("parquet-go: column %s: %v", schema.Field(c).Name, err)
				}
				vals := make([]pq.Value, p.NumValues())
				n, err := p.Values().ReadValues(vals)
				if err != nil && err.Error() != "EOF" {
					t.Fatalf("parquet-go: column %s: %v", schema.Field(c).Name, err)
				}
				for _, v := range vals[:n] {
					r := got[c]
					if r >= rows {
						t.Fatalf("parquet-go: column %s has more than %d values", schema.Field(c).Name, rows)
					}
					if g := pqCell(v, typ); g != want[c][r] {
						t.Fatalf("parquet-go: column %s row %d: %v, wrote %v", schema.Field(c).Name, r, g, want[c][r])
					}
					got[c]++
				}
				pq.Release(p)
			}
			pages.Close()
		}
	}
	for c, n := range got {
		if n != rows {
			t.Fatalf("parquet-go: column %s: %d values, want %d", schema.Field(c).Name, n, rows)
		}
	}
}

// checkStats compares a column chunk's statistics with rows [lo, hi) of the
// batches: the null count, and the smallest and largest value in the type's
// order (NaN left out, a zero minimum -0 and maximum +0).
func checkStats(t testing.TB, f arrow.Field, cc *metadata.ColumnChunkMetaData, batches []arrow.RecordBatch, lo, hi int) {
	t.Helper()
	st, err := cc.Statistics()
	if err != nil || st == nil {
		t.Fatalf("column %s: no statistics (%v)", f.Name, err)
	}
	var nulls int64
	var minB, maxB []byte
	var minI, maxI int64
	var minU, maxU uint64
	var minF, maxF float64
	seen := false
	r := 0
	for _, b := range batches {
		arr := b.Column(fieldIndex(f, b))
		for i := range arr.Len() {
			if r >= lo && r < hi {
				if arr.IsNull(i) {
					nulls++
				} else {
					c := arrowCell(arr, i)
					switch f.Type.ID() {
					case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
						v := []byte(c.b[1:])
						if !seen || bytes.Compare(v, minB) < 0 {
							minB = v
						}
						if !seen || bytes.Compare(v, maxB) > 0 {
							maxB = v
						}
						seen = true
					case arrow.UINT32, arrow.UINT64:
						if !seen || uint64(c.i) < minU {
							minU = uint64(c.i)
						}
						if !seen || uint64(c.i) > maxU {
							maxU = uint64(c.i)
						}
						seen = true
					case arrow.FLOAT32, arrow.FLOAT64:
						v := float64(math.Float32frombits(uint32(c.i)))
						if f.Type.ID() == arrow.FLOAT64 {
							v = math.Float64frombits(uint64(c.i))
						}
						if math.IsNaN(v) {
							break
						}
						if !seen || v < minF {
							minF = v
						}
						if !seen || v > maxF {
							maxF = v
						}
						seen = true
					default:
						if !seen || c.i < minI {
							minI = c.i
						}
						if !seen || c.i > maxI {
							maxI = c.i
						}
						seen = true
					}
				}
			}
			r++
		}
	}
	if st.NullCount() != nulls {
		t.Fatalf("column %s: null count %d, want %d", f.Name, st.NullCount(), nulls)
	}
	long := len(minB) > 4096 || len(maxB) > 4096
	if st.HasMinMax() != (seen && !long) {
		t.Fatalf("column %s: min/max present %v, values %v", f.Name, st.HasMinMax(), seen)
	}
	if !st.HasMinMax() {
		return
	}
	emin, emax := st.EncodeMin(), st.EncodeMax()
	var wmin, wmax []byte
	switch f.Type.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		wmin, wmax = minB, maxB
	case arrow.BOOL:
		wmin, wmax = []byte{byte(minI)}, []byte{byte(maxI)}
	case arrow.UINT32:
		wmin, wmax = binary.LittleEndian.AppendUint32(nil, uint32(minU)), binary.LittleEndian.AppendUint32(nil, uint32(maxU))
	case arrow.UINT64:
		wmin, wmax = binary.LittleEndian.AppendUint64(nil, minU), binary.LittleEndian.AppendUint64(nil, maxU)
	case arrow.INT64:
		wmin, wmax = binary.LittleEndian.AppendUint64(nil, uint64(minI)), binary.LittleEndian.AppendUint64(nil, uint64(maxI))
	case arrow.FLOAT32, arrow.FLOAT64:
		if minF == 0 {
			minF = math.Copysign(0, -1)
		}
		if maxF == 0 {
			maxF = 0
		}
		if f.Type.ID() == arrow.FLOAT32 {
			wmin, wmax = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(minF))), binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(maxF)))
		} else {
			wmin, wmax = binary.LittleEndian.AppendUint64(nil, math.Float64bits(minF)), binary.LittleEndian.AppendUint64(nil, math.Float64bits(maxF))
		}
	default:
		wmin, wmax = binary.LittleEndian.AppendUint32(nil, uint32(minI)), binary.LittleEndian.AppendUint32(nil, uint32(maxI))
	}
	if !bytes.Equal(emin, wmin) || !bytes.Equal(emax, wmax) {
		t.Fatalf("column %s rows %d-%d: statistics %x..%x, want %x..%x", f.Name, lo, hi, emin, emax, wmin, wmax)
	}
}

// fieldIndex is the index of field f in batch b's schema.
func fieldIndex(f arrow.Field, b arrow.RecordBatch) int { return b.Schema().FieldIndices(f.Name)[0] }

// randomTypes are the Arrow types sink's encoder writes.
var randomTypes = []arrow.DataType{
	arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeBinary,
	arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32,
	arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Uint32,
	arrow.PrimitiveTypes.Uint64, arrow.FixedWidthTypes.Date32, arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64,
}

// randomTable makes a table of random columns: each its own type,
// nullability, null share (none, some, all) and number of distinct values
// (from one to every row: the dictionary falls back to plain), with empty
// strings, long strings (past the 4 KiB statistics limit and, many of them,
// past the dictionary limit), extreme integers, NaN, infinities and -0.
func randomTable(rng *rand.Rand, rows int) (*arrow.Schema, []arrow.RecordBatch) {
	ncol := 1 + rng.IntN(6)
	var fields []arrow.Field
	for c := range ncol {
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("c%d", c), Type: randomTypes[rng.IntN(len(randomTypes))], Nullable: rng.IntN(3) > 0})
	}
	schema := arrow.NewSchema(fields, nil)
	type colGen struct {
		nullP float64
		card  int
		long  bool
	}
	gens := make([]colGen, ncol)
	for c := range gens {
		gens[c] = colGen{
			nullP: []float64{0, 0.05, 0.5, 1}[rng.IntN(4)],
			card:  []int{1, 3, 300, rows + 1}[rng.IntN(4)],
			long:  rng.IntN(5) == 0,
		}
		if !fields[c].Nullable {
			gens[c].nullP = 0
		}
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	var out []arrow.RecordBatch
	for done := 0; done < rows || len(out) == 0; {
		n := min(rows-done, rng.IntN(3000))
		for range n {
			for c, g := range gens {
				fb := b.Field(c)
				if rng.Float64() < g.nullP {
					fb.AppendNull()
					continue
				}
				k := rng.IntN(g.card)
				switch x := fb.(type) {
				case *array.StringBuilder:
					x.Append(randomText(k, g.long))
				case *array.LargeStringBuilder:
					x.Append(randomText(k, g.long))
				case *array.BinaryBuilder:
					if x.Type().ID() == arrow.LARGE_BINARY {
						x.Append([]byte(randomText(k, g.long) + "\x00\xff"))
					} else {
						x.Append([]byte(randomText(k, g.long) + "\xfe\x00"))
					}
				case *array.BooleanBuilder:
					x.Append(k%2 == 1)
				case *array.Int8Builder:
					x.Append(int8(extreme(k, math.MinInt8, math.MaxInt8)))
				case *array.Int16Builder:
					x.Append(int16(extreme(k, math.MinInt16, math.MaxInt16)))
				case *array.Int32Builder:
					x.Append(int32(extreme(k, math.MinInt32, math.MaxInt32)))
				case *array.Int64Builder:
					x.Append(extreme(k, math.MinInt64, math.MaxInt64))
				case *array.Uint8Builder:
					x.Append(uint8(extreme(k, 0, math.MaxUint8)))
				case *array.Uint16Builder:
					x.Append(uint16(extreme(k, 0, math.MaxUint16)))
				case *array.Uint32Builder:
					x.Append(uint32(extreme(k, 0, math.MaxUint32)))
				case *array.Uint64Builder:
					x.Append(uint64(extreme(k, math.MinInt64, math.MaxInt64)))
				case *array.Date32Builder:
					x.Append(arrow.Date32(extreme(k, -100000, 100000)))
				case *array.Float32Builder:
					x.Append(float32(special(k)))
				case *array.Float64Builder:
					x.Append(special(k))
				}
			}
		}
		out = append(out, b.NewRecordBatch())
		done += n
	}
	return schema, out
}

// randomText is value k of a column: "" for 0, long (5,000 bytes) if asked.
func randomText(k int, long bool) string {
	if k == 0 {
		return ""
	}
	s := fmt.Sprintf("v%d-é", k*7919)
	if long {
		s = strings.Repeat(s, 5000/len(s)+1)
	}
	return s
}

// extreme maps k to lo, hi, -1, 0 or a spread value within [lo, hi].
func extreme(k int, lo, hi int64) int64 {
	switch k % 7 {
	case 1:
		return lo
	case 2:
		return hi
	case 3:
		return max(lo, -1)
	case 4:
		return 0
	}
	v := int64(k) * 2654435761
	if hi-lo > 0 && uint64(hi-lo) < 1<<62 {
		return lo + v%(hi-lo+1)
	}
	return v
}

// special maps k to NaN, infinities, -0, 0 or an ordinary number.
func special(k int) float64 {
	switch k % 11 {
	case 1:
		return math.NaN()
	case 2:
		return math.Inf(1)
	case 3:
		return math.Inf(-1)
	case 4:
		return math.Copysign(0, -1)
	case 5:
		return 0
	}
	return float64(k)*1.37 - 500
}

// withLimits runs f with small page and dictionary limits, so that small
// tables have many pages and chunks whose dictionary overflows into plain
// pages after some pages used it.
func withLimits(page, dict int, f func()) {
	p, d := pageBytes, dictBytes
	pageBytes, dictBytes = page, dict
	defer func() { pageBytes, dictBytes = p, d }()
	f()
}

// Random tables read back identically through arrow-go and parquet-go,
// with the default limits and with small ones.
func TestParquetRoundTripRandom(t *testing.T) {
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 99))
		rows := []int{0, 1, 7, 100, 2500, 9000}[rng.IntN(6)]
		schema, batches := randomTable(rng, rows)
		rowGroup := int64([]int{1, 10, 1000, 1 << 17}[rng.IntN(4)])
		if rows > 100 && rowGroup == 1 {
			rowGroup = 77
		}
		small := rng.IntN(2) == 0
		t.Run(fmt.Sprintf("seed=%d/rows=%d/rg=%d/small=%v", seed, rows, rowGroup, small), func(t *testing.T) {
			if small {
				withLimits(300, 2000, func() { checkRoundTrip(t, schema, batches, rowGroup) })
			} else {
				checkRoundTrip(t, schema, batches, rowGroup)
			}
		})
		for _, r := range batches {
			r.Release()
		}
	}
}

// FuzzParquetEncode: any table randomTable makes from the fuzzer's seed,
// size, row-group size and limits reads back as written.
func FuzzParquetEncode(f *testing.F) {
	f.Add(uint64(1), uint16(100), uint16(30), uint16(200), uint16(500))
	f.Add(uint64(2), uint16(3000), uint16(1000), uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, seed uint64, rows, rg, page, dict uint16) {
		rng := rand.New(rand.NewPCG(seed, 7))
		schema, batches := randomTable(rng, int(rows%2000))
		defer func() {
			for _, r := range batches {
				r.Release()
			}
		}()
		pg, dc := int(page), int(dict)
		if pg == 0 {
			pg = pageBytes
		}
		if dc == 0 {
			dc = dictBytes
		}
		withLimits(pg, dc, func() { checkRoundTrip(t, schema, batches, int64(rg)+1) })
	})
}
