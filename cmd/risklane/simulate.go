package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"risklane/features"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/kinds"
	"risklane/pipeline/simulate"
	"risklane/sink"
)

// simulateParams are the gbdt parameters the simulator retrains with unless
// told otherwise: a smaller model than train's default (400 rounds of depth
// 10), so that 52 weekly retrainings fit in minutes (docs/simulate.md).
var simulateParams = map[string]float64{"rounds": 60, "max-depth": 6, "eta": 0.2}

func init() {
	var (
		in               []string
		prof, out        string
		start            string
		cfg              simulate.Config
		budgetEnd        float64
		strategies       []string
		groups, kind     string
		last             int
		quiet            bool
		featureFlagGroup = newFeatureFlags()
	)
	cmd := &cobra.Command{
		Use:   "simulate --in FILE --profile P --start DATE [--strategy S ...]",
		Short: "Replay history period by period to compare inspection strategies (BACUDA series 8)",
		Long: `simulate replays labelled declarations period by period. Each period every strategy
picks the declarations to inspect within the budget; only those reveal their labels;
a strategy's model retrains on the initial window's labels and what its own
inspections revealed. The simulator knows every label of the simulated periods and
reports, per period and strategy: inspected, frauds found, precision, revenue
collected, recall of frauds and of revenue against the truth, the AUC of the
strategy's current score on the period, and the share of exploration.

Strategies (--strategy, repeat; all run on the same replay): random; risky (fraud
rates of HS6, origin and importer among the revealed labels); a model kind (gbdt,
date, ...: inspect its top scores); diversity and gatekeeper (exploration over the
model's leaf embeddings); novelty and noveltyflat (exploration favouring rows whose
importer, declarant, HS6 or origin x HS6 flow was inspected little lately); apt and adapt (the exploration share adapts to the model's
precision, or to the drift of the leaf embeddings); iforest (anomaly scores);
selftrain and pu (semi-supervised: pseudo-labels, or the frauds found against every
other row); and hybrids by weights, e.g. gbdt:0.9+random:0.1. An exploring part written
random:0.1:hidden inspects but never reveals its labels to the training. docs/simulate.md describes each and the paper it comes from.

The retrained gbdt is smaller than train's default: 60 rounds of depth 6, eta 0.2
(override with --rounds, --max-depth, --eta). The same seed gives the same table.`,
		Example: `  risklane generate --rows 1000000 --drift 2024-07-01 --out drifting.parquet
  risklane simulate --profile canonical --in drifting.parquet --start 2024-02-26 --periods 44 \
      --strategy gbdt --strategy gbdt:0.9+random:0.1 --strategy gbdt:0.9+diversity:0.1 --out sim.csv`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			switch {
			case len(in) == 0:
				return usageError{msg: "simulate: give --in FILE, the labelled declarations to replay"}
			case prof == "":
				return usageError{msg: "simulate: give --profile with one of " + strings.Join(profile.Names(), ", ") + " or a YAML file"}
			}
			var err error
			if cfg.Start, err = time.Parse(time.DateOnly, start); err != nil {
				return usageError{msg: fmt.Sprintf("simulate: --start %q: give a date as YYYY-MM-DD", start)}
			}
			if !c.Flags().Changed("budget-end") {
				budgetEnd = cfg.Budget.Start
			}
			cfg.Budget.End = budgetEnd
			var outs []sink.Path
			if out != "" {
				if _, err := sink.FormatOf(out); err != nil {
					return usageError{msg: "simulate: --out " + err.Error()}
				}
				outs = append(outs, sink.Path{Flag: "--out", Name: out})
			}
			ins := make([]sink.Path, len(in))
			for i, p := range in {
				ins[i] = sink.Path{Flag: "--in", Name: p}
			}
			if err := sink.Prepare(ins, outs); err != nil {
				return err
			}
			if cfg.Kind, err = kinds.Lookup(kind); err != nil {
				return usageError{msg: "simulate: --model: " + err.Error()}
			}
			cfg.Kinds = map[string]models.Kind{}
			for _, k := range kinds.All() {
				cfg.Kinds[k.Name] = k
			}
			given := map[string]float64{}
			if cfg.Kind.Name == models.DefaultKind {
				for k, v := range simulateParams {
					given[k] = v
				}
			}
			c.Flags().Visit(func(f *pflag.Flag) {
				if v, ok := f.Value.(*paramValue); ok {
					given[f.Name] = v.v
				}
			})
			if err := cfg.Kind.ParseParams(given); err != nil {
				return usageError{msg: "simulate: " + err.Error()}
			}
			base := cfg.Kind.Groups
			if base == nil {
				base = features.DefaultGroups
			}
			g, err := features.ParseGroups(groups, base)
			if err != nil {
				return usageError{msg: "simulate: --features: " + err.Error()}
			}
			p, err := profile.Resolve(prof)
			if err != nil {
				return err
			}
			fc, err := featureFlagGroup.config("simulate", g, cfg.Seed)
			if err != nil {
				return err
			}
			cfg.Train = models.TrainConfig{
				Features: fc,
				Params:   given, Profile: p.Name, Inputs: in,
			}
			cfg.Train.RowHalfLife = featureFlagGroup.trainHalfLife
			cfg.Strategies = strategies
			for _, s := range strategies {
				if _, err := simulate.ParseStrategy(s); err != nil {
					return usageError{msg: "simulate: --strategy: " + err.Error()}
				}
			}
			if !quiet {
				cfg.Progress = c.ErrOrStderr()
			}
			return runSimulate(c.OutOrStdout(), in, p, out, last, cfg)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&in, "in", nil, "labelled declarations (CSV, Parquet, Arrow); repeat for several")
	fl.StringVar(&prof, "profile", "", "built-in profile name or a YAML profile file")
	fl.StringVar(&start, "start", "", "first day of the first simulated period (YYYY-MM-DD)")
	fl.IntVar(&cfg.PeriodDays, "period-days", 7, "length of a period in days")
	fl.IntVar(&cfg.Periods, "periods", 52, "number of periods")
	fl.IntVar(&cfg.InitialDays, "initial-days", 56, "days of labelled history before --start that every strategy starts from")
	fl.Float64Var(&cfg.InitialLabels, "initial-labels", 1, "share of the initial window's labels the strategies get (the rest are hidden)")
	fl.Float64Var(&cfg.Budget.Start, "budget", 0.1, "share of a period's declarations inspected")
	fl.Float64Var(&budgetEnd, "budget-end", 0, "share inspected in the last period, linear from --budget (default: --budget, constant)")
	fl.IntVar(&cfg.RetrainEvery, "retrain-every", 1, "retrain the models every so many periods")
	fl.Uint64Var(&cfg.Seed, "seed", defaultSeed, "seed of the strategies' draws, the folds and the models")
	fl.StringArrayVar(&strategies, "strategy", []string{"random", "risky", "gbdt", "gbdt:0.9+random:0.1", "gbdt:0.9+diversity:0.1"}, "strategy to run; repeat for several")
	fl.StringVar(&out, "out", "", "write the table (one row per period and strategy) to this CSV or Parquet file")
	fl.IntVar(&last, "last", 0, "also summarise the last N periods (0: only all periods)")
	fl.BoolVar(&quiet, "quiet", false, "do not print a line per period and strategy")
	fl.IntVar(&cfg.Parallel, "parallel", runtime.GOMAXPROCS(0), "strategies replayed at once (the table is the same; memory grows with it)")
	fl.StringVar(&groups, "features", "", "feature groups of the retrained models: a list or changes to the kind's default")
	featureFlagGroup.add(fl)
	fl.StringVar(&kind, "model", kinds.Default, "model kind the model-based strategies retrain: "+strings.Join(kinds.Names(), ", "))
	addParamFlags(fl)
	rootCmd.AddCommand(cmd)
}

