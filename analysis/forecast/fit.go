package forecast

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Fitting follows R's forecast::ets (version 8.x) step by step, so that the
// two agree model for model: the same starting values (initparam, initstate),
// the same bounds check ("both": the usual region intersected with the
// admissible one), the same objective (R's lik) and the same optimiser
// (Nelder-Mead, reltol sqrt(eps), 2,000 evaluations), over the same vector
// (smoothing parameters, then the initial states but the last season, which
// makes the seasonal states sum to 0, or to m when multiplicative).
// docs/forecast.md lists where risklane departs from R.

const (
	nmRelTol = 1.4901161193847656e-08 // sqrt(.Machine$double.eps)
	nmMaxIt  = 2000
)

// errNoFit is returned when no model can be estimated.
var errNoFit = errors.New("forecast: no model could be fitted")

// fitter holds scratch reused across the fits of one goroutine.
type fitter struct {
	jobs   []*job // one per candidate model, reused
	todo   []*job
	active []*job
	recs   []*recursion
	polys  [][]float64
	tested []*job
	in     []bool
	q      []float64
}

// initParams returns the starting smoothing parameters (R's initparam).
func initParams(md model, sp Spec) (alpha, beta, gamma, phi float64) {
	lo, up := lowerB, upperB
	alpha = lo[0] + 0.2*(up[0]-lo[0])/float64(md.m)
	if alpha > 1 || alpha < 0 {
		alpha = lo[0] + 2e-3
	}
	if md.trend {
		u := math.Min(up[1], alpha)
		beta = lo[1] + 0.1*(u-lo[1])
		if beta < 0 || beta > alpha {
			beta = alpha - 1e-3
		}
	}
	if md.season != 'N' {
		u := math.Min(up[2], 1-alpha)
		gamma = lo[2] + 0.05*(u-lo[2])
		if gamma < 0 || gamma > 1-alpha {
			gamma = 1 - alpha - 1e-3
		}
	}
	phi = 1
	if sp.Damped {
		phi = lo[3] + 0.99*(up[3]-lo[3])
		if phi < 0 || phi > 1 {
			phi = up[3] - 1e-3
		}
	}
	return
}

// initState returns the starting states (R's initstate): level, trend, and
// the first m-1 seasonal states, newest first.
func initState(y []float64, md model) ([]float64, error) {
	n := len(y)
	m := md.m
	ysa := y
	var seas []float64
	if md.season != 'N' {
		if n < 4 {
			return nil, errors.New("forecast: not enough data for a seasonal model")
		}
		var s []float64 // the seasonal component at every time
		if n < 3*m {
			s = fourierSeason(y, m, md.season == 'M')
		} else {
			s = decompose(y, m, md.season == 'M')
		}
		seas = make([]float64, m-1)
		for i := range seas {
			seas[i] = s[m-1-i] // rev(seasonal[2:m])
		}
		ysa = make([]float64, n)
		if md.season == 'A' {
			for i, v := range y {
				ysa[i] = v - s[i]
			}
		} else {
			var sum float64
			for i := range seas {
				seas[i] = math.Max(seas[i], 0.01)
				sum += seas[i]
			}
			if sum > float64(m) {
				for i := range seas {
					seas[i] /= sum + 0.01*float64(len(seas))
				}
			}
			for i, v := range y {
				ysa[i] = v / math.Max(s[i], 0.01)
			}
		}
	}
	maxn := min(max(10, 2*m), n)
	x := make([]float64, 0, 2+len(seas))
	if !md.trend {
		var s float64
		for _, v := range ysa[:maxn] {
			s += v
		}
		x = append(x, s/float64(maxn))
	} else {
		a, b := lineFit(ysa[:maxn])
		if math.Abs(a+b) < 1e-8 {
			a *= 1 + 1e-3
			b *= 1 - 1e-3
		}
		x = append(x, a, b)
	}
	return append(x, seas...), nil
}

// lineFit regresses v on 1..len(v) and returns intercept and slope.
func lineFit(v []float64) (a, b float64) {
	n := float64(len(v))
	var st, sy, stt, sty float64
	for i, y := range v {
		t := float64(i + 1)
		st += t
		sy += y
		stt += t * t
		sty += t * y
	}
	den := n*stt - st*st
	if den == 0 {
		return sy / n, 0
	}
	b = (n*sty - st*sy) / den
	a = (sy - b*st) / n
	return a, b
}

