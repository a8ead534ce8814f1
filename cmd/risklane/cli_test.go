package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"risklane/internal/testenv"
	"risklane/internal/version"
	"risklane/pipeline/rank"
	"risklane/pipeline/run"
)

// One rule for shares: ingest's --max-reject-rate takes "2%" as score's and
// the job file's do (it used to exit 2 on the percent sign), and "0.02" too.
func TestIngestRejectRateShare(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte(cliHeader+strings.Repeat(cliRow, 48)+"bad\n"+"bad\n"), 0o644) // 2 of 50 = 4%
	for _, tc := range []struct {
		rate string
		code int
	}{{"2%", run.ExitRejectRate}, {"0.02", run.ExitRejectRate}, {"5%", 0}, {"0.05", 0}, {"1", 0}, {"5", run.ExitUsage}, {"150%", run.ExitUsage}} {
		out, err := runIngestCLI("ingest", "--in", in, "--profile", "date", "--max-reject-rate", tc.rate)
		code := 0
		if err != nil {
			code = exitCode(err)
		}
		if code != tc.code {
			t.Errorf("--max-reject-rate %s: exit %d (%v), want %d\n%s", tc.rate, code, err, tc.code, out)
		}
	}
}

// report --budget reads a share by the same rule; a bare count is refused
// with the way to write a share (it used to mean percent in report alone).
func TestReportBudgetShare(t *testing.T) {
	for _, tc := range []struct {
		budget, want string
	}{
		{"5", "a whole number is a count of rows, and the fraud map needs an inspection rate: write 5% for a share"},
		{"0%", "give a share above 0"},
		{"5 percent", "give a share above 0"},
	} {
		_, err := execute(t, newReportCmd, "--model", "m", "--in", "x.csv", "--profile", "canonical", "--out", "r.html", "--budget", tc.budget)
		if err == nil || exitCode(err) != run.ExitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("report --budget %s: %v; want exit 2 saying %q", tc.budget, err, tc.want)
		}
	}
}

// One name per idea: the old spellings still work, as hidden aliases that
// warn, and set the same value as the new name.
func TestDeprecatedAliases(t *testing.T) {
	for _, tc := range []struct {
		cmd      func() *cobra.Command
		old, new string
		value    string
	}{
		{newRulesCmd, "threads", "workers", "3"},
		{newTrainCmd, "threads", "workers", "3"},
		{newClusterCmd, "model", "clusters", "c.json"},
		{newScoreCmd, "tmp", "temp-dir", "/tmp/x"},
	} {
		c := tc.cmd()
		var out bytes.Buffer
		c.SetOut(&out)
		c.SetErr(&out)
		fl := c.Flags()
		if err := c.ParseFlags([]string{"--" + tc.old, tc.value}); err != nil {
			t.Fatalf("%s --%s: %v", c.Name(), tc.old, err)
		}
		if got := fl.Lookup(tc.new).Value.String(); got != tc.value {
			t.Errorf("%s --%s %s: --%s is %q", c.Name(), tc.old, tc.value, tc.new, got)
		}
		if !strings.Contains(out.String(), "Flag --"+tc.old+" has been deprecated, use --"+tc.new) {
			t.Errorf("%s --%s: no deprecation warning, output %q", c.Name(), tc.old, out.String())
		}
		var help bytes.Buffer
		c.SetOut(&help)
		c.Help()
		if strings.Contains(help.String(), "--"+tc.old+" ") || !strings.Contains(help.String(), "--"+tc.new) {
			t.Errorf("%s --help shows --%s or hides --%s:\n%s", c.Name(), tc.old, tc.new, help.String())
		}
	}
}

// run --help lists every key the job parser reads (run.JobKeys), the README
// points to it, and it no longer points back to the README.
func TestRunHelpListsEveryKey(t *testing.T) {
	var help bytes.Buffer
	c := newRunCmd()
	c.SetOut(&help)
	c.Help()
	for _, k := range run.JobKeys {
		if !strings.Contains(help.String(), "\n  "+k.Name+" ") {
			t.Errorf("run --help does not list the job key %s", k.Name)
		}
	}
	if strings.Contains(help.String(), "see the README") {
		t.Error("run --help sends the reader to the README")
	}
}

