package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
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
	"github.com/parquet-go/parquet-go"

	"risklane/decl"
	"risklane/ingest/profile"
	"risklane/internal/testenv"
)

// readRows reads files through a profile into text rows, with the stats
// and rejects.
func readRows(t *testing.T, paths []string, p *profile.Profile, opt Options) ([]map[string]string, Stats, []Reject, *arrow.Schema) {
	t.Helper()
	var rej collect
	opt.Rejects = &rej
	r, err := OpenFiles(paths, p, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rows []map[string]string
	for r.Next() {
		rows = append(rows, batchRows(r.RecordBatch())...)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return rows, r.Stats(), rej.got, r.Schema()
}

// TestRoundTripFormats ingests KCS, writes every output format risklane has
// (and gzip CSV, and an Arrow stream), and reads each back with the
// canonical profile: the rows must come back unchanged.
func TestRoundTripFormats(t *testing.T) {
	src := testenv.SharedData(t, "kcs/valid.csv")
	dir := t.TempDir()
	want, st, _, _ := readRows(t, []string{src}, mustProfile(t, "kcs"), Options{})
	if st.Accepted != 8134 {
		t.Fatalf("stats %+v", st)
	}
	canonical := mustProfile(t, "canonical")
	var files []string
	for _, name := range []string{"out.parquet", "out.arrow", "out.csv"} {
		out := filepath.Join(dir, name)
		ingestTo(t, []string{src}, mustProfile(t, "kcs"), out, Options{BatchSize: 1000})
		files = append(files, out)
	}
	files = append(files, gzipFile(t, filepath.Join(dir, "out.csv")), arrowStream(t, src, filepath.Join(dir, "out.arrows")))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			got, st, rej, schema := readRows(t, []string{f}, canonical, Options{BatchSize: 777})
			if st.Read != 8134 || st.Accepted != 8134 || len(rej) != 0 {
				t.Fatalf("stats %+v, rejects %v", st, first(rej, 3))
			}
			for i := range want {
				if !equalRow(got[i], want[i]) {
					t.Fatalf("row %d:\n got %v\nwant %v", i, got[i], want[i])
				}
			}
			// Label roles survive where the format keeps field metadata.
			lbl := decl.IsLabel(schema.Field(fieldIndex(schema, "critical_fraud")))
			if keeps := !strings.Contains(f, ".csv"); lbl != keeps {
				t.Errorf("critical_fraud label = %v, want %v", lbl, keeps)
			}
		})
	}
}

