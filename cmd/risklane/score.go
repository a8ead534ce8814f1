package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/scorer"
	"risklane/pipeline/rank"
	"risklane/pipeline/run"
)

func init() { rootCmd.AddCommand(newScoreCmd()) }

// newScoreCmd builds the score command with its own flag variables, so that
// tests can run it afresh.
func newScoreCmd() *cobra.Command {
	var (
		in                          []string
		modelDir, prof, out, engine string
		budget, yellow, explore     string
		rejects, manifest, rankBy   string
		maxRejectRate, tmp, logFmt  string
		seed                        uint64
		csv, allowEmpty             bool
		workers, batchSize          int
		contributions               int
		keep                        []string
	)
	cmd := &cobra.Command{
		Use:   "score --model DIR --in FILE... --profile P --out ranked.parquet",
		Short: "Score declarations and write the risk-ranked list with lanes and reasons",
		Long: `score reads declarations through a profile, computes the model's features from its
saved state, scores every row with its tree engine, and writes the declarations ranked by
risk (highest first, ties in input order) to Parquet (or CSV, by the --out extension;
--csv writes a CSV copy beside a Parquet file):

  rank, declaration_id, score, expected_revenue, lane, reasons, model_id, run_id

Lanes: red is the inspection budget (--budget, a share of the scored rows like 5% or
a number of rows), yellow the next band (--yellow, default 10%), green the rest.
--explore (default 10%) of the red lane goes to declarations drawn at random from
outside the top, with the reason "random exploration draw": inspecting only what the
model already suspects starves it of new fraud patterns. The draw is seeded (--seed):
the same inputs, model and options give a byte-identical ranked file, whose run_id is
derived from the inputs' checksums, the model and the options, never the clock.

Red and yellow rows carry reasons: the features that pushed their score up most
(per-tree path contributions), in words ("value per kg 78% below the HS 870323
median; importer's past fraud rate 34%").
--contributions K adds each red and yellow row's top K features by exact (TreeSHAP,
XGBoost's pred_contribs) contribution, with their values: a list column contributions
(feature, value, contribution) in Parquet, columns top1_feature, top1_value,
top1_contribution ... in CSV; the reasons then come from them too. Exact contributions
cost hundreds of times the path contributions on the default model (docs/interop.md).
--keep hs_code,importer_id,... carries those input columns (canonical names or profile
extras, as text) into the ranked file after run_id, so that analysts need no join.

Bad rows go to --rejects and the rest is scored. A run that scores no row at all
(every row rejected, or empty inputs) fails and writes no ranked file, unless
--allow-empty. No output may be an input or another output (--out, its --csv
sibling, --rejects, --manifest): such a run is refused before any work (exit code 2).
A model whose features the input
cannot give is refused before anything is written (exit code 4). Every output is
written under a temporary name and renamed when complete; the previous manifest is
removed before the first rename, and the new one (inputs with their SHA-256, counts,
lanes, per-stage timings, outputs with their SHA-256) is written last, also when the
run fails: outputs without a manifest beside them are not a finished run. See
docs/reliability.md.

Exit codes: 0 done; 1 failed; 2 wrong command line; 3 reject rate above
--max-reject-rate; 4 model does not match the input.`,
		Example: `  risklane score --model models/kcs --profile kcs --in declarations.csv --out ranked.parquet
  risklane score --model models/current --profile date --in day1.csv --in day2.csv \
      --budget 500 --yellow 5% --explore 20% --seed 7 --out ranked.parquet --csv --rejects rejects.csv`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if len(in) == 0 || modelDir == "" || prof == "" || out == "" {
				return usageError{msg: "score: give --model, --in, --profile and --out (see 'risklane score --help')"}
			}
			plan := rank.Plan{Seed: seed}
			for _, f := range []struct {
				flag, v string
				dst     *rank.Share
			}{{"--budget", budget, &plan.Budget}, {"--yellow", yellow, &plan.Yellow}, {"--explore", explore, &plan.Explore}} {
				s, err := rank.ParseShare(f.v)
				if err != nil {
					return usageError{msg: fmt.Sprintf("score: %s: %v", f.flag, err)}
				}
				*f.dst = s
			}
			if err := rank.CheckKeep(keep); err != nil {
				return usageError{msg: "score: " + err.Error()}
			}
			by, err := models.ParseRankBy(rankBy)
			if err != nil {
				return usageError{msg: "score: --rank-by: " + err.Error()}
			}
			var limit *float64
			if maxRejectRate != "" {
				var r run.Rate
				if err := r.UnmarshalText([]byte(maxRejectRate)); err != nil {
					return usageError{msg: "score: --max-reject-rate: " + err.Error()}
				}
				v := float64(r)
				limit = &v
			}
			log, progress, err := reporting(c.ErrOrStderr(), logFmt)
			if err != nil {
				return err
			}
			if manifest == "" {
				manifest = strings.TrimSuffix(out, filepath.Ext(out)) + ".manifest.json"
			}
			p, err := profile.Resolve(prof)
			if err != nil {
				return err
			}
			eng, err := scorer.ParseEngine(engine)
			if err != nil {
				return usageError{msg: "score: --engine: " + err.Error()}
			}
			model, err := run.LoadModelEngine(modelDir, eng)
			if err != nil {
				return err
			}
			limitMemory()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			m, err := run.Score(ctx, run.Config{
				Inputs: in, Profile: p, Model: model, ModelDir: modelDir, Out: out, CSV: csv,
				Rejects: rejects, Manifest: manifest, Plan: plan, RankBy: by, MaxRejectRate: limit, AllowEmpty: allowEmpty,
				BatchSize: batchSize, Workers: workers, TempDir: tmp, Log: log, Progress: progress,
				Contributions: contributions, Keep: keep,
			})
			if err != nil {
				return &exitError{code: run.ExitCode(err), err: err}
			}
			printSummary(c.OutOrStdout(), m, manifest)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&modelDir, "model", "", "model folder (risklane train)")
	fl.StringArrayVar(&in, "in", nil, "declarations to score (CSV, Parquet, Arrow); repeat for several")
	fl.StringVar(&prof, "profile", "", "built-in profile name or a YAML profile file")
	fl.StringVar(&out, "out", "", "ranked file to write: .parquet or .csv")
	fl.StringVar(&budget, "budget", "5%", "red lane: a share of the scored rows (5%) or a number of rows (500)")
	fl.StringVar(&yellow, "yellow", "10%", "yellow lane after the red one: a share of the scored rows or a number of rows")
	fl.StringVar(&explore, "explore", "10%", "share (or number) of the red lane drawn at random from outside the top")
	fl.Uint64Var(&seed, "seed", defaultSeed, "seed of the exploration draw")
	fl.StringVar(&engine, "engine", string(scorer.Native), "tree engine: native, or leaves (github.com/dmitryikh/leaves, for comparison)")
	fl.BoolVar(&csv, "csv", false, "also write the ranked list as CSV beside a Parquet --out")
	fl.StringVar(&rejects, "rejects", "", "write rejected rows (file,line,column,value,reason) to this CSV")
	fl.StringVar(&manifest, "manifest", "", "run manifest to write (default: beside --out, NAME.manifest.json)")
	fl.StringVar(&rankBy, "rank-by", string(models.ByProbability), "ranking key: probability or expected-revenue")
	fl.StringVar(&maxRejectRate, "max-reject-rate", "", "fail (exit code 3) when more than this share of rows is rejected: 2% or 0.02")
	fl.BoolVar(&allowEmpty, "allow-empty", false, "succeed with an empty ranking when no row is scored (all rejected, or empty inputs); by default that fails")
	fl.StringSliceVar(&keep, "keep", nil, "input columns to carry into the ranked file, after run_id (hs_code,importer_id,...: canonical names or profile extras)")
	fl.IntVar(&contributions, "contributions", 0, "K: write the top K features of each red and yellow row with their values and exact (TreeSHAP) contributions, and word the reasons from them; slow on large models (docs/interop.md)")
	fl.IntVar(&workers, "workers", 0, "goroutines computing features and scores (0: one per core)")
	fl.IntVar(&batchSize, "batch-size", run.DefaultBatchSize, "rows per record batch")
	fl.StringVar(&tmp, "temp-dir", "", "folder for spill files (default: the --out folder); the job file's temp_dir")
	deprecatedAlias(fl, "tmp", "temp-dir")
	fl.StringVar(&logFmt, "log-format", "text", "log format when stderr is not a terminal: text or json")
	return cmd
}

