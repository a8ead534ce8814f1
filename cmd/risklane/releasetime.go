package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"risklane/analysis/releasetime"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/pipeline/rank"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newReleaseTimeCmd()) }

// newReleaseTimeCmd builds the release-time command with its own flag
// variables, so that tests can run it afresh.
func newReleaseTimeCmd() *cobra.Command {
	var (
		in      []string
		prof    string
		out     string
		rejects string
		targets []float64
		cost    costRequest
	)
	cmd := &cobra.Command{
		Use:   "release-time --in FILE --profile P --out release.csv",
		Short: "Time Release Study: arrival-to-release time by stage, lane, office, mode, HS chapter and month",
		Long: `release-time measures, for every declaration, the time from the goods' arrival to their
release and the stages it went through (WCO Time Release Study, BACUDA series 7):
arrival to lodgement, lodgement to assessment, waiting for the check, the documentary
check or physical inspection, waiting for payment, payment to release. Each stage is
the time it adds on the critical path, so the stages add up to the total.

It needs the milestone columns arrival_time, lodgement_time, assessment_time,
inspection_start_time, inspection_end_time (both empty when not controlled),
payment_time and release_time (YYYY-MM-DDTHH:MM[:SS], local time), mapped by the
profile; lane and mode_of_transport are used when present. 'risklane generate
--timestamps' makes such data. Consecutive rows with the same declaration id are items
of one declaration and are counted once.

A declaration with a missing milestone, an unreadable one or milestones out of order
(released before assessed, inspection ending before it starts, ...) goes to --rejects
with the reason and is left out of every figure.

Output, one row per group of each dimension (all, lane, inspected, office, mode,
hs2, month): declarations, mean, median, p90, p95 (hours), the share released
within each --target, mean working hours (Mon-Fri 08-17, Sat 08-12), the share
inspected and lodged before arrival, and the mean hours of every stage.
docs/release-time.md has the rules and a worked example.

With --ranked (a file risklane score wrote for these declarations) and --cost, it
also estimates what inspecting the top of that list would cost traders: for each
--budgets share, the trade hours added, each inspected declaration adding the
measured inspection delay of its office and mode of transport (mean release time of
inspected minus uncontrolled declarations).`,
		Example: `  risklane generate --rows 1000000 --timestamps --out decl.parquet
  risklane release-time --in decl.parquet --profile canonical --out release.csv --rejects bad.csv
  risklane release-time --in decl.parquet --profile canonical --out release.csv --ranked ranked.parquet --cost cost.csv`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			inputs := append(slices.Clone(in), args...)
			switch {
			case len(inputs) == 0:
				return usageError{msg: "release-time: give --in FILE, the declarations with their milestones"}
			case prof == "":
				return usageError{msg: "release-time: give --profile with one of " + strings.Join(profile.Names(), ", ") + " or a YAML file"}
			case out == "":
				return usageError{msg: "release-time: give --out, the table to write (.parquet, .csv or .arrow)"}
			}
			for _, t := range targets {
				if !(t > 0) {
					return usageError{msg: fmt.Sprintf("release-time: --target %g: give hours above 0", t)}
				}
			}
			if (cost.ranked == "") != (cost.out == "") {
				return usageError{msg: "release-time: --ranked and --cost go together: the ranked file of these declarations, and the budget cost table to write"}
			}
			if cost.out != "" {
				var err error
				if cost.counts, err = parseBudgets(cost.budgets); err != nil {
					return usageError{msg: "release-time: --budgets: " + err.Error()}
				}
			}
			if err := prepareInputs("release-time", []sink.Path{{Flag: "--ranked", Name: cost.ranked}}, inputs,
				sink.Path{Flag: "--out", Name: out}, sink.Path{Flag: "--rejects", Name: rejects}, sink.Path{Flag: "--cost", Name: cost.out}); err != nil {
				return err
			}
			if err := checkFormats("release-time", out, cost.out); err != nil {
				return err
			}
			p, err := profile.Resolve(prof)
			if err != nil {
				return err
			}
			return runReleaseTime(c.OutOrStdout(), inputs, p, out, rejects, targets, cost)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&in, "in", nil, "declarations file (CSV, Parquet, Arrow); repeat for several")
	fl.StringVar(&prof, "profile", "", "built-in profile name or a YAML profile file")
	fl.StringVar(&out, "out", "", "breakdown table: .parquet, .csv or .arrow")
	fl.StringVar(&rejects, "rejects", "", "write rejected declarations (row,declaration_id,column,value,reason) to this CSV")
	fl.Float64SliceVar(&targets, "target", []float64{24, 48}, "release-time targets in hours (repeat or comma-separate)")
	fl.StringVar(&cost.ranked, "ranked", "", "ranked file risklane score wrote for these declarations, for the budget cost (with --cost)")
	fl.StringVar(&cost.out, "cost", "", "budget cost table to write (.parquet, .csv or .arrow): trade hours added per budget")
	fl.StringSliceVar(&cost.budgets, "budgets", []string{"1%", "2%", "5%", "10%", "20%"}, "inspection budgets of the cost table, increasing: shares (5%) or numbers of declarations")
	return cmd
}

