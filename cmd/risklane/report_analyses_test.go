package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportAnalysesSections: the tables risklane forecast and risklane
// release-time wrote become the report's forecast and release-time
// sections; a file that is not such a table is refused, naming its flag.
func TestReportAnalysesSections(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	writeTimestamped(t, p("decl.parquet"), 20000, 4)
	if text, err := execute(t, newForecastCmd, "--in", p("decl.parquet"), "--profile", "canonical", "--measure", "duty", "--by", "hs2",
		"--horizon", "3", "--out", p("fc.parquet")); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if text, err := execute(t, newReleaseTimeCmd, "--in", p("decl.parquet"), "--profile", "canonical", "--out", p("rt.csv")); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	night := "testdata/oldmodel/night.csv"
	out := p("r.html")
	text, err := execute(t, newReportCmd, "--model", oldModel, "--profile", "canonical", "--in", night, "--out", out,
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
	for _, flag := range []string{"--forecast", "--release-time", "--simulation"} {
		_, err := execute(t, newReportCmd, "--model", oldModel, "--profile", "canonical", "--in", night, "--out", p("x.html"), flag, p("other.csv"))
		if err == nil || !strings.Contains(err.Error(), flag) || !strings.Contains(err.Error(), "other.csv") {
			t.Errorf("%s with a table of another kind: %v", flag, err)
		}
		if _, serr := os.Stat(p("x.html")); serr == nil {
			t.Errorf("%s: a report was written although its table was refused", flag)
		}
	}
}

// TestReleaseTimeBudgetCost: with a ranked file of the same declarations,
// release-time estimates the trade hours that inspecting the top of the
// list adds; on generated data the planted inspection delay shows as a
// positive delay, the hours grow with the budget, and a ranked file of
// other declarations counts them with the overall delay.
func TestReleaseTimeBudgetCost(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	writeTimestamped(t, p("decl.parquet"), 20000, 5)
	if text, err := execute(t, newScoreCmd, "--model", oldModel, "--profile", "canonical", "--in", p("decl.parquet"), "--out", p("ranked.parquet")); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	text, err := execute(t, newReleaseTimeCmd, "--in", p("decl.parquet"), "--profile", "canonical", "--out", p("rt.csv"),
		"--ranked", p("ranked.parquet"), "--cost", p("cost.csv"), "--budgets", "1%,5%,10%,3000")
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	t.Log(text)
	rows := readCSV(t, p("cost.csv"))
	if got := strings.Join(rows[0], ","); got != "budget,inspected,added_hours,added_hours_per_declaration,added_hours_per_inspection,marginal_hours_per_percent" {
		t.Fatalf("header %s", got)
	}
	if len(rows) != 5 || rows[1][1] != "200" || rows[2][1] != "1000" || rows[4][1] != "3000" {
		t.Fatalf("rows %v", rows)
	}
	prev := 0.0
	for _, r := range rows[1:] {
		added, perInsp := num(t, r[2]), num(t, r[4])
		if !(added > prev) || !(perInsp > 2 && perInsp < 60) {
			t.Errorf("budget %s: %g hours added (%g per inspection): want growing, a few hours to a couple of days each", r[0], added, perInsp)
		}
		prev = added
	}
	if !strings.Contains(text, "Inspection delay:") {
		t.Errorf("no delay line in %s", text)
	}
	// Only --cost, or only --ranked: a usage error before any work.
	if _, err := execute(t, newReleaseTimeCmd, "--in", p("decl.parquet"), "--profile", "canonical", "--out", p("rt2.csv"), "--cost", p("c2.csv")); err == nil {
		t.Error("--cost without --ranked was accepted")
	}
	// The cost table cannot overwrite the ranked file.
	if _, err := execute(t, newReleaseTimeCmd, "--in", p("decl.parquet"), "--profile", "canonical", "--out", p("rt2.csv"), "--ranked", p("ranked.parquet"), "--cost", p("ranked.parquet")); err == nil || !strings.Contains(err.Error(), "--ranked") {
		t.Errorf("--cost over --ranked: %v", err)
	}
}