func equalRow(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func gzipFile(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write(data)
	z.Close()
	// No .gz suffix: the reader recognises gzip by its magic bytes.
	out := strings.TrimSuffix(path, ".csv") + "-gz.csv"
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func arrowStream(t *testing.T, src, out string) string {
	r, err := Open(src, mustProfile(t, "kcs"), Options{BatchSize: 3000})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var b bytes.Buffer
	w := ipc.NewWriter(&b, ipc.WithSchema(r.Schema()))
	for r.Next() {
		if err := w.Write(r.RecordBatch()); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTypedParquetFromParquetGo reads a Parquet file written by parquet-go
// (not by risklane), whose columns are typed the way other tools type them:
// integer HS codes, timestamps, float32, booleans, optional values.
func TestTypedParquetFromParquetGo(t *testing.T) {
	type rec struct {
		ID      string    `parquet:"declaration_id"`
		Date    time.Time `parquet:"date,timestamp(millisecond)"`
		HS      int64     `parquet:"hs_code"`
		Qty     int32     `parquet:"quantity"`
		FOB     float32   `parquet:"fob_value"`
		Illicit bool      `parquet:"illicit"`
		Office  string    `parquet:"office_id,dict"`
		Revenue *float64  `parquet:"revenue,optional"`
		Channel string    `parquet:"channel"`
	}
	rev := 12.5
	day := time.Date(2021, 3, 4, 23, 59, 0, 0, time.UTC)
	rows := []rec{
		{"D1", day, 870323, 3, 100.5, true, "OFF1", &rev, "red"},
		{"D2", day.AddDate(0, 0, 1), 101210000, 1, 0, false, "", nil, "green"},
		{"D3", day, 12345, 1, 1, false, "OFF2", nil, "green"},   // 5-digit HS code
		{"D4", day, 870323, 2, -1, false, "OFF2", nil, "green"}, // negative value
	}
	path := filepath.Join(t.TempDir(), "typed.parquet")
	if err := parquet.WriteFile(path, rows); err != nil {
		t.Fatal(err)
	}
	got, st, rej, _ := readRows(t, []string{path}, mustProfile(t, "canonical"), Options{})
	if st.Read != 4 || st.Accepted != 2 || st.Rejected != 2 {
		t.Fatalf("stats %+v, rejects %v", st, rej)
	}
	wantRej := []Reject{
		{File: path, Line: 3, Column: "hs_code", Value: "12345", Reason: "HS code must have 6 to 10 digits"},
		{File: path, Line: 4, Column: "fob_value", Value: "-1", Reason: "negative value"},
	}
	for i, w := range wantRej {
		if rej[i] != w {
			t.Errorf("reject %d: %+v, want %+v", i, rej[i], w)
		}
	}
	want := []map[string]string{
		{"declaration_id": "D1", "date": "2021-03-04", "hs_code": "870323", "quantity": "3", "fob_value": "100.5",
			"illicit": "1", "office_id": "OFF1", "revenue": "12.5", "channel": "red"},
		{"declaration_id": "D2", "date": "2021-03-05", "hs_code": "101210000", "quantity": "1", "fob_value": "0",
			"illicit": "0", "channel": "green"},
	}
	for i := range want {
		if !equalRow(got[i], want[i]) {
			t.Errorf("row %d:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
}

// TestTypedArrowStream reads an Arrow stream with dictionary-encoded text,
// Date64 and decimal values.
func TestTypedArrowStream(t *testing.T) {
	mem := memory.NewGoAllocator()
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "declaration_id", Type: arrow.BinaryTypes.String},
		{Name: "date", Type: arrow.FixedWidthTypes.Date64},
		{Name: "hs_code", Type: dictType},
		{Name: "cif_value", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}},
		{Name: "net_mass_kg", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"A", "B"}, nil)
	ms := time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC).UnixMilli()
	b.Field(1).(*array.Date64Builder).AppendValues([]arrow.Date64{arrow.Date64(ms), arrow.Date64(ms + 86_400_000)}, nil)
	db := b.Field(2).(*array.BinaryDictionaryBuilder)
	db.AppendString("870323")
	db.AppendString("870323")
	b.Field(3).(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(12345), decimal128.FromI64(5)}, nil)
	b.Field(4).(*array.Uint32Builder).AppendValues([]uint32{7, 0}, []bool{true, false})
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Close()
	path := writeFile(t, t.TempDir(), "typed.arrows", buf.String())
	got, st, rej, _ := readRows(t, []string{path}, mustProfile(t, "canonical"), Options{})
	// Row B has no mass, so it is rejected; row A comes through typed.
	if st.Accepted != 1 || len(rej) != 1 || rej[0].Line != 2 || !strings.Contains(rej[0].Reason, "no quantity, net mass or gross weight") {
		t.Fatalf("stats %+v, rejects %+v", st, rej)
	}
	want := map[string]string{"declaration_id": "A", "date": "2019-12-31", "hs_code": "870323", "cif_value": "123.45", "net_mass_kg": "7"}
	if !equalRow(got[0], want) {
		t.Errorf("got %v, want %v", got[0], want)
	}
}

// TestStructuralErrors: problems with a file as a whole fail at Open, name
// the file and say what to do.
func TestStructuralErrors(t *testing.T) {
	dir := t.TempDir()
	kcs := mustProfile(t, "kcs")
	date := mustProfile(t, "date")
	good := writeFile(t, dir, "good.csv", dateHeader+"SGD1,13-01-02,I,D,C,O,8703232926,1,2,3,4,5,0,0\n")
	truncated := writeFile(t, dir, "cut.parquet", "PAR1\x15\x04garbage")
	list := filepath.Join(dir, "list.arrow")
	{
		schema := arrow.NewSchema([]arrow.Field{
			{Name: "declaration_id", Type: arrow.BinaryTypes.String}, {Name: "date", Type: arrow.FixedWidthTypes.Date32},
			{Name: "hs_code", Type: arrow.BinaryTypes.String}, {Name: "quantity", Type: arrow.PrimitiveTypes.Float64},
			{Name: "fob_value", Type: arrow.PrimitiveTypes.Float64}, {Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String)},
		}, nil)
		f, _ := os.Create(list)
		w, _ := ipc.NewFileWriter(f, ipc.WithSchema(schema))
		w.Close()
		f.Close()
	}
	other := writeFile(t, dir, "other.csv", "declaration_id,date,hs_code,quantity,fob_value,extra\nA,2020-01-01,870323,1,1,x\n")
	plain := writeFile(t, dir, "plain.csv", "declaration_id,date,hs_code,quantity,fob_value\nA,2020-01-01,870323,1,1\n")
	tests := []struct {
		name  string
		paths []string
		p     *profile.Profile
		want  []string
	}{
		{"missing file", []string{filepath.Join(dir, "nope.csv")}, kcs, []string{"nope.csv", "no such file"}},
		{"directory", []string{dir}, kcs, []string{"is a directory"}},
		{"empty", []string{writeFile(t, dir, "empty.csv", "")}, kcs, []string{"empty.csv", "the file is empty"}},
		{"wrong profile", []string{good}, kcs, []string{"good.csv does not fit profile kcs", `"Declaration ID" (mapped to declaration_id), "Date" (mapped to date)`, "fits the built-in profile date: try --profile date"}},
		{"no profile fits", []string{writeFile(t, dir, "odd.csv", "a,b\n1,2\n")}, kcs, []string{"odd.csv does not fit profile kcs", "the header has \"a\", \"b\"", "risklane profiles show kcs"}},
		{"semicolons", []string{writeFile(t, dir, "semi.csv", "a;b;c\n1;2;3\n")}, kcs, []string{"single column", `delimiter: ";"`}},
		{"not parquet", []string{writeFile(t, dir, "x.parquet", "a,b\n1,2\n")}, kcs, []string{"x.parquet", "not a Parquet file"}},
		{"not arrow", []string{writeFile(t, dir, "x.arrow", "a,b\n1,2\n")}, kcs, []string{"x.arrow", "not an Arrow IPC file"}},
		{"truncated parquet", []string{truncated}, kcs, []string{"cut.parquet", "not a readable Parquet file"}},
		{"nested column", []string{list}, mustProfile(t, "canonical"), []string{"list.arrow", `column "tags"`, "cannot hold a declaration value"}},
		{"schemas differ", []string{plain, other}, mustProfile(t, "canonical"), []string{"other.csv: its columns give the schema", "separate runs"}},
		{"second file bad", []string{good, writeFile(t, dir, "bad2.csv", "x\n1\n")}, date, []string{"bad2.csv does not fit profile date"}},
		{"invalid profile", []string{good}, &profile.Profile{Name: "broken"}, []string{"profile broken", "date_layouts is empty"}},
		{"no files", nil, date, []string{"no input files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenFiles(tt.paths, tt.p, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestReadErrors: a file that breaks while being read stops the Reader with
// an error (it is not a row problem), and so does a failing rejects sink.
func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write([]byte(dateHeader + strings.Repeat("SGD1,13-01-02,I,D,C,O,8703232926,1,2,3,4,5,0,0\n", 5000)))
	z.Close()
	cut := writeFile(t, dir, "cut.csv.gz", b.String()[:b.Len()/2])
	r, err := Open(cut, mustProfile(t, "date"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
	}
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "cut.csv.gz") {
		t.Errorf("truncated gzip: err %v", r.Err())
	}
	r.Close()

	bad := writeFile(t, dir, "bad.csv", dateHeader+"x\n")
	r, err = Open(bad, mustProfile(t, "date"), Options{Rejects: failingSink{}})
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
	}
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "disk full") {
		t.Errorf("failing sink: err %v", r.Err())
	}
	r.Close()
}

type failingSink struct{}

func (failingSink) Reject(Reject) error { return errors.New("disk full") }

// TestMultipleFiles reads files in order, keeps per-file counts and names
// the right file in each reject.
func TestMultipleFiles(t *testing.T) {
	dir := t.TempDir()
	row := "SGD%d,13-01-02,I,D,C,O,8703232926,1,2,3,4,5,0,0\n"
	a := writeFile(t, dir, "a.csv", dateHeader+strings.ReplaceAll(row, "%d", "1")+"bad\n"+strings.ReplaceAll(row, "%d", "2"))
	b := writeFile(t, dir, "b.csv", dateHeader+"bad\n"+strings.ReplaceAll(row, "%d", "3"))
	rows, st, rej, _ := readRows(t, []string{a, b}, mustProfile(t, "date"), Options{BatchSize: 2})
	var ids []string
	for _, r := range rows {
		ids = append(ids, r["declaration_id"])
	}
	if strings.Join(ids, ",") != "SGD1,SGD2,SGD3" || st != (Stats{Read: 5, Accepted: 3, Rejected: 2}) {
		t.Fatalf("ids %v, stats %+v", ids, st)
	}
	if len(rej) != 2 || rej[0].File != a || rej[0].Line != 3 || rej[1].File != b || rej[1].Line != 2 {
		t.Errorf("rejects %+v", rej)
	}
	r, _ := OpenFiles([]string{a, b}, mustProfile(t, "date"), Options{})
	for r.Next() {
	}
	fs := r.Files()
	if len(fs) != 2 || fs[0].Stats != (Stats{3, 2, 1}) || fs[1].Stats != (Stats{2, 1, 1}) || fs[0].Format != "CSV" {
		t.Errorf("file stats %+v", fs)
	}
	r.Close()
}

// TestCloseEarly stops after one batch: the background goroutine must end
// and Close must not block.
func TestCloseEarly(t *testing.T) {
	path := writeFile(t, t.TempDir(), "many.csv", dateHeader+strings.Repeat("SGD1,13-01-02,I,D,C,O,8703232926,1,2,3,4,5,0,0\n", 10000))
	r, err := Open(path, mustProfile(t, "date"), Options{BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Next() || r.RecordBatch().NumRows() != 100 {
		t.Fatal("no first batch")
	}
	done := make(chan struct{})
	go func() { r.Close(); r.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked")
	}
	if r.Next() {
		t.Error("Next after Close")
	}
}

// TestReadAll collects every batch, retained for the caller.
func TestReadAll(t *testing.T) {
	path := writeFile(t, t.TempDir(), "few.csv", dateHeader+strings.Repeat("SGD1,13-01-02,I,D,C,O,8703232926,1,2,3,4,5,0,0\n", 250))
	recs, st, err := ReadAll([]string{path}, mustProfile(t, "date"), Options{BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, r := range recs {
		n += r.NumRows()
		r.Release()
	}
	if len(recs) != 3 || n != 250 || st.Accepted != 250 {
		t.Errorf("%d batches, %d rows, %+v", len(recs), n, st)
	}
}

// TestUserProfileCSV reads a European-style export through a YAML profile:
// semicolons, decimal commas, thousands dots, day-first dates, Y/N labels,
// a revenue formula.
func TestUserProfileCSV(t *testing.T) {
	dir := t.TempDir()
	prof := writeFile(t, dir, "euro.yaml", `name: euro
columns:
  declaration_id: DECL
  date: DATUM
  hs_code: TARIC
  gross_weight_kg: BRUTTO
  cif_value: WERT
  tax_rate: SATZ
  illicit: BEFUND
extras:
  - {source: ART, name: fraud_kind, label: true}
delimiter: ";"
decimal: ","
thousands: "."
date_layouts: ["02.01.2006"]
illicit_values: {positive: ["J"], negative: ["N"]}
revenue_formula: illicit * cif_value * tax_rate / 100
`)
	data := writeFile(t, dir, "export.csv", "DECL;DATUM;TARIC;BRUTTO;WERT;SATZ;BEFUND;ART\n"+
		"A1;31.12.2020;8703.23.19;1.234,5;10.000;10;J;under\n"+
		"A2;01.01.2021;870323;12;100;10;;\n"+
		"A3;01.01.2021;870323;12,3,4;100;10;N;\n")
	p, err := profile.Resolve(prof)
	if err != nil {
		t.Fatal(err)
	}
	rows, st, rej, schema := readRows(t, []string{data}, p, Options{})
	if st != (Stats{3, 2, 1}) || rej[0].Line != 4 || rej[0].Column != "BRUTTO" || rej[0].Value != "12,3,4" {
		t.Fatalf("stats %+v rejects %+v", st, rej)
	}
	want := []map[string]string{
		{"declaration_id": "A1", "date": "2020-12-31", "hs_code": "87032319", "gross_weight_kg": "1234.5",
			"cif_value": "10000", "tax_rate": "10", "illicit": "1", "revenue": "1000", "fraud_kind": "under"},
		{"declaration_id": "A2", "date": "2021-01-01", "hs_code": "870323", "gross_weight_kg": "12",
			"cif_value": "100", "tax_rate": "10"},
	}
	for i := range want {
		if !equalRow(rows[i], want[i]) {
			t.Errorf("row %d:\n got %v\nwant %v", i, rows[i], want[i])
		}
	}
	if !decl.IsLabel(schema.Field(fieldIndex(schema, "fraud_kind"))) {
		t.Error("fraud_kind is not a label")
	}
}

// Text from a typed file is checked for UTF-8 and NUL bytes value by value
// unless its batch is all ASCII: a batch of ASCII values, then one with a
// valid non-ASCII value, an invalid one and a NUL byte, then the same values
// each in a batch of its own.
func TestTypedTextChecks(t *testing.T) {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "declaration_id", Type: arrow.BinaryTypes.String},
		{Name: "date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "hs_code", Type: arrow.BinaryTypes.String},
		{Name: "importer_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "cif_value", Type: arrow.PrimitiveTypes.Float64},
		{Name: "net_mass_kg", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	batch := func(importers ...string) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		for i, imp := range importers {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("D%d", i))
			b.Field(1).(*array.Date32Builder).Append(arrow.Date32(19000))
			b.Field(2).(*array.StringBuilder).Append("870323")
			b.Field(3).(*array.StringBuilder).Append(imp)
			b.Field(4).(*array.Float64Builder).Append(10)
			b.Field(5).(*array.Float64Builder).Append(1)
		}
		return b.NewRecordBatch()
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	for _, imps := range [][]string{
		{"IMP1", "IMP2"},
		{"Zürich AG", "AB\xffCD", "NUL\x00X", "IMP3"},
		{"Zürich AG"}, {"AB\xffCD"}, {"NUL\x00X"}, {"IMP4"},
	} {
		rec := batch(imps...)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	w.Close()
	path := writeFile(t, t.TempDir(), "text.arrows", buf.String())
	got, st, rej, _ := readRows(t, []string{path}, mustProfile(t, "canonical"), Options{})
	if st.Read != 10 || st.Accepted != 6 || len(rej) != 4 {
		t.Fatalf("stats %+v, rejects %+v", st, rej)
	}
	for i, want := range []struct {
		line   int64
		reason string
	}{{4, "invalid UTF-8"}, {5, "NUL byte"}, {8, "invalid UTF-8"}, {9, "NUL byte"}} {
		if r := rej[i]; r.Line != want.line || r.Column != "importer_id" || !strings.Contains(r.Reason, want.reason) {
			t.Errorf("reject %d: %+v, want line %d, %s", i, r, want.line, want.reason)
		}
	}
	var imps []string
	for _, r := range got {
		imps = append(imps, r["importer_id"])
	}
	if w := "IMP1 IMP2 Zürich AG IMP3 Zürich AG IMP4"; strings.Join(imps, " ") != w {
		t.Errorf("importers %q, want %q", strings.Join(imps, " "), w)
	}
}

// asciiBytes agrees with a byte-by-byte check at every length and position
// of a non-ASCII or NUL byte.
func TestASCIIBytes(t *testing.T) {
	for n := range 40 {
		for pos := -1; pos < n; pos++ {
			for _, c := range []byte{0, 0x80, 0xc3, 0xff, 'a'} {
				b := bytes.Repeat([]byte{'x'}, n)
				if pos >= 0 {
					b[pos] = c
				}
				want := true
				for _, x := range b {
					if x == 0 || x >= 0x80 {
						want = false
					}
				}
				if got := asciiBytes(b); got != want {
					t.Fatalf("asciiBytes(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
}
