package forecast

import "math"

// nelderMead minimises f from x0 in place with the simplex method exactly as
// R's optim(method = "Nelder-Mead") does (nmmin in R's optim.c, which
// forecast::ets calls through its etsNelderMead): reflection 1, contraction
// 0.5, expansion 2, initial step a tenth of the largest |x0_i|, stop when the
// simplex's values span less than reltol*(|f(x0)|+reltol) or after maxit
// evaluations. Matching R's optimiser, not only its objective, is what makes
// risklane pick the same models as R on the same data. It returns the best
// value and the number of evaluations. ws is scratch reused across calls.
//
// f(x, below) may skip work that can only raise its value (risklane's ETS
// objective skips the admissibility test) when the value it has is already
// at or above below: every decision the simplex takes on such a value is
// the decision it takes on +Inf (the point is neither stored nor preferred),
// so the search is the same step for step. below is +Inf where the value is
// stored unconditionally (the first point, the vertices after a shrink).
func nelderMead(f func(x []float64, below float64) float64, x []float64, reltol float64, maxit int, ws *nmWork) (float64, int) {
	const big = 1.0e35
	n := len(x)
	n1 := n + 1
	ws.grow(n)
	// Column j of the simplex is P[j*n : j*n+n], its value V[j]; column n1
	// is the centroid.
	P, V, B := ws.p, ws.v, ws.b
	col := func(j int) []float64 { return P[j*n : j*n+n] }
	fx := f(x, math.Inf(1))
	if math.IsInf(fx, 0) || math.IsNaN(fx) {
		return math.Inf(1), 1
	}
	funcount := 1
	convtol := reltol * (math.Abs(fx) + reltol)
	V[0] = fx
	copy(col(0), x)
	L := 0
	step := 0.0
	for _, v := range x {
		step = math.Max(step, 0.1*math.Abs(v))
	}
	if step == 0 {
		step = 0.1
	}
	size := 0.0
	for j := 1; j < n1; j++ {
		c := col(j)
		copy(c, x)
		trystep := step
		for c[j-1] == x[j-1] {
			c[j-1] = x[j-1] + trystep
			trystep *= 10
		}
		size += trystep
	}
	oldsize := size
	calcvert := true
	// S holds the sum of the vertices, so that the centroid costs O(n)
	// rather than O(n^2) per iteration; it is recomputed from scratch after
	// every shrink and every 32 iterations, so rounding cannot build up.
	S := ws.s
	resum := func() {
		clear(S)
		for j := 0; j < n1; j++ {
			for i, v := range col(j) {
				S[i] += v
			}
		}
	}
	resum()
	iter := 0
	replace := func(dst, src []float64) {
		for i := range dst {
			S[i] += src[i] - dst[i]
		}
		copy(dst, src)
	}
	eval := func(v []float64, below float64) float64 {
		funcount++
		r := f(v, below)
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return big
		}
		return r
	}
	for {
		if calcvert {
			for j := 0; j < n1; j++ {
				if j != L {
					V[j] = eval(col(j), math.Inf(1))
				}
			}
			calcvert = false
		}
		VL, VH, H := V[L], V[L], L
		for j := 0; j < n1; j++ {
			if j == L {
				continue
			}
			if V[j] < VL {
				L, VL = j, V[j]
			}
			if V[j] > VH {
				H, VH = j, V[j]
			}
		}
		if VH <= VL+convtol || funcount > maxit {
			break
		}
		C := col(n1)
		hc := col(H)
		iter++
		if iter%32 == 0 {
			resum()
		}
		for i := 0; i < n; i++ {
			C[i] = (S[i] - hc[i]) / float64(n)
		}
		for i := 0; i < n; i++ {
			B[i] = 2*C[i] - hc[i]
		}
		VR := eval(B, VH)
		if VR < VL {
			// Extension: C takes the reflected point, B the extended one.
			for i := 0; i < n; i++ {
				e := 2*B[i] - C[i]
				C[i] = B[i]
				B[i] = e
			}
			fe := eval(B, VR)
			if fe < VR {
				replace(hc, B)
				V[H] = fe
			} else {
				replace(hc, C)
				V[H] = VR
			}
			continue
		}
		if VR < VH {
			replace(hc, B)
			V[H] = VR
		}
		for i := 0; i < n; i++ {
			B[i] = 0.5*hc[i] + 0.5*C[i]
		}
		fc := eval(B, V[H])
		if fc < V[H] {
			replace(hc, B)
			V[H] = fc
		} else if VR >= VH {
			// Shrink towards the best vertex.
			calcvert = true
			size = 0
			lc := col(L)
			for j := 0; j < n1; j++ {
				if j == L {
					continue
				}
				c := col(j)
				for i := 0; i < n; i++ {
					c[i] = 0.5*(c[i]-lc[i]) + lc[i]
					size += math.Abs(c[i] - lc[i])
				}
			}
			if size >= oldsize {
				break
			}
			oldsize = size
			resum()
		}
	}
	copy(x, col(L))
	return V[L], funcount
}

// nmWork is the simplex storage, reused across fits.
type nmWork struct{ p, v, b, s []float64 }

func (w *nmWork) grow(n int) {
	if cap(w.p) < (n+2)*n {
		w.p = make([]float64, (n+2)*n)
		w.v = make([]float64, n+2)
		w.b = make([]float64, n)
		w.s = make([]float64, n)
	}
	w.p, w.v, w.b, w.s = w.p[:(n+2)*n], w.v[:n+2], w.b[:n], w.s[:n]
}
