package forecast

import (
	"fmt"
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
	if sp.Season != 'N' && (m <= 1 || len(y) <= m) {
		return nil, fmt.Errorf("forecast: a seasonal model needs a period above 1 and more than %d points", m)
	}
	j := f.job(0)
	if err := j.prepare(y, m, sp); err != nil {
		return nil, err
	}
	f.fitJobs(y, f.jobs[:1])
	return j.result(y)
}

// job is the fit of one model in progress: its search, the parameter
// vector (smoothing parameters, then the initial states but the last
// season) and the scratch of its objective.
type job struct {
	sp      Spec
	md      model
	nsmooth int // smoothing parameters at the start of par
	k       int // index of the first seasonal state in the state vector
	par     []float64
	x0      []float64 // the full initial state of the point evaluated
	ring    []float64
	nm      simplex
	rec     recursion
	// The point under evaluation: its smoothing parameters and bound, its
	// value, and the admissibility polynomial of its parameters.
	a, b, g, ph, below, v float64
	poly                  []float64
}

// prepare sets up the search from R's starting values (initparam,
// initstate). It returns errNoFit when the model has too many parameters
// for the series (R's etsmodel gives it an infinite AICc).
func (j *job) prepare(y []float64, m int, sp Spec) error {
	md := sp.model(m)
	j.sp, j.md = sp, md
	alpha, beta, gamma, phi := initParams(md, sp)
	st, err := initState(y, md)
	if err != nil {
		return err
	}
	par := append(j.par[:0], alpha)
	if md.trend {
		par = append(par, beta)
	}
	if md.season != 'N' {
		par = append(par, gamma)
	}
	if md.damped {
		par = append(par, phi)
	}
	j.nsmooth = len(par)
	par = append(par, st...)
	j.par = par
	if len(par) >= len(y)-1 {
		return errNoFit
	}
	nst := md.nstate()
	if cap(j.x0) < nst {
		j.x0 = make([]float64, nst)
	}
	j.x0 = j.x0[:nst]
	if cap(j.ring) < md.m {
		j.ring = make([]float64, md.m)
	}
	j.ring = j.ring[:md.m]
	if cap(j.poly) < md.m+2 {
		j.poly = make([]float64, md.m+2)
	}
	j.poly = j.poly[:md.m+2]
	j.k = 1
	if md.trend {
		j.k = 2
	}
	j.nm.start(par, nmRelTol, nmMaxIt)
	return nil
}

// unpack reads the smoothing parameters of the point p.
func (j *job) unpack(p []float64) (a, b, g, ph float64) {
	i := 0
	a = p[i]
	i++
	if j.md.trend {
		b = p[i]
		i++
	}
	if j.md.season != 'N' {
		g = p[i]
		i++
	}
	ph = 1
	if j.md.damped {
		ph = p[i]
	}
	return
}

// fill sets x0 to the initial states of the point p, the last season
// making the seasons sum to 0 (or m); false when a multiplicative season
// would be negative.
func (j *job) fill(p []float64) bool {
	x0, k, nst := j.x0, j.k, len(j.x0)
	copy(x0, p[j.nsmooth:])
	if j.md.season == 'N' {
		return true
	}
	last := 0.0
	if j.md.season == 'M' {
		last = float64(j.md.m)
	}
	for _, s := range x0[k : nst-1] {
		last -= s
	}
	x0[nst-1] = last
	if j.md.season == 'M' {
		for _, s := range x0[k:] {
			if s < 0 {
				return false
			}
		}
	}
	return true
}

// next asks the search for its next point that needs the recursions and
// starts them on it: R's etsTargetFunction up to the likelihood, points out
// of bounds getting +Inf at once. It returns false when the search is over.
func (j *job) next(y []float64) bool {
	for {
		p, below, ok := j.nm.ask()
		if !ok {
			return false
		}
		a, b, g, ph := j.unpack(p)
		if !inBounds(j.md, a, b, g, ph) || !j.fill(p) {
			j.nm.tell(math.Inf(1))
			continue
		}
		j.a, j.b, j.g, j.ph, j.below = a, b, g, ph, below
		j.rec.start(j.md, a, b, g, ph, j.x0, j.ring, nil)
		return true
	}
}

