package pricecluster

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// line is one-dimensional data prepared for fast k-means: sorted, shifted by
// its median (so that prefix sums keep their precision), with prefix sums of
// the values and of their squares. In one dimension every nearest-centre
// partition of sorted points is a run of consecutive intervals, so a
// partition is just k+1 bounds, and the sum of squared distances of an
// interval to any point follows from the prefix sums in O(1).
type line struct {
	x       []float64 // sorted ascending, minus shift
	prefix  []float64 // prefix[i] = x[0] + ... + x[i-1]
	prefix2 []float64 // prefix2[i] = x[0]^2 + ... + x[i-1]^2
	shift   float64
}

// line prepares sorted (ascending) values, reusing the scratch buffers.
func (s *scratch) line(sorted []float64) line {
	n := len(sorted)
	shift := sorted[n/2]
	s.xs = grow(s.xs, n)
	s.prefix = grow(s.prefix, n+1)
	s.prefix2 = grow(s.prefix2, n+1)
	s.prefix[0], s.prefix2[0] = 0, 0
	for i, v := range sorted {
		d := v - shift
		s.xs[i] = d
		s.prefix[i+1] = s.prefix[i] + d
		s.prefix2[i+1] = s.prefix2[i] + d*d
	}
	return line{x: s.xs, prefix: s.prefix, prefix2: s.prefix2, shift: shift}
}

// sse returns the sum of squared distances of x[lo:hi] to c. Rounding can
// make the prefix-sum form slightly negative; it is clamped at 0.
func (l line) sse(lo, hi int, c float64) float64 {
	if hi <= lo {
		return 0
	}
	s1 := l.prefix[hi] - l.prefix[lo]
	s2 := l.prefix2[hi] - l.prefix2[lo]
	return max(0, s2-2*c*s1+float64(hi-lo)*c*c)
}

// potential returns the k-means cost of the ascending centres c, writing
// their partition into b.
func (l line) potential(c []float64, b []int) float64 {
	l.bounds(c, b)
	var p float64
	for j, cj := range c {
		p += l.sse(b[j], b[j+1], cj)
	}
	return p
}

// sample returns the point at cumulative squared distance u (0 <= u < the
// potential) under the ascending centres c with partition b: a point drawn
// with probability proportional to its squared distance to its nearest
// centre, as k-means++ draws, in O(k + log n).
func (l line) sample(c []float64, b []int, u float64) float64 {
	for j, cj := range c {
		lo, hi := b[j], b[j+1]
		w := l.sse(lo, hi, cj)
		if u >= w {
			u -= w
			continue
		}
		i := lo + sort.Search(hi-lo, func(i int) bool { return l.sse(lo, lo+i+1, cj) > u })
		return l.x[min(i, hi-1)]
	}
	return l.x[len(l.x)-1]
}

// kmeansPP chooses k ascending centres by greedy k-means++ (as in
// scikit-learn: 2+ln k candidates per step, the one that lowers the
// potential most wins), evaluating each candidate with prefix sums in
// O(k log n) instead of O(n). The line must have at least k distinct values.
func (l line) kmeansPP(k int, rng *rand.Rand, c []float64) {
	trials := 2 + int(math.Log(float64(k)))
	var b, bc [maxK + 1]int
	var cand, best [maxK]float64
	c[0] = l.x[rng.IntN(len(l.x))]
	for m := 1; m < k; m++ {
		cur := c[:m]
		pot := l.potential(cur, b[:m+1])
		bestPot := math.Inf(1)
		for range trials {
			p := l.sample(cur, b[:m+1], rng.Float64()*pot)
			at, _ := slices.BinarySearch(cur, p)
			copy(cand[:at], cur[:at])
			cand[at] = p
			copy(cand[at+1:m+1], cur[at:])
			if tp := l.potential(cand[:m+1], bc[:m+2]); tp < bestPot {
				bestPot = tp
				best = cand
			}
		}
		copy(c[:m+1], best[:m+1])
	}
}

func (l line) mean(lo, hi int) float64 {
	return (l.prefix[hi] - l.prefix[lo]) / float64(hi-lo)
}

// bounds writes the partition that assigns every point to its nearest of the
// ascending centres c: cluster j holds x[b[j]:b[j+1]]. A point exactly
// half-way goes to the lower centre.
func (l line) bounds(c []float64, b []int) {
	n := len(l.x)
	b[0] = 0
	for j := 1; j < len(c); j++ {
		mid := (c[j-1] + c[j]) / 2
		lo := b[j-1]
		b[j] = lo + sort.Search(n-lo, func(i int) bool { return l.x[lo+i] > mid })
	}
	b[len(c)] = n
}

