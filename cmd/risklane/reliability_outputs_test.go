package main

// The reliability suite, outputs part (issue 12, "data loss"): each test
// replays a probe an unlucky operator ran and checks that nothing they had
// is lost. See docs/reliability.md for the guarantees these tests hold
// risklane to.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"risklane/pipeline/run"
	"risklane/sink"
)

// reliabilityFixture is a small model folder trained by the train command,
// a CSV of declarations it can score, and what it takes to make more.
type reliabilityFixture struct {
	dir, model, csv, header string
}

var (
	relOnce sync.Once
	relFx   reliabilityFixture
	relErr  error
)

// newReliabilityFixture trains once per test binary: 6,000 generated rows,
// 5 trees.
func newReliabilityFixture(t *testing.T) reliabilityFixture {
	t.Helper()
	relOnce.Do(func() {
		dir, err := os.MkdirTemp("", "risklane-reliability-")
		relFx.dir = dir // removed by TestMain even if training fails
		if err != nil {
			relErr = err
			return
		}
		train, valid := writeSynth(t, dir, 6000)
		fx := reliabilityFixture{dir: dir, model: filepath.Join(dir, "model"), csv: valid}
		if out, err := execute(t, newTrainCmd, "--in", train, "--profile", "canonical", "--out", fx.model,
			"--rounds", "5", "--max-depth", "3"); err != nil {
			relErr = fmt.Errorf("train: %v\n%s", err, out)
			return
		}
		f, err := os.Open(valid)
		if err != nil {
			relErr = err
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		sc.Scan()
		fx.header = sc.Text()
		relFx = fx
	})
	if relErr != nil {
		t.Fatal(relErr)
	}
	return relFx
}

// copyInput copies the fixture's declarations to dir/name.
func (fx reliabilityFixture) copyInput(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	copyFile(t, fx.csv, p)
	return p
}

// rejectedOnly writes a CSV whose every row is rejected (wrong field count).
func (fx reliabilityFixture) rejectedOnly(t *testing.T, dir string, rows int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(fx.header + "\n")
	for i := range rows {
		fmt.Fprintf(&b, "bad-%d\n", i)
	}
	p := filepath.Join(dir, "all-bad.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReliabilityOutputPaths: an output that is an input or another output
// is refused before any work, exit code 2, with both flags and the path
// named, and every file left as it was.
func TestReliabilityOutputPaths(t *testing.T) {
	fx := newReliabilityFixture(t)
	type probe struct {
		name  string
		run   func(dir string) (string, error)
		flags []string // the two flags the error names
		path  string   // the file named in the error, relative to dir
	}
	score := func(args ...string) (string, error) {
		return runScore(t, append([]string{"--model", fx.model, "--profile", "canonical"}, args...)...)
	}
	probes := []probe{
		{"score --in same.csv --out same.csv", func(d string) (string, error) {
			in := fx.copyInput(t, d, "same.csv")
			return score("--in", in, "--out", in)
		}, []string{"--out", "--in"}, "same.csv"},
		{"score --in rin.csv --out rin.parquet --csv", func(d string) (string, error) {
			in := fx.copyInput(t, d, "rin.csv")
			return score("--in", in, "--out", filepath.Join(d, "rin.parquet"), "--csv")
		}, []string{"--csv", "--in"}, "rin.csv"},
		{"score --rejects naming the input", func(d string) (string, error) {
			in := fx.copyInput(t, d, "in.csv")
			return score("--in", in, "--out", filepath.Join(d, "r.parquet"), "--rejects", in)
		}, []string{"--rejects", "--in"}, "in.csv"},
		{"score --manifest naming the input", func(d string) (string, error) {
			in := fx.copyInput(t, d, "in.csv")
			return score("--in", in, "--out", filepath.Join(d, "r.parquet"), "--manifest", in)
		}, []string{"--manifest", "--in"}, "in.csv"},
		{"score --in through another route (./sub/../in.csv)", func(d string) (string, error) {
			in := fx.copyInput(t, d, "in.csv")
			os.Mkdir(filepath.Join(d, "sub"), 0o755)
			return score("--in", in, "--out", filepath.Join(d, "r.parquet"), "--rejects", filepath.Join(d, "sub", "..", "in.csv"))
		}, []string{"--rejects", "--in"}, "in.csv"},
		{"score --in a hard link of --out", func(d string) (string, error) {
			in := fx.copyInput(t, d, "in.csv")
			if err := os.Link(in, filepath.Join(d, "link.csv")); err != nil {
				t.Skip("no hard links here:", err)
			}
			return score("--in", in, "--out", filepath.Join(d, "link.csv"))
		}, []string{"--out", "--in"}, "link.csv"},
		{"score --out ro.csv --rejects ro.csv", func(d string) (string, error) {
			in := fx.copyInput(t, d, "in.csv")
			return score("--in", in, "--out", filepath.Join(d, "ro.csv"), "--rejects", filepath.Join(d, "ro.csv"))
		}, []string{"--out", "--rejects"}, "ro.csv"},
		{"score --manifest equal to --out", func(d string) (string, error) {
			in := fx.copyInput(t, d, "in.csv")
			return score("--in", in, "--out", filepath.Join(d, "r.csv"), "--manifest", filepath.Join(d, "r.csv"))
		}, []string{"--out", "--manifest"}, "r.csv"},
		{"ingest --in kv.csv --out kv.csv", func(d string) (string, error) {
			in := fx.copyInput(t, d, "kv.csv")
			return runIngestCLI("ingest", "--in", in, "--profile", "canonical", "--out", in)
		}, []string{"--out", "--in"}, "kv.csv"},
		{"ingest --rejects naming the input", func(d string) (string, error) {
			in := fx.copyInput(t, d, "kv.csv")
			return runIngestCLI("ingest", "--in", in, "--profile", "canonical", "--rejects", in)
		}, []string{"--rejects", "--in"}, "kv.csv"},
		{"train --rejects naming the input", func(d string) (string, error) {
			in := fx.copyInput(t, d, "t.csv")
			return execute(t, newTrainCmd, "--in", in, "--profile", "canonical", "--out", filepath.Join(d, "m"), "--rejects", in, "--rounds", "2")
		}, []string{"--rejects", "--in"}, "t.csv"},
		{"train --in inside the --out folder", func(d string) (string, error) {
			os.Mkdir(filepath.Join(d, "m"), 0o755)
			for _, name := range listDir(t, fx.model) {
				copyFile(t, filepath.Join(fx.model, name), filepath.Join(d, "m", name))
			}
			in := fx.copyInput(t, filepath.Join(d, "m"), "t.csv")
			return execute(t, newTrainCmd, "--in", in, "--profile", "canonical", "--out", filepath.Join(d, "m"), "--rounds", "2")
		}, []string{"--in", "--out"}, "t.csv"},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			dir := t.TempDir()
			stdout, err := p.run(dir)
			if code := exitCodeOf(err); code != run.ExitUsage || err == nil {
				t.Fatalf("exit %d, %v; want exit %d\n%s", code, err, run.ExitUsage, stdout)
			}
			for _, want := range append(slices.Clone(p.flags), p.path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not name %q: %v", want, err)
				}
			}
			// Only the probe's own files are there, each a whole copy of
			// the input: nothing was written, nothing overwritten.
			for _, name := range listDir(t, dir) {
				if name == "sub" || name == "m" {
					continue
				}
				if fileSHA(t, filepath.Join(dir, name)) != fileSHA(t, fx.csv) {
					t.Errorf("the refused run wrote or changed %s", name)
				}
			}
		})
	}

	// --out naming a folder fails at once, before the scoring work.
	t.Run("score --out a folder", func(t *testing.T) {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "r.parquet"), 0o755)
		in := fx.copyInput(t, dir, "in.csv")
		_, err := runScore(t, "--model", fx.model, "--profile", "canonical", "--in", in, "--out", filepath.Join(dir, "r.parquet"))
		if exitCodeOf(err) != run.ExitUsage || err == nil || !strings.Contains(err.Error(), "is a folder") {
			t.Fatalf("exit %d, %v; want exit 2 and \"is a folder\"", exitCodeOf(err), err)
		}
		if got := listDir(t, dir); !slices.Equal(got, []string{"in.csv", "r.parquet"}) {
			t.Fatalf("the refused run left %v", got)
		}
	})
}

