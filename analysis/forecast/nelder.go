package forecast

import "math"

// simplex minimises a function with the simplex method exactly as R's
// optim(method = "Nelder-Mead") does (nmmin in R's optim.c, which
// forecast::ets calls through its etsNelderMead): reflection 1, contraction
// 0.5, expansion 2, initial step a tenth of the largest |x0_i|, stop when the
// simplex's values span less than reltol*(|f(x0)|+reltol) or after maxit
// evaluations. Matching R's optimiser, not only its objective, is what makes
// risklane pick the same models as R on the same data.
//
// It is nmmin turned inside out: the caller asks for the next point, computes
// the function there and tells the value. That lets one goroutine advance
// the searches of all the candidate models of a series together and run their
// recursions interleaved (see runRecursions); each search takes the same
// steps, in the same floating-point operations, as nmmin does alone.
//
// With each point ask gives a bound, below: the function may skip work that
// can only raise its value (risklane's ETS objective skips the admissibility
// test) when the value it has is already at or above below, because every
// decision the simplex takes on such a value is the decision it takes on +Inf
// (the point is neither stored nor preferred). below is +Inf where the value
// is stored unconditionally (the first point, the vertices after a shrink).
type simplex struct {
	nmWork
	n        int
	reltol   float64
	maxit    int
	x        []float64 // the starting point, then the best point
	phase    nmPhase
	funcount int
	convtol  float64
	size     float64 // oldsize of nmmin
	L, H     int
	vertex   int // the vertex being evaluated (nmVertices)
	iter     int
	VL, VH   float64
	VR       float64
	best     float64
}

type nmPhase uint8

const (
	nmStart    nmPhase = iota // the starting point is to be evaluated
	nmVertices                // the vertices, after the start or a shrink
	nmReflect
	nmExtend
	nmContract
	nmDone
)

// nmBig is the value nmmin gives a point where the function is not finite.
const nmBig = 1.0e35

// start begins a search from x, which receives the best point at the end.
func (s *simplex) start(x []float64, reltol float64, maxit int) {
	s.n = len(x)
	s.grow(s.n)
	s.x, s.reltol, s.maxit = x, reltol, maxit
	s.phase = nmStart
	s.funcount = 0
}

func (s *simplex) col(j int) []float64 { return s.p[j*s.n : j*s.n+s.n] }

// ask returns the next point to evaluate and its bound below; ok is false
// when the search has ended (see result).
func (s *simplex) ask() (x []float64, below float64, ok bool) {
	switch s.phase {
	case nmStart:
		return s.x, math.Inf(1), true
	case nmVertices:
		return s.col(s.vertex), math.Inf(1), true
	case nmReflect:
		return s.b, s.VH, true
	case nmExtend:
		return s.b, s.VR, true
	case nmContract:
		return s.b, s.v[s.H], true
	}
	return nil, 0, false
}

// result returns the best value and the number of evaluations once ask has
// said the search is over; the best point is in the x given to start.
func (s *simplex) result() (float64, int) { return s.best, s.funcount }

// tell gives the function's value at the point ask returned last.
func (s *simplex) tell(f float64) {
	if s.phase == nmStart {
		s.funcount = 1
		if math.IsInf(f, 0) || math.IsNaN(f) {
			s.best, s.phase = math.Inf(1), nmDone
			return
		}
		s.begin(f)
		return
	}
	s.funcount++
	if math.IsInf(f, 0) || math.IsNaN(f) {
		f = nmBig
	}
	n := s.n
	P, V, B, C := s.p, s.v, s.b, s.col(n+1)
	hc := P[s.H*n : s.H*n+n]
	switch s.phase {
	case nmVertices:
		V[s.vertex] = f
		s.nextVertex(s.vertex + 1)
	case nmReflect:
		s.VR = f
		if f < s.VL {
			// Extension: C takes the reflected point, B the extended one.
			for i := 0; i < n; i++ {
				e := 2*B[i] - C[i]
				C[i] = B[i]
				B[i] = e
			}
			s.phase = nmExtend
			return
		}
		if f < s.VH {
			s.replace(hc, B)
			V[s.H] = f
		}
		for i := 0; i < n; i++ {
			B[i] = 0.5*hc[i] + 0.5*C[i]
		}
		s.phase = nmContract
	case nmExtend:
		if f < s.VR {
			s.replace(hc, B)
			V[s.H] = f
		} else {
			s.replace(hc, C)
			V[s.H] = s.VR
		}
		s.iterate()
	case nmContract:
		if f < V[s.H] {
			s.replace(hc, B)
			V[s.H] = f
		} else if s.VR >= s.VH {
			// Shrink towards the best vertex.
			size := 0.0
			lc := s.col(s.L)
			for j := 0; j < n+1; j++ {
				if j == s.L {
					continue
				}
				c := s.col(j)
				for i := 0; i < n; i++ {
					c[i] = 0.5*(c[i]-lc[i]) + lc[i]
					size += math.Abs(c[i] - lc[i])
				}
			}
			if size >= s.size {
				s.finish()
				return
			}
			s.size = size
			s.resum()
			s.nextVertex(0)
			return
		}
		s.iterate()
	}
}

