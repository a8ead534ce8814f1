package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// arrowSample returns a small valid Arrow IPC file (or stream) with the
// column types risklane reads: text, dictionary text, dates, decimals,
// nullable integers, two record batches.
func arrowSample(t testing.TB, stream bool) []byte {
	t.Helper()
	mem := memory.NewGoAllocator()
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "declaration_id", Type: arrow.BinaryTypes.String},
		{Name: "date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "hs_code", Type: dictType},
		{Name: "cif_value", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}},
		{Name: "net_mass_kg", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "quantity", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	}, nil)
	var buf bytes.Buffer
	var w interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
	if stream {
		w = ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	} else {
		fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		w = fw
	}
	day := arrow.Date32FromTime(time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC))
	for batch := 0; batch < 2; batch++ {
		b := array.NewRecordBuilder(mem, schema)
		b.Field(0).(*array.StringBuilder).AppendValues([]string{"A1", "B2", "C3"}, nil)
		b.Field(1).(*array.Date32Builder).AppendValues([]arrow.Date32{day, day + 1, day + 2}, nil)
		db := b.Field(2).(*array.BinaryDictionaryBuilder)
		db.AppendString("870323")
		db.AppendString("640399")
		db.AppendString("870323")
		b.Field(3).(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(12345), decimal128.FromI64(5), decimal128.FromI64(77)}, nil)
		b.Field(4).(*array.Float64Builder).AppendValues([]float64{1.5, 0, 3}, []bool{true, false, true})
		b.Field(5).(*array.Uint32Builder).AppendValues([]uint32{7, 0, 9}, []bool{true, true, false})
		rec := b.NewRecordBatch()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		b.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readArrowAll reads every row of an Arrow IPC input through the canonical
// profile, as `risklane ingest` does, on the column path and on the row
// path, and requires the same batches, rejects and counts of both (or the
// same error). It returns the error, from Open or from reading.
func readArrowAll(t testing.TB, path string) error {
	t.Helper()
	p := mustProfile(t, "canonical")
	opt := Options{BatchSize: 64}
	rows := readPath(t, false, []string{path}, p, opt)
	defer rows.release()
	cols := readPath(t, true, []string{path}, p, opt)
	defer cols.release()
	if msg := diffResults(rows, cols); msg != "" {
		t.Errorf("%s: the column path differs from the row path: %s", path, msg)
	}
	if cols.err != "" {
		return errors.New(strings.TrimPrefix(cols.err, "open: "))
	}
	return nil
}

// FuzzArrowIPC feeds damaged Arrow IPC files and streams to the reader: it
// must end with rows or an error, never a panic, a hang or an allocation
// beyond what the file's size can justify, and give the same on the column
// path as on the row path.
func FuzzArrowIPC(f *testing.F) {
	f.Add(arrowSample(f, false))
	f.Add(arrowSample(f, true))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		name := "in.arrow"
		if bytes.HasPrefix(data, []byte{0xff, 0xff, 0xff, 0xff}) {
			name = "in.arrows"
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		readArrowAll(t, path)
	})
}

// TestDamagedArrow reads byte-mutated copies of a valid Arrow IPC file and
// stream (a few bytes overwritten at random, fixed seed): each must give
// rows or an error, never a panic.
func TestDamagedArrow(t *testing.T) {
	dir := t.TempDir()
	for _, stream := range []bool{false, true} {
		good := arrowSample(t, stream)
		rng := rand.New(rand.NewPCG(12, 60))
		for i := 0; i < 60; i++ {
			data := bytes.Clone(good)
			for k := 0; k < 1+rng.IntN(4); k++ {
				data[rng.IntN(len(data))] = byte(rng.IntN(256))
			}
			path := filepath.Join(dir, fmt.Sprintf("m%d-%v.arrow", i, stream))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("copy %d (stream %v): panic %v", i, stream, p)
					}
				}()
				err := readArrowAll(t, path)
				if err != nil && !strings.Contains(err.Error(), path) {
					t.Errorf("copy %d (stream %v): error %q does not name the file", i, stream, err)
				}
				if testing.Verbose() {
					t.Logf("copy %d (stream %v): %v", i, stream, err)
				}
			}()
		}
	}
}