// TestReliabilityTrainFolder: train --out replaces a model folder, never a
// folder risklane did not write.
func TestReliabilityTrainFolder(t *testing.T) {
	fx := newReliabilityFixture(t)
	dir := t.TempDir()
	mine := filepath.Join(dir, "thesis")
	os.Mkdir(mine, 0o755)
	os.WriteFile(filepath.Join(mine, "chapter1.tex"), []byte("three years of work"), 0o644)
	in := fx.copyInput(t, dir, "t.csv")
	_, err := execute(t, newTrainCmd, "--in", in, "--profile", "canonical", "--out", mine, "--rounds", "2")
	if exitCodeOf(err) != run.ExitUsage || err == nil || !strings.Contains(err.Error(), "did not write") {
		t.Fatalf("train over a user's folder: exit %d, %v; want exit 2, refused", exitCodeOf(err), err)
	}
	if b, err := os.ReadFile(filepath.Join(mine, "chapter1.tex")); err != nil || string(b) != "three years of work" {
		t.Fatalf("the user's file: %q, %v", b, err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"t.csv", "thesis"}) {
		t.Fatalf("the refused run left %v", got)
	}
	// A model folder trained before folders were marked (the fixture's,
	// copied without its marker) is recognised by its manifest, but not
	// once it holds a file its manifest does not list.
	model := filepath.Join(dir, "model")
	os.Mkdir(model, 0o755)
	for _, name := range listDir(t, fx.model) {
		if name != sink.Marker {
			copyFile(t, filepath.Join(fx.model, name), filepath.Join(model, name))
		}
	}
	os.WriteFile(filepath.Join(model, "notes.txt"), []byte("mine"), 0o644)
	if _, err := execute(t, newTrainCmd, "--in", in, "--profile", "canonical", "--out", model, "--rounds", "2"); exitCodeOf(err) != run.ExitUsage {
		t.Fatalf("train over a model folder holding a user's file: exit %d, %v; want 2", exitCodeOf(err), err)
	}
	os.Remove(filepath.Join(model, "notes.txt"))
	// Replaced, twice (the second time marked).
	for range 2 {
		if out, err := execute(t, newTrainCmd, "--in", in, "--profile", "canonical", "--out", model, "--rounds", "2"); err != nil {
			t.Fatalf("retraining into a model folder: %v\n%s", err, out)
		}
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"model", "t.csv", "thesis"}) {
		t.Fatalf("after retraining the folder holds %v", got)
	}
}

