package forecast

import (
	"math"
)

// FitETS estimates one ETS model on y with seasonal period m by maximum
// likelihood. It returns errNoFit when the model has as many parameters as
// the series has points (R gives such a model an infinite AICc).
func FitETS(y []float64, m int, sp Spec) (*ETS, error) {
	var f fitter
	return f.fit(y, m, sp)
}

func (f *fitter) fit(y []float64, m int, sp Spec) (*ETS, error) {
	md := sp.model(m)
	alpha, beta, gamma, phi := initParams(md, sp)
	st, err := initState(y, md)
	if err != nil {
		return nil, err
	}
	// Parameter vector: alpha, beta, gamma, phi (those the model has), then
	// the initial states but the last season.
	par := f.par[:0]
	par = append(par, alpha)
	if md.trend {
		par = append(par, beta)
	}
	seasonal := md.season != 'N'
	if seasonal {
		par = append(par, gamma)
	}
	if md.damped {
		par = append(par, phi)
	}
	nsmooth := len(par)
	par = append(par, st...)
	f.par = par
	np := len(par)
	if np >= len(y)-1 {
		return nil, errNoFit
	}
	nst := md.nstate()
	if cap(f.x0) < nst {
		f.x0 = make([]float64, nst)
	}
	x0 := f.x0[:nst]
	if cap(f.ring) < md.m {
		f.ring = make([]float64, md.m)
	}
	ring := f.ring[:md.m]
	k := 1
	if md.trend {
		k = 2
	}
	unpack := func(p []float64) (a, b, g, ph float64) {
		i := 0
		a = p[i]
		i++
		if md.trend {
			b = p[i]
			i++
		}
		if seasonal {
			g = p[i]
			i++
		}
		ph = 1
		if md.damped {
			ph = p[i]
		}
		return
	}
	fill := func(p []float64) bool {
		copy(x0, p[nsmooth:])
		if !seasonal {
			return true
		}
		last := 0.0
		if md.season == 'M' {
			last = float64(md.m)
		}
		for _, s := range x0[k : nst-1] {
			last -= s
		}
		x0[nst-1] = last
		if md.season == 'M' {
			for _, s := range x0[k:] {
				if s < 0 {
					return false
				}
			}
		}
		return true
	}
	// obj is R's etsTargetFunction. The admissibility test (a third of the
	// fit's time on seasonal models) runs only when the likelihood would
	// matter to the simplex (see nelderMead): the search and its result are
	// the same as with the test first, as R has it.
	obj := func(p []float64, below float64) float64 {
		a, b, g, ph := unpack(p)
		if !inBounds(md, a, b, g, ph) || !fill(p) {
			return math.Inf(1)
		}
		lik := md.calc(y, a, b, g, ph, x0, ring, nil, nil)
		if math.IsNaN(lik) {
			return math.Inf(1)
		}
		v := max(lik, -1e10)
		if (v < below || !lazyAdmissible) && !admissible(md, a, b, g, ph) {
			return math.Inf(1)
		}
		return v
	}
	val, evals := nelderMead(obj, par, nmRelTol, nmMaxIt, &f.nm)
	if math.IsInf(val, 0) || val >= 1e35 {
		return nil, errNoFit
	}
	a, b, g, ph := unpack(par)
	fill(par)
	e := &ETS{Spec: sp, M: md.m, Alpha: a, Beta: b, Gamma: g, Phi: ph,
		Init: append([]float64(nil), x0...), Last: make([]float64, nst), N: len(y), Evals: evals}
	res := make([]float64, len(y))
	lik := md.calc(y, a, b, g, ph, e.Init, ring, e.Last, res)
	var sse float64
	for _, r := range res {
		sse += r * r
	}
	e.NPar = np
	e.Sigma2 = sse / float64(len(y)-np)
	nn := float64(np + 1)
	ny := float64(len(y))
	e.LogLik = -0.5 * lik
	e.AIC = lik + 2*nn
	e.BIC = lik + math.Log(ny)*nn
	e.AICc = e.AIC + 2*nn*(nn+1)/(ny-nn-1)
	return e, nil
}

// AutoETS fits every admissible ETS model to y (seasonal period m) and keeps
// the one with the lowest AICc, as R's forecast::ets(y) does with its
// defaults: errors A and M, trends N, A and Ad (no multiplicative trend),
// seasons N, A and M, no additive error with multiplicative season,
// multiplicative components only for strictly positive data, no season when
// m is 1, above 24 or not less than the series' length. Ties keep R's order.
func AutoETS(y []float64, m int) (*ETS, error) {
	var f fitter
	return f.auto(y, m)
}

func (f *fitter) auto(y []float64, m int) (*ETS, error) {
	if len(y) == 0 {
		return nil, errNoFit
	}
	seasons := []byte{'N', 'A', 'M'}
	if m <= 1 || m > 24 || len(y) <= m {
		seasons = seasons[:1]
	}
	positive := true
	for _, v := range y {
		if !(v > 0) {
			positive = false
			break
		}
	}
	// R's ets falls back to Holt-Winters by least squares for series of at
	// most 6 points; risklane fits ETS(A,N,N) by likelihood there.
	if len(y) <= 6 {
		return f.fit(y, m, Spec{Error: 'A', Trend: 'N', Season: 'N'})
	}
	var best *ETS
	for _, e := range []byte{'A', 'M'} {
		if e == 'M' && !positive {
			continue
		}
		for _, t := range []byte{'N', 'A'} {
			for _, s := range seasons {
				if e == 'A' && s == 'M' || s == 'M' && !positive {
					continue
				}
				for _, d := range []bool{true, false} {
					if t == 'N' && d {
						continue
					}
					fit, err := f.fit(y, m, Spec{Error: e, Trend: t, Season: s, Damped: d})
					if err != nil || math.IsNaN(fit.AICc) {
						continue
					}
					if best == nil || fit.AICc < best.AICc {
						best = fit
					}
				}
			}
		}
	}
	if best == nil {
		return nil, errNoFit
	}
	return best, nil
}

// isConstant reports whether every value equals the first, within R's
// all.equal tolerance (relative 1.5e-8).
func isConstant(y []float64) bool {
	if len(y) == 0 {
		return true
	}
	var diff, scale float64
	for _, v := range y {
		diff += math.Abs(v - y[0])
		scale += math.Abs(v)
	}
	if scale == 0 {
		return true
	}
	return diff/scale < 1.5e-8
}

// lazyAdmissible lets the objective skip the admissibility test where the
// simplex cannot use the value (see nelderMead). A test turns it off to show
// that the fits are bit for bit those of the eager test.
var lazyAdmissible = true
