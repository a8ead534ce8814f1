package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/cobra"

	"risklane/analysis/forecast"
	"risklane/analysis/releasetime"
	"risklane/decl"
	"risklane/features/mirror"
	"risklane/features/pricecluster"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/kinds"
	"risklane/pipeline/rank"
	"risklane/pipeline/report"
	"risklane/pipeline/run"
	"risklane/pipeline/simulate"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newReportCmd()) }

// reportRequest is what a report is made from, as the command line gives it.
type reportRequest struct {
	modelDir   string
	inputs     []string
	profile    *profile.Profile
	trade      []string
	reporter   string
	tariffs    string
	ranked     string
	clusters   string
	forecast   string // table written by risklane forecast --out
	release    string // table written by risklane release-time --out
	simulation string // table written by risklane simulate --out
	out        string
	title      string
	budget     float64
	progress   run.Progress // nil: none
}

// newReportCmd builds the report command with its own flag variables, so
// that tests can run it afresh.
func newReportCmd() *cobra.Command {
	var (
		r      reportRequest
		in     []string
		prof   string
		budget string
		quiet  bool
	)
	cmd := &cobra.Command{
		Use:   "report --model DIR --in FILE --profile P --out report.html",
		Short: "Write an HTML report: metrics, charts, mirror gaps, fraud map, rules, ranked list",
		Long: `report scores labelled declarations with a trained model and writes one HTML file that
works offline (every script, style and map outline is inside it), for a trainer's
projector or an analyst's laptop on a closed network. It shows:

  - the metrics table (Precision, Recall and Revenue at 1, 2, 5 and 10% inspected,
    AUC; the numbers risklane evaluate prints) and the precision curve by
    inspection rate;
  - the score distribution of frauds and clean declarations;
  - the unit values of the most suspicious HS6 codes with their k-means clusters
    (with --clusters, the clusters risklane cluster --model wrote; otherwise
    fitted on --in as risklane cluster does);
  - the biggest mirror gaps (with --trade, --reporter and optionally --tariffs);
  - a world map of fraud by country of origin;
  - the model's top rules, measured on --in;
  - the top of a ranked list with its reasons (with --ranked, a file written by
    risklane score);
  - with --forecast, the revenue or trade forecast risklane forecast wrote
    (history, forecast and intervals of the largest series);
  - with --release-time, where the time from arrival to release goes, by stage,
    lane and control (the table risklane release-time wrote);
  - with --simulation, the inspection strategies risklane simulate replayed:
    revenue recall and precision per period, one line per strategy, and the
    summary table.

A section whose input is missing says so instead of being left out.`,
		Example: `  risklane report --model model --profile canonical --in test.csv --out report.html
  risklane report --model model --profile canonical --in test.csv --trade trade.csv --reporter KEN --tariffs tariffs.csv --ranked ranked.parquet --out report.html
  risklane report --model model --profile canonical --in test.csv --forecast duty_forecast.parquet --release-time release.csv --out report.html`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			r.inputs = append(slices.Clone(in), args...)
			switch {
			case r.modelDir == "":
				return usageError{msg: "report: give --model DIR, the model folder written by risklane train"}
			case len(r.inputs) == 0:
				return usageError{msg: "report: give --in FILE, the labelled declarations to evaluate on"}
			case prof == "":
				return usageError{msg: "report: give --profile with one of " + strings.Join(profile.Names(), ", ") + " or a YAML file"}
			case r.out == "":
				return usageError{msg: "report: give --out, the HTML file to write"}
			case !strings.EqualFold(filepath.Ext(r.out), ".html") && !strings.EqualFold(filepath.Ext(r.out), ".htm"):
				return usageError{msg: fmt.Sprintf("report: --out %s: the report is an .html file", r.out)}
			case len(r.trade) > 0 && r.reporter == "":
				return usageError{msg: "report: give --reporter, the ISO3 code of the importing country of the --trade statistics (e.g. KEN)"}
			case len(r.trade) == 0 && (r.reporter != "" || r.tariffs != ""):
				return usageError{msg: "report: --reporter and --tariffs go with --trade, the trade statistics of the mirror analysis"}
			}
			if err := checkFormats("report", r.forecast, r.release, r.simulation); err != nil {
				return err
			}
			sh, err := rank.ParseShare(budget)
			if err != nil || sh.IsCount || !(sh.Percent > 0) {
				why := "give a share above 0: 5% or 0.05"
				if err == nil && sh.IsCount {
					why = fmt.Sprintf("a whole number is a count of rows, and the fraud map needs an inspection rate: write %s%% for a share", budget)
				}
				return usageError{msg: fmt.Sprintf("report: --budget %s: %s", budget, why)}
			}
			r.budget = sh.Percent
			if r.ranked != "" {
				if f, err := sink.FormatOf(r.ranked); err != nil || (f != sink.Parquet && f != sink.CSV) {
					return usageError{msg: fmt.Sprintf("report: --ranked %s: give the .parquet or .csv file risklane score wrote", r.ranked)}
				}
			}
			ins := []sink.Path{{Flag: "--model", Name: r.modelDir}, {Flag: "--ranked", Name: r.ranked}, {Flag: "--tariffs", Name: r.tariffs},
				{Flag: "--forecast", Name: r.forecast}, {Flag: "--release-time", Name: r.release},
				{Flag: "--simulation", Name: r.simulation}}
			for _, group := range []struct {
				flag  string
				paths []string
			}{{"--in", r.inputs}, {"--trade", r.trade}} {
				for _, p := range group.paths {
					ins = append(ins, sink.Path{Flag: group.flag, Name: p})
				}
			}
			if err := sink.Prepare(ins, []sink.Path{{Flag: "--out", Name: r.out}}); err != nil {
				return fmt.Errorf("report: %w", err)
			}
			p, err := profile.Resolve(prof)
			if err != nil {
				return err
			}
			r.profile = p
			m, err := kinds.Load(r.modelDir)
			if err != nil {
				return err
			}
			r.progress = newProgress(c.ErrOrStderr(), quiet)
			batches, st, err := readAll(r.inputs, p, ingest.Options{}, r.progress)
			if err != nil {
				return err
			}
			defer ingest.Release(batches)
			w := c.OutOrStdout()
			fmt.Fprintf(w, "Read %d rows: %d accepted, %d rejected\n", st.Read, st.Accepted, st.Rejected)
			for _, in := range trainedOn(m, r.inputs) {
				fmt.Fprintf(c.ErrOrStderr(), "warning: %s is a file model %s was trained on: its metrics are measured on rows the model learnt from "+
					"(optimistic); give held-out declarations, such as a night scored after training\n", in, m.ID())
			}
			var clusters *pricecluster.Model
			if r.clusters != "" {
				if clusters, err = readClusters(r.clusters); err != nil {
					return err
				}
			}
			d, err := makeReport(r, m, batches, nil, clusters)
			if err != nil {
				return err
			}
			return writeReport(w, r.out, d)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&r.modelDir, "model", "", "model folder written by risklane train")
	fl.StringArrayVar(&in, "in", nil, "labelled declarations (CSV, Parquet, Arrow); repeat for several")
	fl.StringVar(&prof, "profile", "", "built-in profile name or a YAML profile file")
	fl.StringArrayVar(&r.trade, "trade", nil, "Comtrade trade statistics for the mirror section; repeat for several files")
	fl.StringVar(&r.reporter, "reporter", "", "importing country of the trade statistics (ISO3, e.g. KEN)")
	fl.StringVar(&r.tariffs, "tariffs", "", "tariff table CSV (hs,rate in percent) for the mirror revenue gap")
	fl.StringVar(&r.ranked, "ranked", "", "ranked file written by risklane score (.parquet or .csv)")
	fl.StringVar(&r.clusters, "clusters", "", "price clusters written by risklane cluster --clusters (JSON); default: fitted on --in")
	fl.StringVar(&r.forecast, "forecast", "", "forecast table written by risklane forecast --out, for the forecast section")
	fl.StringVar(&r.release, "release-time", "", "breakdown table written by risklane release-time --out, for the release-time section")
	fl.StringVar(&r.simulation, "simulation", "", "table written by risklane simulate --out, for the inspection-policy section")
	fl.StringVar(&r.out, "out", "", "HTML file to write")
	fl.StringVar(&r.title, "title", "", "title of the report (default: risklane report)")
	fl.StringVar(&budget, "budget", "5%", "inspection rate (a share: 5% or 0.05) at which the fraud map counts the model's catches")
	fl.BoolVar(&quiet, "quiet", false, "no progress bar (shown on stderr when it is a terminal)")
	return cmd
}