// TestReliabilityJobOutputs: a nightly job's retention and recovery touch
// only what risklane wrote.
func TestReliabilityJobOutputs(t *testing.T) {
	fx := newReliabilityFixture(t)
	dir := t.TempDir()
	in := fx.copyInput(t, dir, "night.csv")
	job := func(outputs string) string {
		p := filepath.Join(dir, "job.yaml")
		os.WriteFile(p, fmt.Appendf(nil, "input: %s\nprofile: canonical\nmodel: %s\noutputs: %s\nretention: {keep_nights: 1}\n",
			in, fx.model, outputs), 0o644)
		return p
	}
	userFiles := map[string]string{
		".staging-mine/draft.txt":   "a draft",
		"notes.replaced-v1/a.txt":   "notes",
		"2020-05-05/backup.txt":     "a backup",
		"report.replaced-v2/r.txt":  "version 2",
		"report/r.txt":              "the report",
		"2026-03-02.failed/why.txt": "a user's own failure notes",
	}
	plant := func(root string) {
		for p, content := range userFiles {
			os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
			os.WriteFile(filepath.Join(root, p), []byte(content), 0o644)
		}
	}
	intact := func(t *testing.T, root string) {
		t.Helper()
		for p, content := range userFiles {
			if b, err := os.ReadFile(filepath.Join(root, p)); err != nil || string(b) != content {
				t.Errorf("%s: %q, %v; want it untouched", p, b, err)
			}
		}
	}

	t.Run("a shared folder is refused", func(t *testing.T) {
		shared := filepath.Join(dir, "shared")
		plant(shared)
		_, err := execute(t, newRunCmd, job(shared), "--night", "2026-03-01")
		if exitCodeOf(err) != run.ExitUsage || err == nil || !strings.Contains(err.Error(), "did not write") {
			t.Fatalf("exit %d, %v; want exit 2, the folder refused", exitCodeOf(err), err)
		}
		intact(t, shared)
		if _, err := os.Lstat(filepath.Join(shared, "latest")); err == nil {
			t.Error("a refused run made latest")
		}
	})

	t.Run("risklane's folder, the user's files in it", func(t *testing.T) {
		outputs := filepath.Join(dir, "nights")
		for _, night := range []string{"2026-03-01", "2026-03-02"} {
			if out, err := execute(t, newRunCmd, job(outputs), "--night", night); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		}
		plant(outputs)
		for _, night := range []string{"2026-03-03", "2026-03-04"} {
			if out, err := execute(t, newRunCmd, job(outputs), "--night", night); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		}
		intact(t, outputs)
		for _, gone := range []string{"2026-03-01", "2026-03-02", "2026-03-03"} {
			if _, err := os.Stat(filepath.Join(outputs, gone)); err == nil {
				t.Errorf("retention kept night %s (keep_nights: 1)", gone)
			}
		}
		if l, _ := os.Readlink(filepath.Join(outputs, "latest")); l != "2026-03-04" {
			t.Errorf("latest -> %q", l)
		}
	})

	// The filesystem root is refused too (pipeline/run's TestRefusedOutputs):
	// a test that tried it here would, were the refusal ever lost, run
	// retention on the machine's root.
	t.Run("home refused", func(t *testing.T) {
		home := filepath.Join(dir, "home")
		os.Mkdir(home, 0o755)
		t.Setenv("HOME", home)
		for _, outputs := range []string{home, filepath.Dir(home)} {
			_, err := execute(t, newRunCmd, job(outputs), "--night", "2026-03-01")
			if exitCodeOf(err) != run.ExitUsage || err == nil {
				t.Errorf("outputs %s: exit %d, %v; want refused with exit 2", outputs, exitCodeOf(err), err)
			}
		}
		if got := listDir(t, home); len(got) != 0 {
			t.Errorf("the home folder got %v", got)
		}
	})
}

