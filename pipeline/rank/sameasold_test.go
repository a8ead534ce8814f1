package rank

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"
)

// writeParquetGo writes rows as the ranked file's writer did before it
// moved onto sink's encoder (session 7): parquet-go, Snappy, RowGroupRows
// rows a row group, created_by "risklane", cfg.Meta in the footer, kept
// columns as a struct built by reflection. The yardstick of
// TestSameValuesAsParquetGo and BenchmarkWriteRanked.
func writeParquetGo(tb testing.TB, path string, cfg Config, rows []Row, ex *Extra) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	// Through a buffer and a SHA-256, as Writer writes.
	out := bufio.NewWriterSize(io.MultiWriter(f, sha256.New()), 1<<20)
	defer func() {
		if err := out.Flush(); err != nil {
			tb.Fatal(err)
		}
	}()
	opts := []parquet.WriterOption{&parquet.WriterConfig{CreatedBy: "risklane"}, parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(RowGroupRows)}
	for _, kv := range cfg.Meta {
		opts = append(opts, parquet.KeyValueMetadata(kv.Key, kv.Value))
	}
	if len(cfg.Keep) == 0 {
		w := parquet.NewGenericWriter[Row](out, opts...)
		for lo := 0; lo < len(rows); lo += RowGroupRows {
			if _, err := w.Write(rows[lo:min(lo+RowGroupRows, len(rows))]); err != nil {
				tb.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
		return
	}
	dyn := dynamicRow(cfg)
	w := parquet.NewWriter(out, append(opts, parquet.SchemaOf(reflect.New(dyn).Interface()))...)
	v := reflect.New(dyn).Elem()
	nb := reflect.TypeFor[Row]().NumField()
	for i := range rows {
		v.SetZero()
		for k := range nb {
			v.Field(k).Set(reflect.ValueOf(rows[i]).Field(k))
		}
		for k := range len(cfg.Keep) {
			v.Field(nb + k).SetString(ex.kept(i, k))
		}
		if err := w.Write(v.Addr().Interface()); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
}

// oddRows are groupRows with the values a ranked file can hold at their
// edges: scores and revenues NaN, ±Inf, -0, the extremes and subnormals;
// reasons empty, 5,000 bytes (past the statistics' 4 KiB) and not ASCII.
func oddRows(n int) []Row {
	rows := groupRows(n)
	scores := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0,
		math.MaxFloat32, math.SmallestNonzeroFloat32, 1}
	revs := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, math.MaxFloat64, math.SmallestNonzeroFloat64, -1e300}
	for i := range rows {
		if i%97 == 0 {
			rows[i].Score = scores[i/97%len(scores)]
			rows[i].ExpectedRevenue = revs[i/97%len(revs)]
		}
		switch i % 1013 {
		case 5:
			rows[i].Reasons = strings.Repeat("x", 5000)
		case 7:
			rows[i].Reasons = "valeur unitaire « basse » ; 申告価格"
			rows[i].DeclarationID = "Ω-" + strconv.Itoa(i)
		}
	}
	return rows
}

// colValues are one column's values, each as "type:bits or text".
type colValues []string

func int64Value(v int64) string     { return "i:" + strconv.FormatInt(v, 10) }
func float32Value(v float32) string { return fmt.Sprintf("f:%08x", math.Float32bits(v)) }
func float64Value(v float64) string { return fmt.Sprintf("d:%016x", math.Float64bits(v)) }
func textValue(v string) string     { return "s:" + v }

// wantColumn is column c (the file's order) of rows and ex.
func wantColumn(c int, rows []Row, ex *Extra) colValues {
	out := make(colValues, len(rows))
	for i, r := range rows {
		var s string
		switch c {
		case 0:
			s = int64Value(r.Rank)
		case 1:
			s = textValue(r.DeclarationID)
		case 2:
			s = float32Value(r.Score)
		case 3:
			s = float64Value(r.ExpectedRevenue)
		case 4:
			s = textValue(string(r.Lane))
		case 5:
			s = textValue(r.Reasons)
		case 6:
			s = textValue(r.ModelID)
		case 7:
			s = textValue(r.RunID)
		default:
			s = textValue(ex.kept(i, c-len(Header)))
		}
		out[i] = s
	}
	return out
}

