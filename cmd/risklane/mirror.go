package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"risklane/features/mirror"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newMirrorCmd()) }

// newMirrorCmd builds the mirror command; each call has its own flag
// variables, so tests can run it afresh.
func newMirrorCmd() *cobra.Command {
	var (
		trade     []string
		reporter  string
		out       string
		tariffs   string
		cifFOB    float64
		minValue  float64
		top       int
		dutyBase  string
		rejects   string
		signals   string
		maxReject int
	)
	cmd := &cobra.Command{
		Use:   "mirror --trade FILE... --reporter ISO3 --out gaps.parquet",
		Short: "Mirror analysis: the reporter's imports against its partners' exports, with a revenue-gap estimate",
		Long: `mirror pairs a country's imports from each partner with that partner's exports to it,
per HS6 code and period, from UN Comtrade statistics (bulk-download CSV or API CSV,
recognised from the header; .gz accepted). Imports are brought from CIF to FOB with the
CIF/FOB factor (default 1.10, the IMF's standard) unless the file reports FOB itself.

It writes the gap table, ranked (flows whose export/import ratio is a robust outlier
first, then by value gap), with HS4, HS2 and total roll-ups, flags for undervaluation
(equal weights, unequal values) and misclassification (equal values under different
codes), and the revenue gap: value gap x duty rate from --tariffs (CSV hs,rate; rate
in percent; the most specific of HS2/HS4/HS6 wins).

Rows that cannot be used are reported with file, line, column, value and reason;
read = used + rejected always holds.`,
		Example: `  risklane mirror --trade comtrade_2023.csv --reporter KEN --tariffs tariffs.csv --out gaps.parquet
  risklane mirror --trade imports.csv.gz --trade partner_exports.csv --reporter KEN --min-value 10000 --out gaps.csv --top 50`,
		// Extra arguments are more trade files, so that a shell glob
		// after --trade (--trade 2023/*.csv) reads every file it expands to.
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			trade = append(trade, args...)
			if len(trade) == 0 {
				return usageError{msg: "mirror: give at least one --trade file of Comtrade statistics"}
			}
			if reporter == "" {
				return usageError{msg: "mirror: give --reporter, the ISO3 code of the importing country (e.g. KEN)"}
			}
			if out == "" {
				return usageError{msg: "mirror: give --out, the gap table to write (.parquet, .csv or .arrow)"}
			}
			if _, err := sink.FormatOf(out); err != nil {
				return usageError{msg: "mirror: --out " + err.Error()}
			}
			cfg := mirror.DefaultConfig(reporter)
			cfg.CIFFOB, cfg.MinValue = cifFOB, minValue
			switch strings.ToLower(dutyBase) {
			case "cif":
				cfg.DutyBase = mirror.DutyOnCIF
			case "fob":
				cfg.DutyBase = mirror.DutyOnFOB
			default:
				return usageError{msg: fmt.Sprintf("mirror: --duty-base %q: give cif or fob", dutyBase)}
			}
			if top < 0 {
				return usageError{msg: "mirror: --top must be 0 or more"}
			}
			ins := []sink.Path{{Flag: "--tariffs", Name: tariffs}}
			for _, in := range trade {
				ins = append(ins, sink.Path{Flag: "--trade", Name: in})
			}
			if err := sink.Prepare(ins, []sink.Path{{Flag: "--out", Name: out}, {Flag: "--rejects", Name: rejects}, {Flag: "--signals", Name: signals}}); err != nil {
				return fmt.Errorf("mirror: %w", err)
			}
			var tariffRejects []mirror.Reject
			if tariffs != "" {
				f, err := os.Open(tariffs)
				if err != nil {
					return fmt.Errorf("tariffs: %w", err)
				}
				cfg.Tariffs, tariffRejects, err = mirror.ReadTariffs(f, tariffs)
				f.Close()
				if err != nil {
					return err
				}
			}
			g, err := mirror.Analyze(cfg, trade...)
			if err != nil {
				return err
			}
			if err := g.WriteTable(out); err != nil {
				return err
			}
			w := c.OutOrStdout()
			if len(tariffRejects) > 0 {
				fmt.Fprintf(w, "Tariff table %s: %d rows rejected (%d rates kept):\n", tariffs, len(tariffRejects), cfg.Tariffs.Len())
				for i, r := range tariffRejects {
					if i == maxReject {
						fmt.Fprintf(w, "  ... %d more\n", len(tariffRejects)-maxReject)
						break
					}
					fmt.Fprintf(w, "  %s\n", r.Error())
				}
			}
			g.Report(w, top, maxReject)
			if rejects != "" {
				if err := g.WriteRejects(rejects); err != nil {
					return err
				}
				fmt.Fprintf(w, "Rejected rows written to %s\n", rejects)
			}
			if signals != "" {
				if err := sink.WriteAtomic(signals, g.Signals().WriteJSON); err != nil {
					return err
				}
				fmt.Fprintf(w, "Per-declaration signals written to %s\n", signals)
			}
			fmt.Fprintf(w, "Gap table written to %s (%d HS6 flows, %d roll-ups)\n", out, len(g.Flows), len(g.Rollups))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&trade, "trade", nil, "Comtrade trade-statistics CSV (bulk or API layout, .gz accepted); repeat for several files")
	fl.StringVar(&reporter, "reporter", "", "importing country whose statistics are checked (ISO3, ISO2 or M49 code)")
	fl.StringVar(&out, "out", "", "gap table to write: .parquet, .csv or .arrow")
	fl.StringVar(&tariffs, "tariffs", "", "tariff table CSV with columns hs,rate (percent; HS2, HS4 or HS6 codes)")
	fl.Float64Var(&cifFOB, "cif-fob", mirror.DefaultCIFFOB, "CIF/FOB factor used when an import row has no FOB value")
	fl.Float64Var(&minValue, "min-value", 1000, "flows whose larger side is below this many US dollars are listed but not ranked")
	fl.IntVar(&top, "top", 20, "number of suspicious flows to print")
	fl.StringVar(&dutyBase, "duty-base", "cif", "value the duty is levied on: cif (most countries) or fob")
	fl.StringVar(&rejects, "rejects", "", "write every rejected row (file,line,column,value,reason) to this CSV")
	fl.StringVar(&signals, "signals", "", "write the per-declaration signal dictionary (JSON) to this file")
	fl.IntVar(&maxReject, "show-rejects", 10, "number of rejected rows to print")
	return cmd
}