// TestReliabilityEmptyNight: a night whose every row is rejected, or with
// no row at all, fails and publishes nothing unless allowed.
func TestReliabilityEmptyNight(t *testing.T) {
	fx := newReliabilityFixture(t)
	dir := t.TempDir()
	bad := fx.rejectedOnly(t, dir, 50)
	empty := filepath.Join(dir, "empty.csv")
	os.WriteFile(empty, []byte(fx.header+"\n"), 0o644)

	for _, c := range []struct {
		in   string
		code int
	}{{bad, run.ExitRejectRate}, {empty, run.ExitFailure}} {
		out := filepath.Join(dir, "out", strings.TrimSuffix(filepath.Base(c.in), ".csv"))
		os.MkdirAll(out, 0o755)
		_, err := runScore(t, "--model", fx.model, "--profile", "canonical", "--in", c.in, "--out", filepath.Join(out, "r.parquet"))
		if exitCodeOf(err) != c.code {
			t.Errorf("score %s: exit %d, %v; want %d", filepath.Base(c.in), exitCodeOf(err), err, c.code)
		}
		if _, err := os.Stat(filepath.Join(out, "r.parquet")); err == nil {
			t.Errorf("score %s wrote a ranked file", filepath.Base(c.in))
		}
		if m, err := run.ReadManifest(filepath.Join(out, "r.manifest.json")); err != nil || m.Status != "failed" {
			t.Errorf("score %s: manifest %+v, %v; want status failed", filepath.Base(c.in), m, err)
		}
		if _, err := runScore(t, "--model", fx.model, "--profile", "canonical", "--in", c.in, "--out", filepath.Join(out, "r.parquet"), "--allow-empty"); err != nil {
			t.Errorf("score %s --allow-empty: %v", filepath.Base(c.in), err)
		}
	}

	// The nightly job: the night fails, latest stays on the last good one.
	outputs := filepath.Join(dir, "nights")
	good := fx.copyInput(t, dir, "good.csv")
	job := func(in, extra string) string {
		p := filepath.Join(dir, "job.yaml")
		os.WriteFile(p, fmt.Appendf(nil, "input: %s\nprofile: canonical\nmodel: %s\noutputs: %s\n%s", in, fx.model, outputs, extra), 0o644)
		return p
	}
	if out, err := execute(t, newRunCmd, job(good, ""), "--night", "2026-03-01"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	_, err := execute(t, newRunCmd, job(bad, ""), "--night", "2026-03-02")
	if exitCodeOf(err) != run.ExitRejectRate {
		t.Fatalf("a night of rejects: exit %d, %v; want %d", exitCodeOf(err), err, run.ExitRejectRate)
	}
	if l, _ := os.Readlink(filepath.Join(outputs, "latest")); l != "2026-03-01" {
		t.Fatalf("latest -> %q after a night of rejects", l)
	}
	if _, err := os.Stat(filepath.Join(outputs, "2026-03-02")); err == nil {
		t.Fatal("a night of rejects was published")
	}
	if out, err := execute(t, newRunCmd, job(bad, "allow_empty: true\n"), "--night", "2026-03-02"); err != nil {
		t.Fatalf("allow_empty: %v\n%s", err, out)
	}

	// ingest's default limit refuses a file whose every row is rejected.
	_, err = runIngestCLI("ingest", "--in", bad, "--profile", "canonical", "--out", filepath.Join(dir, "bad.parquet"))
	if exitCodeOf(err) != run.ExitRejectRate {
		t.Fatalf("ingest of rejects only: exit %d, %v; want %d", exitCodeOf(err), err, run.ExitRejectRate)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.parquet")); err == nil {
		t.Fatal("ingest wrote a table of rejects only")
	}
}

// TestReliabilityStaleTemporaries: what killed runs left (temporary files,
// spill folders) goes at the next start; what a live run holds stays.
func TestReliabilityStaleTemporaries(t *testing.T) {
	fx := newReliabilityFixture(t)
	dir := t.TempDir()
	in := fx.copyInput(t, dir, "in.csv")
	out := filepath.Join(dir, "ranked.parquet")
	stale := []string{".ranked.parquet.tmp-111", ".ranked.csv.tmp-222", ".ranked.manifest.json.tmp-333", ".rejects.csv.tmp-444"}
	for _, name := range stale {
		os.WriteFile(filepath.Join(dir, name), []byte("half a file"), 0o600)
	}
	os.MkdirAll(filepath.Join(dir, ".risklane-spill-555", "sub"), 0o700)
	os.WriteFile(filepath.Join(dir, ".risklane-spill-555", "ids"), []byte("spill"), 0o600)
	// A live writer's temporary file (this process holds it) is not stale.
	live, err := sink.CreateAtomic(filepath.Join(dir, "ranked.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	// A user's file that merely looks alike is not risklane's either.
	os.Symlink("in.csv", filepath.Join(dir, ".ranked.parquet.tmp-link"))

	if stdout, err := runScore(t, "--model", fx.model, "--profile", "canonical", "--in", in, "--out", out, "--csv",
		"--rejects", filepath.Join(dir, "rejects.csv")); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	got := listDir(t, dir)
	want := []string{filepath.Base(live.Name()), ".ranked.parquet.tmp-link", "in.csv", "ranked.csv", "ranked.manifest.json", "ranked.parquet", "rejects.csv"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("after the run the folder holds %v; want %v", got, want)
	}
}

// TestMain removes the shared reliability fixture (a folder in the
// temporary folder, trained once per test binary) when the tests end.
func TestMain(m *testing.M) {
	code := m.Run()
	if relFx.dir != "" {
		os.RemoveAll(relFx.dir)
	}
	os.Exit(code)
}
