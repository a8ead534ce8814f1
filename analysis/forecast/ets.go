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

// recursion is one pass of the ETS recursions (the update equations of R's
// etscalc, which are the same for both error types) in progress: the state
// and the running sums of R's lik.
//
// The seasonal states live in a ring (oldest at pos) rather than being
// shifted every step, which makes a step O(1) whatever m.
type recursion struct {
	md                        model
	alpha, bOverA, gamma, phi float64
	l, b                      float64
	ring                      []float64
	pos                       int
	sse, logf, prod           float64
	e                         []float64 // the residuals, when wanted
}

// start sets up a pass from state x0 with the given parameters. ring is
// scratch of length m; e, when not nil, receives the residuals.
func (r *recursion) start(md model, alpha, beta, gamma, phi float64, x0, ring, e []float64) {
	*r = recursion{md: md, alpha: alpha, bOverA: beta / alpha, gamma: gamma, phi: phi, l: x0[0], ring: ring, prod: 1, e: e}
	k := 1
	if md.trend {
		r.b = x0[1]
		k = 2
	}
	if md.season != 'N' {
		// x0 holds s_0 (newest) ... s_{m-1} (oldest); the ring holds them
		// oldest first from pos = 0.
		m := md.m
		for j := 0; j < m; j++ {
			ring[m-1-j] = x0[k+j]
		}
	}
}

// runRecursions runs every recursion of rs over y, a step of each in turn.
// One recursion is a chain of dependent operations (level, trend, level ...)
// that leaves most of a core's arithmetic units idle; running the candidate
// models of a series side by side fills them, and each recursion computes
// exactly the numbers it computes alone.
func runRecursions(y []float64, rs []*recursion) {
	for t, yt := range y {
		for _, r := range rs {
			md := &r.md
			l := r.l
			q := l
			phib := 0.0
			if md.trend {
				phib = r.phi * r.b
				q = l + phib
			}
			f := q
			var so float64
			seasonal := md.season != 'N'
			if seasonal {
				so = r.ring[r.pos]
				if md.season == 'A' {
					f += so
				} else {
					f *= so
				}
			}
			var err float64
			if md.multErr {
				err = (yt - f) / f
				prod := r.prod * math.Abs(f)
				if prod > 1e150 || prod < 1e-150 {
					r.logf += math.Log(prod)
					prod = 1
				}
				r.prod = prod
			} else {
				err = yt - f
			}
			if r.e != nil {
				r.e[t] = err
			}
			r.sse += err * err
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
			nl := q + r.alpha*(p-q)
			r.l = nl
			if md.trend {
				r.b = phib + r.bOverA*((nl-l)-phib)
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
				r.ring[r.pos] = so + r.gamma*(t-so)
				r.pos++
				if r.pos == md.m {
					r.pos = 0
				}
			}
		}
	}
}

// lik returns R's lik after a pass over n points: n log(sum e^2), plus
// 2 sum log|one-step forecast| for multiplicative errors.
func (r *recursion) lik(n int) float64 {
	lik := float64(n) * math.Log(r.sse)
	if r.md.multErr {
		lik += 2 * (r.logf + math.Log(r.prod))
	}
	return lik
}

// state writes the state after the pass: level, trend, seasons newest first.
func (r *recursion) state(last []float64) {
	last[0] = r.l
	k := 1
	if r.md.trend {
		last[1] = r.b
		k = 2
	}
	if r.md.season != 'N' {
		m, pos := r.md.m, r.pos
		// Newest first: the newest is just before pos.
		for j := 0; j < m; j++ {
			last[k+j] = r.ring[((pos-1-j)%m+m)%m]
		}
	}
}

// calc runs the recursions over y from state x0 and returns R's lik. ring
// is scratch of length m. When last is non-nil the final state is stored in
// it; when e is non-nil the residuals are.
func (md model) calc(y []float64, alpha, beta, gamma, phi float64, x0, ring, last, e []float64) float64 {
	var r recursion
	r.start(md, alpha, beta, gamma, phi, x0, ring, e)
	runRecursions(y, []*recursion{&r})
	if last != nil {
		r.state(last)
	}
	return r.lik(len(y))
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
