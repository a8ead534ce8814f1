// Package explain attributes a gradient-boosted tree ensemble's score for one
// row to the row's features, so that a ranked declaration can say why it is
// risky.
//
// It computes exact Shapley values (TreeSHAP, shap.go; XGBoost's
// pred_contribs) and, cheaper, per-tree path contributions (Saabas; XGBoost's
// pred_contribs with approx_contribs=True): every node has an expectation,
// the cover-weighted mean of the leaves below it (cover = SumHessian), and
// each split on a row's path credits the change in expectation from the node
// to the child the row goes to to the split's feature. Along a path the
// changes telescope, so for every row
//
//	margin = Bias() + sum of the contributions
//
// exactly (up to float64 rounding). This costs one tree walk per tree, the
// same as predicting, unlike TreeSHAP's quadratic-in-depth walk; for ranking
// reasons ("which features pushed this row up most") the two agree on the
// leading features in practice, and the sum property holds for both.
package explain

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"risklane/models/xgb"
)

// Explainer holds the node expectations of a model, with its trees laid out
// for walking: one 24-byte record per node, all trees in one array, each
// tree breadth first with the two children of a node side by side, so that a
// step down a tree touches one cache line and picks the child without a
// branch.
type Explainer struct {
	model *xgb.Model
	nodes []node
	roots []int32
	bias  float64

	// For ContributionsRows: nodes again, each leaf turned into a node that
	// loops onto itself (it reads an always-missing column and defaults
	// left, to its own index), and each tree's depth, so that rows walk a
	// tree side by side in a fixed number of steps.
	loop  []node
	depth []int32

	// For ContributionsLeaves: the path from the root to each leaf, as the
	// steps Contributions adds (the split's feature, the change in
	// expectation from the node to the child), root first, padded to the
	// tree's depth with steps that add 0 to a column past the features (so
	// that every path of a tree is as long: no mispredicted loop exits).
	// pathAt is indexed by nodeBase[t] + XGBoost's node id in tree t, -1
	// for a node that is not a leaf; nodeBase has one more entry, the total.
	nodeBase []int32
	pathAt   []int32
	steps    []step

	// For SHAP: each node's cover (sum_hess), indexed as nodes, and the
	// depth of the deepest tree.
	cover    []float64
	maxDepth int
	scratch  sync.Pool // of *SHAPScratch, for callers that bring none
	sums     sync.Pool // of *[]float64, for ContributionsLeaves
}

type node struct {
	threshold float32
	feature   uint32 // defaultLeft bit: missing values go left
	left      int32  // index in nodes of the left child, the right one next to it; -1 for a leaf
	_         int32
	mean      float64
}

const defaultLeft = 1 << 31

// New prepares an Explainer. It checks that every tree is a well-formed
// binary tree over the model's features (node ids in range, no node reached
// twice) and fails otherwise.
func New(m *xgb.Model) (*Explainer, error) {
	base, err := BaseMargin(m)
	if err != nil {
		return nil, err
	}
	e := &Explainer{model: m, roots: make([]int32, len(m.Trees)), bias: base}
	e.scratch.New = func() any { return new(SHAPScratch) }
	for i := range m.Trees {
		t := &m.Trees[i]
		mean, err := nodeMeans(t, m.NumFeature)
		if err != nil {
			return nil, fmt.Errorf("tree %d: %w", i, err)
		}
		e.bias += mean[0]
		e.roots[i] = int32(len(e.nodes))
		d := e.layOut(t, mean)
		if d > xgb.MaxDepth {
			return nil, fmt.Errorf("tree %d: %d levels deep, more than the %d risklane accepts", i, d, xgb.MaxDepth)
		}
		e.depth = append(e.depth, int32(d))
		e.maxDepth = max(e.maxDepth, d)
		e.addPaths(t, mean, d)
	}
	e.nodeBase = append(e.nodeBase, int32(len(e.pathAt)))
	e.loop = slices.Clone(e.nodes)
	for i := range e.loop {
		if e.loop[i].left < 0 {
			e.loop[i].feature = uint32(m.NumFeature) | defaultLeft
			e.loop[i].left = int32(i)
		}
	}
	return e, nil
}

