package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"risklane/models"
	"risklane/models/kinds"
	"risklane/pipeline/run"
)

// Reliability probes of model folders (issue 12): what a hostile or damaged
// folder does must fail fast and say why, and tampering must show in the
// model's ID. Every probe starts from the folder written by main before
// model kinds existed (testdata/oldmodel), so these tests train nothing.

const oldModel = "testdata/oldmodel/model"

// copyModel copies the committed model folder into a temporary folder.
func copyModel(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(oldModel)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(oldModel, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// rewriteManifest applies edit to the folder's manifest as a JSON object.
func rewriteManifest(t *testing.T, dir string, edit func(man map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, models.ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var man map[string]any
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	edit(man)
	if b, err = json.MarshalIndent(man, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rehash recomputes the manifest's file hashes from the files, as a
// tamperer would, and, when id is set, its model_id too.
func rehash(t *testing.T, dir string, id bool) {
	t.Helper()
	rewriteManifest(t, dir, func(man map[string]any) {
		files := map[string][]byte{}
		hashes := map[string]any{}
		for name := range man["files"].(map[string]any) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			files[name] = b
		}
		for name, h := range models.Hashes(files) {
			hashes[name] = h
		}
		man["files"] = hashes
		if id {
			man["model_id"] = models.FolderID(models.Hashes(files))
		}
	})
}

// loadWithin loads dir, failing the test rather than hanging when loading
// does not end within a minute.
func loadWithin(t *testing.T, dir string) (models.Model, error) {
	t.Helper()
	type result struct {
		m   models.Model
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := kinds.Load(dir)
		done <- result{m, err}
	}()
	select {
	case r := <-done:
		return r.m, r.err
	case <-time.After(time.Minute):
		t.Fatalf("loading %s did not end within a minute", dir)
		return nil, nil
	}
}

// TestReliabilityModelFileKinds: a listed file that is a symbolic link (to
// the endless zero device, or to a secret file), a FIFO or larger than the
// limit is refused before it is read; the message names it and never
// carries a digest of what it pointed to.
func TestReliabilityModelFileKinds(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(secret, []byte("root:$6$secret:19000:0:99999:7:::\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("root:$6$secret:19000:0:99999:7:::\n"))
	secretHash := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name, file, want string
		make             func(path string) error
	}{
		{"metrics to /dev/zero", models.MetricsFile, "symbolic link", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"model to a secret", "model.json", "symbolic link", func(p string) error { return os.Symlink(secret, p) }},
		{"metrics a FIFO", models.MetricsFile, "FIFO", mkfifo},
		{"features a folder", "features.json", "folder", func(p string) error { return os.Mkdir(p, 0o755) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyModel(t)
			path := filepath.Join(dir, tc.file)
			os.Remove(path)
			if err := tc.make(path); err != nil {
				t.Skipf("cannot make the probe: %v", err)
			}
			_, err := loadWithin(t, dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
				t.Fatalf("load: %v; want an error naming %s as %s", err, tc.file, tc.want)
			}
			if strings.Contains(err.Error(), secretHash) {
				t.Fatalf("the error carries the SHA-256 of the link's target: %v", err)
			}
			// and the score command fails the same way, exit 1
			out := filepath.Join(t.TempDir(), "ranked.csv")
			_, err = runScore(t, "--model", dir, "--profile", "canonical", "--in", "testdata/oldmodel/night.csv", "--out", out)
			if code := exitCodeOf(err); code != run.ExitFailure || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("score: exit %d, %v", code, err)
			}
		})
	}
	// a regular file changed in place: the message does not print its hash
	dir := copyModel(t)
	if err := os.WriteFile(filepath.Join(dir, "model.json"), []byte("root:$6$secret:19000:0:99999:7:::\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadWithin(t, dir); err == nil || strings.Contains(err.Error(), secretHash) || !strings.Contains(err.Error(), "changed or damaged") {
		t.Fatalf("changed model.json: %v", err)
	}
	// over the size limit
	defer func(n int64) { models.MaxFileBytes = n }(models.MaxFileBytes)
	models.MaxFileBytes = 100_000
	if _, err := loadWithin(t, copyModel(t)); err == nil || !strings.Contains(err.Error(), "more than the 100000") {
		t.Fatalf("file over the limit: %v", err)
	}
}

// TestReliabilityTamperedModelID: a model changed after training whose
// manifest hashes were recomputed is refused (its model_id no longer
// matches its files); with the model_id recomputed too, it loads under
// another ID than the genuine model's, and its runs get another run_id.
func TestReliabilityTamperedModelID(t *testing.T) {
	genuine, err := kinds.Load(oldModel)
	if err != nil {
		t.Fatal(err)
	}
	dir := copyModel(t)
	path := filepath.Join(dir, "model.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// any change to the bytes, even one that parses to the same trees
	if !strings.Contains(string(b), `"base_weights":[`) {
		t.Fatal("model.json has no base_weights")
	}
	b = []byte(strings.Replace(string(b), `"base_weights":[`, `"base_weights": [`, 1))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rehash(t, dir, false)
	if _, err := kinds.Load(dir); err == nil || !strings.Contains(err.Error(), "model_id") {
		t.Fatalf("tampered model, hashes recomputed, id kept: %v", err)
	}
	rehash(t, dir, true)
	tampered, err := kinds.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tampered.ID() == genuine.ID() {
		t.Fatalf("the tampered model keeps the genuine model_id %s", genuine.ID())
	}
	runOf := func(model string) string {
		out := filepath.Join(t.TempDir(), "ranked.csv")
		if _, err := runScore(t, "--model", model, "--profile", "canonical", "--in", "testdata/oldmodel/night.csv", "--out", out); err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, out)
		return rows[1][7]
	}
	if g, x := runOf(oldModel), runOf(dir); g == x {
		t.Fatalf("the tampered model's run has the genuine run_id %s", g)
	}
}

// TestReliabilityRankByRevenueWithoutHead: ranking by expected revenue with
// a model that has no revenue head is refused before any work (exit 2,
// nothing written), as evaluate refuses it.
func TestReliabilityRankByRevenueWithoutHead(t *testing.T) {
	dir := copyModel(t)
	os.Remove(filepath.Join(dir, "revenue.json"))
	os.Remove(filepath.Join(dir, "revenue.bin"))
	rewriteManifest(t, dir, func(man map[string]any) {
		files := man["files"].(map[string]any)
		delete(files, "revenue.json")
		delete(files, "revenue.bin")
		delete(man, "revenue_params")
	})
	rehash(t, dir, true)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "ranked.csv")
	_, err := runScore(t, "--model", dir, "--profile", "canonical", "--in", "testdata/oldmodel/night.csv", "--out", out, "--rank-by", "expected-revenue")
	if code := exitCodeOf(err); code != run.ExitUsage || !strings.Contains(err.Error(), "no revenue head") {
		t.Fatalf("score: exit %d, %v; want exit %d and \"no revenue head\"", code, err, run.ExitUsage)
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		t.Fatalf("the refused run wrote %v", entries)
	}
	// by probability the same model scores
	if _, err := runScore(t, "--model", dir, "--profile", "canonical", "--in", "testdata/oldmodel/night.csv", "--out", out); err != nil {
		t.Fatal(err)
	}
}

// TestOldModelFolder: a model folder written before model kinds existed
// (no kind in its manifest) loads as gbdt under its old ID and ranks the
// night's declarations exactly as the build that wrote it did: same rows,
// scores, expected revenues, lanes, reasons and model_id (the run_id names
// the input's path, which differs here).
func TestOldModelFolder(t *testing.T) {
	m, err := kinds.Load(oldModel)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind() != "gbdt" || m.ID() != "52b0d37a5abb1277" {
		t.Fatalf("loaded a %s model with ID %s; want gbdt 52b0d37a5abb1277", m.Kind(), m.ID())
	}
	// The build that wrote the golden files scored through leaves, which sums
	// leaf values in float64: --engine leaves gives its output exactly. The
	// native engine sums in float32 as XGBoost does (docs/scoring-engine.md):
	// the same rows, lanes and reasons, scores and expected revenues within
	// 1e-5 relative.
	for _, engine := range []string{"leaves", "native"} {
		for _, tc := range []struct{ golden, rankBy string }{{"ranked.csv", "probability"}, {"ranked-rev.csv", "expected-revenue"}} {
			out := filepath.Join(t.TempDir(), "ranked.csv")
			if _, err := runScore(t, "--model", oldModel, "--profile", "canonical", "--in", "testdata/oldmodel/night.csv",
				"--out", out, "--budget", "10%", "--rank-by", tc.rankBy, "--engine", engine); err != nil {
				t.Fatal(err)
			}
			got, want := readCSV(t, out), readCSV(t, filepath.Join("testdata/oldmodel", tc.golden))
			if len(got) != len(want) {
				t.Fatalf("%s %s: %d rows, want %d", engine, tc.golden, len(got), len(want))
			}
			for i := range want {
				g, w := slices.Clone(got[i][:7]), slices.Clone(want[i][:7])
				for c := 2; engine == "native" && i > 0 && c <= 3; c++ { // score, expected_revenue
					gr, err1 := strconv.ParseFloat(g[c], 64)
					wr, err2 := strconv.ParseFloat(w[c], 64)
					if err1 == nil && err2 == nil && math.Abs(gr-wr) <= 1e-5*math.Max(1, math.Abs(wr)) {
						g[c] = w[c]
					}
				}
				if !slices.Equal(g, w) {
					t.Fatalf("%s %s row %d:\n got %q\nwant %q", engine, tc.golden, i, got[i], want[i])
				}
			}
		}
	}
}
