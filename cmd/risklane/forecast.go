package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"risklane/analysis/forecast"
	"risklane/features/mirror"
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
		trade   tradeSeriesRequest
	)
	cmd := &cobra.Command{
		Use:   "forecast --in FILE --profile P --out forecast.parquet",
		Short: "Forecast revenue and trade flows per month or week, with 80/95% intervals and a backtest",
		Long: `forecast adds declarations up into monthly (or weekly) series of a measure (duty,
customs value, item count or mass), one series per group (none, hs2, hs4, hs6, origin
or office, or several joined by commas: origin,hs4 gives one series per origin and
heading, named CHN/0203), and forecasts each --horizon periods ahead with 80% and 95%
prediction intervals (BACUDA series 2).

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

With --trade instead of --in, the series come from UN Comtrade trade statistics (bulk or
API CSV, the files risklane mirror reads): the HS6 rows of each partner (not the World
and aggregate rows, which would count twice) of --flow (import or export), optionally
only those --reporter reported, added up per month (monthly files) or --period year
(annual files); --measure value (US$) or mass (net kg), --by none, hs2, hs4, hs6 or
partner. Rows that cannot be read go to --rejects.

Outputs (atomic; format from the name):
  --out     group, period, period_start, kind (history|forecast), value,
            lower_80, upper_80, lower_95, upper_95, method
  --models  one row per group: method, n, alpha, beta, gamma, phi, loglik, aicc,
            sigma2, backtest_origins, mase, coverage_80, coverage_95, error`,
		Example: `  risklane forecast --in declarations.csv --profile date --measure duty --out duty.csv
  risklane forecast --in decl.parquet --profile kcs --measure value --by hs2 --horizon 6 --backtest 6 --out fc.parquet --models models.csv
  risklane forecast --trade comtrade.csv --reporter KEN --period year --measure value --by hs2 --horizon 3 --out trade_fc.csv`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			inputs := append(slices.Clone(in), args...)
			if len(trade.files) > 0 {
				if len(inputs) > 0 || prof != "" {
					return usageError{msg: "forecast: give either --in FILE with --profile (declarations) or --trade FILE (trade statistics), not both"}
				}
				if err := trade.check(measure, key, period); err != nil {
					return err
				}
			}
			switch {
			case len(inputs) == 0 && len(trade.files) == 0:
				return usageError{msg: "forecast: give --in FILE, the declarations to add up (or --trade FILE, trade statistics)"}
			case prof == "" && len(trade.files) == 0:
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
			var tradeIns []sink.Path
			for _, f := range trade.files {
				tradeIns = append(tradeIns, sink.Path{Flag: "--trade", Name: f})
			}
			if err := prepareInputs("forecast", tradeIns, inputs, sink.Path{Flag: "--out", Name: out}, sink.Path{Flag: "--models", Name: models}, sink.Path{Flag: "--rejects", Name: rejects}); err != nil {
				return err
			}
			meth, err := forecast.ParseMethod(method)
			if err != nil {
				return usageError{msg: "forecast: --method: " + err.Error()}
			}
			if len(trade.files) > 0 {
				per := forecast.Period(period)
				cfg := forecast.Config{Method: meth, Horizon: horizon, Season: per.Season(), Origins: origins, Workers: workers}
				return runTradeForecast(c.OutOrStdout(), trade, forecast.Measure(measure), key, per, cfg, minLen, out, models, rejects, show)
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
	fl.StringVar(&measure, "measure", "duty", "what to add up: duty, value, count or mass (trade statistics: value or mass)")
	fl.StringVar(&key, "by", "none", "one series per: none, hs2, hs4, hs6, origin or office, or several joined by commas (origin,hs4) (trade statistics: none, hs2, hs4, hs6 or partner)")
	fl.StringVar(&period, "period", "month", "series step: month, week or year")
	fl.StringArrayVar(&trade.files, "trade", nil, "UN Comtrade trade statistics (CSV, bulk or API layout) instead of declarations; repeat for several")
	fl.StringVar(&trade.flow, "flow", "import", "with --trade: the trade flow to forecast, import or export")
	fl.StringVar(&trade.reporter, "reporter", "", "with --trade: only the rows this country reported (ISO3, e.g. KEN)")
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
	rf, err := createRejects(rejects)
	if err != nil {
		return err
	}
	defer rf.abort()
	r, err := ingest.OpenFiles(inputs, p, ingest.Options{Rejects: rf.sink()})
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
	return forecastSeries(w, agg.Series(), cfg, period, minLen, out, models, rejects, show, rf)
}

// forecastSeries forecasts series of at least minLen periods, writes the
// tables (and commits the rejects file, when there is one) and prints the
// largest groups.
func forecastSeries(w io.Writer, all []forecast.Series, cfg forecast.Config, period forecast.Period, minLen int,
	out, models, rejects string, show int, rf *rejectsFile) error {
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
	if err := rf.commit(); err != nil {
		return err
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

// tradeSeriesRequest is the trade-statistics input of the forecast command.
type tradeSeriesRequest struct {
	files          []string
	flow, reporter string
}

// check validates the flags that the trade input reads. The measure
// defaults to duty, which trade statistics do not have: value is meant.
func (t *tradeSeriesRequest) check(measure, key, period string) error {
	switch {
	case measure != "value" && measure != "mass" && measure != "duty":
		return usageError{msg: fmt.Sprintf("forecast: --measure %s: trade statistics give value or mass", measure)}
	case measure == "duty":
		return usageError{msg: "forecast: --measure duty: trade statistics carry no duty; give --measure value or mass"}
	case !slices.Contains([]string{"none", "hs2", "hs4", "hs6", "partner"}, key):
		return usageError{msg: fmt.Sprintf("forecast: --by %s: with --trade give none, hs2, hs4, hs6 or partner", key)}
	case period != "month" && period != "year":
		return usageError{msg: fmt.Sprintf("forecast: --period %s: trade statistics are monthly or annual (month or year)", period)}
	case t.flow != "import" && t.flow != "export":
		return usageError{msg: fmt.Sprintf("forecast: --flow %s: give import or export", t.flow)}
	}
	if t.reporter != "" {
		if c := mirror.Country(t.reporter); c == "" {
			return usageError{msg: fmt.Sprintf("forecast: --reporter %s: not a country code", t.reporter)}
		}
	}
	return nil
}

// runTradeForecast adds the HS6 partner rows of trade statistics up into
// series and forecasts them.
func runTradeForecast(w io.Writer, t tradeSeriesRequest, measure forecast.Measure, key string, period forecast.Period,
	cfg forecast.Config, minLen int, out, models, rejects string, show int) error {
	agg, err := forecast.NewAggregator(measure, forecast.NoKey, period)
	if err != nil {
		return usageError{msg: "forecast: " + err.Error()}
	}
	rf, err := createRejects(rejects)
	if err != nil {
		return err
	}
	defer rf.abort()
	flow := mirror.FlowImport
	if t.flow == "export" {
		flow = mirror.FlowExport
	}
	reporter := ""
	if t.reporter != "" {
		reporter = mirror.Country(t.reporter)
	}
	var read, used, skipped, annualInMonthly, rejected int
	for _, name := range t.files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		rd, err := mirror.NewReader(f, name)
		if err != nil {
			f.Close()
			return err
		}
		for rd.Next() {
			rec := rd.Record()
			read++
			if rec.Breakdown || rec.World || rec.Level != 6 || rec.Flow != flow || (reporter != "" && rec.Reporter != reporter) {
				skipped++
				continue
			}
			if rec.Month == 0 && period == forecast.Month {
				annualInMonthly++
				continue
			}
			v := float64(rec.Value) / 100
			if flow == mirror.FlowImport && rec.HasCIF {
				v = float64(rec.CIF) / 100
			} else if flow == mirror.FlowExport && rec.HasFOB {
				v = float64(rec.FOB) / 100
			}
			if measure == forecast.Mass {
				v = rec.NetKg
			}
			if math.IsNaN(v) {
				skipped++
				continue
			}
			g := "all"
			switch key {
			case "hs2", "hs4", "hs6":
				g = rec.HS[:min(len(rec.HS), int(key[2]-'0'))]
			case "partner":
				g = rec.Partner
			}
			month := max(rec.Month, 1)
			day := int32(time.Date(rec.Year, time.Month(month), 1, 0, 0, 0, 0, time.UTC).Unix() / 86400)
			agg.AddAt(g, day, v)
			used++
		}
		err = rd.Err()
		for _, rj := range rd.Rejects() {
			if rf != nil {
				if rerr := rf.Reject(ingest.Reject{File: rj.File, Line: int64(rj.Line), Column: rj.Column, Value: rj.Value, Reason: rj.Reason}); rerr != nil {
					err = errors.Join(err, rerr)
				}
			}
		}
		rejected += rd.Rejected()
		f.Close()
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "Read %d trade rows: %d HS6 %s rows added up, %d other rows (World, aggregates, other flows or reporters) left out, %d rejected\n",
		read, used, t.flow, skipped, rejected)
	if annualInMonthly > 0 {
		return fmt.Errorf("forecast: %d annual rows in a monthly series: give --period year for annual trade statistics", annualInMonthly)
	}
	if used == 0 {
		return fmt.Errorf("forecast: no HS6 %s rows by partner in the trade statistics%s; risklane forecasts the partner detail (the World and aggregate rows would count twice)",
			t.flow, map[bool]string{true: " of " + reporter, false: ""}[reporter != ""])
	}
	return forecastSeries(w, agg.Series(), cfg, period, minLen, out, models, rejects, show, rf)
}
