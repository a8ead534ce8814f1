package gbdtlr

// The trust-region Newton fit (TRON) measured against L-BFGS in session 7
// and not kept: on the realistic problem (BenchmarkFit) it took about
// twice L-BFGS's passes over the rows at every lambda. Kept here, with the
// Hessian-vector product, as that measurement's code.

import "math"

// newtonProblem is what tron needs of a smooth, strictly convex function:
// its value and gradient, and, at the point of the last gradient, products
// of the Hessian with vectors and the Hessian's diagonal.
type newtonProblem interface {
	// eval returns f(x) and, when g is not nil, writes the gradient into g
	// and makes x the point hessVec and diag refer to.
	eval(x, g []float64) float64
	// hessVec sets out = H v.
	hessVec(v, out []float64)
	// diag writes the Hessian's diagonal into out.
	diag(out []float64)
}

// tronStats counts a fit's work: Newton iterations, conjugate-gradient
// steps (each one Hessian-vector product) and function evaluations. A
// Hessian-vector product and an evaluation each cost one pass over the
// rows, the diagonal half of one.
type tronStats struct {
	Newton, CG, Evals, Diags int
}

// Passes is the work in passes over the rows.
func (s tronStats) Passes() float64 {
	return float64(s.CG+s.Evals) + float64(s.Diags)/2
}

// tron minimises p from x (overwritten) by a trust-region Newton method
// with preconditioned conjugate gradients (Steihaug's truncated CG, the
// method of Lin, Weng and Keerthi, "Trust region Newton method for
// large-scale logistic regression", JMLR 2008, that liblinear calls TRON;
// the trust region in the norm of the Hessian's diagonal, which is the
// preconditioner). It stops when no gradient element is larger than tol,
// or after maxIter Newton iterations, or when a step no longer changes f.
//
// On one-hot leaves the diagonal preconditioner is exact within each tree
// (a row falls in one leaf per tree, so a tree's columns are orthogonal):
// what CG has to resolve is only the coupling between trees.
func tron(p newtonProblem, x []float64, maxIter int, tol float64) tronStats {
	const (
		eta0, eta1, eta2       = 1e-4, 0.25, 0.75
		sigma1, sigma2, sigma3 = 0.25, 0.5, 4.0
		maxCG                  = 250
	)
	n := len(x)
	g, gn, xn := make([]float64, n), make([]float64, n), make([]float64, n)
	s, r, d, hd, z, m := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	var st tronStats
	f := p.eval(x, g)
	st.Evals++
	delta := -1.0
	for st.Newton < maxIter && maxAbs(g) >= tol {
		st.Newton++
		p.diag(m)
		st.Diags++
		if delta < 0 { // the first radius: the preconditioned gradient's length
			delta = math.Sqrt(quadInv(g, m))
		}
		// Newton's equations H s = -g, inexactly, within the region.
		// The forcing term falls with the gradient, so the last
		// iterations converge superlinearly.
		gnorm := math.Sqrt(quadInv(g, m))
		forcing := math.Min(0.1, math.Sqrt(gnorm))
		clear(s)
		for i := range r {
			r[i] = -g[i]
			z[i] = r[i] / m[i]
			d[i] = z[i]
		}
		zr := dot(z, r)
		for k := 0; k < maxCG && math.Sqrt(zr) > forcing*gnorm; k++ {
			p.hessVec(d, hd)
			st.CG++
			dhd := dot(d, hd)
			alpha := zr / dhd
			axpy(alpha, d, s)
			if sm := quad(s, m); sm > delta*delta || !(dhd > 0) {
				// Back to the region's boundary along d.
				axpy(-alpha, d, s)
				std, sts, dtd := quad2(s, d, m), quad(s, m), quad(d, m)
				dsq := delta * delta
				rad := math.Sqrt(std*std + dtd*(dsq-sts))
				if std >= 0 {
					alpha = (dsq - sts) / (std + rad)
				} else {
					alpha = (rad - std) / dtd
				}
				axpy(alpha, d, s)
				axpy(-alpha, hd, r)
				break
			}
			axpy(-alpha, hd, r)
			for i := range z {
				z[i] = r[i] / m[i]
			}
			znew := dot(z, r)
			beta := znew / zr
			for i := range d {
				d[i] = z[i] + beta*d[i]
			}
			zr = znew
		}
		// The model's predicted decrease and the function's actual one.
		gs := dot(g, s)
		prered := -0.5 * (gs - dot(s, r))
		for i := range xn {
			xn[i] = x[i] + s[i]
		}
		fn := p.eval(xn, gn)
		st.Evals++
		actred := f - fn
		snorm := math.Sqrt(quad(s, m))
		if st.Newton == 1 {
			delta = math.Min(delta, snorm)
		}
		alpha := sigma3
		if fn-f-gs > 0 {
			alpha = math.Max(sigma1, -0.5*(gs/(fn-f-gs)))
		}
		switch {
		case actred < eta0*prered:
			delta = math.Min(math.Max(alpha, sigma1)*snorm, sigma2*delta)
		case actred < eta1*prered:
			delta = math.Max(sigma1*delta, math.Min(alpha*snorm, sigma2*delta))
		case actred < eta2*prered:
			delta = math.Max(sigma1*delta, math.Min(alpha*snorm, sigma3*delta))
		default:
			delta = math.Max(delta, math.Min(alpha*snorm, sigma3*delta))
		}
		if actred > eta0*prered {
			copy(x, xn)
			g, gn = gn, g
			f = fn
		} else {
			// Rejected: the Hessian at x again, for the next iteration.
			p.eval(x, g)
			st.Evals++
		}
		if math.Abs(actred) <= 1e-15*math.Abs(f) && math.Abs(prered) <= 1e-15*math.Abs(f) {
			break // steps below rounding: as far as float64 goes
		}
	}
	return st
}

