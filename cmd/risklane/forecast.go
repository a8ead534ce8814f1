package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"risklane/analysis/forecast"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newForecastCmd()) }

// newForecastCmd builds the forecast command with its own flag variables,
// so that tests can run it afresh.
func newForecastCmd() *cobra.Command {
	var (
		in      []string
		prof    string
		out     string
		models  string
		rejects string
		measure string
		key     string
		period  string
		method  string
		horizon int
		origins int
		minLen  int
		show    int
		workers int
	)
	cmd := &cobra.Command{
		Use:   "forecast --in FILE --profile P --out forecast.parquet",
		Short: "Forecast revenue and trade flows per month or week, with 80/95% intervals and a backtest",
		Long: `forecast adds declarations up into monthly (or weekly) series of a measure (duty,
customs value, item count or mass), one series per group (none, hs2, hs4, origin or
office), and forecasts each --horizon periods ahead with 80% and 95% prediction
intervals (BACUDA series 2).

--method ets fits every exponential smoothing state-space model (errors A/M, trends
N/A/Ad, seasons N/A/M) by maximum likelihood and keeps the lowest AICc, as R's
forecast::ets does (docs/forecast.md: how, and how it was checked against R).
snaive (last season's value) and drift (the line through first and last points) are
the benchmarks a forecast should beat. --backtest K refits at the K last origins that
leave --horizon periods and reports MASE (below 1: better than the seasonal naive
forecast in sample) and how often the intervals held the actual value.

A group's series runs from its first period with data to the last period of all the
data; periods without declarations count 0. Series shorter than --min-length are
listed in the model table with an error and not forecast.

Outputs (atomic; format from the name):
  --out     group, period, period_start, kind (history|forecast), value,
            lower_80, upper_80, lower_95, upper_95, method
  --models  one row per group: method, n, alpha, beta, gamma, phi, loglik, aicc,
            sigma2, backtest_origins, mase, coverage_80, coverage_95, error`,
		Example: `  risklane forecast --in declarations.csv --profile date --measure duty --out duty.csv
  risklane forecast --in decl.parquet --profile kcs --measure value --by hs2 --horizon 6 --backtest 6 --out fc.parquet --models models.csv`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			inputs := append(slices.Clone(in), args...)
			switch {
			case len(inputs) == 0:
				return usageError{msg: "forecast: give --in FILE, the declarations to add up"}
			case prof == "":
				return usageError{msg: "forecast: give --profile with one of " + strings.Join(profile.Names(), ", ") + " or a YAML file"}
			case out == "":
				return usageError{msg: "forecast: give --out, the forecast table to write (.parquet, .csv or .arrow)"}
			case horizon < 1 || horizon > 120:
				return usageError{msg: fmt.Sprintf("forecast: --horizon %d: give 1 to 120 periods", horizon)}
			case origins < 0:
				return usageError{msg: "forecast: --backtest must be 0 or more"}
			case minLen < 2:
				return usageError{msg: "forecast: --min-length must be at least 2"}
			}
			if err := checkFormats("forecast", out, models); err != nil {
				return err
			}
			if err := preparePaths("forecast", inputs, sink.Path{Flag: "--out", Name: out}, sink.Path{Flag: "--models", Name: models}, sink.Path{Flag: "--rejects", Name: rejects}); err != nil {
				return err
			}
			meth, err := forecast.ParseMethod(method)
			if err != nil {
				return usageError{msg: "forecast: --method: " + err.Error()}
			}
			agg, err := forecast.NewAggregator(forecast.Measure(measure), forecast.Key(key), forecast.Period(period))
			if err != nil {
				return usageError{msg: "forecast: " + err.Error()}
			}
			p, err := profile.Resolve(prof)
			if err != nil {
				return err
			}
			cfg := forecast.Config{Method: meth, Horizon: horizon, Season: forecast.Period(period).Season(),
				Origins: origins, Workers: workers}
			return runForecast(c.OutOrStdout(), inputs, p, agg, cfg, forecast.Period(period), minLen, out, models, rejects, show)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&in, "in", nil, "declarations file (CSV, Parquet, Arrow); repeat for several")
	fl.StringVar(&prof, "profile", "", "built-in profile name or a YAML profile file")
	fl.StringVar(&out, "out", "", "forecast table: .parquet, .csv or .arrow")
	fl.StringVar(&models, "models", "", "write the per-group model table (method, parameters, AICc, backtest) to this file")
	fl.StringVar(&rejects, "rejects", "", "write rejected input rows (file,line,column,value,reason) to this CSV")
	fl.StringVar(&measure, "measure", "duty", "what to add up: duty, value, count or mass")
	fl.StringVar(&key, "by", "none", "one series per: none, hs2, hs4, origin or office")
	fl.StringVar(&period, "period", "month", "series step: month or week")
	fl.StringVar(&method, "method", "ets", "ets (selected by AICc), snaive or drift")
	fl.IntVar(&horizon, "horizon", 12, "periods to forecast")
	fl.IntVar(&origins, "backtest", 0, "rolling-origin backtest over this many origins (0: none)")
	fl.IntVar(&minLen, "min-length", 6, "shortest series (periods) that is forecast")
	fl.IntVar(&show, "show", 10, "groups to print (largest last-year total first)")
	fl.IntVar(&workers, "workers", 0, "series fitted at once (0: one per core)")
	return cmd
}

