package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"risklane/beam/internal/reftest"
	"risklane/beam/internal/scratch"
	"risklane/features"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/internal/version"
)

// TestMain runs the tests in a private TMPDIR (scratch.Isolate), removed at
// the end with the binaries built into it and what the runs leave there.
func TestMain(m *testing.M) {
	restore, err := scratch.Isolate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	restore()
	os.Exit(code)
}

var (
	beamOnce sync.Once
	beamBin  string
	beamErr  error
)

// risklaneBeam builds this command, stamped with the version risklane is
// stamped with (the ranked file records it).
func risklaneBeam(t *testing.T) string {
	t.Helper()
	beamOnce.Do(func() {
		dir, err := os.MkdirTemp("", "risklane-beam-cmd-")
		if err != nil {
			beamErr = err
			return
		}
		beamBin = filepath.Join(dir, "risklane-beam")
		cmd := exec.Command("go", "build", "-ldflags", "-X risklane/internal/version.stamp="+version.String(), "-o", beamBin, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			beamErr = err
			beamBin = string(out)
		}
	})
	if beamErr != nil {
		t.Fatalf("building risklane-beam: %v\n%s", beamErr, beamBin)
	}
	return beamBin
}

// beamRun runs risklane-beam and returns its exit code and output.
func beamRun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(risklaneBeam(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

// beamOK runs risklane-beam and fails the test unless it succeeds.
func beamOK(t *testing.T, args ...string) {
	t.Helper()
	if code, out := beamRun(t, args...); code != 0 {
		t.Fatalf("risklane-beam %v: exit %d\n%s", args, code, out)
	}
}

// TestSubcommandsEqualSingleMachine runs every subcommand of the built
// binary on Prism on small generated data and compares what it writes with
// the single-machine command given the same flags: fit with risklane
// train's features.json (the mirror group included), cluster with risklane
// cluster (assignments, group table, model, reference prices, rejects),
// mirror with risklane mirror, score with risklane score; sample against its
// input (every illicit row kept, fewer rows).
func TestSubcommandsEqualSingleMachine(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	reftest.Sh(t, "generate", "--rows", "3000", "--seed", "61", "--out", p("h.parquet"), "--trade", p("trade.csv"), "--tariffs", p("tariffs.csv"))
	reftest.Sh(t, "generate", "--rows", "1500", "--seed", "62", "--out", p("h2.csv"))
	reftest.Damage(t, p("h2.csv"))
	in := []string{"--in", p("h.parquet"), "--in", p("h2.csv"), "--profile", "canonical"}
	mirrorArgs := []string{"--trade", p("trade.csv"), "--reporter", "KEN", "--tariffs", p("tariffs.csv")}
	cat := func(a ...[]string) []string {
		var out []string
		for _, x := range a {
			out = append(out, x...)
		}
		return out
	}

	t.Run("fit", func(t *testing.T) {
		reftest.Sh(t, cat([]string{"train", "--out", p("model"), "--rounds", "1", "--seed", "4"}, in, mirrorArgs)...)
		beamOK(t, cat([]string{"fit", "--out", p("features.json"), "--seed", "4", "--rejects", p("fit-rejects.csv")}, in, mirrorArgs)...)
		reftest.SameFile(t, p("model/features.json"), p("features.json"))
	})
	t.Run("cluster", func(t *testing.T) {
		args := []string{"--k-max", "4", "--seed", "9"}
		reftest.Sh(t, cat([]string{"cluster", "--out", p("want.parquet"), "--clusters", p("want.json"), "--reference-prices", p("want-prices.csv")}, in, args)...)
		beamOK(t, cat([]string{"cluster", "--out", p("got.parquet"), "--clusters", p("got.json"), "--reference-prices", p("got-prices.csv")}, in, args)...)
		for _, f := range []string{".parquet", ".groups.parquet", ".json", "-prices.csv"} {
			reftest.SameFile(t, p("want"+f), p("got"+f))
		}
	})
	t.Run("mirror", func(t *testing.T) {
		args := cat(mirrorArgs, []string{"--min-value", "500", "--duty-base", "fob"})
		reftest.Sh(t, cat([]string{"mirror", "--out", p("gaps-want.csv"), "--signals", p("sig-want.json"), "--rejects", p("mr-want.csv")}, args)...)
		beamOK(t, cat([]string{"mirror", "--out", p("gaps-got.csv"), "--signals", p("sig-got.json"), "--rejects", p("mr-got.csv")}, args)...)
		for _, f := range []string{"gaps-%s.csv", "sig-%s.json", "mr-%s.csv"} {
			reftest.SameFile(t, p(strings.Replace(f, "%s", "want", 1)), p(strings.Replace(f, "%s", "got", 1)))
		}
	})
	t.Run("score", func(t *testing.T) {
		reftest.Sh(t, "train", "--in", p("h.parquet"), "--profile", "canonical", "--out", p("smodel"), "--rounds", "10", "--max-depth", "3", "--seed", "3")
		args := []string{"--model", p("smodel"), "--in", p("h2.csv"), "--in", p("h.parquet"), "--profile", "canonical", "--budget", "40", "--explore", "5%", "--seed", "8"}
		reftest.Sh(t, cat([]string{"score", "--out", p("ranked-want.parquet"), "--rejects", p("sr-want.csv")}, args)...)
		beamOK(t, cat([]string{"score", "--out", p("ranked-got.parquet"), "--rejects", p("sr-got.csv"), "--buckets", "4"}, args)...)
		reftest.SameFile(t, p("ranked-want.parquet"), p("ranked-got.parquet"))
		reftest.SameFile(t, p("sr-want.csv"), p("sr-got.csv"))
	})
	t.Run("sample", func(t *testing.T) {
		beamOK(t, cat([]string{"sample", "--out", p("sample"), "--rate", "0.3", "--seed", "2"}, in)...)
		rows, illicit := countRows(t, "canonical", p("h.parquet"), p("h2.csv"))
		srows, sillicit := countRows(t, "canonical", p("sample/sample-00000.parquet"), p("sample/sample-00001.parquet"))
		if sillicit != illicit || srows >= rows || srows <= illicit {
			t.Errorf("sample: %d rows, %d illicit; input %d rows, %d illicit: want every illicit row and some of the others", srows, sillicit, rows, illicit)
		}
	})
}

// countRows reads files through a profile: accepted rows and illicit rows.
func countRows(t *testing.T, prof string, paths ...string) (rows, illicit int) {
	t.Helper()
	pr, err := profile.Resolve(prof)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ingest.OpenFiles(paths, pr, ingest.Options{RequireLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var y []int8
	for r.Next() {
		if y, err = features.ReadLabels(r.RecordBatch(), y[:0]); err != nil {
			t.Fatal(err)
		}
		for _, v := range y {
			rows++
			if v == 1 {
				illicit++
			}
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return rows, illicit
}

// TestUsage holds the command line's errors and help: an unknown command,
// a missing flag, a conflict between an output and an input, and --help
// naming the command's flags.
func TestUsage(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte("declaration_id\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train"}, 2, `unknown command "train"`},
		{[]string{"fit", "--in", in, "--profile", "canonical"}, 2, "give --out"},
		{[]string{"fit", "--in", in, "--profile", "nosuch"}, 1, "nosuch"},
		{[]string{"fit", "--in", in, "--profile", "canonical", "--out", "f.json", "--reporter", "KEN"}, 2, "go with --trade"},
		{[]string{"cluster", "--in", in, "--profile", "canonical", "--out", in}, 2, "--out"},
		{[]string{"cluster", "--in", in, "--profile", "canonical", "--out", "a.parquet", "--k-min", "1"}, 2, "--k-min 1"},
		{[]string{"mirror", "--trade", in, "--out", "g.csv"}, 2, "give --reporter"},
		{[]string{"sample", "--in", in, "--profile", "canonical", "--out", dir, "--rate", "2"}, 2, "--rate 2"},
		{[]string{"score", "--in", in, "--profile", "canonical", "--out", "r.parquet"}, 2, "give --model"},
		{[]string{"score", "--in", in, "--profile", "canonical", "--model", dir, "--out", "r.parquet", "--budget", "x"}, 2, "--budget"},
		{[]string{"fit", "--help"}, 0, "-features"},
		{[]string{"cluster", "--help"}, 0, "-value-mass"},
		{[]string{"--help"}, 0, "sample"},
		{nil, 2, "commands:"},
	} {
		code, out := beamRun(t, c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("risklane-beam %q: exit %d, want %d with %q; output:\n%s", c.args, code, c.code, c.want, out)
		}
	}
}