// quad is s'Ms for the diagonal M.
func quad(s, m []float64) float64 {
	var v float64
	for i, x := range s {
		v += x * m[i] * x
	}
	return v
}

// quad2 is s'Md.
func quad2(s, d, m []float64) float64 {
	var v float64
	for i, x := range s {
		v += x * m[i] * d[i]
	}
	return v
}

// quadInv is g'M⁻¹g.
func quadInv(g, m []float64) float64 {
	var v float64
	for i, x := range g {
		v += x * x / m[i]
	}
	return v
}

// hessVec sets out to the objective's Hessian (at the point of the last
// gradient) times v: (1/n) (X' D X v + lambda v), D the rows' curvatures,
// X the one-hot leaves and a column of ones.
func (p *problem) hessVec(v, out []float64, lambda float64) {
	n, J := len(p.y), p.J
	p.inPieces(out, func(_, lo, hi int, g []float64) {
		u := p.z[lo:hi]
		p.margins(u, lo, hi, v[:J], v[J])
		for i := range u {
			u[i] *= p.d[lo+i]
		}
		p.scatter(g, u, lo, hi)
	})
	for j, x := range v[:J] {
		out[j] += lambda * x
	}
	for j := range out {
		out[j] /= float64(n)
	}
}

// diag writes the Hessian's diagonal (at the point of the last gradient):
// (1/n) (the curvatures of a leaf's rows summed, + lambda), the
// intercept's without lambda.
func (p *problem) diag(out []float64, lambda float64) {
	n, J := len(p.y), p.J
	p.inPieces(out, func(_, lo, hi int, g []float64) { p.scatter(g, p.d[lo:hi], lo, hi) })
	for j := range out[:J] {
		out[j] += lambda
	}
	for j := range out {
		out[j] /= float64(n)
	}
}

// atLambda is the problem with a given penalty, as tron sees it.
type atLambda struct {
	p      *problem
	lambda float64
}

func (a atLambda) eval(x, g []float64) float64 { return a.p.objective(x, g, a.lambda) }
func (a atLambda) hessVec(v, out []float64)    { a.p.hessVec(v, out, a.lambda) }
func (a atLambda) diag(out []float64)          { a.p.diag(out, a.lambda) }

// tronFit minimises the objective by the trust-region Newton method from x
// (p.start() when nil, overwritten otherwise) and returns the weights, the
// intercept, the work done and the final objective.
func (p *problem) tronFit(lambda float64, x []float64, maxIter int, tol float64) ([]float64, float64, tronStats, float64) {
	if x == nil {
		x = p.start()
	}
	J := p.J
	if p.d == nil {
		p.setup()
		p.d = make([]float64, len(p.y))
	}
	st := tron(atLambda{p, lambda}, x, maxIter, tol)
	return x[:J:J], x[J], st, p.objective(x, nil, lambda)
}

// lbfgsFit is Train's fit from p.start(), in the shape the tests and
// benchmarks compare with tronFit: weights, intercept, iterations, final
// objective and passes.
func (p *problem) lbfgsFit(lambda float64, maxIter int, tol float64) ([]float64, float64, int, float64, int) {
	w, b, st, f := p.fit(lambda, nil, maxIter, tol)
	return w, b, st.Iterations, f, st.Passes
}
