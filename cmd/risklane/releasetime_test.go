package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"risklane/datasets/synth"
)

// writeTimestamped writes rows generated declarations with their
// release-time milestones to path (writeGenerated).
func writeTimestamped(t *testing.T, path string, rows int64, seed uint64) {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed, cfg.Timestamps = rows, seed, true
	writeGenerated(t, path, cfg)
}

// TestReleaseTimeCommand runs the analysis on generated milestones and
// finds the planted inspection delay: red slower than yellow slower than
// green, and the rows with a missing payment in the rejects.
func TestReleaseTimeCommand(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	writeTimestamped(t, p("decl.parquet"), 20000, 3)
	text, err := execute(t, newReleaseTimeCmd, "--in", p("decl.parquet"), "--profile", "canonical", "--out", p("rt.csv"), "--rejects", p("bad.csv"))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	t.Log(text)
	median := map[string]float64{}
	for _, r := range readCSV(t, p("rt.csv"))[1:] {
		if r[0] == "lane" {
			median[r[1]] = num(t, r[4])
		}
	}
	if !(median["red"] > median["yellow"] && median["yellow"] > median["green"] && median["green"] > 0) {
		t.Errorf("median hours by lane %v: want red > yellow > green", median)
	}
	bad := readCSV(t, p("bad.csv"))
	if len(bad) < 2 || !strings.Contains(bad[1][4], "missing payment_time") {
		t.Errorf("rejects %v: want the generated missing payments", bad[:min(3, len(bad))])
	}
}

// TestReleaseTimeNeedsMilestones: data without milestones is refused with a
// message that says how to get them.
func TestReleaseTimeNeedsMilestones(t *testing.T) {
	dir := t.TempDir()
	synthCSV(t, filepath.Join(dir, "d.csv"), 100)
	_, err := execute(t, newReleaseTimeCmd, "--in", filepath.Join(dir, "d.csv"), "--profile", "canonical", "--out", filepath.Join(dir, "rt.csv"))
	if err == nil || !strings.Contains(err.Error(), "generate --timestamps") {
		t.Fatalf("error %v", err)
	}
}

// TestReleaseTimeRejectsAreSafeCSV: a declaration id a spreadsheet would
// evaluate is neutralised in the rejects file, as in every CSV risklane
// writes (sink.SafeCell).
func TestReleaseTimeRejectsAreSafeCSV(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	writeTimestamped(t, p("decl.csv"), 50, 3)
	rows := readCSV(t, p("decl.csv"))
	col := slices.Index(rows[0], "release_time")
	if col < 0 {
		t.Fatalf("no release_time column in %v", rows[0])
	}
	rows[1][0], rows[1][col] = `=HYPERLINK("http://evil.example/","x")`, ""
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	if err := cw.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p("hostile.csv"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if text, err := execute(t, newReleaseTimeCmd, "--in", p("hostile.csv"), "--profile", "canonical", "--out", p("rt.csv"), "--rejects", p("bad.csv")); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	found := false
	for _, r := range readCSV(t, p("bad.csv"))[1:] {
		if strings.Contains(r[1], "HYPERLINK") {
			found = true
			if !strings.HasPrefix(r[1], "'") {
				t.Errorf("rejects id %q: a formula reached the CSV", r[1])
			}
		}
	}
	if !found {
		t.Error("the row without a release time is not in the rejects")
	}
}
