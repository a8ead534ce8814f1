package forecast

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// maxRootModulus finds the roots of sum p[i] z^i as the eigenvalues of the
// companion matrix: the independent check of rootsInDisk.
func maxRootModulus(p []float64) float64 {
	d := len(p) - 1
	c := mat.NewDense(d, d, nil)
	for j := 0; j < d; j++ {
		c.Set(0, j, -p[d-1-j]/p[d])
	}
	for i := 1; i < d; i++ {
		c.Set(i, i-1, 1)
	}
	var eig mat.Eigen
	if !eig.Factorize(c, mat.EigenNone) {
		panic("eigen")
	}
	m := 0.0
	for _, v := range eig.Values(nil) {
		m = math.Max(m, cmplx.Abs(v))
	}
	return m
}

func TestRootsInDiskAgainstEigen(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	agree, inside := 0, 0
	for trial := 0; trial < 4000; trial++ {
		// The admissibility polynomial of a random seasonal model.
		m := []int{4, 12}[trial%2]
		alpha, beta, gamma, phi := rng.Float64(), 0.3*rng.Float64(), rng.Float64(), 0.8+0.2*rng.Float64()
		p := make([]float64, m+2)
		p[0] = phi * (1 - alpha - gamma)
		p[1] = alpha + beta - alpha*phi + gamma - 1
		for i := 2; i < m; i++ {
			p[i] = alpha + beta - alpha*phi
		}
		p[m] = alpha + beta - phi
		p[m+1] = 1
		mod := maxRootModulus(p)
		if math.Abs(mod-1) < 1e-6 {
			continue // on the boundary the two may differ by rounding
		}
		want := mod <= 1
		got := rootsInDisk(append([]float64(nil), p...), 1+1e-10)
		if got != want {
			t.Errorf("m=%d alpha=%g beta=%g gamma=%g phi=%g: rootsInDisk %v, largest root modulus %g", m, alpha, beta, gamma, phi, got, mod)
		}
		agree++
		if want {
			inside++
		}
	}
	if inside < 100 || agree-inside < 100 {
		t.Fatalf("too few cases on one side: %d inside, %d outside", inside, agree-inside)
	}
}

// TestRecursionHandWorked checks the recursions on a hand-sized case:
// ETS(A,N,N) with alpha 0.5 from level 10 on 12, 8: forecasts 10, 11,
// errors 2, -3, lik = 2 log(13).
func TestRecursionHandWorked(t *testing.T) {
	md := Spec{Error: 'A', Trend: 'N', Season: 'N'}.model(1)
	last := make([]float64, 1)
	e := make([]float64, 2)
	lik := md.calc([]float64{12, 8}, 0.5, 0, 0, 1, []float64{10}, nil, last, e)
	if e[0] != 2 || e[1] != -3 || last[0] != 9.5 || math.Abs(lik-2*math.Log(13)) > 1e-12 {
		t.Fatalf("errors %v, last level %v, lik %v", e, last, lik)
	}
	// ETS(A,A,A), m = 2, from l=10, b=1, s=(newest 1, oldest -1):
	// f1 = 10+1-1 = 10, y1 = 12: e1 = 2; l1 = 11+0.5*(13-11) = 12,
	// b1 = 1 + (0.2/0.5)*((12-10)-1) = 1.4, s_new = -1 + 0.1*(12-11+1) = -0.8.
	md = Spec{Error: 'A', Trend: 'A', Season: 'A'}.model(2)
	last = make([]float64, 4)
	md.calc([]float64{12}, 0.5, 0.2, 0.1, 1, []float64{10, 1, 1, -1}, make([]float64, 2), last, e[:1])
	want := []float64{12, 1.4, -0.8, 1}
	for i := range want {
		if math.Abs(last[i]-want[i]) > 1e-12 {
			t.Fatalf("state %v, want %v", last, want)
		}
	}
	f := make([]float64, 3)
	md.pointForecast(last, 1, f)
	// h=1: 12+1.4+s(oldest=1); h=2: 12+2.8-0.8; h=3: 12+4.2+1.
	for i, w := range []float64{14.4, 14, 17.2} {
		if math.Abs(f[i]-w) > 1e-12 {
			t.Fatalf("forecasts %v", f)
		}
	}
}
