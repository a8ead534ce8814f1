package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"risklane/ingest"
)

// TestRejectsFileNil: without --rejects there is no file, no sink (a nil
// interface, not a typed nil the reader would call) and nothing to commit.
func TestRejectsFileNil(t *testing.T) {
	rf, err := createRejects("")
	if rf != nil || err != nil || rf.sink() != nil || rf.commit() != nil {
		t.Fatalf("createRejects(\"\"): %v, %v", rf, err)
	}
	rf.abort()
}

// TestRejectsOnlyOnSuccess runs every command that reads declarations
// with --rejects through createRejects: a run that fails on its second
// input leaves no rejects file and no temporary beside it; one that
// succeeds writes it with ingest's header.
func TestRejectsOnlyOnSuccess(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "decl.csv")
	synthCSV(t, good, 3000)
	bad := filepath.Join(dir, "other.csv")
	if err := os.WriteFile(bad, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		run  func(rejects string, in ...string) (string, error)
	}{
		{"cluster", func(rejects string, in ...string) (string, error) {
			return execute(t, newClusterCmd, append(inFlags(in), "--profile", "canonical", "--out", filepath.Join(dir, "c.csv"), "--rejects", rejects)...)
		}},
		{"forecast", func(rejects string, in ...string) (string, error) {
			return execute(t, newForecastCmd, append(inFlags(in), "--profile", "canonical", "--measure", "duty", "--by", "hs2", "--horizon", "1",
				"--backtest", "0", "--out", filepath.Join(dir, "f.csv"), "--rejects", rejects)...)
		}},
		{"train", func(rejects string, in ...string) (string, error) {
			return execute(t, newTrainCmd, append(inFlags(in), "--profile", "canonical", "--out", filepath.Join(dir, "m"), "--rounds", "2", "--rejects", rejects)...)
		}},
		{"ingest", func(rejects string, in ...string) (string, error) {
			return runIngestCLI(append(append([]string{"ingest"}, inFlags(in)...), "--profile", "canonical", "--out", filepath.Join(dir, "i.parquet"), "--rejects", rejects)...)
		}},
	} {
		rejects := filepath.Join(dir, c.name+".rejects.csv")
		before := listDir(t, dir)
		if text, err := c.run(rejects, good, bad); err == nil {
			t.Errorf("%s with %s: no error\n%s", c.name, bad, text)
		}
		if after := listDir(t, dir); !slices.Equal(after, before) {
			t.Errorf("%s failed and left %v (had %v)", c.name, after, before)
		}
		if text, err := c.run(rejects, good); err != nil {
			t.Errorf("%s: %v\n%s", c.name, err, text)
			continue
		}
		if rows := readCSV(t, rejects); len(rows) != 1 || strings.Join(rows[0], ",") != strings.Join(ingest.RejectHeader, ",") {
			t.Errorf("%s: rejects file %v, want only the header", c.name, rows)
		}
		for _, n := range listDir(t, dir) {
			if strings.Contains(n, ".tmp-") {
				t.Errorf("%s left %s", c.name, n)
			}
		}
	}
}

func inFlags(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, "--in", p)
	}
	return out
}