// --version and the version command print the version manifests record.
func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		var out bytes.Buffer
		rootCmd.SetOut(&out)
		rootCmd.SetArgs(args)
		if err := rootCmd.Execute(); err != nil {
			t.Fatalf("risklane %s: %v", args[0], err)
		}
		if got, want := out.String(), "risklane "+version.String()+"\n"; got != want {
			t.Errorf("risklane %s printed %q, want %q", args[0], got, want)
		}
	}
	rootCmd.SetArgs(nil)
}

// ingest of a European export: the summary counts rejects by column and
// reason and says which profile keys to set; a file that does not fit a
// file profile gets a 'profiles show' hint naming the file, which works.
func TestIngestHints(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "eu.yaml")
	os.WriteFile(prof, []byte("columns: {declaration_id: id, date: date, hs_code: hs, cif_value: value, quantity: qty}\ndelimiter: \";\"\ndate_layouts: [\"2006-01-02\"]\n"), 0o644)
	in := filepath.Join(dir, "eu.csv")
	os.WriteFile(in, []byte("id;date;hs;value;qty\n"+strings.Repeat("A;2021-01-01;010129;372.254,40;1\n", 3)+"B;2021-01-01;010129;12;1\n"), 0o644)
	out, err := runIngestCLI("ingest", "--in", in, "--profile", prof, "--max-reject-rate", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"rejected rows by column and reason:\n  3  value  not a number  (e.g. \"372.254,40\")\n",
		`hint: 3 rows of column "value" have numbers like "372.254,40": set decimal: "," and thousands: "." in the profile`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ingest output lacks %q:\n%s", want, out)
		}
	}
	other := filepath.Join(dir, "other.csv")
	os.WriteFile(other, []byte("id;when;hs;value;qty\n"), 0o644)
	_, err = runIngestCLI("ingest", "--in", other, "--profile", prof)
	if err == nil || !strings.Contains(err.Error(), "'risklane profiles show "+prof+"'") {
		t.Fatalf("hint for a file profile: %v", err)
	}
	if shown, err := runIngestCLI("profiles", "show", prof); err != nil || !strings.Contains(shown, "declaration_id: id") {
		t.Errorf("the hint's command fails: %v\n%s", err, shown)
	}
}

// The night: KCS declarations without Fraud and Critical Fraud score
// with the built-in kcs profile (they used to exit 1), in a nightly job too,
// and cluster; training on them is refused with a message that says labels
// are needed.
func TestScoreUnlabelledKCS(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small KCS model")
	}
	train := testenv.SharedData(t, "kcs/train.csv")
	valid := testenv.SharedData(t, "kcs/valid.csv")
	dir := t.TempDir()
	night := filepath.Join(dir, "tonight.csv")
	dropColumns(t, valid, night, 500, "Fraud", "Critical Fraud")
	model := filepath.Join(dir, "model")
	if out, err := execute(t, newTrainCmd, "--profile", "kcs", "--in", train, "--out", model, "--rounds", "10", "--max-depth", "3", "--quiet"); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	out, err := execute(t, newScoreCmd, "--model", model, "--profile", "kcs", "--in", night, "--out", filepath.Join(dir, "ranked.csv"), "--log-format", "text")
	if err != nil || !strings.Contains(out, "scored 500 declarations (500 read, 0 rejected)") {
		t.Fatalf("score of an unlabelled night: %v\n%s", err, out)
	}
	// A budget of 2 is two rows, and said to be (0.4% of the night).
	out, err = execute(t, newScoreCmd, "--model", model, "--profile", "kcs", "--in", night, "--out", filepath.Join(dir, "ranked2.csv"), "--budget", "2")
	if err != nil || !strings.Contains(out, "budget 2 means 2 rows (0.4% of the 500 scored); write 2% for a share") {
		t.Errorf("score --budget 2: no warning that it is a count: %v\n%s", err, out)
	}
	// The nightly job and the price clusters read it too.
	job := filepath.Join(dir, "night.yaml")
	os.WriteFile(job, fmt.Appendf(nil, "input: %s\nprofile: kcs\nmodel: %s\noutputs: %s\n", night, model, filepath.Join(dir, "nights")), 0o644)
	if out, err := execute(t, newRunCmd, job, "--night", "2021-01-01"); err != nil || !strings.Contains(out, "scored 500 declarations") {
		t.Errorf("run of an unlabelled night: %v\n%s", err, out)
	}
	if out, err := execute(t, newClusterCmd, "--in", night, "--profile", "kcs", "--out", filepath.Join(dir, "clusters.csv"), "--min-group-rows", "5"); err != nil ||
		!strings.Contains(out, "Read 500 rows: 500 accepted, 0 rejected") {
		t.Errorf("cluster of an unlabelled night: %v\n%s", err, out)
	}
	_, err = execute(t, newTrainCmd, "--profile", "kcs", "--in", night, "--out", filepath.Join(dir, "m2"), "--quiet")
	if err == nil || !strings.Contains(err.Error(), "training and evaluation need labelled declarations") {
		t.Errorf("train on an unlabelled file: %v", err)
	}
}

