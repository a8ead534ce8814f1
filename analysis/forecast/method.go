package forecast

import (
	"fmt"
	"math"
)

// Method is a forecasting method.
type Method string

// The methods risklane offers: ETS selected by AICc, and the two benchmarks
// every forecast should beat.
const (
	MethodETS    Method = "ets"
	MethodSNaive Method = "snaive" // the value one season earlier (R's snaive)
	MethodDrift  Method = "drift"  // a random walk with drift (R's rwf(drift = TRUE))
)

// ParseMethod checks a method name.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case MethodETS, MethodSNaive, MethodDrift:
		return m, nil
	}
	return "", fmt.Errorf("unknown method %q: give ets, snaive or drift", s)
}

// Fitted is a fitted forecasting method: it can forecast and name itself.
type Fitted struct {
	// Name is "ETS(M,Ad,M)", "SNAIVE" or "DRIFT"; a constant series gives
	// "CONSTANT".
	Name string
	// ETS is the fitted model, nil for the benchmarks.
	ETS *ETS
	fc  func(h int) Prediction
}

// Forecast returns the h-step forecast.
func (f *Fitted) Forecast(h int) Prediction { return f.fc(h) }

// fitMethod fits method to y with seasonal period m.
func (f *fitter) fitMethod(method Method, y []float64, m int) (*Fitted, error) {
	if len(y) == 0 {
		return nil, errNoFit
	}
	if isConstant(y) {
		// R's ets returns simple exponential smoothing with alpha 0.99999
		// on a constant series: a flat forecast with no spread.
		v := y[len(y)-1]
		return &Fitted{Name: "CONSTANT", fc: func(h int) Prediction {
			p := newPrediction(h)
			for i := range p.Mean {
				p.Mean[i] = v
			}
			p.setNormal(make([]float64, h))
			return p
		}}, nil
	}
	switch method {
	case MethodSNaive:
		return snaive(y, m), nil
	case MethodDrift:
		if len(y) < 2 {
			return nil, errNoFit
		}
		return drift(y), nil
	}
	e, err := f.auto(y, m)
	if err != nil {
		return nil, err
	}
	return &Fitted{Name: e.Spec.String(), ETS: e, fc: e.Forecast}, nil
}

// snaive forecasts the value one season earlier; its h-step variance is
// sigma^2 times the number of seasons spanned, sigma^2 being the mean
// squared seasonal difference (R's snaive). With fewer than m+1 points it is
// the naive forecast (lag 1).
func snaive(y []float64, m int) *Fitted {
	if m < 1 || len(y) <= m {
		m = 1
	}
	var ss float64
	for i := m; i < len(y); i++ {
		d := y[i] - y[i-m]
		ss += d * d
	}
	s2 := 0.0
	if len(y) > m {
		s2 = ss / float64(len(y)-m)
	}
	return &Fitted{Name: "SNAIVE", fc: func(h int) Prediction {
		p := newPrediction(h)
		sd := make([]float64, h)
		n := len(y)
		for i := range p.Mean {
			p.Mean[i] = y[n-m+i%m]
			sd[i] = math.Sqrt(s2 * float64(i/m+1))
		}
		p.setNormal(sd)
		return p
	}}
}

// drift extends the line through the first and last points; the h-step
// variance is sigma^2 h (1 + h/(n-1)) with sigma^2 the variance of the
// differences about the drift (R's rwf(drift = TRUE)).
func drift(y []float64) *Fitted {
	n := len(y)
	b := (y[n-1] - y[0]) / float64(n-1)
	var ss float64
	for i := 1; i < n; i++ {
		d := y[i] - y[i-1] - b
		ss += d * d
	}
	s2 := 0.0
	if n > 2 {
		s2 = ss / float64(n-2)
	}
	return &Fitted{Name: "DRIFT", fc: func(h int) Prediction {
		p := newPrediction(h)
		sd := make([]float64, h)
		for i := range p.Mean {
			hh := float64(i + 1)
			p.Mean[i] = y[n-1] + hh*b
			sd[i] = math.Sqrt(s2 * hh * (1 + hh/float64(n-1)))
		}
		p.setNormal(sd)
		return p
	}}
}

// Backtest summarises a rolling-origin evaluation.
type Backtest struct {
	// Origins is the number of forecast origins, Points the forecasts made.
	Origins, Points int
	// MASE is the mean absolute error over all points, each origin's errors
	// scaled by the mean absolute seasonal difference of its training data
	// (lag m, or 1 without season), as R's accuracy() scales them.
	MASE float64
	// Coverage is the share of actual values inside the 80% and 95%
	// intervals.
	Coverage [2]float64
}

// backtest refits method at each of the last origins origins that leave h
// points to forecast, and compares the forecasts with what happened. It
// returns a zero Backtest when the series is too short.
func (f *fitter) backtest(method Method, y []float64, m, h, origins int) Backtest {
	var bt Backtest
	var sumScaled float64
	var inside [2]int
	for k := 0; k < origins; k++ {
		o := len(y) - h - (origins - 1 - k)
		if o < 3 {
			continue
		}
		train := y[:o]
		lag := m
		if lag < 1 || o <= lag {
			lag = 1
		}
		var scale float64
		for i := lag; i < o; i++ {
			scale += math.Abs(train[i] - train[i-lag])
		}
		scale /= float64(o - lag)
		if scale == 0 {
			continue
		}
		fit, err := f.fitMethod(method, train, m)
		if err != nil {
			continue
		}
		p := fit.Forecast(h)
		bt.Origins++
		var sum float64
		for i := 0; i < h; i++ {
			a := y[o+i]
			sum += math.Abs(a - p.Mean[i])
			for l := range Levels {
				if a >= p.Lower[l][i] && a <= p.Upper[l][i] {
					inside[l]++
				}
			}
		}
		bt.Points += h
		sumScaled += sum / scale
	}
	if bt.Points > 0 {
		bt.MASE = sumScaled / float64(bt.Points)
		for l := range Levels {
			bt.Coverage[l] = float64(inside[l]) / float64(bt.Points)
		}
	}
	return bt
}
