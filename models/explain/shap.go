package explain

// This file computes exact Shapley values of a tree ensemble's margin by
// TreeSHAP (Lundberg, Erion and Lee, "Consistent individualized feature
// attribution for tree ensembles", 2018, Algorithm 2), as XGBoost's
// predict(pred_contribs=True) does: the expectation of each subtree is taken
// over the training rows that reached it, measured by the cover (sum_hess)
// XGBoost saves with every node; a missing value follows the node's default
// direction; a value goes left when float32(x) < threshold. For every row
//
//	margin = Bias() + sum of the SHAP values
//
// as for the path contributions, and Bias() is the bias column of
// pred_contribs. XGBoost accumulates in float32 and risklane in float64, so
// values agree to float32 rounding (docs/interop.md).

// shapPath is one element of the unique path of features from the root to
// the current node: the fraction of the cover that flows down the path when
// the feature is not known (zero) and when it is (one), and the permutation
// weight of the subsets of the path's features of each size.
type shapPath struct {
	feature int32
	zero    float64
	one     float64
	weight  float64
}

// SHAPScratch is the working memory of SHAP for one goroutine. The zero
// value is ready to use.
type SHAPScratch struct {
	path []shapPath
}

// SHAP adds each feature's exact Shapley contribution (TreeSHAP) to the
// margin of row x (len NumFeature; NaN is missing) to out (len NumFeature)
// and returns the row's margin. s may be nil; reusing one SHAPScratch per
// goroutine saves an allocation per row.
func (e *Explainer) SHAP(x, out []float64, s *SHAPScratch) float64 {
	_ = x[e.model.NumFeature-1]
	_ = out[e.model.NumFeature-1]
	if s == nil {
		s = e.scratch.Get().(*SHAPScratch)
		defer e.scratch.Put(s)
	}
	if need := (e.maxDepth + 2) * (e.maxDepth + 3) / 2; len(s.path) < need {
		s.path = make([]shapPath, need)
	}
	margin := e.bias
	for _, root := range e.roots {
		margin += e.shapTree(x, out, root, s.path)
	}
	return margin
}

// SHAPRows is SHAP for n rows at once: x holds them row-major (NumFeature
// values each), and each row's contributions are added to its NumFeature
// values of out.
func (e *Explainer) SHAPRows(x []float64, n int, out []float64) {
	nf := e.model.NumFeature
	var s SHAPScratch
	for i := range n {
		e.SHAP(x[i*nf:(i+1)*nf], out[i*nf:(i+1)*nf], &s)
	}
}

// shapTree adds one tree's SHAP values of row x to out and returns the
// tree's leaf value minus its root expectation (the tree's share of the
// margin beyond the bias).
func (e *Explainer) shapTree(x, out []float64, root int32, path []shapPath) float64 {
	leaf := e.shapNode(x, out, root, path, 0, 1, 1, -1)
	return leaf - e.nodes[root].mean
}

// shapNode is the recursion of TreeSHAP at node n: path holds the unique
// path of the parent (depth elements from path[0]), which it extends by the
// feature of the split that led here with the given fractions. It returns
// the value of the leaf row x reaches below n.
func (e *Explainer) shapNode(x, out []float64, n int32, parent []shapPath, depth int, zero, one float64, feature int32) float64 {
	// This node's path lives just after the parent's, so that the parent's
	// stays intact for the other child.
	path := parent[depth+1:]
	copy(path, parent[:depth+1])
	extendPath(path, depth, zero, one, feature)
	nd := &e.nodes[n]
	if nd.left < 0 {
		for i := 1; i <= depth; i++ {
			w := unwoundPathSum(path, depth, i)
			el := &path[i]
			out[el.feature] += w * (el.one - el.zero) * nd.mean
		}
		return nd.mean
	}
	split := int32(nd.feature &^ defaultLeft)
	hot := nd.left + child(x[split], nd)
	cold := nd.left + nd.left + 1 - hot
	hotFrac, coldFrac := e.coverFractions(n, hot, cold)
	inZero, inOne := 1.0, 1.0
	// A feature split on again higher up is taken off the path and put back
	// with this split's fractions multiplied in.
	for k := 0; k <= depth; k++ {
		if path[k].feature == split {
			inZero, inOne = path[k].zero, path[k].one
			unwindPath(path, depth, k)
			depth--
			break
		}
	}
	leaf := e.shapNode(x, out, hot, path, depth+1, hotFrac*inZero, inOne, split)
	e.shapNode(x, out, cold, path, depth+1, coldFrac*inZero, 0, split)
	return leaf
}

// coverFractions returns the shares of node n's cover that went to its hot
// and cold children. A model saved without statistics (no cover) splits
// evenly, as nodeMeans does.
func (e *Explainer) coverFractions(n, hot, cold int32) (float64, float64) {
	w := e.cover[n]
	if !(w > 0) {
		w = e.cover[hot] + e.cover[cold]
	}
	if !(w > 0) {
		return 0.5, 0.5
	}
	return e.cover[hot] / w, e.cover[cold] / w
}

// extendPath appends a feature with its zero and one fractions to a unique
// path of depth elements and updates the permutation weights.
func extendPath(path []shapPath, depth int, zero, one float64, feature int32) {
	path[depth] = shapPath{feature: feature, zero: zero, one: one}
	if depth == 0 {
		path[0].weight = 1
	}
	d := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		path[i+1].weight += one * path[i].weight * float64(i+1) / d
		path[i].weight = zero * path[i].weight * float64(depth-i) / d
	}
}

// unwindPath undoes extendPath for the element at k.
func unwindPath(path []shapPath, depth, k int) {
	one, zero := path[k].one, path[k].zero
	next := path[depth].weight
	d := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		if one != 0 {
			tmp := path[i].weight
			path[i].weight = next * d / (float64(i+1) * one)
			next = tmp - path[i].weight*zero*float64(depth-i)/d
		} else {
			path[i].weight = path[i].weight * d / (zero * float64(depth-i))
		}
	}
	for i := k; i < depth; i++ {
		path[i].feature, path[i].zero, path[i].one = path[i+1].feature, path[i+1].zero, path[i+1].one
	}
}

// unwoundPathSum is the total permutation weight of the path with the
// element at k taken off, without changing the path.
func unwoundPathSum(path []shapPath, depth, k int) float64 {
	one, zero := path[k].one, path[k].zero
	next := path[depth].weight
	d := float64(depth + 1)
	total := 0.0
	for i := depth - 1; i >= 0; i-- {
		switch {
		case one != 0:
			tmp := next * d / (float64(i+1) * one)
			total += tmp
			next = path[i].weight - tmp*zero*float64(depth-i)/d
		case zero != 0:
			total += path[i].weight / zero / (float64(depth-i) / d)
		}
	}
	return total
}
