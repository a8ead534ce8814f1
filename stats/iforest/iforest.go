// Package iforest is an isolation forest (Liu, Ting and Zhou, "Isolation
// Forest", ICDM 2008): an unsupervised anomaly score that needs no label.
// Each tree isolates a random subsample by random splits; a row that is
// isolated in few splits is anomalous. The selection simulator uses it as an
// exploring strategy and the anomaly feature group (features/anomaly)
// scores rows with it (docs/simulate.md).
package iforest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
)

// Config sizes the forest; the paper's defaults are 100 trees of 256 rows.
type Config struct {
	Trees, Sample int
	Seed          uint64
}

// DefaultConfig returns the paper's defaults.
func DefaultConfig() Config { return Config{Trees: 100, Sample: 256} }

type node struct {
	feature     int32 // -1 for a leaf
	split       float64
	left, right int32
	size        int32 // rows that reached a leaf
}

// Forest is a fitted isolation forest.
type Forest struct {
	f      int
	sample int
	trees  [][]node
}

// Fit grows the forest on n rows of f features, row-major (NaN: missing,
// sent right at every split). The same Config gives the same forest.
func Fit(x []float64, n, f int, cfg Config) *Forest {
	r := rand.New(rand.NewPCG(cfg.Seed, 11))
	psi := min(cfg.Sample, n)
	fr := &Forest{f: f, sample: psi}
	limit := int(math.Ceil(math.Log2(float64(max(2, psi)))))
	idx := make([]int, n)
	for t := 0; t < cfg.Trees; t++ {
		for i := range idx {
			idx[i] = i
		}
		for i := range psi {
			j := i + r.IntN(n-i)
			idx[i], idx[j] = idx[j], idx[i]
		}
		var tree []node
		var grow func(rows []int, depth int) int32
		grow = func(rows []int, depth int) int32 {
			at := int32(len(tree))
			tree = append(tree, node{feature: -1, size: int32(len(rows))})
			if depth >= limit || len(rows) <= 1 {
				return at
			}
			// a feature with a range among these rows, tried in random order
			for _, ft := range r.Perm(f) {
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, i := range rows {
					if v := x[i*f+ft]; !math.IsNaN(v) {
						lo, hi = min(lo, v), max(hi, v)
					}
				}
				if !(hi > lo) {
					continue
				}
				s := lo + r.Float64()*(hi-lo)
				var left, right []int
				for _, i := range rows {
					if v := x[i*f+ft]; v < s {
						left = append(left, i)
					} else {
						right = append(right, i)
					}
				}
				l := grow(left, depth+1)
				rr := grow(right, depth+1)
				tree[at] = node{feature: int32(ft), split: s, left: l, right: rr}
				return at
			}
			return at
		}
		grow(append([]int(nil), idx[:psi]...), 0)
		fr.trees = append(fr.trees, tree)
	}
	return fr
}

// c is the average path length of an unsuccessful search in a binary
// search tree of n keys, the paper's normaliser.
func c(n int) float64 {
	switch {
	case n <= 1:
		return 0
	case n == 2:
		return 1
	}
	return 2*(math.Log(float64(n-1))+0.5772156649015329) - 2*float64(n-1)/float64(n)
}

// Score writes the anomaly score of each of the n rows of x into out:
// 2^(-mean path length / c(sample)), in (0, 1]; near 1 is anomalous, below
// 0.5 normal.
func (fr *Forest) Score(x []float64, n int, out []float64) {
	for i := range n {
		row := x[i*fr.f : (i+1)*fr.f]
		h := 0.0
		for _, tree := range fr.trees {
			k, depth := int32(0), 0
			for tree[k].feature >= 0 {
				nd := tree[k]
				if row[nd.feature] < nd.split {
					k = nd.left
				} else {
					k = nd.right
				}
				depth++
			}
			h += float64(depth) + c(int(tree[k].size))
		}
		out[i] = math.Pow(2, -h/float64(len(fr.trees))/c(fr.sample))
	}
}

// wire is a forest as saved: each tree a list of nodes, a node
// [feature, split, left, right, size] (feature -1 for a leaf).
type wire struct {
	Version  int            `json:"version"`
	Features int            `json:"features"`
	Sample   int            `json:"sample"`
	Trees    [][][5]float64 `json:"trees"`
}

// MarshalJSON saves the forest (a feature group that scores new rows keeps
// it in its saved state).
func (fr *Forest) MarshalJSON() ([]byte, error) {
	w := wire{Version: 1, Features: fr.f, Sample: fr.sample, Trees: make([][][5]float64, len(fr.trees))}
	for t, tree := range fr.trees {
		w.Trees[t] = make([][5]float64, len(tree))
		for i, nd := range tree {
			w.Trees[t][i] = [5]float64{float64(nd.feature), nd.split, float64(nd.left), float64(nd.right), float64(nd.size)}
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON restores what MarshalJSON saved, refusing a forest whose
// nodes do not form trees over its features (a child must come after its
// parent, so every walk ends).
func (fr *Forest) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("iforest: %w", err)
	}
	if w.Version != 1 {
		return fmt.Errorf("iforest: saved forest version %d, this risklane reads 1", w.Version)
	}
	if w.Features < 1 || w.Sample < 1 || len(w.Trees) == 0 {
		return fmt.Errorf("iforest: saved forest of %d trees over %d features with samples of %d: none may be 0", len(w.Trees), w.Features, w.Sample)
	}
	whole := func(v float64, lo, hi int) bool { return v == math.Trunc(v) && v >= float64(lo) && v < float64(hi) }
	trees := make([][]node, len(w.Trees))
	for t, tree := range w.Trees {
		if len(tree) == 0 {
			return fmt.Errorf("iforest: saved tree %d has no node", t)
		}
		trees[t] = make([]node, len(tree))
		for i, v := range tree {
			nd := node{feature: -1}
			switch {
			case v[0] == -1:
				if !whole(v[4], 0, math.MaxInt32) {
					return fmt.Errorf("iforest: saved tree %d node %d: leaf size %g is not a count", t, i, v[4])
				}
				nd.size = int32(v[4])
			case whole(v[0], 0, w.Features) && whole(v[2], i+1, len(tree)) && whole(v[3], i+1, len(tree)) && !math.IsNaN(v[1]):
				nd = node{feature: int32(v[0]), split: v[1], left: int32(v[2]), right: int32(v[3])}
			default:
				return fmt.Errorf("iforest: saved tree %d node %d: %v is neither a leaf nor a split on one of %d features into later nodes", t, i, v, w.Features)
			}
			trees[t][i] = nd
		}
	}
	*fr = Forest{f: w.Features, sample: w.Sample, trees: trees}
	return nil
}

// Features returns the number of features the forest splits on.
func (fr *Forest) Features() int { return fr.f }
