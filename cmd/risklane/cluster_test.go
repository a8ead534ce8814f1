package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/sink"
)

// synthCSV writes generated declarations in the canonical layout.
func synthCSV(t *testing.T, path string, rows int64) {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed = rows, 5
	writeGenerated(t, path, cfg)
}

// writeGenerated writes the declarations synth generates with cfg to path
// (CSV or Parquet, as sink.Create chooses by its name).
func writeGenerated(t *testing.T, path string, cfg synth.Config) {
	t.Helper()
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sink.Create(path, g.Schema())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := synth.Stream(g, func(rec arrow.RecordBatch) error { return w.Write(rec) }); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func TestClusterCommand(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	synthCSV(t, p("decl.csv"), 20_000)
	text, err := execute(t, newClusterCmd, "--in", p("decl.csv"), "--profile", "canonical", "--out", p("clusters.csv"),
		"--reference-prices", p("prices.csv"), "--clusters", p("model.json"), "--seed", "3", "--top", "5")
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	for _, want := range []string{"Read 20000 rows: 20000 accepted, 0 rejected", "Fitted ", "Most suspicious HS6 groups", "wrote " + p("clusters.groups.csv")} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	in := readCSV(t, p("decl.csv"))
	out := readCSV(t, p("clusters.csv"))
	if len(out) != len(in) {
		t.Fatalf("%d assignment rows for %d input rows", len(out)-1, len(in)-1)
	}
	if strings.Join(out[0], ",") != "declaration_id,hs_code,group,group_level,basis,unit_value,cluster_rank,low_cluster,log_dist_median,uv_percentile" {
		t.Errorf("assignment header %v", out[0])
	}
	// Rows stay in input order, and the flag picks undervaluation far
	// more often than its base rate.
	fraudCol := -1
	for i, h := range in[0] {
		if h == synth.FraudTypeColumn {
			fraudCol = i
		}
	}
	var flagged, hits, under int
	for i := 1; i < len(in); i++ {
		if out[i][0] != in[i][0] {
			t.Fatalf("row %d: declaration %s, input has %s", i, out[i][0], in[i][0])
		}
		u := in[i][fraudCol] == synth.FraudUndervaluation
		if u {
			under++
		}
		if out[i][7] == "true" {
			flagged++
			if u {
				hits++
			}
		}
	}
	rate, prec := float64(under)/float64(len(in)-1), float64(hits)/float64(max(1, flagged))
	if prec < 2*rate {
		t.Errorf("low_cluster precision %.3f with undervaluation rate %.3f", prec, rate)
	}
	prices := readCSV(t, p("prices.csv"))
	if strings.Join(prices[0], ",") != "hs6,basis,n,median,p10,p25,p75,p90,low_threshold" || len(prices) < 10 {
		t.Errorf("reference prices: %d rows, header %v", len(prices), prices[0])
	}
	for _, f := range []string{"clusters.groups.csv", "model.json"} {
		if st, err := os.Stat(p(f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

func TestClusterUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "kcs", "--out", "c.parquet"}, "give --in"},
		{[]string{"--in", "x.csv", "--out", "c.parquet"}, "give --profile"},
		{[]string{"--in", "x.csv", "--profile", "kcs"}, "give --out"},
		{[]string{"--in", "x.csv", "--profile", "kcs", "--out", "c.xlsx"}, "cannot tell the format"},
		{[]string{"--in", "x.csv", "--profile", "kcs", "--out", "c.parquet", "--k-min", "1"}, "--k-min 1"},
		{[]string{"--in", "x.csv", "--profile", "kcs", "--out", "c.parquet", "--k-min", "4", "--k-max", "3"}, "--k-max 3"},
	} {
		_, err := execute(t, newClusterCmd, tc.args...)
		if err == nil || !isUsageError(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want a usage error mentioning %q", tc.args, err, tc.want)
		}
	}
	dir := t.TempDir()
	_, err := execute(t, newClusterCmd, "--in", filepath.Join(dir, "missing.csv"), "--profile", "kcs", "--out", filepath.Join(dir, "c.parquet"))
	if err == nil || isUsageError(err) {
		t.Errorf("a missing input gave %v, want a run failure", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("a failed run left %v", left)
	}
}