// begin builds the initial simplex around the starting point, whose value
// is f.
func (s *simplex) begin(f float64) {
	n, x := s.n, s.x
	s.convtol = s.reltol * (math.Abs(f) + s.reltol)
	s.v[0] = f
	copy(s.col(0), x)
	s.L = 0
	step := 0.0
	for _, v := range x {
		step = math.Max(step, 0.1*math.Abs(v))
	}
	if step == 0 {
		step = 0.1
	}
	size := 0.0
	for j := 1; j < n+1; j++ {
		c := s.col(j)
		copy(c, x)
		trystep := step
		for c[j-1] == x[j-1] {
			c[j-1] = x[j-1] + trystep
			trystep *= 10
		}
		size += trystep
	}
	s.size = size
	s.resum()
	s.iter = 0
	s.nextVertex(0)
}

// nextVertex moves to the next vertex from j on that needs a value (all but
// the best), or to the next iteration when there is none.
func (s *simplex) nextVertex(j int) {
	if j == s.L {
		j++
	}
	if j < s.n+1 {
		s.vertex, s.phase = j, nmVertices
		return
	}
	s.iterate()
}

// iterate is the top of nmmin's loop: find the best and worst vertices, stop
// or reflect the worst through the centroid of the others.
func (s *simplex) iterate() {
	n, V := s.n, s.v
	L := s.L
	VL, VH, H := V[L], V[L], L
	for j := 0; j < n+1; j++ {
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
	s.L, s.H, s.VL, s.VH = L, H, VL, VH
	if VH <= VL+s.convtol || s.funcount > s.maxit {
		s.finish()
		return
	}
	C, hc, B, S := s.col(n+1), s.col(H), s.b, s.s
	s.iter++
	if s.iter%32 == 0 {
		s.resum()
	}
	fn := float64(n)
	for i := 0; i < n; i++ {
		C[i] = (S[i] - hc[i]) / fn
	}
	for i := 0; i < n; i++ {
		B[i] = 2*C[i] - hc[i]
	}
	s.phase = nmReflect
}

func (s *simplex) finish() {
	copy(s.x, s.col(s.L))
	s.best, s.phase = s.v[s.L], nmDone
}

// resum recomputes S, the sum of the vertices, which makes the centroid cost
// O(n) rather than O(n^2) per iteration; it is recomputed from scratch after
// every shrink and every 32 iterations, so rounding cannot build up.
func (s *simplex) resum() {
	S := s.s
	clear(S)
	for j := 0; j < s.n+1; j++ {
		for i, v := range s.col(j) {
			S[i] += v
		}
	}
}

// replace puts src in the vertex dst, keeping S up to date.
func (s *simplex) replace(dst, src []float64) {
	for i := range dst {
		s.s[i] += src[i] - dst[i]
	}
	copy(dst, src)
}

// nelderMead minimises f from x in place (see simplex) and returns the best
// value and the number of evaluations.
func nelderMead(f func(x []float64, below float64) float64, x []float64, reltol float64, maxit int, s *simplex) (float64, int) {
	s.start(x, reltol, maxit)
	for {
		p, below, ok := s.ask()
		if !ok {
			return s.result()
		}
		s.tell(f(p, below))
	}
}

// nmWork is the simplex storage, reused across fits: n+2 columns of n (the
// vertices, then the centroid), their values, the trial point and the sum
// of the vertices.
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
