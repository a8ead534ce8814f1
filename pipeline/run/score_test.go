package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"risklane/decl"
	"risklane/pipeline/rank"
	"risklane/pipeline/score"
)

// night writes a night's input: 12,000 generated rows as Parquet, and 3,000
// more as CSV with bad rows appended. It returns the paths.
func night(t *testing.T, dir string) []string {
	t.Helper()
	batches := generate(t, 15000, 2)
	pq := filepath.Join(dir, "a.parquet")
	writeInput(t, pq, batches[:3])
	csv := filepath.Join(dir, "b.csv")
	writeInput(t, csv, batches[3:])
	f, err := os.OpenFile(csv, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Three bad rows: a negative value, a bad date, a missing id.
	header := strings.Split(firstLine(t, csv), ",")
	for _, bad := range []map[string]string{
		{"declaration_id": "BAD-1", "date": "2024-03-01", "hs_code": "870323", "fob_value": "-5", "net_mass_kg": "1"},
		{"declaration_id": "BAD-2", "date": "2024-02-31", "hs_code": "870323", "fob_value": "5", "net_mass_kg": "1"},
		{"declaration_id": "", "date": "2024-03-01", "hs_code": "870323", "fob_value": "5", "net_mass_kg": "1"},
	} {
		rec := make([]string, len(header))
		for i, h := range header {
			rec[i] = bad[h]
		}
		f.WriteString(strings.Join(rec, ",") + "\n")
	}
	f.Close()
	return []string{pq, csv}
}

func firstLine(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return line
}

func config(t *testing.T, inputs []string, out string) Config {
	dir := filepath.Dir(out)
	return Config{Inputs: inputs, Profile: canonical(t), Model: trainedModel(t), ModelDir: "test",
		Out: out, CSV: true, Rejects: filepath.Join(dir, "rejects.csv"), Manifest: filepath.Join(dir, "manifest.json"),
		Plan: rank.DefaultPlan(), BatchSize: 2000}
}

func TestScoreRun(t *testing.T) {
	in := t.TempDir()
	inputs := night(t, in)
	out := t.TempDir()
	cfg := config(t, inputs, filepath.Join(out, "ranked.parquet"))
	m, err := Score(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The counts reconcile; the bad rows were rejected, the rest scored.
	want := Counts{Read: 15003, Accepted: 15000, Rejected: 3, Scored: 15000}
	if m.Counts != want {
		t.Fatalf("counts %+v, want %+v", m.Counts, want)
	}
	if m.Status != "ok" || m.ExitCode != 0 || m.Error != "" {
		t.Fatalf("status %s %d %q", m.Status, m.ExitCode, m.Error)
	}
	if got := listDir(t, out); !slices.Equal(got, []string{"manifest.json", "ranked.csv", "ranked.parquet", "rejects.csv"}) {
		t.Fatalf("outputs %v", got)
	}
	// The manifest on disk is the one returned, and its checksums are the
	// files'.
	disk, err := ReadManifest(cfg.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if disk.RunID != m.RunID || len(disk.Outputs) != 3 || disk.Counts != want {
		t.Fatalf("manifest on disk: %+v", disk)
	}
	for _, o := range disk.Outputs {
		if got := sha(t, filepath.Join(out, o.Path)); got != o.SHA256 {
			t.Errorf("%s: checksum %s, manifest says %s", o.Path, got, o.SHA256)
		}
	}
	for i, in := range disk.Inputs {
		if in.Path != inputs[i] || in.SHA256 != sha(t, inputs[i]) {
			t.Errorf("input %d: %+v", i, in)
		}
	}
	if names := stageNames(disk.Timings); !slices.Equal(names, []string{"checksum", "score", "rank", "join", "write", "total"}) {
		t.Errorf("stages %v", names)
	}
	rejects, _ := os.ReadFile(cfg.Rejects)
	for _, want := range []string{"fob_value,-5,negative value", "date,2024-02-31,not a date", "declaration_id,,missing declaration_id"} {
		if !strings.Contains(string(rejects), want) {
			t.Errorf("rejects file lacks %s:\n%s", want, rejects)
		}
	}
	// The ranked file: 15,000 rows in rank order with this run's ids.
	rows, err := parquet.ReadFile[rank.Row](cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 15000 || m.Lanes.Red != 750 || m.Lanes.Explore != 75 || m.Lanes.Yellow != 1500 {
		t.Fatalf("%d rows, lanes %+v", len(rows), m.Lanes)
	}
	ids := map[string]bool{}
	for i, r := range rows {
		if r.Rank != int64(i+1) || r.RunID != m.RunID || r.ModelID != trainedModel(t).ID() || ids[r.DeclarationID] {
			t.Fatalf("row %d: %+v", i, r)
		}
		ids[r.DeclarationID] = true
		if i > 0 && !(m.Lanes.Exploration(i) || m.Lanes.Exploration(i-1)) && r.Score > rows[i-1].Score {
			t.Fatalf("rank %d scores above rank %d", i+1, i)
		}
		switch {
		case m.Lanes.Exploration(i):
			if r.Reasons != score.ExplorationReason {
				t.Fatalf("exploration row %d: %q", i, r.Reasons)
			}
		case i < m.Lanes.Red+m.Lanes.Yellow:
			if r.Reasons == "" {
				t.Fatalf("%s row %d without reasons", r.Lane, i)
			}
		default:
			if r.Reasons != "" {
				t.Fatalf("green row %d has reasons", i)
			}
		}
	}
	t.Logf("top reasons: %s | %s", rows[0].Reasons, rows[1].Reasons)
}

func stageNames(s []Stage) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.Name)
	}
	return out
}

// Same inputs and seed: the same bytes, down to the run_id inside. Another
// seed draws other exploration rows.
func TestScoreDeterministic(t *testing.T) {
	inputs := night(t, t.TempDir())
	var sums []string
	for _, seed := range []uint64{7, 7, 8} {
		out := t.TempDir()
		cfg := config(t, inputs, filepath.Join(out, "ranked.parquet"))
		cfg.Plan.Seed = seed
		cfg.Workers = int(seed) % 3 // 1 or 2 workers: parallelism changes nothing
		if _, err := Score(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		sums = append(sums, sha(t, cfg.Out)+" "+sha(t, CSVPath(cfg.Out)))
	}
	if sums[0] != sums[1] {
		t.Error("same inputs and seed gave different ranked files")
	}
	if sums[0] == sums[2] {
		t.Error("another seed gave the same ranked file")
	}
}

// A model whose features the input cannot give is refused before anything
// is written: an extra attribute it reads is missing, or a canonical column
// it reads has no source column under the profile.
func TestModelMismatchWritesNothing(t *testing.T) {
	var extra, optional string
	for _, c := range trainedModel(t).Columns() {
		col, canonical := decl.Lookup(c)
		switch {
		case !canonical && extra == "":
			extra = c
		case canonical && !col.Required && optional == "" && c != decl.FOBValue && c != decl.CIFValue &&
			c != decl.NetMassKg && c != decl.GrossWeightKg && c != decl.Quantity:
			optional = c
		}
	}
	if extra == "" || optional == "" {
		t.Fatalf("the test model reads no extra attribute or no optional column: %v", trainedModel(t).Columns())
	}
	for _, col := range []string{extra, optional} {
		t.Run(col, func(t *testing.T) { mismatch(t, col) })
	}
}

func mismatch(t *testing.T, col string) {
	dir := t.TempDir()
	batches := generate(t, 3000, 3)
	var stripped []arrowBatch
	for _, b := range batches {
		stripped = append(stripped, dropColumn(t, b, col))
	}
	in := filepath.Join(dir, "in", "night.parquet")
	os.Mkdir(filepath.Dir(in), 0o755)
	writeInput(t, in, stripped)
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	cfg := config(t, []string{in}, filepath.Join(out, "ranked.parquet"))
	cfg.Manifest = ""
	_, err := Score(context.Background(), cfg)
	if !errors.Is(err, ErrModelMismatch) || ExitCode(err) != ExitModelMismatch {
		t.Fatalf("err = %v, want the model-mismatch error", err)
	}
	if !strings.Contains(err.Error(), col) {
		t.Errorf("the error does not name the missing column: %v", err)
	}
	if got := listDir(t, out); len(got) != 0 {
		t.Fatalf("a refused run wrote %v", got)
	}
}

func TestRejectRateFailsTheRun(t *testing.T) {
	inputs := night(t, t.TempDir())
	out := t.TempDir()
	cfg := config(t, inputs, filepath.Join(out, "ranked.parquet"))
	limit := 0.0001 // 3 of 15,003 rows is 0.02%
	cfg.MaxRejectRate = &limit
	m, err := Score(context.Background(), cfg)
	if !errors.Is(err, ErrRejectRate) || ExitCode(err) != ExitRejectRate {
		t.Fatalf("err = %v", err)
	}
	// The rejects and the failed manifest are there for the analyst; no
	// ranked file is.
	if got := listDir(t, out); !slices.Equal(got, []string{"manifest.json", "rejects.csv"}) {
		t.Fatalf("outputs %v", got)
	}
	if m.Status != "failed" || m.ExitCode != ExitRejectRate || m.Counts.Rejected != 3 {
		t.Fatalf("manifest %+v", m)
	}
}

// The row bound: a Parquet footer's count, a CSV's line count (header and a
// last line without newline included), nothing for gzip.
func TestChecksumRowBound(t *testing.T) {
	dir := t.TempDir()
	pq := filepath.Join(dir, "a.parquet")
	writeInput(t, pq, generate(t, 1234, 4))
	csv := filepath.Join(dir, "b.csv")
	os.WriteFile(csv, []byte("declaration_id,date\nA,2024-01-01\nB,2024-01-02"), 0o644)
	gz := filepath.Join(dir, "c.csv.gz")
	os.WriteFile(gz, []byte{0x1f, 0x8b, 8, 0}, 0o644)
	for path, want := range map[string]int64{pq: 1234, csv: 3, gz: -1} {
		in, rows, err := checksum(path)
		if err != nil {
			t.Fatal(err)
		}
		if rows != want || in.SHA256 != sha(t, path) {
			t.Errorf("%s: rows %d, want %d; sha %s", filepath.Base(path), rows, want, in.SHA256)
		}
	}
}

// Parquet inputs are checksummed beside the score pass (their row bound is
// in their footers): the manifest names them with their checksums and the
// run_id RunIDOf gives, the stages in their usual order, and a run that
// fails in the score pass still names them.
func TestParquetInputsChecksummedBeside(t *testing.T) {
	dir := t.TempDir()
	batches := generate(t, 6000, 5)
	a, b := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	writeInput(t, a, batches[:1])
	writeInput(t, b, batches[1:])
	inputs := []string{a, b}
	out := t.TempDir()
	cfg := config(t, inputs, filepath.Join(out, "ranked.parquet"))
	want, err := RunIDOf(inputs, cfg.Profile, cfg.Model.ID(), cfg.Plan, "")
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, m *Manifest) {
		t.Helper()
		if m.RunID != want || len(m.Inputs) != 2 {
			t.Fatalf("%s: run_id %q (want %q), inputs %+v", what, m.RunID, want, m.Inputs)
		}
		for i, in := range m.Inputs {
			if in.SHA256 != sha(t, inputs[i]) {
				t.Errorf("%s: input %d: %+v", what, i, in)
			}
		}
	}
	m, err := Score(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	check("run", m)
	if names := stageNames(m.Timings); !slices.Equal(names, []string{"checksum", "score", "rank", "join", "write", "total"}) {
		t.Errorf("stages %v", names)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg = config(t, inputs, filepath.Join(t.TempDir(), "ranked.parquet"))
	m, err = Score(ctx, cfg)
	if err == nil {
		t.Fatal("a cancelled run gave no error")
	}
	check("failed run", m)
}