// decompose returns the seasonal component of R's classical decomposition
// (stats::decompose): a centred moving average of order m as the trend, the
// mean detrended value at each position of the cycle (counted from the first
// observation), centred to mean 0 (or 1 when multiplicative).
func decompose(y []float64, m int, mult bool) []float64 {
	n := len(y)
	w := make([]float64, 0, m+1)
	if m%2 == 0 {
		w = append(w, 0.5)
		for i := 1; i < m; i++ {
			w = append(w, 1)
		}
		w = append(w, 0.5)
	} else {
		for i := 0; i < m; i++ {
			w = append(w, 1)
		}
	}
	half := len(w) / 2
	fig := make([]float64, m)
	cnt := make([]int, m)
	for t := half; t+len(w)-1-half < n; t++ {
		var tr float64
		for k, wk := range w {
			tr += wk * y[t-half+k]
		}
		tr /= float64(m)
		d := y[t] - tr
		if mult {
			d = y[t] / tr
		}
		fig[t%m] += d
		cnt[t%m]++
	}
	var mean float64
	for i := range fig {
		fig[i] /= float64(cnt[i])
		mean += fig[i]
	}
	mean /= float64(m)
	for i := range fig {
		if mult {
			fig[i] /= mean
		} else {
			fig[i] -= mean
		}
	}
	s := make([]float64, n)
	for i := range s {
		s[i] = fig[i%m]
	}
	return s
}

// fourierSeason is initstate's route for fewer than three cycles: regress y
// on a trend and one pair of Fourier terms (tslm(y ~ trend + fourier(y, 1)))
// and return the detrended series as the seasonal component (as R does, so
// that the seasonally adjusted series is the fitted trend line).
func fourierSeason(y []float64, m int, mult bool) []float64 {
	n := len(y)
	cols := 4
	if m == 2 {
		cols = 3 // sin(pi t) is identically zero; fourier() drops it
	}
	X := mat.NewDense(n, cols, nil)
	for i := 0; i < n; i++ {
		t := float64(i + 1)
		X.Set(i, 0, 1)
		X.Set(i, 1, t)
		if cols == 4 {
			X.Set(i, 2, math.Sin(2*math.Pi*t/float64(m)))
			X.Set(i, 3, math.Cos(2*math.Pi*t/float64(m)))
		} else {
			X.Set(i, 2, math.Cos(math.Pi*t))
		}
	}
	var beta mat.VecDense
	if err := beta.SolveVec(X, mat.NewVecDense(n, append([]float64(nil), y...))); err != nil {
		a, b := lineFit(y)
		beta = *mat.NewVecDense(2, []float64{a, b})
	}
	a, b := beta.AtVec(0), beta.AtVec(1)
	s := make([]float64, n)
	for i := range s {
		tr := a + b*float64(i+1)
		if mult {
			s[i] = y[i] / tr
		} else {
			s[i] = y[i] - tr
		}
	}
	return s
}

// inBounds is the cheap half of R's check.param with bounds = "both": the
// "usual" bounds; admissible is the other half.
func inBounds(md model, alpha, beta, gamma, phi float64) bool {
	lo, up := lowerB, upperB
	if alpha < lo[0] || alpha > up[0] {
		return false
	}
	if md.trend && (beta < lo[1] || beta > alpha || beta > up[1]) {
		return false
	}
	if md.damped && (phi < lo[3] || phi > up[3]) {
		return false
	}
	seasonal := md.season != 'N'
	return !seasonal || !(gamma < lo[2] || gamma > 1-alpha || gamma > up[2])
}

// admissible is R's admissible(): the parameters keep the model forecastable
// (Hyndman et al. 2008, ch. 10). For seasonal models the condition is that
// every root of a polynomial of degree m+1 lies in the unit disk, which R
// checks with polyroot; here a Schur-Cohn recursion decides it without
// computing the roots (tested against an eigenvalue solver).
func admissible(md model, alpha, beta, gamma, phi float64) bool {
	var buf [64]float64
	var p []float64
	if md.m+2 <= len(buf) {
		p = buf[:md.m+2]
	} else {
		p = make([]float64, md.m+2)
	}
	ok, roots := admissibleBounds(md, alpha, beta, gamma, phi, p)
	if !ok || !roots {
		return ok
	}
	return rootsInDisk(p, admissibleRadius)
}

