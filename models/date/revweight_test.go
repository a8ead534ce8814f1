package date

import (
	"math"
	"testing"
)

// TestRevWeights checks revWeights against weights worked by hand.
func TestRevWeights(t *testing.T) {
	nan := math.NaN()
	y := []float32{1, 1, 1, 0, 1, 1}
	// power 1/2: rev^g = 10, 20, -, -, 0, 30; mean over the four weighed
	// illicit rows 15; over it 2/3, 4/3, 0 -> 1/20, 2; mean (2/3 + 4/3 +
	// 1/20 + 2) / 4 = 4.05/4
	got := revWeights(y, []float64{100, 400, nan, 5, 0, 900}, 0.5)
	s := 4 / 4.05
	want := []float64{2.0 / 3 * s, 4.0 / 3 * s, 1, 1, s / 20, 2 * s}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-6 {
			t.Errorf("power 0.5: weights %v, want %v", got, want)
			break
		}
	}
	// power 1, 29 rows of revenue 1 and one of 10,000: over the mean
	// (10,029/30) 0.003 and 29.9, clipped to 1/20 and 20; their mean 21.45/30
	y, rev := make([]float32, 30), make([]float64, 30)
	for i := range y {
		y[i], rev[i] = 1, 1
	}
	rev[29] = 10_000
	got = revWeights(y, rev, 1)
	m := 21.45 / 30
	var sum float64
	for i := range y {
		want := 0.05 / m
		if i == 29 {
			want = 20 / m
		}
		sum += float64(got[i])
		if math.Abs(float64(got[i])-want) > 1e-5*want {
			t.Errorf("power 1: row %d weighs %v, want %v", i, got[i], want)
		}
	}
	if math.Abs(sum-30) > 1e-4 {
		t.Errorf("power 1: weights sum to %v, want 30", sum)
	}
	if w := revWeights(y, rev, 0); w != nil {
		t.Errorf("power 0: %v, want none", w)
	}
	if w := revWeights([]float32{0, 1}, []float64{5, nan}, 1); w != nil {
		t.Errorf("no illicit row with a revenue: %v, want none", w)
	}
}
