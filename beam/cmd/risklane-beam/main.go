// Command risklane-beam runs risklane's stages as an Apache Beam pipeline:
// on Prism (this machine, the default), or submitted to Flink, Spark or
// Google Dataflow with Beam's own flags (--runner, --endpoint, ...). See
// docs/beam.md.
//
//	risklane-beam score --model DIR --profile P --in FILE... --out ranked.parquet [--rejects FILE]
//	    [--budget 5%] [--yellow 10%] [--explore 10%] [--seed 1] [--rank-by probability] [--buckets 64]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"risklane/beam/stage"
	"risklane/models"
	"risklane/pipeline/rank"
)

// inputs collects the repeated --in flag.
type inputs []string

func (i *inputs) String() string     { return strings.Join(*i, ",") }
func (i *inputs) Set(v string) error { *i = append(*i, v); return nil }

var (
	in       inputs
	modelDir = flag.String("model", "", "model folder (risklane train)")
	prof     = flag.String("profile", "", "built-in profile name or a YAML profile file")
	out      = flag.String("out", "", "ranked file to write: .parquet or .csv")
	rejects  = flag.String("rejects", "", "write rejected rows (file,line,column,value,reason) to this CSV")
	budget   = flag.String("budget", "5%", "red lane: a share of the scored rows (5%) or a number of rows (500)")
	yellow   = flag.String("yellow", "10%", "yellow lane after the red one: a share of the scored rows or a number of rows")
	explore  = flag.String("explore", "10%", "share (or number) of the red lane drawn at random from outside the top")
	seed     = flag.Uint64("seed", 1, "seed of the exploration draw")
	rankBy   = flag.String("rank-by", string(models.ByProbability), "ranking key: probability or expected-revenue")
	buckets  = flag.Int("buckets", 64, "score ranges of the global sort (approximate quantiles), each sorted by one worker")
)

func main() {
	flag.Var(&in, "in", "declarations to score (CSV, Parquet, Arrow); repeat for several")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: risklane-beam score --model DIR --profile P --in FILE... --out FILE [flags]\n"+
			"Beam's flags (--runner prism|flink|spark|dataflow, --endpoint, --environment_type, ...) choose where it runs; docs/beam.md.\n")
		flag.PrintDefaults()
	}
	// The subcommand comes first, as in risklane; Beam's flags follow it.
	sub := len(os.Args) > 1 && os.Args[1] == "score"
	if sub {
		os.Args = append(os.Args[:1], os.Args[2:]...)
	}
	flag.Parse()
	// Started by a runner as its worker, the binary runs the harness here
	// and never returns.
	beam.Init()
	if !sub {
		flag.Usage()
		os.Exit(2)
	}
	if err := runScore(); err != nil {
		fmt.Fprintln(os.Stderr, "risklane-beam:", err)
		os.Exit(1)
	}
}

func runScore() error {
	if len(in) == 0 || *modelDir == "" || *prof == "" || *out == "" {
		return fmt.Errorf("give --model, --in, --profile and --out")
	}
	plan := rank.Plan{Seed: *seed}
	for _, f := range []struct {
		v   string
		dst *rank.Share
	}{{*budget, &plan.Budget}, {*yellow, &plan.Yellow}, {*explore, &plan.Explore}} {
		s, err := rank.ParseShare(f.v)
		if err != nil {
			return err
		}
		*f.dst = s
	}
	by, err := models.ParseRankBy(*rankBy)
	if err != nil {
		return err
	}
	p, s := beam.NewPipelineWithRoot()
	if err := stage.Score(s, stage.ScoreConfig{Inputs: in, Profile: *prof, ModelDir: *modelDir, Out: *out, Rejects: *rejects,
		Plan: plan, RankBy: by, Buckets: *buckets}); err != nil {
		return err
	}
	return beamx.Run(context.Background(), p)
}