// memoryLimit is the soft limit a scoring run keeps the Go heap under,
// unless GOMEMLIMIT says otherwise: a night's ranking keys and buffers need
// well under it at ten million rows, and without a limit the garbage
// collector lets the heap grow to twice what is live.
const memoryLimit = 800 << 20

func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// reporting returns the logger and progress display of a run: on a terminal
// a progress bar and warnings only; otherwise structured logs (text or JSON)
// and no bar, for cron mail and journald.
func reporting(stderr io.Writer, format string) (*slog.Logger, run.Progress, error) {
	if format != "text" && format != "json" {
		return nil, nil, usageError{msg: fmt.Sprintf("--log-format %q: use text or json", format)}
	}
	if onTerminal(stderr) {
		return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), &bar{w: stderr}, nil
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(stderr, nil)), nil, nil
	}
	return slog.New(slog.NewTextHandler(stderr, nil)), nil, nil
}

// printSummary tells the analyst what the run did, in one paragraph.
func printSummary(w io.Writer, m *run.Manifest, manifest string) {
	var total run.Stage
	for _, s := range m.Timings {
		if s.Name == "total" {
			total = s
		}
	}
	fmt.Fprintf(w, "scored %d declarations (%d read, %d rejected) in %.1f s, %.0f declarations/s\n",
		m.Counts.Scored, m.Counts.Read, m.Counts.Rejected, total.Seconds, total.RowsPerSecond)
	if l := m.Lanes; l != nil {
		fmt.Fprintf(w, "red %d (%d exploration draws), yellow %d, green %d\n", l.Red, l.Explore, l.Yellow, l.Green)
	}
	for _, o := range m.Outputs {
		p := o.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(manifest), p)
		}
		fmt.Fprintf(w, "wrote %s (%d rows)\n", p, o.Rows)
	}
	fmt.Fprintf(w, "manifest %s, run %s\n", manifest, m.RunID)
}
