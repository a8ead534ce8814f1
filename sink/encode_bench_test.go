//go:build unix

package sink

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/parquet-go/parquet-go"
)

// encodeTable builds n rows shaped like an ingested DATE file: a unique id,
// five low-cardinality text columns, a date, seven float64 columns with two
// decimals and an int32 label, in batches of 65,536 rows.
func encodeTable(n int) (*arrow.Schema, []arrow.RecordBatch) {
	card := []int{12, 5000, 248, 300, 43}
	fields := []arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String, Nullable: true}}
	for i := range card {
		fields = append(fields, arrow.Field{Name: "t" + strconv.Itoa(i), Type: arrow.BinaryTypes.String, Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: "date", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	for i := range 7 {
		fields = append(fields, arrow.Field{Name: "f" + strconv.Itoa(i), Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: "label", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	schema := arrow.NewSchema(fields, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	var out []arrow.RecordBatch
	for off := 0; off < n; off += 1 << 16 {
		m := min(1<<16, n-off)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for r := range m {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("2024-SEA01-%09d", off+r))
			for i, c := range card {
				b.Field(1 + i).(*array.StringBuilder).Append("V" + strconv.Itoa(rng.IntN(c)*7919))
			}
			b.Field(6).(*array.Int32Builder).Append(int32(19000 + (off+r)/5000))
			for i := range 7 {
				b.Field(7 + i).(*array.Float64Builder).Append(float64(rng.IntN(2000000)) / 100)
			}
			b.Field(14).(*array.Int32Builder).Append(int32(rng.IntN(20) / 19))
		}
		out = append(out, b.NewRecordBatch())
		b.Release()
	}
	return schema, out
}

// cpuSeconds is the CPU time the process has used (user and system).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// countWriter counts the bytes written to it and drops them.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkEncode compares the CPU per row of sink's Parquet writer
// (its own encoder, columns concurrently; main's before session 7 used
// pqarrow's encoders: run the same benchmark there) and parquet-go's writer
// (columns concurrently through ConcurrentRowGroupWriter) with the same
// choices: Snappy, dictionaries for text and int32, plain floats, 131,072-row
// groups, statistics.
func BenchmarkEncode(b *testing.B) {
	const n = 1 << 20
	schema, batches := encodeTable(n)
	b.Run("writer=sink", func(b *testing.B) {
		cpu0 := cpuSeconds()
		var size int64
		for b.Loop() {
			cw := &countWriter{}
			w, err := newParquetWriter(schema, cw, parquetRowGroupRows)
			if err != nil {
				b.Fatal(err)
			}
			for _, rec := range batches {
				if err := w.Write(rec); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			size = cw.n
		}
		b.ReportMetric((cpuSeconds()-cpu0)*1e9/float64(n*b.N), "cpu-ns/row")
		b.ReportMetric(float64(size)/1e6, "MB")
	})
	b.Run("writer=parquet-go", func(b *testing.B) {
		group := pq.Group{}
		for i, f := range schema.Fields() {
			var node pq.Node
			switch {
			case f.Type.ID() == arrow.STRING && i > 0:
				node = pq.Encoded(pq.String(), &pq.RLEDictionary)
			case f.Type.ID() == arrow.STRING:
				node = pq.String()
			case f.Type.ID() == arrow.INT32:
				node = pq.Encoded(pq.Int(32), &pq.RLEDictionary)
			default:
				node = pq.Leaf(pq.DoubleType)
			}
			group[f.Name] = pq.Optional(node)
		}
		ps := pq.NewSchema("t", group)
		// parquet-go orders a Group's fields by name: map column i of the
		// schema to its arrow column.
		idx := make([]int, len(schema.Fields()))
		for i, path := range ps.Columns() {
			idx[i] = schema.FieldIndices(path[0])[0]
		}
		cpu0 := cpuSeconds()
		var size int64
		for b.Loop() {
			cw := &countWriter{}
			w := pq.NewWriter(cw, ps, pq.Compression(&pq.Snappy), pq.PageBufferSize(1<<20))
			for off := 0; off < n; off += parquetRowGroupRows {
				rg := w.BeginRowGroup()
				cols := rg.ColumnWriters()
				var wg sync.WaitGroup
				for c := range cols {
					wg.Add(1)
					go func() {
						defer wg.Done()
						vals := make([]pq.Value, 0, 1<<16)
						for bi := off >> 16; bi < (off+parquetRowGroupRows)>>16; bi++ {
							arr := batches[bi].Column(idx[c])
							vals = vals[:0]
							switch a := arr.(type) {
							case *array.String:
								data, offs := a.ValueBytes(), a.ValueOffsets()
								for r := range a.Len() {
									vals = append(vals, pq.ByteArrayValue(data[offs[r]:offs[r+1]]).Level(0, 1, c))
								}
							case *array.Int32:
								for _, v := range a.Int32Values() {
									vals = append(vals, pq.Int32Value(v).Level(0, 1, c))
								}
							case *array.Float64:
								for _, v := range a.Float64Values() {
									vals = append(vals, pq.DoubleValue(v).Level(0, 1, c))
								}
							}
							if _, err := cols[c].WriteRowValues(vals); err != nil {
								panic(err)
							}
						}
					}()
				}
				wg.Wait()
				if _, err := rg.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			size = cw.n
		}
		b.ReportMetric((cpuSeconds()-cpu0)*1e9/float64(n*b.N), "cpu-ns/row")
		b.ReportMetric(float64(size)/1e6, "MB")
	})
}
