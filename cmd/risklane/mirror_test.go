package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMirrorCommand(t *testing.T) {
	td := filepath.Join("..", "..", "features", "mirror", "testdata")
	dir := t.TempDir()
	out := filepath.Join(dir, "gaps.parquet")
	text, err := execute(t, newMirrorCmd, "--trade", filepath.Join(td, "handworked_bulk.csv"), filepath.Join(td, "handworked_api.csv"),
		"--reporter", "KEN", "--tariffs", filepath.Join(td, "tariffs.csv"), "--out", out, "--top", "3",
		"--signals", filepath.Join(dir, "signals.json"), "--rejects", filepath.Join(dir, "rejects.csv"))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	// The hand-worked estimate, with tariffs only (520100 has no rate):
	// 13,750.00 + 15,400.00 + 85.43.
	for _, want := range []string{"read 19 = used 19 + rejected 0", "Revenue-gap estimate for KEN: US$ 29,235.43", "Caveats:", "upper bound", "exported as 870323"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	for _, f := range []string{out, filepath.Join(dir, "signals.json"), filepath.Join(dir, "rejects.csv")} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestMirrorCommandErrors(t *testing.T) {
	td := filepath.Join("..", "..", "features", "mirror", "testdata")
	dir := t.TempDir()
	for _, c := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"--reporter", "KEN", "--out", filepath.Join(dir, "g.csv")}, true, "--trade"},
		{[]string{"--trade", filepath.Join(td, "handworked_bulk.csv"), "--out", filepath.Join(dir, "g.csv")}, true, "--reporter"},
		{[]string{"--trade", filepath.Join(td, "handworked_bulk.csv"), "--reporter", "KEN", "--out", filepath.Join(dir, "g.txt2")}, true, "cannot tell the format"},
		{[]string{"--trade", filepath.Join(td, "handworked_bulk.csv"), "--reporter", "UGA", "--out", filepath.Join(dir, "g.csv")}, false, "no import rows reported by UGA"},
		{[]string{"--trade", filepath.Join(td, "missing.csv"), "--reporter", "KEN", "--out", filepath.Join(dir, "g.csv")}, false, "missing.csv"},
	} {
		_, err := execute(t, newMirrorCmd, c.args...)
		if err == nil || isUsageError(err) != c.usage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v (usage %v); want %q, usage %v", c.args, err, isUsageError(err), c.want, c.usage)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "g.csv")); err == nil {
		t.Error("a failed run left an output file")
	}
}
