// Package forecast forecasts monthly or weekly customs series (revenue,
// values, counts, masses) aggregated from declarations: exponential
// smoothing state-space models (ETS) chosen by AICc as R's forecast::ets
// chooses them, seasonal naive and drift benchmarks, prediction intervals and
// a rolling-origin backtest (MASE, interval coverage). See docs/forecast.md.
package forecast
