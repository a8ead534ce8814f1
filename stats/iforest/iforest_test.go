package iforest

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestC: the normaliser against the paper's formula worked by hand:
// c(256) = 2(ln 255 + 0.5772) - 2*255/256 = 10.2448.
func TestC(t *testing.T) {
	if got := c(256); math.Abs(got-10.2448) > 1e-3 {
		t.Errorf("c(256) = %.4f, want 10.2448", got)
	}
	if c(1) != 0 || c(2) != 1 {
		t.Errorf("c(1), c(2) = %v, %v; want 0, 1", c(1), c(2))
	}
}

// TestOutliers: ten points far from a Gaussian cloud of 2,000 get the ten
// highest scores, above 0.6, while the cloud's median stays below 0.5 (the
// paper's reading of the score); a NaN feature does not stop scoring; the
// same seed gives the same scores.
func TestOutliers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n, f = 2010, 3
	x := make([]float64, n*f)
	for i := range n {
		for j := range f {
			x[i*f+j] = r.NormFloat64()
			if i >= 2000 {
				x[i*f+j] = 6 + r.Float64()
			}
		}
	}
	x[5*f+1] = math.NaN()
	cfg := DefaultConfig()
	cfg.Seed = 3
	s := make([]float64, n)
	Fit(x, n, f, cfg).Score(x, n, s)
	s2 := make([]float64, n)
	Fit(x, n, f, cfg).Score(x, n, s2)
	if !slices.Equal(s, s2) {
		t.Error("two forests of the same seed score differently")
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return -cmpF(s[a], s[b]) })
	for _, i := range order[:10] {
		if i < 2000 || s[i] < 0.6 {
			t.Errorf("top-10 row %d scores %.3f; want the outliers 2000-2009 above 0.6", i, s[i])
		}
	}
	cloud := append([]float64(nil), s[:2000]...)
	slices.Sort(cloud)
	if cloud[1000] >= 0.5 || math.IsNaN(s[5]) {
		t.Errorf("median score of the cloud %.3f (want below 0.5); row with NaN %.3f", cloud[1000], s[5])
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
