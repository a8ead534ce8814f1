package stage

import (
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"risklane/features"
	"risklane/features/pricecluster"
	"risklane/models/riskmodel"
)

// history writes a generated labelled history as two files, a Parquet file
// and a CSV file with two damaged rows, and returns their paths.
func history(t *testing.T, dir string) []string {
	n := rows(t)
	a, b := filepath.Join(dir, "h1.parquet"), filepath.Join(dir, "h2.csv")
	sh(t, "generate", "--rows", strconv.Itoa(n/2), "--seed", "21", "--out", a)
	sh(t, "generate", "--rows", strconv.Itoa(n/2), "--seed", "22", "--out", b)
	damage(t, b)
	return []string{a, b}
}

// TestFitEqualsRisklaneTrain fits the feature state of the default model
// groups (the price clusters among them) with the pipeline on Prism, and
// wants the features.json that risklane train writes into its model folder
// from the same files, byte for byte.
func TestFitEqualsRisklaneTrain(t *testing.T) {
	dir := t.TempDir()
	in := history(t, dir)
	p := func(name string) string { return filepath.Join(dir, name) }
	sh(t, "train", "--in", in[0], "--in", in[1], "--profile", "canonical", "--out", p("model"),
		"--rounds", "1", "--max-depth", "2", "--seed", "3")
	if !slices.Contains(riskmodel.DefaultGroups, pricecluster.GroupName) {
		t.Fatal("the default groups lack the price clusters: the test no longer tests the cluster signal")
	}
	pl, s := beam.NewPipelineWithRoot()
	err := Fit(s, FitConfig{Inputs: in, Profile: "canonical", Out: p("features.json"),
		Features: features.Config{Groups: riskmodel.DefaultGroups, Seed: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ptest.Run(pl); err != nil {
		t.Fatal(err)
	}
	sameFile(t, p("model/features.json"), p("features.json"))
}

// TestClusterEqualsRisklaneCluster fits the price clusters with the
// pipeline on Prism and wants risklane cluster's model and group table,
// byte for byte: in one dimension, and with --value-mass, where the order
// of a group's rows matters to k-means++.
func TestClusterEqualsRisklaneCluster(t *testing.T) {
	dir := t.TempDir()
	in := history(t, dir)
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, c := range []struct {
		name string
		args []string
		cfg  pricecluster.Config
	}{
		{"1d", nil, pricecluster.Config{Seed: 1, KMin: 2, KMax: 5, MinGroupRows: 30}},
		{"value-mass", []string{"--value-mass", "--seed", "5", "--k-max", "4"},
			pricecluster.Config{Seed: 5, KMin: 2, KMax: 4, MinGroupRows: 30, ValueMass: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sh(t, append([]string{"cluster", "--in", in[0], "--in", in[1], "--profile", "canonical",
				"--out", p(c.name + "-want.parquet"), "--clusters", p(c.name + "-want.json")}, c.args...)...)
			pl, s := beam.NewPipelineWithRoot()
			err := Cluster(s, ClusterConfig{Inputs: in, Profile: "canonical", Config: c.cfg,
				Clusters: p(c.name + "-got.json"), Groups: p(c.name + "-got.groups.parquet"), Rejects: p(c.name + "-rejects.csv")})
			if err != nil {
				t.Fatal(err)
			}
			if err := ptest.Run(pl); err != nil {
				t.Fatal(err)
			}
			sameFile(t, p(c.name+"-want.json"), p(c.name+"-got.json"))
			sameFile(t, p(c.name+"-want.groups.parquet"), p(c.name+"-got.groups.parquet"))
		})
	}
}
