package forecast

import (
	"fmt"
	"math"
)

// Spec names an exponential smoothing state-space model, ETS(error, trend,
// season) in the taxonomy of Hyndman et al. (2008): Error is 'A' or 'M',
// Trend 'N' or 'A' (Damped for Ad), Season 'N', 'A' or 'M'.
type Spec struct {
	Error, Trend, Season byte
	Damped               bool
}

// String returns the model's name as R's forecast package prints it.
func (s Spec) String() string {
	t := string(s.Trend)
	if s.Damped {
		t += "d"
	}
	return fmt.Sprintf("ETS(%c,%s,%c)", s.Error, t, s.Season)
}

// Parameter bounds, R's forecast::ets defaults (lower and upper for alpha,
// beta, gamma, phi; bounds = "both").
var (
	lowerB = [4]float64{1e-4, 1e-4, 1e-4, 0.8}
	upperB = [4]float64{0.9999, 0.9999, 0.9999, 0.98}
)

// ETS is a fitted model.
type ETS struct {
	Spec
	// M is the seasonal period the model uses (1 without season).
	M int
	// Smoothing parameters in R's parametrisation: Beta is alpha*beta* of
	// Hyndman et al. (so Beta <= Alpha), Gamma <= 1-Alpha; Phi is 1 when the
	// trend is not damped.
	Alpha, Beta, Gamma, Phi float64
	// Init is the initial state x0: level, trend (if any), then the m
	// seasonal states, most recent first.
	Init []float64
	// Last is the state after the last observation, in the same layout.
	Last []float64
	// LogLik is -0.5 times R's "lik" (n log SSE + 2 sum log|yhat| for
	// multiplicative errors): R's loglik, which drops constants.
	LogLik, AIC, AICc, BIC float64
	// Sigma2 is the residual variance, sum(e^2)/(n - parameters).
	Sigma2 float64
	// NPar counts the estimated parameters (smoothing and initial states).
	NPar int
	N    int
	// Evals counts the likelihood evaluations of the optimiser.
	Evals int
}

// model is the numeric form of a Spec for the recursions.
type model struct {
	multErr, trend, damped bool
	season                 byte // 'N', 'A', 'M'
	m                      int
}

func (s Spec) model(m int) model {
	if s.Season == 'N' {
		m = 1
	}
	return model{multErr: s.Error == 'M', trend: s.Trend == 'A', damped: s.Damped, season: s.Season, m: m}
}

// nstate returns the length of the full state: level, trend, m seasons.
func (md model) nstate() int {
	n := 1
	if md.trend {
		n++
	}
	if md.season != 'N' {
		n += md.m
	}
	return n
}

// calc runs the ETS recursions (the update equations of R's etscalc, which
// are the same for both error types) over y from state x0, and returns R's
// lik: n log(sum e^2), plus 2 sum log|one-step forecast| for multiplicative
// errors. ring is scratch of length m. When last is non-nil the final state
// is stored in it; when e is non-nil the residuals are.
//
// The seasonal states live in a ring (oldest at pos) rather than being
// shifted every step, which makes a step O(1) whatever m.
func (md model) calc(y []float64, alpha, beta, gamma, phi float64, x0, ring, last, e []float64) float64 {
	l := x0[0]
	var b float64
	k := 1
	if md.trend {
		b = x0[1]
		k = 2
	}
	seasonal := md.season != 'N'
	m := md.m
	if seasonal {
		// x0 holds s_0 (newest) ... s_{m-1} (oldest); the ring holds them
		// oldest first from pos = 0.
		for j := 0; j < m; j++ {
			ring[m-1-j] = x0[k+j]
		}
	}
	pos := 0
	var sse, logf float64
	prod := 1.0
	bOverA := beta / alpha
	for _, yt := range y {
		q := l
		phib := 0.0
		if md.trend {
			phib = phi * b
			q = l + phib
		}
		f := q
		var so float64
		if seasonal {
			so = ring[pos]
			if md.season == 'A' {
				f += so
			} else {
				f *= so
			}
		}
		var err float64
		if md.multErr {
			err = (yt - f) / f
			prod *= math.Abs(f)
			if prod > 1e150 || prod < 1e-150 {
				logf += math.Log(prod)
				prod = 1
			}
		} else {
			err = yt - f
		}
		if e != nil {
			e[0] = err
			e = e[1:]
		}
		sse += err * err
		// Update (etscalc's update()).
		var p float64
		switch md.season {
		case 'N':
			p = yt
		case 'A':
			p = yt - so
		default:
			if math.Abs(so) < 1e-10 {
				p = 1e10
			} else {
				p = yt / so
			}
		}
		oldl := l
		l = q + alpha*(p-q)
		if md.trend {
			b = phib + bOverA*((l-oldl)-phib)
		}
		if seasonal {
			var t float64
			if md.season == 'A' {
				t = yt - q
			} else if math.Abs(q) < 1e-10 {
				t = 1e10
			} else {
				t = yt / q
			}
			ring[pos] = so + gamma*(t-so)
			pos++
			if pos == m {
				pos = 0
			}
		}
	}
	if last != nil {
		last[0] = l
		if md.trend {
			last[1] = b
		}
		if seasonal {
			// Newest first: the newest is just before pos.
			for j := 0; j < m; j++ {
				last[k+j] = ring[((pos-1-j)%m+m)%m]
			}
		}
	}
	lik := float64(len(y)) * math.Log(sse)
	if md.multErr {
		lik += 2 * (logf + math.Log(prod))
	}
	return lik
}

// pointForecast writes the h-step point forecasts from state x (etsforecast).
func (md model) pointForecast(x []float64, phi float64, out []float64) {
	l := x[0]
	var b float64
	k := 1
	if md.trend {
		b = x[1]
		k = 2
	}
	phistar := phi
	for i := range out {
		f := l
		if md.trend {
			f += phistar * b
		}
		if md.season != 'N' {
			j := md.m - 1 - i
			for j < 0 {
				j += md.m
			}
			if md.season == 'A' {
				f += x[k+j]
			} else {
				f *= x[k+j]
			}
		}
		out[i] = f
		if md.damped {
			phistar += math.Pow(phi, float64(i+2))
		} else {
			phistar++
		}
	}
}