// parquetGoColumn reads column c of a Parquet file with parquet-go, page by
// page, as typed values.
func parquetGoColumn(t *testing.T, data []byte, c int) colValues {
	t.Helper()
	pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet-go opens the file: %v", err)
	}
	var out colValues
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[c].Pages()
		for {
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("parquet-go: column %d: %v", c, err)
			}
			vals := make([]parquet.Value, p.NumValues())
			n, err := p.Values().ReadValues(vals)
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatalf("parquet-go: column %d: %v", c, err)
			}
			for _, v := range vals[:n] {
				switch v.Kind() {
				case parquet.Int64:
					out = append(out, int64Value(v.Int64()))
				case parquet.Float:
					out = append(out, float32Value(v.Float()))
				case parquet.Double:
					out = append(out, float64Value(v.Double()))
				case parquet.ByteArray:
					out = append(out, textValue(string(v.ByteArray())))
				default:
					t.Fatalf("parquet-go: column %d: a value of kind %v", c, v.Kind())
				}
			}
			parquet.Release(p)
		}
		pages.Close()
	}
	return out
}

// arrowColumns reads a Parquet file with arrow-go's pqarrow: its Arrow
// schema and every column's values.
func arrowColumns(t *testing.T, data []byte) (*arrow.Schema, []colValues) {
	t.Helper()
	rd, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("arrow-go opens the file: %v", err)
	}
	fr, err := pqarrow.NewFileReader(rd, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("arrow-go reads the file: %v", err)
	}
	defer tbl.Release()
	cols := make([]colValues, tbl.NumCols())
	for c := range cols {
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := range chunk.Len() {
				if chunk.IsNull(i) {
					cols[c] = append(cols[c], "null")
					continue
				}
				switch a := chunk.(type) {
				case *array.Int64:
					cols[c] = append(cols[c], int64Value(a.Value(i)))
				case *array.Float32:
					cols[c] = append(cols[c], float32Value(a.Value(i)))
				case *array.Float64:
					cols[c] = append(cols[c], float64Value(a.Value(i)))
				case *array.String:
					cols[c] = append(cols[c], textValue(a.Value(i)))
				default:
					t.Fatalf("arrow-go: column %d read as %T", c, chunk)
				}
			}
		}
	}
	return tbl.Schema(), cols
}

// sameColumn compares got with want value by value.
func sameColumn(t *testing.T, what string, got, want colValues) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: row %d: %.80q, want %.80q", what, i, got[i], want[i])
		}
	}
}

