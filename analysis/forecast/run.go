package forecast

import (
	"runtime"
	"sync"
)

// Config says how to forecast every series.
type Config struct {
	Method  Method
	Horizon int
	// Season is the seasonal period (12 for months, 52 for weeks).
	Season int
	// Origins is the number of rolling forecast origins of the backtest
	// (0: no backtest).
	Origins int
	// Workers is the number of series fitted at once (0: GOMAXPROCS).
	Workers int
}

// Result is the forecast of one series.
type Result struct {
	Series     Series
	Model      *Fitted // nil when no model could be fitted (see Err)
	Prediction Prediction
	Backtest   Backtest
	Err        error
}

// Run forecasts every series, Workers at a time. Results are in the order
// of the series and do not depend on the number of workers.
func Run(series []Series, cfg Config) []Result {
	out := make([]Result, len(series))
	w := cfg.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan int, w)
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var f fitter
			for i := range next {
				out[i] = f.one(series[i], cfg)
			}
		}()
	}
	for i := range series {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// one forecasts a single series.
func (f *fitter) one(s Series, cfg Config) Result {
	r := Result{Series: s}
	r.Model, r.Err = f.fitMethod(cfg.Method, s.Values, cfg.Season)
	if r.Err != nil {
		return r
	}
	r.Prediction = r.Model.Forecast(cfg.Horizon)
	if cfg.Origins > 0 {
		r.Backtest = f.backtest(cfg.Method, s.Values, cfg.Season, cfg.Horizon, cfg.Origins)
	}
	return r
}