func runSimulate(w io.Writer, in []string, p *profile.Profile, out string, last int, cfg simulate.Config) error {
	batches, _, err := readDeclarations(in, p, "")
	if err != nil {
		return err
	}
	defer ingest.Release(batches)
	began := time.Now()
	rows, err := simulate.Run(batches, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Simulated %d periods of %d days from %s, budget %g to %g, %d strategies, in %s\n\n",
		cfg.Periods, cfg.PeriodDays, cfg.Start.Format(time.DateOnly), cfg.Budget.Start, cfg.Budget.End, len(cfg.Strategies), time.Since(began).Round(time.Second))
	fmt.Fprintln(w, "All periods:")
	simulate.WriteSummary(w, simulate.Summarize(rows, 1))
	if last > 0 && last < cfg.Periods {
		fmt.Fprintf(w, "\nLast %d periods:\n", last)
		simulate.WriteSummary(w, simulate.Summarize(rows, cfg.Periods-last+1))
	}
	if out != "" {
		f, _ := sink.FormatOf(out)
		sw, err := sink.CreateFormat(out, f, simulate.Schema)
		if err != nil {
			return err
		}
		defer sw.Abort()
		t := simulate.Table(rows)
		defer t.Release()
		if err := sw.Write(t); err != nil {
			return err
		}
		if err := sw.Commit(); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nTable written to %s\n", out)
	}
	return nil
}