// readClusters reads the price clusters risklane cluster --model wrote.
func readClusters(path string) (*pricecluster.Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return pricecluster.ReadModel(f, path)
}

// makeReport computes the report of model m on batches (the rows of
// r.inputs). gaps, when not nil, is a mirror analysis done already
// (otherwise r.trade is analysed when given); clusters, when not nil, a
// clustering of the batches' unit values (otherwise one is fitted).
func makeReport(r reportRequest, m models.Model, batches []arrow.RecordBatch, gaps *mirror.Gaps, clusters *pricecluster.Model) (*report.Data, error) {
	pr := r.progress
	if pr == nil {
		pr = run.NoProgress{}
	}
	defer pr.Done()
	pr.Stage("predict", -1)
	scores, err := report.Score(m, batches)
	if err != nil {
		return nil, err
	}
	pr.Set(int64(len(scores)))
	pr.Done()
	in := report.Inputs{
		Title:        r.title,
		Subtitle:     fmt.Sprintf("Model %s evaluated on %s", m.ID(), strings.Join(baseNames(r.inputs), ", ")),
		Declarations: batches,
		Scores:       scores,
		BudgetPct:    r.budget,
		Gaps:         gaps,
		Clusters:     clusters,
		Missing:      map[string]string{},
	}
	n := 0
	for _, b := range batches {
		n += int(b.NumRows())
	}
	model := fmt.Sprintf("%s (%s, a %s model)", r.modelDir, m.ID(), m.Kind())
	if d, ok := m.(models.Described); ok {
		p := d.Provenance()
		model = fmt.Sprintf("%s (%s, trained %s on %s labelled rows)", r.modelDir, m.ID(), p.Created.Format("2006-01-02"), thousandsInt(p.Labelled))
	}
	in.Facts = []report.Fact{
		{Name: "model", Value: model},
		{Name: "data", Value: fmt.Sprintf("%s (%s rows, profile %s)", strings.Join(r.inputs, ", "), thousandsInt(n), r.profile.Name)},
	}
	if in.Gaps == nil && len(r.trade) > 0 {
		if in.Gaps, err = analyzeTrade(r.trade, r.reporter, r.tariffs); err != nil {
			return nil, err
		}
	}
	if in.Gaps != nil {
		in.Facts = append(in.Facts, report.Fact{Name: "trade statistics", Value: strings.Join(r.trade, ", ")})
	} else {
		in.Missing[report.SectionMirror] = "give the trade statistics with --trade FILE --reporter ISO3 (and --tariffs FILE for the revenue gap)."
	}
	if r.ranked != "" {
		if in.Ranked, err = report.ReadRanked(r.ranked, 25); err != nil {
			return nil, err
		}
		in.Facts = append(in.Facts, report.Fact{Name: "ranked list", Value: r.ranked})
	} else {
		in.Missing[report.SectionRanked] = "give a ranked file written by risklane score with --ranked FILE."
	}
	if r.forecast != "" {
		curves, err := forecast.ReadTable(r.forecast)
		if err != nil {
			return nil, fmt.Errorf("--forecast: %w", err)
		}
		if in.Forecast, err = report.NewForecastSection(r.forecast, curves, report.ForecastGroups); err != nil {
			return nil, err
		}
		in.Facts = append(in.Facts, report.Fact{Name: "forecast", Value: r.forecast})
	}
	if r.release != "" {
		rows, targets, err := releasetime.ReadTable(r.release)
		if err != nil {
			return nil, fmt.Errorf("--release-time: %w", err)
		}
		if in.Release, err = report.NewReleaseSection(r.release, rows, targets); err != nil {
			return nil, err
		}
		in.Facts = append(in.Facts, report.Fact{Name: "release times", Value: r.release})
	}
	if r.simulation != "" {
		rows, err := simulate.ReadTable(r.simulation)
		if err != nil {
			return nil, fmt.Errorf("--simulation: %w", err)
		}
		if in.Simulation, err = report.NewSimulationSection(r.simulation, rows); err != nil {
			return nil, err
		}
		in.Facts = append(in.Facts, report.Fact{Name: "simulation", Value: r.simulation})
	}
	pr.Stage("rules", -1)
	e, isEnsemble := m.(models.Ensemble)
	switch {
	case !isEnsemble:
		in.Missing[report.SectionRules] = fmt.Sprintf("a %s model has no trees to read rules from.", m.Kind())
	case labelledRows(batches) > 0:
		if in.Rules, err = report.Rules(e, batches, report.TopRules); err != nil {
			return nil, err
		}
	default:
		in.Missing[report.SectionRules] = report.NoLabels
	}
	pr.Stage("charts", -1)
	return report.Build(in)
}