// layOut appends a checked tree to e.nodes breadth first and returns its
// depth.
func (e *Explainer) layOut(t *xgb.Tree, mean []float64) int {
	queue := []int32{0}
	e.nodes = append(e.nodes, node{})
	e.cover = append(e.cover, 0)
	at := []int32{int32(len(e.nodes) - 1)} // where each queued node goes
	depth := []int{0}
	for k := 0; k < len(queue); k++ {
		id, pos := queue[k], at[k]
		nd := node{threshold: t.SplitCondition[id], feature: uint32(t.SplitIndex[id]), left: -1, mean: mean[id]}
		e.cover[pos] = float64(t.SumHessian[id])
		if t.Left[id] != -1 {
			nd.left = int32(len(e.nodes))
			e.nodes = append(e.nodes, node{}, node{})
			e.cover = append(e.cover, 0, 0)
			queue = append(queue, t.Left[id], t.Right[id])
			at = append(at, nd.left, nd.left+1)
			depth = append(depth, depth[k]+1, depth[k]+1)
			if t.DefaultLeft[id] {
				nd.feature |= defaultLeft
			}
		}
		e.nodes[pos] = nd
	}
	return depth[len(depth)-1] // breadth first: the last node is the deepest
}

// step is one term of a path: delta added to feature f.
type step struct {
	delta float64
	f     int32
	_     int32
}

// addPaths appends the root-to-leaf paths of a checked tree (nodeMeans
// accepted it, layOut bounded its depth) for ContributionsLeaves.
func (e *Explainer) addPaths(t *xgb.Tree, mean []float64, depth int) {
	n := t.NumNodes()
	base := int32(len(e.pathAt))
	e.nodeBase = append(e.nodeBase, base)
	for range n {
		e.pathAt = append(e.pathAt, -1)
	}
	// Depth first from the root (nodeMeans checked that no node is reached
	// twice), path holding the nodes from the root to the current one.
	type frame struct{ id, depth int32 }
	stack := []frame{{0, 0}}
	var path []int32
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		path = append(path[:f.depth], f.id)
		if l := t.Left[f.id]; l != -1 {
			stack = append(stack, frame{t.Right[f.id], f.depth + 1}, frame{l, f.depth + 1})
			continue
		}
		e.pathAt[base+f.id] = int32(len(e.steps))
		for k := 1; k < len(path); k++ {
			p, c := path[k-1], path[k]
			// The very subtraction Contributions makes at this step.
			e.steps = append(e.steps, step{delta: mean[c] - mean[p], f: t.SplitIndex[p]})
		}
		for range depth - int(f.depth) {
			e.steps = append(e.steps, step{f: int32(e.model.NumFeature)})
		}
	}
}

// BaseMargin returns the model's global bias in margin space.
func BaseMargin(m *xgb.Model) (float64, error) {
	b := float64(m.BaseScore)
	switch m.Objective {
	case xgb.BinaryLogistic, xgb.RegLogistic:
		if !(b > 0 && b < 1) {
			return 0, fmt.Errorf("base_score %v of a %s model is not a probability strictly between 0 and 1", b, m.Objective)
		}
		return math.Log(b / (1 - b)), nil
	case xgb.RegSquaredError, xgb.BinaryLogitRaw, "":
		return b, nil
	}
	return 0, fmt.Errorf("objective %q is not one risklane explains (%s)", m.Objective, xgb.Objectives)
}

// nodeMeans computes each node's expectation bottom-up, as XGBoost's
// FillNodeMeanValues does: a leaf's value; an internal node's children's
// expectations weighted by their cover, divided by its own cover. A node with
// no cover recorded falls back to its children's total cover, then to their
// plain average, so a model saved without statistics still explains.
func nodeMeans(t *xgb.Tree, numFeature int) ([]float64, error) {
	n := t.NumNodes()
	if n == 0 {
		return nil, fmt.Errorf("no nodes")
	}
	for _, s := range [][]int32{t.Right, t.SplitIndex} {
		if len(s) != n {
			return nil, fmt.Errorf("node arrays of different lengths")
		}
	}
	if len(t.SplitCondition) != n || len(t.DefaultLeft) != n || len(t.SumHessian) != n {
		return nil, fmt.Errorf("node arrays of different lengths")
	}
	mean := make([]float64, n)
	seen := make([]bool, n)
	// Children are visited before their parent: a post-order walk with an
	// explicit stack, since a hostile model could nest deeper than any stack.
	type frame struct {
		node     int32
		expanded bool
	}
	stack := []frame{{node: 0}}
	seen[0] = true
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		nd := f.node
		if t.Left[nd] == -1 {
			mean[nd] = float64(t.SplitCondition[nd])
			stack = stack[:len(stack)-1]
			continue
		}
		l, r := t.Left[nd], t.Right[nd]
		if !f.expanded {
			if l < 0 || int(l) >= n || r < 0 || int(r) >= n {
				return nil, fmt.Errorf("node %d: child out of range (left %d, right %d, %d nodes)", nd, l, r, n)
			}
			if seen[l] || seen[r] {
				return nil, fmt.Errorf("node %d: a child is reached twice (the tree has a cycle or shared node)", nd)
			}
			if s := t.SplitIndex[nd]; s < 0 || int(s) >= numFeature {
				return nil, fmt.Errorf("node %d: split on feature %d, model has %d features", nd, s, numFeature)
			}
			seen[l], seen[r] = true, true
			f.expanded = true
			stack = append(stack, frame{node: l}, frame{node: r})
			continue
		}
		hl, hr, h := float64(t.SumHessian[l]), float64(t.SumHessian[r]), float64(t.SumHessian[nd])
		switch {
		case h > 0 && hl >= 0 && hr >= 0:
			mean[nd] = (mean[l]*hl + mean[r]*hr) / h
		case hl+hr > 0 && hl >= 0 && hr >= 0:
			mean[nd] = (mean[l]*hl + mean[r]*hr) / (hl + hr)
		default:
			mean[nd] = (mean[l] + mean[r]) / 2
		}
		stack = stack[:len(stack)-1]
	}
	return mean, nil
}

