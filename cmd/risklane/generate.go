package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/cobra"

	"risklane/datasets/synth"
	"risklane/ingest/prices"
	"risklane/pipeline/run"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newGenerateCmd()) }

// newGenerateCmd builds the generate command with its own flag variables, so
// that tests can run it afresh.
func newGenerateCmd() *cobra.Command {
	cfg := synth.DefaultConfig()
	var (
		from, to              string
		out, format           string
		trade, truth, tariffs string
		market                string
		driftAt               string
		quiet                 bool
	)
	cfg.Drift = synth.DefaultDrift()
	cmd := &cobra.Command{
		Use:   "generate --rows N --out declarations.parquet [--trade trade.csv] [--truth truth.csv]",
		Short: "Write synthetic declarations with planted fraud, and matching trade statistics",
		Long: `generate writes synthetic import declarations in the canonical schema, with planted
fraud (undervaluation, misclassification, origin misdeclaration) and its labels:
illicit, revenue (the duty inspection recovers) and, for teaching, fraud_type.
The same seed gives the same bytes.

--format parquet (default for .parquet), csv (canonical columns, default for .csv)
or date (the DATE / BACUDA 14-column CSV, dates yy-mm-dd). Alongside, --trade writes
bilateral trade statistics in the UN Comtrade bulk-download layout (the reporter's
imports as declared, the partners' exports as shipped), in which --underdeclared-flows
partner-by-HS6 flows are systematically undervalued; --truth names those flows with
the duty lost; --tariffs writes the tariff table (hs,rate in percent) for
'risklane mirror --tariffs'. --drift DATE moves the fraud patterns at that date (new
under-declared flows and offenders, old ones stopping, prices shifting) for
'risklane simulate' (docs/simulate.md).

Generation and encoding run on two goroutines; memory does not grow with --rows.
Every output is written under a temporary name and renamed when complete.`,
		Example: `  risklane generate --rows 1000000 --out declarations.parquet --trade trade.csv --truth truth.csv
  risklane generate --rows 50000 --fraud-rate 0.1 --label-rate 0.3 --from 2023-01-01 --to 2024-12-31 --out train.csv
  risklane generate --rows 100000 --format date --out date.csv --seed 7
  risklane generate --rows 1000000 --drift 2024-07-01 --out drifting.parquet`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var err error
			if cfg.Start, err = time.Parse(time.DateOnly, from); err != nil {
				return usageError{msg: fmt.Sprintf("generate: --from %q: give a date as YYYY-MM-DD", from)}
			}
			if cfg.End, err = time.Parse(time.DateOnly, to); err != nil {
				return usageError{msg: fmt.Sprintf("generate: --to %q: give a date as YYYY-MM-DD", to)}
			}
			if driftAt == "" {
				cfg.Drift = synth.Drift{}
			} else if cfg.Drift.At, err = time.Parse(time.DateOnly, driftAt); err != nil {
				return usageError{msg: fmt.Sprintf("generate: --drift %q: give a date as YYYY-MM-DD", driftAt)}
			}
			cfg.Reporter = strings.ToUpper(cfg.Reporter)
			if err := cfg.Validate(); err != nil {
				return usageError{msg: "generate: " + err.Error()}
			}
			f, err := outputFormat(out, format)
			if err != nil {
				return usageError{msg: "generate: " + err.Error()}
			}
			if err := sink.Prepare(nil, []sink.Path{{Flag: "--out", Name: out}, {Flag: "--trade", Name: trade},
				{Flag: "--truth", Name: truth}, {Flag: "--tariffs", Name: tariffs}, {Flag: "--market-prices", Name: market}}); err != nil {
				return usageError{msg: "generate: " + err.Error()}
			}
			return runGenerate(c.OutOrStdout(), newProgress(c.ErrOrStderr(), quiet), cfg, out, f, trade, truth, tariffs, market)
		},
	}
	fl := cmd.Flags()
	fl.Int64Var(&cfg.Rows, "rows", cfg.Rows, "number of declaration rows")
	fl.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed; the same seed and options give the same files")
	fl.Float64Var(&cfg.FraudRate, "fraud-rate", cfg.FraudRate, "expected share of fraudulent rows, planted flows included")
	fl.Float64Var(&cfg.LabelRate, "label-rate", cfg.LabelRate, "share of rows inspected (labelled); the others have empty illicit and revenue")
	fl.StringVar(&from, "from", "2024-01-01", "first declaration date (YYYY-MM-DD)")
	fl.StringVar(&to, "to", "2024-12-31", "last declaration date (YYYY-MM-DD)")
	fl.StringVar(&cfg.Reporter, "reporter", cfg.Reporter, "ISO3 code of the importing country, the reporter of the trade statistics")
	fl.StringVar(&out, "out", "declarations.parquet", "declarations to write: .parquet, .csv or .arrow")
	fl.StringVar(&format, "format", "", "parquet, csv, arrow or date (default: from the --out extension)")
	fl.StringVar(&trade, "trade", "", "also write trade statistics (Comtrade bulk CSV) to this file")
	fl.StringVar(&truth, "truth", "", "also write the planted under-declared flows (CSV) to this file")
	fl.StringVar(&tariffs, "tariffs", "", "also write the tariff table (CSV hs,rate in percent) to this file")
	fl.StringVar(&market, "market-prices", "", "also write a matching market price table (CSV; risklane train --market-prices) to this file")
	fl.IntVar(&cfg.NumHS, "hs-codes", cfg.NumHS, "number of HS6 codes in the catalogue")
	fl.IntVar(&cfg.NumImporters, "importers", cfg.NumImporters, "number of importers")
	fl.IntVar(&cfg.NumDeclarants, "declarants", cfg.NumDeclarants, "number of declarants (customs brokers)")
	fl.IntVar(&cfg.NumSellers, "sellers", cfg.NumSellers, "number of foreign sellers")
	fl.IntVar(&cfg.NumOffices, "offices", cfg.NumOffices, "number of customs offices (at least 3)")
	fl.IntVar(&cfg.UnderdeclaredFlows, "underdeclared-flows", cfg.UnderdeclaredFlows, "number of partner-by-HS6 flows systematically undervalued")
	fl.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "rows per Arrow record batch")
	fl.StringVar(&driftAt, "drift", "", "move the fraud patterns and prices from this date on (YYYY-MM-DD; docs/simulate.md)")
	fl.IntVar(&cfg.Drift.Flows, "drift-flows", cfg.Drift.Flows, "with --drift: under-declared flows that start at the date (those before stop)")
	fl.Float64Var(&cfg.Drift.Offenders, "drift-offenders", cfg.Drift.Offenders, "with --drift: share of repeat offenders that stop, replaced by as many new ones")
	fl.Float64Var(&cfg.Drift.PriceShift, "drift-prices", cfg.Drift.PriceShift, "with --drift: log-sd of each HS6 code's price level shift")
	fl.IntVar(&cfg.Drift.Hidden, "drift-hidden", cfg.Drift.Hidden, "with --drift: concealment flows that start at the date, on goods and partners with no planted fraud (fraud a model scores near zero)")
	fl.Float64Var(&cfg.Drift.HiddenShare, "drift-hidden-share", cfg.Drift.HiddenShare, "with --drift-hidden: the share of the fraud rate the concealment flows take at most (0: 0.4; docs/simulate.md)")
	fl.BoolVar(&cfg.Drift.HiddenEstablished, "drift-hidden-established", false, "with --drift-hidden: put the concealment flows in the largest flows of clean goods and partners (many clean labels before the date) at the probability that gives them --drift-hidden-share of the fraud rate")
	fl.Float64Var(&cfg.Drift.Persist, "drift-persist", cfg.Drift.Persist, "with --drift: fraud probability the flows under-declared before the date keep after it (0: they stop; at most 0.6)")
	fl.Float64Var(&cfg.Drift.Newcomers, "drift-newcomers", cfg.Drift.Newcomers, "with --drift: share of the rows after the date declared by new importers, repeat offenders with ids never seen before it (0: none)")
	fl.Float64Var(&cfg.Drift.Turn, "drift-turn", cfg.Drift.Turn, "with --drift: clean importers that turn repeat offender at the date, as a share of the offenders, none stopping (0: none)")
	fl.BoolVar(&cfg.Drift.TurnUniform, "drift-turn-uniform", false, "with --drift-turn: draw the turning importers uniformly among the clean ones (mostly small traders) instead of by activity")
	fl.BoolVar(&cfg.Timestamps, "timestamps", false, "add release-time columns: lane and arrival ... release milestones (docs/release-time.md)")
	fl.BoolVar(&quiet, "quiet", false, "no progress bar (shown on stderr when it is a terminal)")
	return cmd
}

