package stage

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"risklane/beam/internal/reftest"
	"risklane/pipeline/rank"
)

// TestScoreEqualsRisklaneScore scores two generated files (a Parquet file
// and a CSV file with two damaged rows) with risklane score and with the
// Beam pipeline on Prism, and wants byte-identical ranked files and rejects.
func TestScoreEqualsRisklaneScore(t *testing.T) {
	n := reftest.Rows(t)
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	reftest.Sh(t, "generate", "--rows", strconv.Itoa(n), "--seed", "11", "--out", p("history.parquet"))
	reftest.Sh(t, "train", "--in", p("history.parquet"), "--profile", "canonical", "--out", p("model"),
		"--rounds", "20", "--max-depth", "4", "--seed", "3")
	reftest.Sh(t, "generate", "--rows", strconv.Itoa(n/2), "--seed", "12", "--out", p("a.parquet"))
	reftest.Sh(t, "generate", "--rows", strconv.Itoa(n/2), "--seed", "13", "--out", p("b.csv"))
	reftest.Damage(t, p("b.csv"))

	for _, c := range []struct {
		name  string
		plan  []string
		batch int // rows per record batch: 997 cuts every file into many batches
	}{
		{"default", nil, 0},
		{"counts", []string{"--budget", "37", "--yellow", "101", "--explore", "9", "--seed", "7"}, 997},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"score", "--model", p("model"), "--profile", "canonical", "--in", p("a.parquet"), "--in", p("b.csv"),
				"--out", p(c.name + "-want.parquet"), "--rejects", p(c.name + "-want-rejects.csv")}
			reftest.Sh(t, append(args, c.plan...)...)

			plan := rank.DefaultPlan()
			for i := 0; i < len(c.plan); i += 2 {
				switch c.plan[i] {
				case "--seed":
					s, _ := strconv.ParseUint(c.plan[i+1], 10, 64)
					plan.Seed = s
				default:
					sh, err := rank.ParseShare(c.plan[i+1])
					if err != nil {
						t.Fatal(err)
					}
					*map[string]*rank.Share{"--budget": &plan.Budget, "--yellow": &plan.Yellow, "--explore": &plan.Explore}[c.plan[i]] = sh
				}
			}
			runPipeline(t, func(s beam.Scope) error {
				return Score(s, ScoreConfig{Inputs: []string{p("a.parquet"), p("b.csv")}, Profile: "canonical", ModelDir: p("model"),
					Out: p(c.name + "-got.parquet"), Rejects: p(c.name + "-got-rejects.csv"), Plan: plan, Buckets: 8,
					BatchSize: c.batch})
			})
			reftest.SameFile(t, p(c.name+"-want.parquet"), p(c.name+"-got.parquet"))
			reftest.SameFile(t, p(c.name+"-want-rejects.csv"), p(c.name+"-got-rejects.csv"))
			// Not two empty files: the damaged rows are there.
			if b, err := os.ReadFile(p(c.name + "-got-rejects.csv")); err != nil || strings.Count(string(b), "\n") != 3 {
				t.Errorf("rejects: want a header and the 2 damaged rows, got %q (%v)", b, err)
			}
		})
	}
}
