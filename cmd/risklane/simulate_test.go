package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimulateCommand: generate drifting data, replay four weeks with three
// strategies, and read the table back.
func TestSimulateCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d.parquet")
	out, err := runCLI("generate", "--rows", "8000", "--seed", "2", "--from", "2024-01-01", "--to", "2024-04-30",
		"--drift", "2024-03-18", "--out", data, "--trade", "", "--truth", "", "--tariffs", "",
		"--format", "", "--label-rate", "1", "--fraud-rate", "0.06", "--timestamps=false", "--underdeclared-flows", "20", "--reporter", "KEN")
	runCLI("generate", "--drift", "", "--rows", "10", "--out", filepath.Join(dir, "reset.csv")) // flags outlive a run
	if err != nil {
		t.Fatalf("generate --drift: %v\n%s", err, out)
	}
	table := filepath.Join(dir, "sim.csv")
	out, err = runCLI("simulate", "--profile", "canonical", "--in", data, "--start", "2024-03-04", "--periods", "4",
		"--initial-days", "28", "--strategy", "random", "--strategy", "risky", "--strategy", "gbdt:0.5+random:0.5",
		"--rounds", "5", "--budget", "0.1", "--budget-end", "0.05", "--last", "2", "--quiet", "--out", table)
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, out)
	}
	for _, want := range []string{"Simulated 4 periods of 7 days from 2024-03-04, budget 0.1 to 0.05, 3 strategies", "Last 2 periods:", "gbdt:0.5+random:0.5", "Table written to"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 1+3*4 || !strings.HasPrefix(lines[0], "strategy,period,from,to,rows,budget,inspected,frauds,precision,revenue") {
		t.Errorf("sim.csv: %d lines, header %q", len(lines), lines[0])
	}

	// The table becomes the report's inspection-policy section.
	html := filepath.Join(dir, "policy.html")
	if out, err := execute(t, newReportCmd, "--model", oldModel, "--profile", "canonical", "--in", "testdata/oldmodel/night.csv",
		"--out", html, "--simulation", table); err != nil {
		t.Fatalf("report --simulation: %v\n%s", err, out)
	}
	page := string(mustRead(t, html))
	for _, want := range []string{`<section id="simulation">`, `id="chart-simulation-revenue"`, `id="chart-simulation-precision"`, "gbdt:0.5+random:0.5", "All 4 periods"} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}

	if out, err := runCLI("simulate", "--profile", "canonical", "--in", data, "--start", "2024-03-04", "--strategy", "gbdt:0.9+random:0.2"); err == nil || !isUsageError(err) {
		t.Errorf("weights summing to 1.1 were accepted: %v\n%s", err, out)
	}
}