// The ranked file written by sink's encoder holds what parquet-go's writer
// wrote for the same rows, read back by parquet-go and by arrow-go: every
// value (float bits: NaN, ±Inf, -0, subnormals), the schema as each reader
// sees it (names, physical and logical types, required columns), the
// footer's key-value metadata, the row groups (one per rank range of
// RowGroupRows rows); 1, 2 and 3 row groups, with and without kept columns
// (whose empty values stand for null input cells: no ranked column is
// nullable), and the rows Read gives back.
func TestSameValuesAsParquetGo(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		rows int
		keep []string
	}{
		{1, nil},
		{3000, nil},
		{3000, []string{"hs_code", "importer_name"}},
		{RowGroupRows + 1, []string{"hs_code", "importer_name"}},
		{2*RowGroupRows + 12345, nil},
	} {
		t.Run(fmt.Sprintf("rows=%d/keep=%d", c.rows, len(c.keep)), func(t *testing.T) {
			rows := oddRows(c.rows)
			var ex *Extra
			if len(c.keep) > 0 {
				ex = keptValues(c.rows)
			}
			cfg := Config{Meta: RunMeta("8df0103e3c3b3577", "92d2bc2062d92044"), Keep: c.keep}
			oldPath, newPath := filepath.Join(dir, "old.parquet"), filepath.Join(dir, "new.parquet")
			writeParquetGo(t, oldPath, cfg, rows, ex)
			w, err := CreateConfig(newPath, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for lo := 0; lo < len(rows); lo += 100_000 { // calls that cut row groups
				hi := min(lo+100_000, len(rows))
				if err := w.WriteExtra(rows[lo:hi], sliceExtra(ex, lo, hi)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			oldData, _ := os.ReadFile(oldPath)
			newData, _ := os.ReadFile(newPath)

			// Parquet schema, row groups and footer, as arrow-go reads them.
			oldMD, newMD := parquetMeta(t, oldData), parquetMeta(t, newData)
			if oldMD.schema != newMD.schema {
				t.Errorf("Parquet schema:\n%s\nparquet-go wrote:\n%s", newMD.schema, oldMD.schema)
			}
			if fmt.Sprint(oldMD.groups) != fmt.Sprint(newMD.groups) {
				t.Errorf("row groups of %v rows; parquet-go wrote %v", newMD.groups, oldMD.groups)
			}
			for k, v := range oldMD.kv {
				if newMD.kv[k] != v {
					t.Errorf("footer %s = %q, parquet-go wrote %q", k, newMD.kv[k], v)
				}
			}
			for k := range newMD.kv {
				if _, ok := oldMD.kv[k]; !ok && k != "ARROW:schema" {
					t.Errorf("footer %s is new", k)
				}
			}

			// Every value, through both readers.
			names := append(Header[:len(Header):len(Header)], c.keep...)
			oldSchema, oldCols := arrowColumns(t, oldData)
			newSchema, newCols := arrowColumns(t, newData)
			if oldSchema.NumFields() != len(names) || newSchema.NumFields() != len(names) {
				t.Fatalf("arrow-go: %d and %d columns, want %d", newSchema.NumFields(), oldSchema.NumFields(), len(names))
			}
			for i, name := range names {
				o, n := oldSchema.Field(i), newSchema.Field(i)
				if n.Name != name || o.Name != name || !arrow.TypeEqual(o.Type, n.Type) || o.Nullable != n.Nullable {
					t.Errorf("arrow-go: column %d is %v, parquet-go's file's %v, want the name %s", i, n, o, name)
				}
				want := wantColumn(i, rows, ex)
				sameColumn(t, "arrow-go, "+name, newCols[i], want)
				sameColumn(t, "arrow-go, parquet-go's file, "+name, oldCols[i], want)
				sameColumn(t, "parquet-go, "+name, parquetGoColumn(t, newData, i), want)
				sameColumn(t, "parquet-go, parquet-go's file, "+name, parquetGoColumn(t, oldData, i), want)
			}

			// Read (parquet-go's GenericReader[Row]), which report and
			// release-time use.
			i := 0
			err = Read(newPath, func(r Row) error {
				w := rows[i]
				if r.Rank != w.Rank || r.DeclarationID != w.DeclarationID || math.Float32bits(r.Score) != math.Float32bits(w.Score) ||
					math.Float64bits(r.ExpectedRevenue) != math.Float64bits(w.ExpectedRevenue) || r.Lane != w.Lane ||
					r.Reasons != w.Reasons || r.ModelID != w.ModelID || r.RunID != w.RunID {
					return fmt.Errorf("row %d: read %+v, wrote %+v", i, r, w)
				}
				i++
				return nil
			})
			if err != nil || i != len(rows) {
				t.Fatalf("Read: %v after %d of %d rows", err, i, len(rows))
			}
		})
	}
}

// fileMeta is what a reader sees of a Parquet file beside its values.
type fileMeta struct {
	schema string  // per column: name, physical type, logical type, repetition
	groups []int64 // rows per row group
	kv     map[string]string
}

func parquetMeta(t *testing.T, data []byte) fileMeta {
	t.Helper()
	rd, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	md := rd.MetaData()
	var m fileMeta
	var b strings.Builder
	for i := range md.Schema.NumColumns() {
		c := md.Schema.Column(i)
		fmt.Fprintf(&b, "%s %s %s %s %s\n", c.Name(), c.PhysicalType(), c.LogicalType(), c.ConvertedType(), c.SchemaNode().RepetitionType())
	}
	m.schema = b.String()
	for g := range md.NumRowGroups() {
		m.groups = append(m.groups, md.RowGroup(g).NumRows())
	}
	m.kv = map[string]string{}
	kv := md.KeyValueMetadata()
	for i, k := range kv.Keys() {
		m.kv[k] = kv.Values()[i]
	}
	return m
}