// lloyd runs Lloyd iterations from the ascending centres c until the
// partition b stops changing.
func (l line) lloyd(c []float64, b []int, maxIter int) {
	k := len(c)
	prev := make([]int, k+1)
	l.bounds(c, b)
	for range maxIter {
		copy(prev, b)
		empty := false
		for j := range k {
			if b[j+1] > b[j] {
				c[j] = l.mean(b[j], b[j+1])
			} else {
				empty = true
			}
		}
		if empty {
			l.relocate(c, b)
		}
		l.bounds(c, b)
		if slices.Equal(prev, b) {
			return
		}
	}
}

// relocate moves each empty cluster's centre to the point farthest from the
// centre of its own cluster; in one dimension that point is one end of a
// cluster's interval.
func (l line) relocate(c []float64, b []int) {
	k := len(c)
	used := make([]bool, len(l.x))
	for j := range k {
		if b[j+1] > b[j] {
			continue
		}
		far, fd := -1, -1.0
		for i := range k {
			if b[i+1] <= b[i] {
				continue
			}
			for _, p := range [2]int{b[i], b[i+1] - 1} {
				if d := math.Abs(l.x[p] - c[i]); d > fd && !used[p] {
					far, fd = p, d
				}
			}
		}
		if far >= 0 {
			used[far] = true
			c[j] = l.x[far]
		}
	}
	slices.Sort(c)
}

// cost returns the inertia of partition b around centres c, and writes each
// cluster's standard deviation into spread when it is not nil.
func (l line) cost(c []float64, b []int, spread []float64) float64 {
	var total float64
	for j := range c {
		var s float64
		for _, v := range l.x[b[j]:b[j+1]] {
			d := v - c[j]
			s += d * d
		}
		total += s
		if spread != nil {
			spread[j] = 0
			if m := b[j+1] - b[j]; m > 0 {
				spread[j] = math.Sqrt(s / float64(m))
			}
		}
	}
	return total
}

// silhouette computes the exact mean silhouette coefficient of partition b
// in O(n): the summed distance from x[i] to an interval follows from prefix
// sums, and the nearest other cluster of a point is always an adjacent
// interval (the mean distance to an interval wholly on one side is the
// distance to its mean, and interval means are ordered).
func (l line) silhouette(b []int) float64 {
	k := len(b) - 1
	n := len(l.x)
	var total float64
	for j := range k {
		lo, hi := b[j], b[j+1]
		m := hi - lo
		if m <= 1 {
			continue
		}
		left, right := math.NaN(), math.NaN()
		for jj := j - 1; jj >= 0; jj-- {
			if b[jj+1] > b[jj] {
				left = l.mean(b[jj], b[jj+1])
				break
			}
		}
		for jj := j + 1; jj < k; jj++ {
			if b[jj+1] > b[jj] {
				right = l.mean(b[jj], b[jj+1])
				break
			}
		}
		for i := lo; i < hi; i++ {
			v := l.x[i]
			below := v*float64(i-lo) - (l.prefix[i] - l.prefix[lo])
			above := (l.prefix[hi] - l.prefix[i+1]) - v*float64(hi-i-1)
			a := (below + above) / float64(m-1)
			bb := math.Inf(1)
			if !math.IsNaN(left) {
				bb = v - left
			}
			if !math.IsNaN(right) {
				bb = min(bb, right-v)
			}
			if mx := max(a, bb); mx > 0 && !math.IsInf(bb, 1) {
				total += (bb - a) / mx
			}
		}
	}
	return total / float64(n)
}

// fit1D is one k-means solution on a line.
type fit1D struct {
	centres []float64 // ascending, in the line's shifted units
	bounds  []int
	inertia float64
}

// best1D runs opt.Restarts starts of greedy k-means++ and sorted Lloyd and
// keeps the lowest inertia (the first on ties). The line must have at least
// k distinct values.
func best1D(l line, k int, opt KMeansOptions, rng *rand.Rand) fit1D {
	best := fit1D{inertia: math.Inf(1)}
	c := make([]float64, k)
	b := make([]int, k+1)
	for range opt.Restarts {
		l.kmeansPP(k, rng, c)
		l.lloyd(c, b, opt.MaxIter)
		if in := l.cost(c, b, nil); in < best.inertia {
			best = fit1D{centres: slices.Clone(c), bounds: slices.Clone(b), inertia: in}
		}
	}
	return best
}

// distinct counts the distinct values of sorted x.
func distinct(sorted []float64) int {
	if len(sorted) == 0 {
		return 0
	}
	d := 1
	for i := 1; i < len(sorted); i++ {
		if sorted[i] != sorted[i-1] {
			d++
		}
	}
	return d
}
