package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/parquet-go/parquet-go"

	"risklane/datasets/synth"
	"risklane/internal/testenv"
	"risklane/models/riskmodel"
	"risklane/pipeline/rank"
	"risklane/pipeline/run"
	"risklane/sink"
)

// scoreFixture is a small trained model and a night's input.
type scoreFixture struct {
	model, input string
}

// newScoreFixture trains a small model (30 trees) on 20,000 generated rows
// and writes 40,000 other rows to score, in dir.
func newScoreFixture(t *testing.T, dir string) scoreFixture {
	t.Helper()
	train, err := generated(20000, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := riskmodel.DefaultConfig()
	cfg.Classifier.NumRounds, cfg.Classifier.MaxDepth = 30, 5
	cfg.Revenue.NumRounds = 20
	m, err := riskmodel.Train(train, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fx := scoreFixture{model: filepath.Join(dir, "model"), input: filepath.Join(dir, "night.parquet")}
	if err := m.Save(fx.model); err != nil {
		t.Fatal(err)
	}
	night, err := generated(40000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeBatches(fx.input, night); err != nil {
		t.Fatal(err)
	}
	return fx
}

// TestScoreCommand trains one model for its subtests.
func TestScoreCommand(t *testing.T) {
	fx := newScoreFixture(t, t.TempDir())
	t.Run("ranked file", func(t *testing.T) { scoreRankedFile(t, fx) })
	t.Run("usage and refusals", func(t *testing.T) { scoreUsageAndRefusals(t, fx) })
	t.Run("kill", func(t *testing.T) { killLeavesNoPartialOutput(t, fx) })
}

func generated(rows int64, seed uint64) ([]arrow.RecordBatch, error) {
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed, cfg.BatchSize = rows, seed, 8192
	cfg.NumImporters, cfg.NumSellers = 800, 500
	g, err := synth.New(cfg)
	if err != nil {
		return nil, err
	}
	var out []arrow.RecordBatch
	for !g.Done() {
		b, err := g.Next()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func writeBatches(path string, batches []arrow.RecordBatch) error {
	w, err := sink.Create(path, batches[0].Schema())
	if err != nil {
		return err
	}
	defer w.Abort()
	for _, b := range batches {
		if err := w.Write(b); err != nil {
			return err
		}
	}
	return w.Commit()
}

// runScore runs a fresh score command.
func runScore(t *testing.T, args ...string) (string, error) {
	return execute(t, newScoreCmd, args...)
}

func exitCodeOf(err error) int { return exitCode(err) }

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func scoreRankedFile(t *testing.T, fx scoreFixture) {
	dir := t.TempDir()
	out := filepath.Join(dir, "ranked.parquet")
	stdout, err := runScore(t, "--model", fx.model, "--profile", "canonical", "--in", fx.input, "--out", out,
		"--csv", "--rejects", filepath.Join(dir, "rejects.csv"), "--budget", "2%", "--yellow", "1000", "--explore", "25%", "--seed", "3")
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for _, want := range []string{"scored 40000 declarations", "red 800 (200 exploration draws), yellow 1000, green 38200", "ranked.csv"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	rows, err := parquet.ReadFile[rank.Row](out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 40000 || rows[0].Lane != rank.Red || rows[800].Lane != rank.Yellow || rows[1800].Lane != rank.Green {
		t.Fatalf("%d rows; lanes %s %s %s", len(rows), rows[0].Lane, rows[800].Lane, rows[1800].Lane)
	}
	m, err := run.ReadManifest(filepath.Join(dir, "ranked.manifest.json"))
	if err != nil || m.Status != "ok" || m.Counts.Scored != 40000 || len(m.Outputs) != 3 {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	t.Logf("rank 1: %+v", rows[0])
}

func scoreUsageAndRefusals(t *testing.T, fx scoreFixture) {
	dir := t.TempDir()
	out := filepath.Join(dir, "ranked.parquet")
	base := []string{"--model", fx.model, "--profile", "canonical", "--in", fx.input, "--out", out}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--model", fx.model}, run.ExitUsage, "give --model, --in, --profile and --out"},
		{append(base[:len(base):len(base)], "--budget", "5 percent"), run.ExitUsage, "--budget"},
		{append(base[:len(base):len(base)], "--explore", "101%"), run.ExitUsage, "--explore"},
		{append(base[:len(base):len(base)], "--rank-by", "luck"), run.ExitUsage, "--rank-by"},
		{append(base[:len(base):len(base)], "--max-reject-rate", "2 percent"), run.ExitUsage, "--max-reject-rate"},
		{append(base[:len(base):len(base)], "--log-format", "xml"), run.ExitUsage, "--log-format"},
		{[]string{"--model", filepath.Join(dir, "nope"), "--profile", "canonical", "--in", fx.input, "--out", out}, run.ExitFailure, "not a model folder"},
		{[]string{"--model", fx.model, "--profile", "canonical", "--in", filepath.Join(dir, "nope.csv"), "--out", out}, run.ExitFailure, "nope.csv"},
	} {
		_, err := runScore(t, tc.args...)
		if code := exitCodeOf(err); code != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: exit %d, %v; want %d and %q", tc.args, code, err, tc.code, tc.want)
		}
	}
	// A model whose features the input cannot give: refused, exit 4, nothing
	// written. The input lacks an optional column the model reads.
	m, err := riskmodel.Load(fx.model)
	if err != nil {
		t.Fatal(err)
	}
	var drop string
	for _, c := range []string{"origin_country", "departure_country", "tax_rate", "total_taxes", "importer_id"} {
		if slices.Contains(m.State.Columns(), c) {
			drop = c
			break
		}
	}
	if drop == "" {
		t.Fatalf("the model reads none of the optional columns this test drops: %v", m.State.Columns())
	}
	night, err := generated(2000, 3)
	if err != nil {
		t.Fatal(err)
	}
	var stripped []arrow.RecordBatch
	for _, b := range night {
		stripped = append(stripped, b.NewSlice(0, b.NumRows()))
		idx := b.Schema().FieldIndices(drop)[0]
		fields := append(append([]arrow.Field{}, b.Schema().Fields()[:idx]...), b.Schema().Fields()[idx+1:]...)
		cols := append(append([]arrow.Array{}, b.Columns()[:idx]...), b.Columns()[idx+1:]...)
		stripped[len(stripped)-1] = arrowRecord(arrow.NewSchema(fields, nil), cols, b.NumRows())
	}
	in := filepath.Join(t.TempDir(), "no-mode.parquet")
	if err := writeBatches(in, stripped); err != nil {
		t.Fatal(err)
	}
	_, err = runScore(t, "--model", fx.model, "--profile", "canonical", "--in", in, "--out", out, "--rejects", filepath.Join(dir, "rejects.csv"))
	if exitCodeOf(err) != run.ExitModelMismatch || !strings.Contains(err.Error(), drop) {
		t.Fatalf("mismatch: exit %d, %v", exitCodeOf(err), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused run wrote %v", entries)
	}
}

// Killing a run at any moment leaves, under every output name, either the
// previous file or the complete new one, and a manifest only beside the
// files it describes; a normal rerun then publishes outputs that agree with
// their manifest and leaves no litter (issue 12). The binary is started and
// sent SIGKILL at random moments, for the score command and for a nightly
// job.
func killLeavesNoPartialOutput(t *testing.T, fx scoreFixture) {
	bin := filepath.Join(t.TempDir(), "risklane")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join(testenv.Root(t), "cmd", "risklane")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	args := func(out string, seed int) []string {
		return []string{"score", "--model", fx.model, "--profile", "canonical", "--in", fx.input, "--out", out, "--csv",
			"--rejects", filepath.Join(filepath.Dir(out), "rejects.csv"), "--seed", fmt.Sprint(seed)}
	}
	// The previous night's files (seed 1) and the new run's (seed 2), made
	// to completion once.
	want := map[string][2]string{}
	var full time.Duration
	for i, seed := range []int{1, 2} {
		ref := filepath.Join(dir, fmt.Sprintf("ref%d", seed))
		os.Mkdir(ref, 0o755)
		t0 := time.Now()
		if out, err := exec.Command(bin, args(filepath.Join(ref, "ranked.parquet"), seed)...).CombinedOutput(); err != nil {
			t.Fatalf("reference run: %v\n%s", err, out)
		}
		full = max(full, time.Since(t0))
		for _, name := range []string{"ranked.parquet", "ranked.csv", "rejects.csv", "ranked.manifest.json"} {
			w := want[name]
			w[i] = fileSHA(t, filepath.Join(ref, name))
			want[name] = w
		}
	}
	if want["ranked.parquet"][0] == want["ranked.parquet"][1] {
		t.Fatal("the two seeds gave the same ranked file")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill moments seed %d; a full run takes %v", seed, full)
	r := rand.New(rand.NewPCG(seed, 7))
	work := filepath.Join(dir, "work")
	for k := range 5 {
		os.RemoveAll(work)
		os.Mkdir(work, 0o755)
		for _, name := range []string{"ranked.parquet", "ranked.csv", "rejects.csv", "ranked.manifest.json"} {
			copyFile(t, filepath.Join(dir, "ref1", name), filepath.Join(work, name))
		}
		cmd := exec.Command(bin, args(filepath.Join(work, "ranked.parquet"), 2)...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		after := moment(r, k, 5, full)
		time.Sleep(after)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		finished := err == nil
		for _, name := range []string{"ranked.parquet", "ranked.csv", "rejects.csv"} {
			got := fileSHA(t, filepath.Join(work, name))
			if got != want[name][0] && got != want[name][1] {
				t.Fatalf("kill %d after %v: %s is neither the previous file nor the new one", k, after, name)
			}
		}
		// The manifest (which holds timestamps, so differs run to run) is
		// absent (the run was between its first rename and its end), or
		// describes exactly the files beside it: the previous one the
		// previous files, a new one (written last, status ok) the new ones.
		manifest := filepath.Join(work, "ranked.manifest.json")
		if _, err := os.Stat(manifest); err == nil {
			m := agreesWithManifest(t, work, manifest)
			if fileSHA(t, manifest) != want["ranked.manifest.json"][0] {
				for _, o := range m.Outputs {
					if o.SHA256 != want[o.Path][1] {
						t.Fatalf("kill %d: the new manifest does not describe the new %s", k, o.Path)
					}
				}
			}
		}
		// A normal rerun: the outputs and their manifest agree, and nothing
		// the killed run left (temporary files, spill folders) remains.
		if out, err := exec.Command(bin, args(filepath.Join(work, "ranked.parquet"), 2)...).CombinedOutput(); err != nil {
			t.Fatalf("kill %d: the rerun failed: %v\n%s", k, err, out)
		}
		agreesWithManifest(t, work, filepath.Join(work, "ranked.manifest.json"))
		if got := listDir(t, work); !slices.Equal(got, []string{"ranked.csv", "ranked.manifest.json", "ranked.parquet", "rejects.csv"}) {
			t.Fatalf("kill %d after %v, then a rerun: the folder holds %v", k, after, got)
		}
		t.Logf("kill %d after %v (finished: %v): outputs intact", k, after.Round(time.Millisecond), finished)
	}

	// The nightly job: latest always names a complete night.
	jobDir := filepath.Join(dir, "job")
	os.Mkdir(jobDir, 0o755)
	job := filepath.Join(jobDir, "nightly.yaml")
	os.WriteFile(job, []byte(fmt.Sprintf("input: %s\nprofile: canonical\nmodel: %s\noutputs: %s\ncsv: true\n",
		fx.input, fx.model, filepath.Join(jobDir, "ranked"))), 0o644)
	t0 := time.Now()
	if out, err := exec.Command(bin, "run", job, "--night", "2026-03-01").CombinedOutput(); err != nil {
		t.Fatalf("first night: %v\n%s", err, out)
	}
	jobFull := time.Since(t0)
	first := fileSHA(t, filepath.Join(jobDir, "ranked", "2026-03-01", "ranked.parquet"))
	for k := range 4 {
		night := fmt.Sprintf("2026-03-%02d", k+2)
		cmd := exec.Command(bin, "run", job, "--night", night)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		after := moment(r, k, 4, jobFull)
		time.Sleep(after)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		latest, err := os.Readlink(filepath.Join(jobDir, "ranked", "latest"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := run.ReadManifest(filepath.Join(jobDir, "ranked", latest, "manifest.json"))
		if err != nil || m.Status != "ok" {
			t.Fatalf("kill %d: latest -> %s has manifest %+v, %v", k, latest, m, err)
		}
		for _, o := range m.Outputs {
			if fileSHA(t, filepath.Join(jobDir, "ranked", latest, o.Path)) != o.SHA256 {
				t.Fatalf("kill %d: %s/%s does not match its manifest", k, latest, o.Path)
			}
		}
		if _, err := os.Stat(filepath.Join(jobDir, "ranked", night)); err == nil && latest != night {
			t.Fatalf("kill %d: night %s published but latest -> %s", k, night, latest)
		}
		if fileSHA(t, filepath.Join(jobDir, "ranked", "2026-03-01", "ranked.parquet")) != first {
			t.Fatalf("kill %d changed the first night", k)
		}
		// The night rerun normally: published, whole, and nothing of the
		// killed run left.
		if out, err := exec.Command(bin, "run", job, "--night", night).CombinedOutput(); err != nil {
			t.Fatalf("kill %d: the rerun failed: %v\n%s", k, err, out)
		}
		agreesWithManifest(t, filepath.Join(jobDir, "ranked", night), filepath.Join(jobDir, "ranked", night, "manifest.json"))
		var nights []string
		for d := 1; d <= k+2; d++ {
			nights = append(nights, fmt.Sprintf("2026-03-%02d", d))
		}
		if got, want := listDir(t, filepath.Join(jobDir, "ranked")), append(append([]string{".lock", sink.Marker}, nights...), "latest"); !slices.Equal(got, want) {
			t.Fatalf("kill %d, then a rerun: outputs holds %v; want %v", k, got, want)
		}
		t.Logf("job kill %d after %v: latest -> %s, complete", k, after.Round(time.Millisecond), latest)
	}
}

// agreesWithManifest checks that the manifest has status ok and that every
// output it lists, in dir, has the size and SHA-256 it gives.
func agreesWithManifest(t *testing.T, dir, manifest string) *run.Manifest {
	t.Helper()
	m, err := run.ReadManifest(manifest)
	if err != nil || m.Status != "ok" || len(m.Outputs) == 0 {
		t.Fatalf("manifest %s: %+v, %v", manifest, m, err)
	}
	for _, o := range m.Outputs {
		p := o.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if got := fileSHA(t, p); got != o.SHA256 {
			t.Fatalf("%s: SHA-256 %s, its manifest %s says %s", p, got, manifest, o.SHA256)
		}
	}
	return m
}

// listDir lists the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// moment is the k-th of n kill moments: random within the k-th of n equal
// slices of 1.2 times a full run, so that kills land early, late and, now
// and then, after the end.
func moment(r *rand.Rand, k, n int, full time.Duration) time.Duration {
	slice := int64(full) * 6 / 5 / int64(n)
	return time.Duration(int64(k)*slice + r.Int64N(slice))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func arrowRecord(s *arrow.Schema, cols []arrow.Array, n int64) arrow.RecordBatch {
	return array.NewRecordBatch(s, cols, n)
}
