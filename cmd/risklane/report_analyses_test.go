package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/sink"
)

// TestReportAnalysesSections: the tables risklane forecast and risklane
// release-time wrote become the report's forecast and release-time
// sections; a file that is not such a table is refused, naming its flag.
func TestReportAnalysesSections(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed, cfg.Timestamps = 20000, 4, true
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sink.Create(p("decl.parquet"), g.Schema())
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Stream(g, func(rec arrow.RecordBatch) error { return w.Write(rec) }); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if text, err := runForecastCmd("--in", p("decl.parquet"), "--profile", "canonical", "--measure", "duty", "--by", "hs2",
		"--horizon", "3", "--out", p("fc.parquet")); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if text, err := runReleaseTimeCmd("--in", p("decl.parquet"), "--profile", "canonical", "--out", p("rt.csv")); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	night := "testdata/oldmodel/night.csv"
	out := p("r.html")
	text, err := runCommand(newReportCmd, "--model", oldModel, "--profile", "canonical", "--in", night, "--out", out,
		"--forecast", p("fc.parquet"), "--release-time", p("rt.csv"))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	page := string(mustRead(t, out))
	for _, want := range []string{`<section id="forecast">`, `id="chart-forecast-0"`, `<section id="release">`, `id="chart-release"`, "lane red", "inspected yes"} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// The ranked output of score is not a forecast table.
	if err := os.WriteFile(p("other.csv"), []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--forecast", "--release-time"} {
		_, err := runCommand(newReportCmd, "--model", oldModel, "--profile", "canonical", "--in", night, "--out", p("x.html"), flag, p("other.csv"))
		if err == nil || !strings.Contains(err.Error(), flag) || !strings.Contains(err.Error(), "other.csv") {
			t.Errorf("%s with a table of another kind: %v", flag, err)
		}
		if _, serr := os.Stat(p("x.html")); serr == nil {
			t.Errorf("%s: a report was written although its table was refused", flag)
		}
	}
}