// dropColumns copies the first rows of a CSV file without the named columns.
func dropColumns(t *testing.T, from, to string, rows int, drop ...string) {
	t.Helper()
	src, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(src)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var keep []int
	for i, h := range recs[0] {
		if !slices.Contains(drop, h) {
			keep = append(keep, i)
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, r := range recs[:min(rows+1, len(recs))] {
		var out []string
		for _, i := range keep {
			out = append(out, r[i])
		}
		w.Write(out)
	}
	w.Flush()
	if err := os.WriteFile(to, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// report warns when it is given the model's own training file (metrics on
// rows the model learnt from), and not for held-out declarations.
func TestReportWarnsOnTrainingRows(t *testing.T) {
	dir := t.TempDir()
	train, held := filepath.Join(dir, "train.parquet"), filepath.Join(dir, "held.parquet")
	for _, f := range []struct {
		path string
		seed uint64
	}{{train, 1}, {held, 2}} {
		b, err := generated(4000, f.seed)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeBatches(f.path, b); err != nil {
			t.Fatal(err)
		}
	}
	model := filepath.Join(dir, "model")
	if out, err := execute(t, newTrainCmd, "--profile", "canonical", "--in", train, "--out", model, "--rounds", "5", "--max-depth", "3", "--quiet"); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		in   string
		warn bool
	}{{train, true}, {held, false}} {
		out, err := execute(t, newReportCmd, "--model", model, "--profile", "canonical", "--in", tc.in, "--out", filepath.Join(dir, "r.html"))
		if err != nil {
			t.Fatalf("report: %v\n%s", err, out)
		}
		if got := strings.Contains(out, "warning: "+tc.in+" is a file model"); got != tc.warn {
			t.Errorf("report --in %s: warning %v, want %v\n%s", filepath.Base(tc.in), got, tc.warn, out)
		}
	}
}

// One seed default everywhere: every command's --seed starts at the job
// files' seed (train and simulate used to start at 0).
func TestOneSeedDefault(t *testing.T) {
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		if f := c.Flags().Lookup("seed"); f != nil {
			seen++
			if want := strconv.FormatUint(rank.DefaultPlan().Seed, 10); f.DefValue != want {
				t.Errorf("%s --seed defaults to %s, the job files to %s", c.CommandPath(), f.DefValue, want)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(rootCmd)
	if seen < 5 {
		t.Errorf("%d commands have --seed; want train, score, cluster, generate and simulate at least", seen)
	}
}

// The long commands show a bar per stage on a terminal, nothing with
// --quiet, and nothing when stderr is not a terminal.
func TestProgressOnTerminal(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	type step struct {
		name   string
		cmd    func() *cobra.Command // nil: the shared ingest command
		args   []string
		stages []string // the bars a terminal shows, in order
	}
	steps := []step{
		{"generate", newGenerateCmd, []string{"--rows", "3000", "--out", p("d.parquet")}, []string{"generate", "3000/3000"}},
		{"ingest", nil, []string{"ingest", "--in", p("d.parquet"), "--profile", "canonical"}, []string{"ingest"}},
		{"cluster", newClusterCmd, []string{"--in", p("d.parquet"), "--profile", "canonical", "--out", p("c.parquet")}, []string{"read", "fit"}},
		{"report", newReportCmd, []string{"--model", p("m"), "--in", p("d.parquet"), "--profile", "canonical", "--out", p("r.html")},
			[]string{"read", "predict", "rules", "charts"}},
	}
	run := func(s step, extra ...string) string {
		t.Helper()
		args := append(slices.Clone(s.args), extra...)
		var out string
		var err error
		if s.cmd == nil {
			out, err = runIngestCLI(args...)
		} else {
			out, err = execute(t, s.cmd, args...)
		}
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", s.name, args, err, out)
		}
		return out
	}
	terminal := onTerminal
	defer func() { onTerminal = terminal }()
	for _, s := range steps {
		if s.name == "report" {
			if out, err := execute(t, newTrainCmd, "--profile", "canonical", "--in", p("d.parquet"), "--out", p("m"), "--rounds", "3", "--max-depth", "2", "--quiet"); err != nil {
				t.Fatalf("train: %v\n%s", err, out)
			}
		}
		plain := run(s)
		// The bar redraws its line with a carriage return; no summary has one.
		if strings.Contains(plain, "\r") {
			t.Errorf("%s shows a bar when stderr is not a terminal:\n%s", s.name, plain)
		}
		onTerminal = func(io.Writer) bool { return true }
		shown := run(s)
		quiet := run(s, "--quiet")
		onTerminal = terminal
		at := 0
		for _, st := range s.stages {
			j := strings.Index(shown[at:], st)
			if j < 0 {
				t.Errorf("%s on a terminal: no %q after byte %d:\n%s", s.name, st, at, shown)
				break
			}
			at += j + len(st)
		}
		if !strings.Contains(shown, "\r") {
			t.Errorf("%s on a terminal shows no bar:\n%q", s.name, shown)
		}
		if strings.Contains(quiet, "\r") {
			t.Errorf("%s --quiet shows a bar:\n%s", s.name, quiet)
		}
	}
}

// train's per-round evaluation log follows the same rule as the bars: on a
// terminal, or anywhere with --verbose; never with --quiet.
func TestTrainEvalLogOnTerminal(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d.parquet")
	b, err := generated(3000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeBatches(data, b); err != nil {
		t.Fatal(err)
	}
	terminal := onTerminal
	defer func() { onTerminal = terminal }()
	for _, tc := range []struct {
		terminal bool
		flag     string
		want     bool
	}{{false, "", false}, {false, "--verbose", true}, {true, "", true}, {true, "--quiet", false}} {
		onTerminal = func(io.Writer) bool { return tc.terminal }
		args := []string{"--profile", "canonical", "--in", data, "--valid-from", "2024-10-01", "--out", filepath.Join(dir, "m"), "--rounds", "3", "--max-depth", "2"}
		if tc.flag != "" {
			args = append(args, tc.flag)
		}
		out, err := execute(t, newTrainCmd, args...)
		if err != nil {
			t.Fatalf("train %s: %v\n%s", tc.flag, err, out)
		}
		if got := strings.Contains(out, "[2]\ttrain-logloss:"); got != tc.want {
			t.Errorf("train %s on a terminal %v: evaluation log shown %v, want %v\n%s", tc.flag, tc.terminal, got, tc.want, out)
		}
	}
}
