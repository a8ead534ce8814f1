package stage

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"risklane/beam/internal/reftest"
	"risklane/features"
	"risklane/features/mirror"
	"risklane/features/pricecluster"
	"risklane/models/riskmodel"
)

// history writes a generated labelled history as two files, a Parquet file
// and a CSV file with two damaged rows, and returns their paths; the first
// file's trade statistics (Comtrade bulk layout, reporter KEN) go to
// trade.csv and its tariff table to tariffs.csv.
func history(t *testing.T, dir string) []string {
	n := reftest.Rows(t)
	a, b := filepath.Join(dir, "h1.parquet"), filepath.Join(dir, "h2.csv")
	reftest.Sh(t, "generate", "--rows", strconv.Itoa(n/2), "--seed", "21", "--out", a,
		"--trade", filepath.Join(dir, "trade.csv"), "--tariffs", filepath.Join(dir, "tariffs.csv"))
	reftest.Sh(t, "generate", "--rows", strconv.Itoa(n/2), "--seed", "22", "--out", b)
	reftest.Damage(t, b)
	return []string{a, b}
}

// TestFitEqualsRisklaneTrain fits the feature state of the default model
// groups (the price clusters among them) with the pipeline on Prism, and
// wants the features.json that risklane train writes into its model folder
// from the same files, byte for byte; then with the mirror group of trade
// statistics (cut into two files, read in parallel): without a tariff
// table, every duty rate is the declarations' (per HS2 chapter on Beam),
// and with one. Small chunks make every reader flush many times, so the
// order of a key's values across chunks is tested too.
func TestFitEqualsRisklaneTrain(t *testing.T) {
	dir := t.TempDir()
	in := history(t, dir)
	p := func(name string) string { return filepath.Join(dir, name) }
	if !slices.Contains(riskmodel.DefaultGroups, pricecluster.GroupName) {
		t.Fatal("the default groups lack the price clusters: the test no longer tests the cluster signal")
	}
	trade := splitTrade(t, p("trade.csv"), p("t1.csv"), p("t2.csv"))
	for _, c := range []struct {
		name    string
		args    []string
		trade   []string
		tariffs string
		chunk   int
	}{
		{name: "default"},
		{name: "mirror", args: []string{"--trade", trade[0], "--trade", trade[1], "--reporter", "KEN"}, trade: trade, chunk: 997},
		{name: "mirror-tariffs", args: []string{"--trade", trade[0], "--trade", trade[1], "--reporter", "KEN", "--tariffs", p("tariffs.csv")},
			trade: trade, tariffs: p("tariffs.csv")},
	} {
		t.Run(c.name, func(t *testing.T) {
			reftest.Sh(t, append([]string{"train", "--in", in[0], "--in", in[1], "--profile", "canonical", "--out", p(c.name + "-model"),
				"--rounds", "1", "--max-depth", "2", "--seed", "3"}, c.args...)...)
			groups := riskmodel.DefaultGroups
			if c.trade != nil {
				groups = append(slices.Clone(groups), mirror.GroupName)
			}
			cfg := FitConfig{Inputs: in, Profile: "canonical", Out: p(c.name + "-features.json"),
				Features: features.Config{Groups: groups, Seed: 3}, Trade: c.trade, Tariffs: c.tariffs, Chunk: c.chunk}
			if c.trade != nil {
				cfg.Reporter = "KEN"
			}
			runPipeline(t, func(s beam.Scope) error { return Fit(s, cfg) })
			reftest.SameFile(t, p(c.name+"-model/features.json"), p(c.name+"-features.json"))
			if b, err := os.ReadFile(p(c.name + "-features.json")); err != nil || strings.Contains(string(b), `"mirror"`) != (c.trade != nil) {
				t.Errorf("features.json: the mirror group's presence is not %v (%v)", c.trade != nil, err)
			}
		})
	}
}

// splitTrade cuts a trade-statistics CSV into two files, each with the
// header.
func splitTrade(t *testing.T, path, a, b string) []string {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) < 100 {
		t.Fatalf("%s has %d lines: too few to test", path, len(lines))
	}
	half := len(lines) / 2
	if err := os.WriteFile(a, []byte(strings.Join(lines[:half], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte(strings.Join(append(lines[:1:1], lines[half:]...), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{a, b}
}

// TestClusterEqualsRisklaneCluster fits the price clusters with the
// pipeline on Prism and wants risklane cluster's model, group table,
// per-declaration assignments and reference prices, byte for byte: in one
// dimension, and with --value-mass, where the order of a group's rows
// matters to k-means++ (there with one row per element, the shape before
// chunks, and the rejects).
func TestClusterEqualsRisklaneCluster(t *testing.T) {
	dir := t.TempDir()
	in := history(t, dir)
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, c := range []struct {
		name  string
		args  []string
		cfg   pricecluster.Config
		chunk int
	}{
		{"1d", nil, pricecluster.Config{Seed: 1, KMin: 2, KMax: 5, MinGroupRows: 30}, 0},
		{"value-mass", []string{"--value-mass", "--seed", "5", "--k-max", "4"},
			pricecluster.Config{Seed: 5, KMin: 2, KMax: 4, MinGroupRows: 30, ValueMass: true}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			reftest.Sh(t, append([]string{"cluster", "--in", in[0], "--in", in[1], "--profile", "canonical",
				"--out", p(c.name + "-want.parquet"), "--clusters", p(c.name + "-want.json"), "--reference-prices", p(c.name + "-want-prices.csv"),
				"--rejects", p(c.name + "-want-rejects.csv")}, c.args...)...)
			runPipeline(t, func(s beam.Scope) error {
				return Cluster(s, ClusterConfig{Inputs: in, Profile: "canonical", Config: c.cfg, Out: p(c.name + "-got.parquet"),
					Clusters: p(c.name + "-got.json"), Prices: p(c.name + "-got-prices.csv"), Rejects: p(c.name + "-got-rejects.csv"), Chunk: c.chunk})
			})
			for _, f := range []string{".json", ".groups.parquet", ".parquet", "-prices.csv", "-rejects.csv"} {
				reftest.SameFile(t, p(c.name+"-want"+f), p(c.name+"-got"+f))
			}
		})
	}
}
