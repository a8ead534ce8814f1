package pricecluster

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// ErrTooFewPoints is returned by KMeans when the points have fewer distinct
// values than the k clusters asked for.
var ErrTooFewPoints = errors.New("pricecluster: fewer distinct points than clusters")

// KMeansOptions tune KMeans; zero values take the defaults.
type KMeansOptions struct {
	Restarts int    // independent k-means++ starts, the lowest inertia wins; default 4
	MaxIter  int    // Lloyd iterations per start; default 300
	Seed     uint64 // the same seed and points give the same result
}

func (o KMeansOptions) withDefaults() KMeansOptions {
	if o.Restarts <= 0 {
		o.Restarts = 4
	}
	if o.MaxIter <= 0 {
		o.MaxIter = 300
	}
	return o
}

// KMeansResult is the best of the restarts.
type KMeansResult struct {
	Centres []float64 // k rows of dim values; in one dimension, ascending
	Labels  []int32   // the cluster of each point, an index into Centres
	Inertia float64   // sum of squared distances of the points to their centres
}

// KMeans partitions n points of dim dimensions (row-major in x, so
// len(x) = n*dim) into k clusters. Each restart seeds the centres with the
// greedy k-means++ of scikit-learn (2+ln k candidates per step, the one that
// lowers the potential most wins) and runs Lloyd iterations until no point
// changes cluster. An empty cluster is moved to the point farthest from its
// centre. In one dimension the points are sorted once and each Lloyd
// iteration costs O(k log n) through prefix sums.
func KMeans(x []float64, dim, k int, opt KMeansOptions) (KMeansResult, error) {
	if dim < 1 || len(x)%dim != 0 {
		return KMeansResult{}, fmt.Errorf("pricecluster: %d values do not make points of %d dimensions", len(x), dim)
	}
	n := len(x) / dim
	if k < 1 || k > n {
		return KMeansResult{}, fmt.Errorf("pricecluster: cannot make %d clusters of %d points", k, n)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return KMeansResult{}, fmt.Errorf("pricecluster: point %d, dimension %d is %v; every value must be finite", i/dim, i%dim, v)
		}
	}
	opt = opt.withDefaults()
	rng := rand.New(rand.NewPCG(opt.Seed, 0x6b6d65616e73))
	if dim == 1 {
		return kmeans1D(x, k, opt, rng)
	}
	var s scratch
	res, ok := s.bestOf(x, dim, k, opt, rng)
	if !ok {
		return KMeansResult{}, ErrTooFewPoints
	}
	return res, nil
}

func kmeans1D(x []float64, k int, opt KMeansOptions, rng *rand.Rand) (KMeansResult, error) {
	n := len(x)
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		switch {
		case x[a] < x[b]:
			return -1
		case x[a] > x[b]:
			return 1
		}
		return 0
	})
	sorted := make([]float64, n)
	for i, o := range order {
		sorted[i] = x[o]
	}
	if distinct(sorted) < k {
		return KMeansResult{}, ErrTooFewPoints
	}
	var s scratch
	l := s.line(sorted)
	fit := best1D(l, k, opt, rng)
	res := KMeansResult{Centres: make([]float64, k), Labels: make([]int32, n), Inertia: fit.inertia}
	for j := range k {
		res.Centres[j] = fit.centres[j] + l.shift
		for i := fit.bounds[j]; i < fit.bounds[j+1]; i++ {
			res.Labels[order[i]] = int32(j)
		}
	}
	return res, nil
}

// scratch holds a worker's buffers so that clustering thousands of groups
// does not allocate per group.
type scratch struct {
	d2, cum, cand []float64
	labels        []int32
	dist          []float64
	counts        []int
	xs, prefix    []float64
	prefix2       []float64
	order         []int32
}