// outputFormat resolves --format against the --out file name; "date" is the
// DATE / BACUDA CSV layout.
func outputFormat(out, format string) (string, error) {
	switch f := strings.ToLower(format); f {
	case "":
		g, err := sink.FormatOf(out)
		if err != nil {
			return "", fmt.Errorf("--out %v", err)
		}
		return string(g), nil
	case string(sink.Parquet), string(sink.CSV), string(sink.Arrow), "date":
		return f, nil
	default:
		return "", fmt.Errorf("--format %q: give parquet, csv, arrow or date", format)
	}
}

// runGenerate writes every output under a temporary name and renames them
// only once all are complete. market, if given, is the one path of the
// market price table (variadic so that callers without one need not say so).
// pr shows the declarations written, as the stage "generate".
func runGenerate(w io.Writer, pr run.Progress, cfg synth.Config, out, format, trade, truth, tariffs string, market ...string) error {
	if len(market) > 1 {
		return fmt.Errorf("generate: %d market price tables, at most 1", len(market))
	}
	marketPath := ""
	if len(market) == 1 {
		marketPath = market[0]
	}
	start := time.Now()
	g, err := synth.New(cfg)
	if err != nil {
		return err
	}
	var commitDecl func() error
	pr.Stage("generate", cfg.Rows)
	defer pr.Done()
	if format == "date" {
		f, err := sink.CreateAtomic(out)
		if err != nil {
			return err
		}
		defer f.Abort()
		if err := synth.WriteDATE(f, g); err != nil {
			return fmt.Errorf("output %s: %w", out, err)
		}
		commitDecl = f.Commit
	} else {
		sw, err := sink.CreateFormat(out, sink.Format(format), g.Schema())
		if err != nil {
			return err
		}
		defer sw.Abort()
		var done int64
		if err := synth.Stream(g, func(rec arrow.RecordBatch) error {
			done += rec.NumRows()
			pr.Set(done)
			return sw.Write(rec)
		}); err != nil {
			return err
		}
		commitDecl = sw.Commit
	}
	pr.Set(cfg.Rows)
	pr.Done()
	commits := []func() error{commitDecl}
	for _, side := range []struct {
		path  string
		write func(io.Writer) error
	}{{trade, g.TradeStatistics}, {truth, g.Truth}, {tariffs, g.Tariffs},
		{marketPath, func(w io.Writer) error { return prices.WriteCSV(w, g.MarketPrices()) }}} {
		if side.path == "" {
			continue
		}
		f, err := sink.CreateAtomic(side.path)
		if err != nil {
			return err
		}
		defer f.Abort()
		if err := side.write(f); err != nil {
			return fmt.Errorf("output %s: %w", side.path, err)
		}
		commits = append(commits, f.Commit)
	}
	for _, commit := range commits {
		if err := commit(); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	printGenerateSummary(w, g, out, trade, truth, tariffs, marketPath, elapsed)
	return nil
}

func printGenerateSummary(w io.Writer, g *synth.Generator, out, trade, truth, tariffs, market string, elapsed time.Duration) {
	s := g.Summary()
	n := float64(s.Rows)
	fmt.Fprintf(w, "Generated %d declarations in %s (%.0f rows/s) -> %s\n", s.Rows, elapsed.Round(time.Millisecond), n/elapsed.Seconds(), out)
	fmt.Fprintf(w, "Fraud: %.2f%% of rows (undervaluation %.2f%%, misclassification %.2f%%, origin %.2f%%", 100*s.FraudRate(),
		100*float64(s.ByType[synth.FraudUndervaluation])/n, 100*float64(s.ByType[synth.FraudMisclassification])/n, 100*float64(s.ByType[synth.FraudOrigin])/n)
	if q := s.ByType[synth.FraudQuantity]; q > 0 {
		fmt.Fprintf(w, ", concealment %.2f%%", 100*float64(q)/n)
	}
	fmt.Fprintf(w, "); duty evaded %.2f US$\n", s.Revenue)
	fmt.Fprintf(w, "Labelled: %d rows (%.1f%%), %d of them illicit\n", s.Labelled, 100*float64(s.Labelled)/n, s.Illicit)
	flows := g.PlantedFlows()
	names := make([]string, len(flows))
	for i, f := range flows {
		names[i] = f.Partner + " " + f.HS6
	}
	fmt.Fprintf(w, "Planted under-declared flows: %d", len(flows))
	if len(flows) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(names, ", "))
	}
	fmt.Fprintln(w)
	for _, o := range []struct{ what, path string }{{"Trade statistics", trade}, {"Truth", truth}, {"Tariff table", tariffs}, {"Market prices", market}} {
		if o.path != "" {
			fmt.Fprintf(w, "%s written to %s\n", o.what, o.path)
		}
	}
}
