package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/sink"
)

func runReleaseTimeCmd(args ...string) (string, error) {
	var out bytes.Buffer
	cmd := newReleaseTimeCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestReleaseTimeCommand runs the analysis on generated milestones and
// finds the planted inspection delay: red slower than yellow slower than
// green, and the rows with a missing payment in the rejects.
func TestReleaseTimeCommand(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed, cfg.Timestamps = 20000, 3, true
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
	text, err := runReleaseTimeCmd("--in", p("decl.parquet"), "--profile", "canonical", "--out", p("rt.csv"), "--rejects", p("bad.csv"))
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
	_, err := runReleaseTimeCmd("--in", filepath.Join(dir, "d.csv"), "--profile", "canonical", "--out", filepath.Join(dir, "rt.csv"))
	if err == nil || !strings.Contains(err.Error(), "generate --timestamps") {
		t.Fatalf("error %v", err)
	}
}