// analyzeTrade runs the mirror analysis of the report and the demo.
func analyzeTrade(trade []string, reporter, tariffs string) (*mirror.Gaps, error) {
	cfg := mirror.DefaultConfig(reporter)
	if tariffs != "" {
		f, err := os.Open(tariffs)
		if err != nil {
			return nil, fmt.Errorf("tariffs: %w", err)
		}
		defer f.Close()
		if cfg.Tariffs, _, err = mirror.ReadTariffs(f, tariffs); err != nil {
			return nil, err
		}
	}
	return mirror.Analyze(cfg, trade...)
}

// writeReport writes d to path and says which sections it has.
func writeReport(w io.Writer, path string, d *report.Data) error {
	if err := report.WriteFile(path, d); err != nil {
		return err
	}
	missing := d.Missing()
	fmt.Fprintf(w, "Report written to %s", path)
	if len(missing) > 0 {
		fmt.Fprintf(w, " (not available: %s)", strings.Join(missing, ", "))
	}
	fmt.Fprintln(w)
	return nil
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

// thousandsInt writes n with comma separators.
func thousandsInt(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousandsInt(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// labelledRows counts the rows of batches with a known illicit label.
func labelledRows(batches []arrow.RecordBatch) int {
	n := 0
	for _, b := range batches {
		if c, ok := decl.Field(b, decl.Illicit); ok {
			n += c.Len() - c.NullN()
		}
	}
	return n
}

// trainedOn returns the inputs that are files the model records as its
// training data (the same file, whatever the path says).
func trainedOn(m models.Model, inputs []string) []string {
	d, ok := m.(models.Described)
	if !ok {
		return nil
	}
	var out []string
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			continue
		}
		for _, t := range d.Provenance().Inputs {
			if ts, err := os.Stat(t); err == nil && os.SameFile(st, ts) {
				out = append(out, in)
				break
			}
		}
	}
	return out
}
