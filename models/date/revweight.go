package date

import "math"

// revWeightClip bounds a revenue weight, relative to the illicit rows' mean
// weight, to [1/revWeightClip, revWeightClip] before the weights are
// renormalised: at power 1 a few rows of generated data would otherwise
// weigh 50 times the mean and make each mini-batch's gradient hang on
// whether it holds one of them.
const revWeightClip = 20

// revWeights returns the cross-entropy weights of rows of labels y and
// revenues rev (Config.RevWeight, power g > 0): an illicit row with a known
// revenue (0 or more) weighs rev^g over the mean of rev^g over those rows,
// clipped to [1/revWeightClip, revWeightClip] and renormalised to mean 1;
// every other row (licit, or illicit with an unknown revenue) weighs 1. At
// g = 1 the illicit rows' part of the loss is their log-likelihood weighed
// by revenue share (the revenue the ranking is judged on); as g goes to 0
// it becomes plain cross-entropy. The illicit weights averaging 1, the two
// classes weigh in total what they did unweighed, so the probability keeps
// the base rate: it moves up for rows like the high-revenue frauds and down
// for rows like the low-revenue ones, not up for all. Nil when g is 0 or no
// row has a revenue weight.
func revWeights(y []float32, rev []float64, g float64) []float32 {
	if g == 0 {
		return nil
	}
	raw := make([]float64, len(y))
	weighed := make([]bool, len(y))
	mean := func() float64 {
		var s float64
		var n int
		for i, r := range raw {
			if weighed[i] {
				s += r
				n++
			}
		}
		return s / float64(n)
	}
	n := 0
	for i := range y {
		if y[i] == 1 && rev[i] >= 0 && !math.IsInf(rev[i], 0) {
			raw[i], weighed[i] = math.Pow(rev[i], g), true
			n++
		}
	}
	if n == 0 {
		return nil
	}
	m := mean()
	if !(m > 0) || math.IsInf(m, 0) {
		return nil
	}
	for i, r := range raw {
		if weighed[i] {
			raw[i] = min(revWeightClip, max(1.0/revWeightClip, r/m))
		}
	}
	m = mean()
	w := make([]float32, len(y))
	for i, r := range raw {
		w[i] = 1
		if weighed[i] {
			w[i] = float32(r / m)
		}
	}
	return w
}