// costRequest is the budget cost part of the release-time command line.
type costRequest struct {
	ranked, out string
	budgets     []string
	counts      []rank.Share
}

// parseBudgets reads increasing inspection budgets.
func parseBudgets(list []string) ([]rank.Share, error) {
	var out []rank.Share
	for _, b := range list {
		s, err := rank.ParseShare(b)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("give at least one budget, like 5%%")
	}
	return out, nil
}

func runReleaseTime(w io.Writer, inputs []string, p *profile.Profile, out, rejects string, targets []float64, cost costRequest) error {
	cfg := releasetime.Config{Targets: targets}
	if cost.out != "" {
		var ids []string
		if err := rank.Read(cost.ranked, func(r rank.Row) error { ids = append(ids, r.DeclarationID); return nil }); err != nil {
			return err
		}
		cfg.Cost = releasetime.NewCost(ids)
	}
	var rf *sink.AtomicFile
	var cw *sink.CSVWriter
	if rejects != "" {
		var err error
		if rf, err = sink.CreateAtomic(rejects); err != nil {
			return err
		}
		defer rf.Abort()
		cw = sink.NewCSVWriter(rf) // ids and values are the input's: neutralise formulas
		if err := cw.Write([]string{"row", "declaration_id", "column", "value", "reason"}); err != nil {
			return err
		}
		cfg.Rejects = func(r releasetime.Reject) error {
			return cw.Write([]string{strconv.FormatInt(r.Row, 10), r.ID, r.Column, r.Value, r.Reason})
		}
	}
	t0 := time.Now()
	// Only the columns the analysis reads: a bad value elsewhere (a FOB
	// value, a date) does not keep a declaration out of the measurement.
	r, err := ingest.OpenFiles(inputs, p, ingest.Options{Columns: releasetime.Columns})
	if err != nil {
		return err
	}
	defer r.Close()
	a := releasetime.New(cfg)
	for r.Next() {
		if err := a.Add(r.RecordBatch()); err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil {
		return err
	}
	rows := a.Table()
	var costRows []releasetime.CostRow
	var costSum releasetime.CostSummary
	if cfg.Cost != nil {
		counts := make([]int, len(cost.counts))
		for i, s := range cost.counts {
			counts[i] = s.Of(cfg.Cost.Ranked())
		}
		var err error
		if costRows, costSum, err = cfg.Cost.Curve(cost.budgets, counts); err != nil {
			return err
		}
		if err := releasetime.WriteCost(cost.out, costRows); err != nil {
			return err
		}
	}
	if err := releasetime.WriteTable(out, targets, rows); err != nil {
		return err
	}
	if rf != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("output %s: %w", rejects, err)
		}
		if err := rf.Commit(); err != nil {
			return err
		}
	}
	st, ist := a.Stats(), r.Stats()
	fmt.Fprintf(w, "Read %d rows (%d rejected by ingest): %d declarations measured, %d further items, %d rejected (missing or out-of-order milestones) in %.1fs\n",
		ist.Read, ist.Rejected, st.Measured, st.Items, st.Rejected, time.Since(t0).Seconds())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "dimension\tgroup\tdeclarations\tmean h\tmedian h\tp90 h\tp95 h\t")
	for _, t := range targets {
		fmt.Fprintf(tw, "<=%gh\t", t)
	}
	fmt.Fprintln(tw, "working h\t")
	for _, row := range rows {
		if row.Dimension != releasetime.All && row.Dimension != releasetime.ByLane && row.Dimension != releasetime.ByMode && row.Dimension != releasetime.ByControl {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t", row.Dimension, row.Group, row.N, row.Mean, row.Median, row.P90, row.P95)
		for _, v := range row.Within {
			fmt.Fprintf(tw, "%.1f%%\t", 100*v)
		}
		fmt.Fprintf(tw, "%.1f\t\n", row.MeanWorking)
	}
	tw.Flush()
	fmt.Fprintf(w, "wrote %s (%d rows: all, lane, inspected, office, mode, hs2, month)\n", out, len(rows))
	if rejects != "" {
		fmt.Fprintf(w, "wrote %s (%d rejected declarations)\n", rejects, st.Rejected)
	}
	if cfg.Cost != nil {
		fmt.Fprintf(w, "Inspection delay: %.1f h on average (inspected minus uncontrolled; %d office x mode cells with their own delay, %d using their mode's or the overall one); %.1f%% of these declarations were inspected.\n",
			costSum.Overall, costSum.Cells, costSum.Fallback, 100*costSum.ShareInspected)
		if costSum.Matched < costSum.Ranked {
			fmt.Fprintf(w, "%d of the %d ranked declarations were not measured here and count with the overall delay.\n", costSum.Ranked-costSum.Matched, costSum.Ranked)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "budget\tinspected\tadded trade hours\tper declaration\tper inspection\tper extra 1%\t")
		for _, r := range costRows {
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f\t%.1f\t%.0f\t\n", r.Budget, r.Inspected, r.AddedHours, r.PerDeclaration, r.PerInspection, r.MarginalPerPercent)
		}
		tw.Flush()
		fmt.Fprintf(w, "wrote %s\n", cost.out)
	}
	return nil
}