func runForecast(w io.Writer, inputs []string, p *profile.Profile, agg *forecast.Aggregator, cfg forecast.Config,
	period forecast.Period, minLen int, out, models, rejects string, show int) error {
	var opt ingest.Options
	var rf *ingest.RejectFile
	if rejects != "" {
		var err error
		if rf, err = ingest.CreateRejectFile(rejects); err != nil {
			return err
		}
		defer rf.Abort()
		opt.Rejects = rf
	}
	r, err := ingest.OpenFiles(inputs, p, opt)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
		if err := agg.Add(r.RecordBatch()); err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil {
		return err
	}
	st := r.Stats()
	fmt.Fprintf(w, "Read %d rows: %d accepted, %d rejected; %d without a date or the measure\n", st.Read, st.Accepted, st.Rejected, agg.Skipped)
	all := agg.Series()
	var fit []forecast.Series
	var short []forecast.Result
	for _, s := range all {
		if len(s.Values) < minLen {
			short = append(short, forecast.Result{Series: s, Err: fmt.Errorf("%d periods, fewer than --min-length %d", len(s.Values), minLen)})
			continue
		}
		fit = append(fit, s)
	}
	t0 := time.Now()
	res := forecast.Run(fit, cfg)
	el := time.Since(t0)
	fmt.Fprintf(w, "Forecast %d series (%s, %d %ss ahead) in %.2fs; %d too short\n", len(fit), cfg.Method, cfg.Horizon, period, el.Seconds(), len(short))
	if err := forecast.WriteTable(out, period, res); err != nil {
		return err
	}
	if models != "" {
		if err := forecast.WriteModels(models, append(res, short...)); err != nil {
			return err
		}
	}
	if rf != nil {
		if err := rf.Commit(); err != nil {
			return err
		}
	}
	printForecasts(w, res, period, cfg, show)
	for _, o := range []string{out, models, rejects} {
		if o != "" {
			fmt.Fprintf(w, "wrote %s\n", o)
		}
	}
	return nil
}

// printForecasts summarises the largest groups: the method, the last
// season's total and the next one's forecast with its 95% interval.
func printForecasts(w io.Writer, res []forecast.Result, period forecast.Period, cfg forecast.Config, show int) {
	recent := func(r forecast.Result) float64 {
		v := r.Series.Values
		var s float64
		for _, x := range v[max(0, len(v)-cfg.Season):] {
			s += x
		}
		return s
	}
	order := make([]int, len(res))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ra, rb := recent(res[a]), recent(res[b])
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return 0
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "group\tmethod\tperiods\tnext %s\tlow 95%%\thigh 95%%\tMASE\t\n", period)
	for _, i := range order[:min(show, len(order))] {
		r := res[i]
		if r.Model == nil {
			fmt.Fprintf(tw, "%s\t-\t%d\t\t\t\t\t\n", r.Series.Group, len(r.Series.Values))
			continue
		}
		mase := "-"
		if r.Backtest.Points > 0 {
			mase = fmt.Sprintf("%.3f", r.Backtest.MASE)
		}
		p := r.Prediction
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.4g\t%.4g\t%.4g\t%s\t\n", r.Series.Group, r.Model.Name, len(r.Series.Values),
			p.Mean[0], p.Lower[1][0], p.Upper[1][0], mase)
	}
	tw.Flush()
	if cfg.Origins > 0 {
		var m, c80, c95 float64
		n := 0
		for _, r := range res {
			if r.Backtest.Points > 0 {
				m += r.Backtest.MASE
				c80 += r.Backtest.Coverage[0]
				c95 += r.Backtest.Coverage[1]
				n++
			}
		}
		if n > 0 {
			fmt.Fprintf(w, "Backtest over %d series: mean MASE %.3f, 80%% intervals held %.1f%%, 95%% held %.1f%%\n",
				n, m/float64(n), 100*c80/float64(n), 100*c95/float64(n))
		}
	}
}
