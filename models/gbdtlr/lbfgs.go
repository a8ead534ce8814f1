package gbdtlr

import "math"

// lbfgs minimises a smooth convex function f (which writes its gradient
// into g when g is not nil) from x by limited-memory BFGS (Nocedal and
// Wright, Numerical Optimization, algorithm 7.4, 10 correction pairs) with a
// backtracking line search on the Armijo condition. It stops when the
// largest gradient element is below tol, when a step no longer lowers f, or
// after maxIter iterations, and returns the point and the iterations taken.
func lbfgs(f func(x, g []float64) float64, x []float64, maxIter int, tol float64) ([]float64, int) {
	const mem = 10
	n := len(x)
	g := make([]float64, n)
	fx := f(x, g)
	var s, y [][]float64
	var rho []float64
	d := make([]float64, n)
	alpha := make([]float64, mem)
	xn, gn := make([]float64, n), make([]float64, n)
	sk, yk := make([]float64, n), make([]float64, n)
	iter := 0
	for ; iter < maxIter; iter++ {
		if maxAbs(g) < tol {
			break
		}
		// d = -H g by the two-loop recursion
		for i := range d {
			d[i] = -g[i]
		}
		for k := len(s) - 1; k >= 0; k-- {
			alpha[k] = rho[k] * dot(s[k], d)
			axpy(-alpha[k], y[k], d)
		}
		if k := len(s) - 1; k >= 0 {
			gamma := dot(s[k], y[k]) / dot(y[k], y[k])
			for i := range d {
				d[i] *= gamma
			}
		}
		for k := range s {
			b := rho[k] * dot(y[k], d)
			axpy(alpha[k]-b, s[k], d)
		}
		slope := dot(g, d)
		if !(slope < 0) { // not a descent direction: restart from the gradient
			s, y, rho = s[:0], y[:0], rho[:0]
			for i := range d {
				d[i] = -g[i]
			}
			slope = dot(g, d)
		}
		step := 1.0
		if len(s) == 0 {
			step = 1 / math.Max(1, math.Sqrt(-slope))
		}
		var fn float64
		ok := false
		for range 40 {
			for i := range xn {
				xn[i] = x[i] + step*d[i]
			}
			fn = f(xn, gn)
			if fn <= fx+1e-4*step*slope {
				ok = true
				break
			}
			step /= 2
		}
		if !ok {
			break
		}
		for i := range sk {
			sk[i], yk[i] = xn[i]-x[i], gn[i]-g[i]
		}
		if sy := dot(sk, yk); sy > 1e-12 {
			s, y, rho = append(s, sk), append(y, yk), append(rho, 1/sy)
			if len(s) > mem { // the dropped pair's vectors hold the next one
				sk, yk = s[0], y[0]
				s, y, rho = s[1:], y[1:], rho[1:]
			} else {
				sk, yk = make([]float64, n), make([]float64, n)
			}
		}
		done := fx-fn <= 1e-15*math.Max(1, math.Abs(fx))
		copy(x, xn)
		copy(g, gn)
		fx = fn
		if done {
			iter++
			break
		}
	}
	return x, iter
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// axpy sets y += a x.
func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