// Bias returns the part of every row's margin that no feature explains: the
// base margin plus every tree's root expectation.
func (e *Explainer) Bias() float64 { return e.bias }

// NumFeature returns the number of features a row must have.
func (e *Explainer) NumFeature() int { return e.model.NumFeature }

// Contributions adds each feature's contribution to the margin of row x
// (len NumFeature; NaN is missing) to out (len NumFeature) and returns the
// row's margin. Splits compare float32(x[f]) < SplitCondition, as XGBoost
// does.
func (e *Explainer) Contributions(x []float64, out []float64) float64 {
	_ = x[e.model.NumFeature-1]
	_ = out[e.model.NumFeature-1]
	nodes := e.nodes
	margin := e.bias
	for _, root := range e.roots {
		n := &nodes[root]
		top := n.mean
		for n.left >= 0 {
			f := n.feature &^ defaultLeft
			c := &nodes[n.left+child(x[f], n)]
			out[f] += c.mean - n.mean
			n = c
		}
		margin += n.mean - top
	}
	return margin
}

// group is how many rows ContributionsRows walks side by side.
const group = 8

// ContributionsRows is Contributions for n rows at once: x holds them
// row-major (NumFeature values each), and each row's contributions are added
// to its NumFeature values of out. The rows walk each tree side by side, so
// that the processor works on eight independent paths at a time instead of
// waiting on one chain of loads; the sums are the very same as
// Contributions' (each row adds the same terms in the same order).
func (e *Explainer) ContributionsRows(x []float64, n int, out []float64) {
	nf := e.model.NumFeature
	st := nf + 1 // the features, then the always-missing column
	if n <= 0 {
		return
	}
	_ = x[n*nf-1]
	_ = out[n*nf-1]
	xb := make([]float32, group*st)
	ob := make([]float64, group*st)
	nan := float32(math.NaN())
	loop := e.loop
	for r0 := 0; r0 < n; r0 += group {
		rows := min(group, n-r0)
		for k := range group {
			dst := xb[k*st : (k+1)*st]
			if k < rows {
				for f, v := range x[(r0+k)*nf : (r0+k+1)*nf] {
					dst[f] = float32(v)
				}
				dst[nf] = nan
			} else {
				for f := range dst {
					dst[f] = nan
				}
			}
			copy(ob[k*st:k*st+nf], out[(r0+min(k, rows-1))*nf:])
		}
		for t, root := range e.roots {
			var at [group]int32
			for k := range at {
				at[k] = root
			}
			for range e.depth[t] {
				for k := range group {
					nd := &loop[at[k]]
					f := int(nd.feature &^ defaultLeft)
					v := xb[k*st+f]
					left := b2i(v < nd.threshold) | b2i(v != v)&int32(nd.feature>>31)
					c := nd.left + 1 - left
					ob[k*st+f] += loop[c].mean - nd.mean
					at[k] = c
				}
			}
		}
		for k := range rows {
			copy(out[(r0+k)*nf:(r0+k+1)*nf], ob[k*st:k*st+nf])
		}
	}
}

// NumTrees returns the number of trees.
func (e *Explainer) NumTrees() int { return len(e.roots) }

