package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/internal/testenv"

	"risklane/pipeline/run"
)

// runIngestCLI runs one risklane command line with the flags of the ingest
// and profiles commands back at their defaults (cobra keeps flag values
// between Execute calls in one process).
func runIngestCLI(args ...string) (string, error) {
	for _, c := range []*cobra.Command{ingestCmd, profilesCmd, profilesShowCmd} {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				sv.Replace(nil)
			} else {
				f.Value.Set(f.DefValue)
			}
			f.Changed = false
		})
	}
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	err := rootCmd.Execute()
	return out.String(), err
}

// The acceptance command: every KCS row accepted, summary printed.
func TestIngestKCSCommand(t *testing.T) {
	train := testenv.SharedData(t, "kcs/train.csv")
	out, err := runIngestCLI("ingest", "--in", train, "--profile", "kcs")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !regexp.MustCompile(`37385\s+37385\s+0\s+\S*train.csv \(CSV\)`).MatchString(out) || !strings.Contains(out, "rows/s") {
		t.Errorf("summary:\n%s", out)
	}

	valid := testenv.SharedData(t, "kcs/valid.csv")
	dir := t.TempDir()
	pq := filepath.Join(dir, "kcs.parquet")
	out, err = runIngestCLI("ingest", "--in", train, valid, "--profile", "kcs", "--out", pq, "--rejects", filepath.Join(dir, "rej.csv"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !regexp.MustCompile(`45519\s+45519\s+0\s+total`).MatchString(out) || !strings.Contains(out, "wrote "+pq) {
		t.Errorf("summary:\n%s", out)
	}
	if rej, _ := os.ReadFile(filepath.Join(dir, "rej.csv")); string(rej) != "file,line,column,value,reason\n" {
		t.Errorf("rejects file: %q", rej)
	}
	// Read back through the canonical profile.
	out, err = runIngestCLI("ingest", "--in", pq, "--profile", "canonical")
	if err != nil || !regexp.MustCompile(`45519\s+45519\s+0\s+\S*kcs.parquet \(Parquet\)`).MatchString(out) {
		t.Errorf("re-ingest: %v\n%s", err, out)
	}
}

const cliHeader = "sgd.id,sgd.date,importer.id,declarant.id,country,office.id,tariff.code,quantity,gross.weight,fob.value,cif.value,total.taxes,illicit,revenue\n"
const cliRow = "SGD1,13-01-02,I,D,C,O,8703232926,1,2,3,4,5,0,0\n"

func TestIngestRejectRate(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte(cliHeader+strings.Repeat(cliRow, 8)+"bad\nSGD2,13-02-30,I,D,C,O,8703232926,1,2,3,4,5,0,0\n"), 0o644)
	out := filepath.Join(dir, "out.parquet")
	rej := filepath.Join(dir, "rej.csv")

	// 2 of 10 rejected: over a 10% limit, exit 3, no output, rejects kept.
	summary, err := runIngestCLI("ingest", "--in", in, "--profile", "date", "--out", out, "--rejects", rej, "--max-reject-rate", "0.1")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != run.ExitRejectRate || !strings.Contains(err.Error(), "2 of 10 rows rejected") {
		t.Fatalf("err %v\n%s", err, summary)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output written despite the reject rate: %v", err)
	}
	data, _ := os.ReadFile(rej)
	if !strings.Contains(string(data), in+",10,,bad,\"wrong field count") || !strings.Contains(string(data), in+",11,sgd.date,13-02-30,not a date") {
		t.Errorf("rejects file:\n%s", data)
	}
	if !regexp.MustCompile(`10\s+8\s+2`).MatchString(summary) {
		t.Errorf("summary:\n%s", summary)
	}

	// Under a 25% limit the run succeeds, as .csv and .arrow too.
	for _, name := range []string{"out.parquet", "out.csv", "out.arrow"} {
		o := filepath.Join(dir, name)
		if s, err := runIngestCLI("ingest", "--in", in, "--profile", "date", "--out", o, "--max-reject-rate", "0.25"); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, s)
		}
		if _, err := os.Stat(o); err != nil {
			t.Error(err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestIngestFailures(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte(cliHeader+cliRow), 0o644)
	out := filepath.Join(dir, "o.parquet")
	rej := filepath.Join(dir, "r.csv")
	for _, tc := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"--profile", "date"}, true, "no input"},
		{[]string{"--in", in}, true, "no profile"},
		{[]string{"--in", in, "--profile", "date", "--out", "o.xlsx"}, true, "cannot tell the format"},
		{[]string{"--in", in, "--profile", "date", "--max-reject-rate", "2"}, true, "--max-reject-rate"},
		{[]string{"--in", in, "--profile", "date", "--batch-size", "0"}, true, "--batch-size"},
		{[]string{"--in", in, "--profile", "nosuch", "--out", out, "--rejects", rej}, false, `unknown profile "nosuch"`},
		{[]string{"--in", in, "--profile", "kcs", "--out", out, "--rejects", rej}, false, "does not fit profile kcs"},
		{[]string{"--in", filepath.Join(dir, "missing.csv"), "--profile", "date", "--out", out, "--rejects", rej}, false, "missing.csv"},
	} {
		s, err := runIngestCLI(append([]string{"ingest"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || isUsageError(err) != tc.usage {
			t.Errorf("%v: err %v (usage %v)\n%s", tc.args, err, isUsageError(err), s)
		}
		// A structural failure leaves no output at all.
		for _, p := range []string{out, rej} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%v: %s exists", tc.args, p)
			}
		}
	}
}