// admissibleRadius is the disk the roots must lie in, R's 1 + 1e-10.
const admissibleRadius = 1 + 1e-10

// admissibleBounds is admissible's closed-form part. When it returns
// ok and roots, the answer is whether the roots of the polynomial it wrote
// in p (length m+2) lie in the disk of radius admissibleRadius.
func admissibleBounds(md model, alpha, beta, gamma, phi float64, p []float64) (ok, roots bool) {
	if !md.damped {
		phi = 1
	}
	if phi < 0 || phi > 1+1e-8 {
		return false, false
	}
	if md.season == 'N' {
		if alpha < 1-1/phi || alpha > 1+1/phi {
			return false, false
		}
		if md.trend && (beta < alpha*(phi-1) || beta > (1+phi)*(2-alpha)) {
			return false, false
		}
		return true, false
	}
	m := float64(md.m)
	if !md.trend {
		beta = 0
	}
	if gamma < max(1-1/phi-alpha, 0) || gamma > 1+1/phi-alpha {
		return false, false
	}
	if alpha < 1-1/phi-gamma*(1-m+phi+phi*m)/(2*phi*m) {
		return false, false
	}
	if beta < -(1-phi)*(gamma/m+alpha) {
		return false, false
	}
	p[0] = phi * (1 - alpha - gamma)
	p[1] = alpha + beta - alpha*phi + gamma - 1
	for i := 2; i < md.m; i++ {
		p[i] = alpha + beta - alpha*phi
	}
	p[md.m] = alpha + beta - phi
	p[md.m+1] = 1
	return true, true
}

// rootsInDisk reports whether every root of sum p[i] z^i lies in the disk
// |z| <= r, by the Schur-Cohn recursion on p(r z): all roots of q lie
// strictly inside the unit disk iff |q_0| < |q_d| and the same holds for
// (q_d q(z) - q_0 q*(z)) / z, q* being q with its coefficients reversed.
// The recursion overwrites p.
func rootsInDisk(p []float64, r float64) bool {
	var in [1]bool
	var buf [64]float64
	var q []float64
	if len(p) <= len(buf) {
		q = buf[:len(p)]
	} else {
		q = make([]float64, len(p))
	}
	rootsInDiskAll([][]float64{p}, r, in[:], q)
	return in[0]
}

// rootsInDiskAll sets in[i] to rootsInDisk(ps[i], r) for polynomials of one
// degree, running their recursions a stage of each in turn: each stage
// waits on a division, and the stages of different polynomials overlap. q
// is scratch of len(ps) times the polynomials' length; a stage reads the
// coefficients from one of p and q and writes the next ones to the other.
func rootsInDiskAll(ps [][]float64, r float64, in []bool, q []float64) {
	if len(ps) == 0 {
		return
	}
	n := len(ps[0])
	for i, p := range ps {
		s := 1.0
		for k := range p {
			p[k] *= s
			s *= r
		}
		in[i] = true
	}
	for d := n - 1; d > 0; d-- {
		for i, p := range ps {
			if !in[i] {
				continue
			}
			src, dst := p, q[i*n:i*n+n]
			if (n-1-d)%2 == 1 {
				src, dst = dst, src
			}
			a0, ad := src[0], src[d]
			if a0 < 0 {
				a0 = -a0
			}
			if ad < 0 {
				ad = -ad
			}
			if !(a0 < ad) {
				in[i] = false
				continue
			}
			a0, ad = src[0], src[d]
			// The next polynomial is (ad q(z) - a0 q*(z)) / z, divided by
			// its leading coefficient so that it stays monic and the
			// numbers stay in range (ad^2 - a0^2 shrinks at every step).
			lead := ad*src[d] - a0*src[0]
			if lead == 0 {
				in[i] = false
				continue
			}
			inv := 1 / lead
			src, dst = src[:d+1], dst[:d]
			for k := range dst {
				dst[k] = (ad*src[k+1] - a0*src[d-1-k]) * inv
			}
		}
	}
}