// kmeansPP writes k centres chosen by greedy k-means++ into centres. It
// reports false when fewer than k distinct points exist (the potential
// reaches zero first).
func (s *scratch) kmeansPP(x []float64, dim, k int, rng *rand.Rand, centres []float64) bool {
	n := len(x) / dim
	s.d2 = grow(s.d2, n)
	s.cum = grow(s.cum, n)
	trials := 2 + int(math.Log(float64(k)))
	s.cand = grow(s.cand, trials*n)
	first := rng.IntN(n)
	copy(centres[:dim], x[first*dim:(first+1)*dim])
	for i := range n {
		s.d2[i] = sqDist(x[i*dim:(i+1)*dim], centres[:dim])
	}
	for c := 1; c < k; c++ {
		var pot float64
		for i, d := range s.d2 {
			pot += d
			s.cum[i] = pot
		}
		if pot == 0 {
			return false
		}
		best, bestPot := -1, math.Inf(1)
		for t := range trials {
			u := rng.Float64() * pot
			id := sort.Search(n, func(i int) bool { return s.cum[i] > u })
			if id == n {
				id = n - 1
			}
			p := x[id*dim : (id+1)*dim]
			row := s.cand[t*n : (t+1)*n]
			var tp float64
			for i := range n {
				d := min(s.d2[i], sqDist(x[i*dim:(i+1)*dim], p))
				row[i] = d
				tp += d
			}
			if tp < bestPot {
				best, bestPot = t, tp
				copy(centres[c*dim:(c+1)*dim], p)
			}
		}
		copy(s.d2, s.cand[best*n:(best+1)*n])
	}
	return true
}

func sqDist(a, b []float64) float64 {
	var s float64
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

// assign labels every point with its nearest centre (the first on ties) and
// returns whether any label changed and the inertia.
func (s *scratch) assign(x []float64, dim int, centres []float64) (bool, float64) {
	n := len(x) / dim
	k := len(centres) / dim
	changed := false
	var inertia float64
	for i := range n {
		p := x[i*dim : (i+1)*dim]
		best, bd := int32(0), math.Inf(1)
		for j := range k {
			if d := sqDist(p, centres[j*dim:(j+1)*dim]); d < bd {
				best, bd = int32(j), d
			}
		}
		if s.labels[i] != best {
			s.labels[i] = best
			changed = true
		}
		s.dist[i] = bd
		inertia += bd
	}
	return changed, inertia
}

// update moves each centre to the mean of its points; an empty cluster takes
// the point farthest from its current centre.
func (s *scratch) update(x []float64, dim int, centres []float64) {
	n := len(x) / dim
	k := len(centres) / dim
	s.counts = grow(s.counts, k)
	clear(s.counts)
	clear(centres)
	for i := range n {
		j := int(s.labels[i])
		s.counts[j]++
		c := centres[j*dim : (j+1)*dim]
		for d, v := range x[i*dim : (i+1)*dim] {
			c[d] += v
		}
	}
	for j := range k {
		c := centres[j*dim : (j+1)*dim]
		if s.counts[j] == 0 {
			far := 0
			for i := range n {
				if s.dist[i] > s.dist[far] {
					far = i
				}
			}
			copy(c, x[far*dim:(far+1)*dim])
			s.dist[far] = 0
			continue
		}
		for d := range c {
			c[d] /= float64(s.counts[j])
		}
	}
}

// lloyd runs Lloyd iterations from the given centres until no label changes
// and returns the inertia; s.labels holds the partition.
func (s *scratch) lloyd(x []float64, dim int, centres []float64, maxIter int) float64 {
	n := len(x) / dim
	s.labels = grow(s.labels, n)
	s.dist = grow(s.dist, n)
	for i := range s.labels {
		s.labels[i] = -1
	}
	_, inertia := s.assign(x, dim, centres)
	for range maxIter {
		s.update(x, dim, centres)
		var changed bool
		changed, inertia = s.assign(x, dim, centres)
		if !changed {
			break
		}
	}
	return inertia
}

// bestOf runs opt.Restarts starts of k-means++ and Lloyd and keeps the one
// with the lowest inertia (the first on ties).
func (s *scratch) bestOf(x []float64, dim, k int, opt KMeansOptions, rng *rand.Rand) (KMeansResult, bool) {
	n := len(x) / dim
	best := KMeansResult{Inertia: math.Inf(1)}
	centres := make([]float64, k*dim)
	for range opt.Restarts {
		if !s.kmeansPP(x, dim, k, rng, centres) {
			return KMeansResult{}, false
		}
		inertia := s.lloyd(x, dim, centres, opt.MaxIter)
		if inertia < best.Inertia {
			best.Inertia = inertia
			best.Centres = append(best.Centres[:0], centres...)
			best.Labels = append(grow(best.Labels, 0), s.labels[:n]...)
		}
	}
	return best, true
}
