package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(args ...string) (string, error) {
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	err := rootCmd.Execute()
	return out.String(), err
}

func TestGenerateCommand(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	out, err := runCLI("generate", "--rows", "5000", "--seed", "3", "--fraud-rate", "0.08", "--label-rate", "0.5",
		"--from", "2023-06-01", "--to", "2024-05-31", "--reporter", "tza", "--underdeclared-flows", "5",
		"--out", p("d.csv"), "--trade", p("trade.csv"), "--truth", p("truth.csv"), "--tariffs", p("tariffs.csv"))
	if err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	for _, want := range []string{"Generated 5000 declarations", "Planted under-declared flows: 5", "Truth written to"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	d, _ := os.ReadFile(p("d.csv"))
	if !strings.HasPrefix(string(d), "declaration_id,date,") || strings.Count(string(d), "\n") != 5001 {
		t.Errorf("d.csv: %d lines, starts %.30q", strings.Count(string(d), "\n"), d)
	}
	tr, _ := os.ReadFile(p("truth.csv"))
	if !strings.Contains(string(tr), "\nTZA,") {
		t.Errorf("truth.csv does not name reporter TZA:\n%s", tr)
	}

	out, err = runCLI("generate", "--rows", "2000", "--format", "date", "--out", p("date.csv"), "--trade", "", "--truth", "", "--tariffs", "")
	if err != nil {
		t.Fatalf("generate --format date: %v\n%s", err, out)
	}
	if d, _ := os.ReadFile(p("date.csv")); !strings.HasPrefix(string(d), "sgd.id,sgd.date,") {
		t.Errorf("date.csv starts %.30q", d)
	}
}

// A failure after the declarations were generated leaves no output at all.
func TestGenerateIsAtomic(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI("generate", "--rows", "3000", "--format", "", "--out", filepath.Join(dir, "d.parquet"),
		"--trade", filepath.Join(dir, "trade.csv"), "--truth", filepath.Join(dir, "missing", "truth.csv"), "--tariffs", "")
	if err == nil {
		t.Fatalf("no error writing into a missing folder:\n%s", out)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("outputs left after a failed run: %v", left)
	}
}

func TestGenerateUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", "2024-02-30"}, "--from"},
		{[]string{"--rows", "0"}, "rows = 0"},
		{[]string{"--format", "xml"}, "--format"},
		{[]string{"--out", "d.xlsx"}, "cannot tell the format"},
		{[]string{"--trade", "same.csv", "--truth", "same.csv"}, "are the same file"},
		{[]string{"--reporter", "ATL"}, "not a known country"},
		{[]string{"--fraud-rate", "1.5"}, "fraud rate"},
		{[]string{"--to", "2024-12-31", "--drift", "2024-06-03", "--drift-turn-uniform"}, "drift turn uniform"},
		{[]string{"--to", "2024-12-31", "--drift", "2024-06-03", "--drift-hidden-established"}, "drift hidden established"},
	} {
		args := append([]string{"generate", "--rows", "100", "--from", "2024-01-01", "--format", "", "--out", "d.parquet",
			"--trade", "", "--truth", "", "--tariffs", "", "--reporter", "KEN", "--fraud-rate", "0.06"}, tc.args...)
		_, err := runCLI(args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
}