// likelihood finishes the objective once the recursions have run, but for
// the roots of the admissibility test: it returns the value to tell the
// search unless roots is true, in which case the value stands only if the
// roots of j.poly lie in the disk (rootsInDiskAll). The admissibility test
// (a third of the fit's time on seasonal models) runs only when the
// likelihood would matter to the simplex (see simplex): the search and its
// result are the same as with the test first, as R has it.
func (j *job) likelihood(y []float64) (v float64, roots bool) {
	lik := j.rec.lik(len(y))
	if math.IsNaN(lik) {
		return math.Inf(1), false
	}
	v = max(lik, -1e10)
	if v < j.below || !lazyAdmissible {
		ok, roots := admissibleBounds(j.md, j.a, j.b, j.g, j.ph, j.poly)
		if !ok {
			return math.Inf(1), false
		}
		return v, roots
	}
	return v, false
}

// result returns the fitted model once the search is over.
func (j *job) result(y []float64) (*ETS, error) {
	val, evals := j.nm.result()
	if math.IsInf(val, 0) || val >= nmBig {
		return nil, errNoFit
	}
	par, md := j.par, j.md
	a, b, g, ph := j.unpack(par)
	j.fill(par)
	nst := len(j.x0)
	e := &ETS{Spec: j.sp, M: md.m, Alpha: a, Beta: b, Gamma: g, Phi: ph,
		Init: append([]float64(nil), j.x0...), Last: make([]float64, nst), N: len(y), Evals: evals}
	res := make([]float64, len(y))
	lik := md.calc(y, a, b, g, ph, e.Init, j.ring, e.Last, res)
	var sse float64
	for _, r := range res {
		sse += r * r
	}
	np := len(par)
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

// fitJobs runs the searches of jobs together until all are over: at each
// round every search still going gets its next point, and the recursions of
// all those points run side by side (runRecursions), then the admissibility
// tests that are needed (rootsInDiskAll).
func (f *fitter) fitJobs(y []float64, jobs []*job) {
	active := append(f.active[:0], jobs...)
	for len(active) > 0 {
		recs := f.recs[:0]
		n := 0
		for _, j := range active {
			if j.next(y) {
				active[n] = j
				n++
				recs = append(recs, &j.rec)
			}
		}
		active = active[:n]
		runRecursions(y, recs)
		// All the polynomials have the same degree: the seasonal models of
		// a series share m, and the others need none.
		polys, tested := f.polys[:0], f.tested[:0]
		for _, j := range active {
			var roots bool
			j.v, roots = j.likelihood(y)
			if roots {
				polys = append(polys, j.poly)
				tested = append(tested, j)
			}
		}
		if len(polys) > 0 {
			if need := len(polys) * len(polys[0]); cap(f.q) < need {
				f.q = make([]float64, need)
			}
			if cap(f.in) < len(polys) {
				f.in = make([]bool, len(jobs))
			}
			in := f.in[:len(polys)]
			rootsInDiskAll(polys, admissibleRadius, in, f.q)
			for i, j := range tested {
				if !in[i] {
					j.v = math.Inf(1)
				}
			}
		}
		for _, j := range active {
			j.nm.tell(j.v)
		}
		f.recs, f.polys, f.tested = recs, polys, tested
	}
	f.active = active
}

// job returns the fitter's i-th reusable job.
func (f *fitter) job(i int) *job {
	for len(f.jobs) <= i {
		f.jobs = append(f.jobs, new(job))
	}
	return f.jobs[i]
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
	// The candidates in R's order; those that cannot be fitted (too many
	// parameters, no starting states) are left out as R leaves them out.
	jobs := f.todo[:0]
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
					j := f.job(len(jobs))
					if j.prepare(y, m, Spec{Error: e, Trend: t, Season: s, Damped: d}) == nil {
						jobs = append(jobs, j)
					}
				}
			}
		}
	}
	f.todo = jobs
	f.fitJobs(y, jobs)
	var best *ETS
	for _, j := range jobs {
		fit, err := j.result(y)
		if err != nil || math.IsNaN(fit.AICc) {
			continue
		}
		if best == nil || fit.AICc < best.AICc {
			best = fit
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