func TestProfilesCommand(t *testing.T) {
	out, err := runIngestCLI("profiles")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range profile.Names() {
		if !strings.Contains(out, "\n"+n+" ") {
			t.Errorf("profiles list lacks %s:\n%s", n, out)
		}
	}
	out, err = runIngestCLI("profiles", "show", "kcs")
	if err != nil {
		t.Fatal(err)
	}
	// What show prints is a working profile: save it, load it, use it.
	path := filepath.Join(t.TempDir(), "mine.yaml")
	os.WriteFile(path, []byte(out), 0o644)
	p, err := profile.Load(path)
	if err != nil || p.Columns["cif_value"] != "Item Price" {
		t.Fatalf("shown profile does not load: %v\n%s", err, out)
	}
	if again, err := runIngestCLI("profiles", "show", path); err != nil || again != out {
		t.Errorf("show FILE: %v\n%s", err, again)
	}
	if _, err := runIngestCLI("profiles", "show"); !isUsageError(err) {
		t.Errorf("show without a name: %v", err)
	}
}

// The Parquet file ingest writes (columns encoded concurrently, see
// package sink) holds, value by value, the batches the reader produced.
func TestIngestParquetReadsBackAsRead(t *testing.T) {
	dir := t.TempDir()
	in, pq := filepath.Join(dir, "date.csv"), filepath.Join(dir, "out.parquet")
	gen, _, err := rootCmd.Find([]string{"generate"})
	if err != nil {
		t.Fatal(err)
	}
	gen.Flags().VisitAll(func(f *pflag.Flag) { f.Value.Set(f.DefValue); f.Changed = false }) // earlier tests' values stay
	if out, err := runCLI("generate", "--rows", "30000", "--seed", "5", "--format", "date", "--out", in); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	if out, err := runIngestCLI("ingest", "--in", in, "--profile", "date", "--out", pq, "--batch-size", "4096"); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	prof, err := profile.Resolve("date")
	if err != nil {
		t.Fatal(err)
	}
	batches, _, err := ingest.ReadAll([]string{in}, prof, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := array.NewTableFromRecords(batches[0].Schema(), batches)
	defer want.Release()
	for _, b := range batches {
		b.Release()
	}
	f, err := os.Open(pq)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(rd, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	if got.NumRows() != 30000 || got.NumRows() != want.NumRows() || got.NumCols() != want.NumCols() {
		t.Fatalf("read back %d rows x %d columns, want %d x %d", got.NumRows(), got.NumCols(), want.NumRows(), want.NumCols())
	}
	for c := range int(want.NumCols()) {
		g, err := array.Concatenate(got.Column(c).Data().Chunks(), memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		w, err := array.Concatenate(want.Column(c).Data().Chunks(), memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		if name := want.Schema().Field(c).Name; got.Schema().Field(c).Name != name || !array.Equal(g, w) {
			t.Errorf("column %s differs after the round trip", name)
		}
		g.Release()
		w.Release()
	}
}