// ContributionsLeaves is ContributionsRows for n rows whose leaves are
// known: leaves[r*NumTrees()+t] is XGBoost's id of the leaf row r reaches in
// tree t (its pred_leaf, as scorer.PredictLeaves gives it). It adds each
// row's contributions to its NumFeature values of out, the very sums of
// Contributions (each feature gets the same terms in the same order: tree
// by tree, root to leaf), without walking the trees: each leaf's path is
// listed once, when the Explainer is made. It fails on a leaf id that is
// not a leaf of its tree, and then adds nothing.
func (e *Explainer) ContributionsLeaves(leaves []int32, n int, out []float64) error {
	return e.contributionsLeaves(leaves, nil, n, out)
}

// WeightedContributionsLeaves is ContributionsLeaves with each tree's terms
// of row r multiplied by weight[r*NumTrees()+t]: a model that weighs the
// trees row by row (DATE's attention over the leaves) credits each tree's
// path by its weight. With every weight 1 it adds what ContributionsLeaves
// adds.
func (e *Explainer) WeightedContributionsLeaves(leaves []int32, weight []float64, n int, out []float64) error {
	if len(weight) < n*len(e.roots) {
		return fmt.Errorf("explain: %d weights for %d rows of %d trees", len(weight), n, len(e.roots))
	}
	return e.contributionsLeaves(leaves, weight, n, out)
}

func (e *Explainer) contributionsLeaves(leaves []int32, weight []float64, n int, out []float64) error {
	nf, nt := e.model.NumFeature, len(e.roots)
	if n <= 0 {
		return nil
	}
	if len(leaves) < n*nt || len(out) < n*nf {
		return fmt.Errorf("explain: %d leaf ids and %d outputs for %d rows of %d trees and %d features", len(leaves), len(out), n, nt, nf)
	}
	// Every id first, so that out is left alone when one is wrong.
	for r := range n {
		for t, id := range leaves[r*nt : (r+1)*nt] {
			if uint32(id) >= uint32(e.nodeBase[t+1]-e.nodeBase[t]) || e.pathAt[e.nodeBase[t]+id] < 0 {
				return fmt.Errorf("explain: row %d, tree %d: node %d is not a leaf", r, t, id)
			}
		}
	}
	// The rows' sums, nf+1 apart: the padding steps add to the last.
	st := nf + 1
	p, _ := e.sums.Get().(*[]float64)
	if p == nil {
		p = new([]float64)
	}
	defer e.sums.Put(p)
	const rowsAtOnce = 128 // their sums stay in the level-1 and -2 caches
	for lo := 0; lo < n; lo += rowsAtOnce {
		k := min(rowsAtOnce, n-lo)
		sums := slices.Grow((*p)[:0], k*st)[:k*st]
		*p = sums
		for r := range k {
			copy(sums[r*st:r*st+nf], out[(lo+r)*nf:(lo+r+1)*nf])
		}
		// Tree by tree, so that a tree's paths stay in cache for all the
		// rows; each row still gets its terms in tree order.
		for t, base := range e.nodeBase[:nt] {
			d := int(e.depth[t])
			for r := range k {
				at := int(e.pathAt[base+leaves[(lo+r)*nt+t]])
				o := sums[r*st : (r+1)*st]
				if weight == nil {
					for _, s := range e.steps[at : at+d] {
						o[s.f] += s.delta
					}
					continue
				}
				w := weight[(lo+r)*nt+t]
				for _, s := range e.steps[at : at+d] {
					o[s.f] += w * s.delta
				}
			}
		}
		for r := range k {
			copy(out[(lo+r)*nf:(lo+r+1)*nf], sums[r*st:r*st+nf])
		}
	}
	return nil
}

// child is 0 when x goes to n's left child, 1 when it goes right, computed
// without a branch: which way a row goes is as good as random to the
// processor, and a mispredicted branch costs more than the arithmetic.
func child(x float64, n *node) int32 {
	left := b2i(float32(x) < n.threshold) | b2i(x != x)&int32(n.feature>>31)
	return 1 - left
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// Top writes to idx the indices of the k largest positive values of contrib,
// largest first (ties by lower index), and returns them.
func Top(contrib []float64, k int, idx []int) []int {
	idx = idx[:0]
	if k <= 0 {
		return idx
	}
	for f, c := range contrib {
		if !(c > 0) {
			continue
		}
		pos := len(idx)
		if pos == k {
			if c <= contrib[idx[k-1]] {
				continue
			}
			pos = k - 1
		} else {
			idx = append(idx, f)
		}
		for pos > 0 && contrib[idx[pos-1]] < c {
			idx[pos] = idx[pos-1]
			pos--
		}
		idx[pos] = f
	}
	return idx
}
