// Package stats is the one home of the statistics several floors share:
// quantiles, percentiles, the median and its absolute deviation, and the area
// under the ROC curve. Each has one tie rule, stated on the function and in
// docs/DESIGN.md ("Metrics"); a caller that needs another rule says why.
package stats

import (
	"cmp"
	"math"
	"slices"
)

// Quantile returns the p-quantile (0 <= p <= 1) of ascending, non-empty
// sorted by linear interpolation between order statistics: Hyndman and Fan's
// type 7, the default of numpy.quantile, pandas and R, so that analysts
// reproduce the numbers. (gonum's stat.Quantile offers types 1 and 4 only.)
func Quantile(sorted []float64, p float64) float64 {
	return at(sorted, float64(len(sorted)-1)*p)
}

// Quantiles returns k >= 2 evenly spaced quantiles of ascending, non-empty
// sorted, at 0, 1/(k-1), ..., 1, by Quantile's rule. The position of the
// i-th is computed as (n-1)*i/(k-1), so that where it is a whole number the
// order statistic is returned exactly. (Quantile at p = i/(k-1) rounds p
// first and may differ in the last bit: the unit-value references of package
// features keep that form, which their saved states and figures were made
// with.)
func Quantiles(sorted []float64, k int) []float64 {
	q := make([]float64, k)
	for i := range q {
		q[i] = at(sorted, float64(len(sorted)-1)*float64(i)/float64(k-1))
	}
	return q
}

// at interpolates sorted at the fractional position h >= 0.
func at(sorted []float64, h float64) float64 {
	lo := int(h)
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Median returns the median of ascending, non-empty sorted: the middle value,
// or for an even count the midpoint of the two middle values (Quantile at
// 0.5).
func Median(sorted []float64) float64 { return Quantile(sorted, 0.5) }

// MedianOf returns the median of x, which it leaves unchanged.
func MedianOf(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return Median(s)
}

// MAD returns the median absolute deviation of x from its median med
// (unscaled: multiply by 1.4826 to estimate a normal standard deviation).
func MAD(x []float64, med float64) float64 {
	dev := make([]float64, len(x))
	for i, v := range x {
		dev[i] = math.Abs(v - med)
	}
	slices.Sort(dev)
	return Median(dev)
}

// Percentile places x in a distribution given by its quantiles q at evenly
// spaced probabilities 0, 100/(len(q)-1), ..., 100 percent (as Quantiles
// returns them), interpolating linearly between them; below q[0] it is 0,
// above the last 100. A value equal to a run of equal quantiles (a group of
// identical prices) gets the middle of the run. Equal means within a
// relative 1e-9: unit values of one price computed from different value and
// mass pairs differ in their last bits, and a percentile must not jump on
// that.
func Percentile(q []float64, x float64) float64 {
	step := 100 / float64(len(q)-1)
	tol := 1e-9 * max(1, math.Abs(x))
	lo := searchFloats(q, x-tol) // first q >= x - tol
	hi := lo
	for hi < len(q) && q[hi] <= x+tol {
		hi++
	}
	switch {
	case hi > lo:
		return step * float64(lo+hi-1) / 2
	case lo == 0:
		return 0
	case lo == len(q):
		return 100
	}
	return step * (float64(lo-1) + (x-q[lo-1])/(q[lo]-q[lo-1]))
}

// searchFloats is slices.BinarySearch(q, t)'s index, the first element not
// below t in cmp.Less's order (NaN before every number), without the
// generic comparison: Percentile's search is most of its time in the
// scoring run's features.
func searchFloats(q []float64, t float64) int {
	tNaN := t != t
	lo, hi := 0, len(q)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		v := q[h]
		if v < t || (v != v && !tNaN) {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}

// AUC returns the area under the ROC curve of scores against positive (true
// for a positive row), equal to scikit-learn's roc_auc_score: the
// Mann-Whitney statistic, each positive row scoring one point per negative
// row ranked strictly below it and half a point per negative row tied with
// it. A NaN score ranks as -Inf (below every number, tied with -Inf). It is
// WeightedAUC with every weight 1: the counts and products stay whole
// numbers below 2^53 (up to about 90 million rows), exact in float64, so the
// result is the correctly rounded quotient whatever the order of the rows.
// With only one class present it returns NaN.
func AUC[S ~float32 | ~float64](scores []S, positive []bool) float64 {
	return WeightedAUC(scores, positive, []float64(nil))
}

// WeightedAUC is AUC with each row counted weights[i] times: the weighted
// share of (positive, negative) pairs ranked in order, a tie counting one
// half, as scikit-learn's roc_auc_score with sample_weight and XGBoost's
// weighted auc metric compute it. Integer weights give AUC of the rows
// repeated that many times (up to float rounding: the sums are float64).
// Nil weights count every row once (AUC). With no positive or no negative
// weight it returns NaN.
func WeightedAUC[S ~float32 | ~float64, W ~float32 | ~float64](scores []S, positive []bool, weights []W) float64 {
	key := func(i int32) float64 {
		if s := float64(scores[i]); !math.IsNaN(s) {
			return s
		}
		return math.Inf(-1)
	}
	order := make([]int32, len(scores))
	var pos, neg float64
	for i := range order {
		order[i] = int32(i)
		w := 1.0
		if weights != nil {
			w = float64(weights[i])
		}
		if positive[i] {
			pos += w
		} else {
			neg += w
		}
	}
	if !(pos > 0) || !(neg > 0) {
		return math.NaN()
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(key(a), key(b)) })
	var u, negBelow float64
	for i := 0; i < len(order); {
		k := key(order[i])
		var p, q float64
		j := i
		for ; j < len(order) && key(order[j]) == k; j++ {
			w := 1.0
			if weights != nil {
				w = float64(weights[order[j]])
			}
			if positive[order[j]] {
				p += w
			} else {
				q += w
			}
		}
		u += p*negBelow + p*q/2
		negBelow += q
		i = j
	}
	return u / (pos * neg)
}
