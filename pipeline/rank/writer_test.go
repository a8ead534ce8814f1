package rank

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

func sampleRows(n int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		lane, reasons := Green, ""
		switch {
		case i < n/10:
			lane, reasons = Red, fmt.Sprintf("unit value %d%% below the HS 870323 median; importer's past fraud rate 34%%", i%100)
		case i < n/4:
			lane, reasons = Yellow, `declared "origin", with a comma`
		}
		rows[i] = Row{Rank: int64(i + 1), DeclarationID: fmt.Sprintf("D%07d", n-i), Score: 1 / float32(i+2),
			ExpectedRevenue: float64(n-i) * 12.25, Lane: lane, Reasons: reasons, ModelID: "m-1", RunID: "r-1"}
	}
	return rows
}

func writeRows(t *testing.T, path string, rows []Row) File {
	t.Helper()
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for len(rows) > 0 { // uneven chunks cross row-group boundaries
		k := min(len(rows), 70001)
		if err := w.Write(rows[:k]); err != nil {
			t.Fatal(err)
		}
		rows = rows[k:]
	}
	f, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The Parquet file parquet-go writes reads back, value for value, through the
// other Parquet implementation risklane uses (arrow-go's pqarrow).
func TestParquetReadsBackThroughArrow(t *testing.T) {
	rows := sampleRows(RowGroupRows + 1234)
	path := filepath.Join(t.TempDir(), "ranked.parquet")
	info := writeRows(t, path, rows)

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if info.SHA256 != hex.EncodeToString(sum[:]) || info.Bytes != int64(len(data)) || info.Rows != int64(len(rows)) {
		t.Fatalf("File %+v does not describe the %d bytes written", info, len(data))
	}
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRowGroups() != 2 {
		t.Errorf("%d row groups, want 2", pf.NumRowGroups())
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	for i, name := range Header {
		if got := tbl.Schema().Field(i).Name; got != name {
			t.Fatalf("column %d is %q, want %q", i, got, name)
		}
	}
	tr := array.NewTableReader(tbl, 100000)
	defer tr.Release()
	i := 0
	for tr.Next() {
		rec := tr.RecordBatch()
		rank := rec.Column(0).(*array.Int64)
		id := rec.Column(1).(*array.String)
		score := rec.Column(2).(*array.Float32)
		rev := rec.Column(3).(*array.Float64)
		lane := rec.Column(4)
		reasons := rec.Column(5).(*array.String)
		for j := 0; j < int(rec.NumRows()); j++ {
			w := rows[i]
			if rank.Value(j) != w.Rank || id.Value(j) != w.DeclarationID || score.Value(j) != w.Score ||
				rev.Value(j) != w.ExpectedRevenue || lane.ValueStr(j) != string(w.Lane) || reasons.Value(j) != w.Reasons {
				t.Fatalf("row %d: read back %d %s %v %v %s %q, wrote %+v", i, rank.Value(j), id.Value(j),
					score.Value(j), rev.Value(j), lane.ValueStr(j), reasons.Value(j), w)
			}
			i++
		}
	}
	if i != len(rows) {
		t.Fatalf("read %d rows, wrote %d", i, len(rows))
	}
}

func TestCSVReadsBack(t *testing.T) {
	rows := sampleRows(500)
	path := filepath.Join(t.TempDir(), "ranked.csv")
	writeRows(t, path, rows)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(rows)+1 {
		t.Fatalf("%d records, want %d", len(recs), len(rows)+1)
	}
	for i, r := range rows {
		rec := recs[i+1]
		score, _ := strconv.ParseFloat(rec[2], 32)
		rev, _ := strconv.ParseFloat(rec[3], 64)
		if rec[0] != strconv.FormatInt(r.Rank, 10) || rec[1] != r.DeclarationID || float32(score) != r.Score ||
			rev != r.ExpectedRevenue || rec[4] != string(r.Lane) || rec[5] != r.Reasons || rec[7] != r.RunID {
			t.Fatalf("row %d: %q, wrote %+v", i, rec, r)
		}
	}
}

func TestSameRowsSameBytes(t *testing.T) {
	rows := sampleRows(3000)
	dir := t.TempDir()
	for _, ext := range []string{"parquet", "csv"} {
		a := writeRows(t, filepath.Join(dir, "a."+ext), rows)
		b := writeRows(t, filepath.Join(dir, "b."+ext), rows)
		if a.SHA256 != b.SHA256 {
			t.Errorf("%s: the same rows gave different files", ext)
		}
	}
}

func TestAbortKeepsPreviousFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ranked.parquet")
	before := writeRows(t, path, sampleRows(10))
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sampleRows(20)); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	data, _ := os.ReadFile(path)
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != before.SHA256 {
		t.Fatal("an aborted write changed the previous file")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("aborted write left %d files", len(entries))
	}
	if _, err := Create(filepath.Join(t.TempDir(), "ranked.arrow")); err == nil {
		t.Fatal("an .arrow ranked file was accepted")
	}
}

// The footer metadata, read back by another Parquet implementation
// (arrow-go's) than the one that wrote it.
func TestParquetFooterMetadata(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ranked.parquet")
	w, err := Create(path, Meta{"model_id", "8df0103e3c3b3577"}, Meta{"run_id", "92d2bc2062d92044"}, Meta{"risklane_version", "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sampleRows(5)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	kv := r.MetaData().KeyValueMetadata()
	for k, want := range map[string]string{"model_id": "8df0103e3c3b3577", "run_id": "92d2bc2062d92044", "risklane_version": "v1.2.3"} {
		if got := kv.FindValue(k); got == nil || *got != want {
			t.Errorf("footer %s = %v, want %q", k, got, want)
		}
	}
}

// A ranked file with kept columns and contributions reads back (Read) as
// the plain one: the extra columns come after Header's.
func TestReadWithExtraColumns(t *testing.T) {
	rows := sampleRows(6)
	ex := &Extra{Keep: 1, Kept: [][]string{{"847130"}}, Contributions: [][]Contribution{{{"hs6", 847130, 0.5}}}}
	for _, ext := range []string{"parquet", "csv"} {
		path := filepath.Join(t.TempDir(), "ranked."+ext)
		w, err := CreateConfig(path, Config{Keep: []string{"hs_code"}, Contributions: 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteExtra(rows, ex); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		var back []Row
		if err := Read(path, func(r Row) error { back = append(back, r); return nil }); err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		if !slices.Equal(back, rows) {
			t.Errorf("%s: read back %v, want %v", ext, back, rows)
		}
	}
}
