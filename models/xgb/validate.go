package xgb

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Limits on what risklane accepts. They are far above any model trained on
// customs data (hundreds of trees, depth 6 to 12, tens to thousands of
// features), yet low enough that a file claiming more is corrupt or hostile
// and is refused before anything is allocated for it.
const (
	MaxTrees    = 100_000 // trees in a model
	MaxNodes    = 1 << 24 // nodes in one tree (a full tree of depth 23)
	MaxFeatures = 1 << 24 // features (columns) a model may split on
	// MaxDepth bounds the depth of a tree (the root is depth 0): XGBoost's
	// depthwise trees are 6 to 12 deep and lossguide ones rarely pass 30,
	// while scoring time grows with depth (a 1,000,000-deep tree scored
	// 60 times slower).
	MaxDepth = 128
	// MaxModelNodes bounds the nodes of all trees together.
	MaxModelNodes = 1 << 26
)

// DeletedSplitIndex is the split index XGBoost gives a node its pruner
// deleted. Such a node stays in the arrays, unreachable from the root, so
// that node ids do not change; XGBoost writes it with this split index and
// DefaultLeft set.
const DeletedSplitIndex = 1<<31 - 1

// Validate checks everything a reader, a writer or a scorer relies on, so
// that no later step can index out of range, loop forever or produce NaN:
//
//   - the objective is one risklane scores and BaseScore is valid for it;
//   - 1 <= NumFeature <= MaxFeatures, and FeatureNames is empty or names
//     every feature once (no '[', ']' or '<', which XGBoost refuses);
//   - at most MaxTrees trees, each with 1 to MaxNodes nodes and all nine
//     node arrays of the same length, at most MaxModelNodes nodes in all,
//     and no node deeper than MaxDepth;
//   - from the root (node 0, parent -1) every node is reached at most once:
//     an internal node has children in range with Right == Left+1 (XGBoost's
//     predictor computes the right child as left+1) whose Parent points back;
//     a leaf has Left == -1 (XGBoost's exact method leaves a marker in Right,
//     so Right may be -1 or any node id);
//   - a node the root does not reach is a deleted node (see
//     DeletedSplitIndex) with a parent in range, as XGBoost requires to load
//     it;
//   - every other node has a split index < NumFeature, and no threshold,
//     leaf value or node statistic is NaN or infinite.
//
// The first problem found is reported with its tree and node, for example
// "tree 12 node 7: right child 90 out of range (tree has 31 nodes)".
func (m *Model) Validate() error {
	if m == nil {
		return errors.New("no model")
	}
	if err := validateObjective(m.Objective, m.BaseScore); err != nil {
		return err
	}
	if m.NumFeature < 1 || m.NumFeature > MaxFeatures {
		return fmt.Errorf("num_feature %d out of range (1 to %d)", m.NumFeature, MaxFeatures)
	}
	if err := validateNames(m.FeatureNames, m.NumFeature); err != nil {
		return err
	}
	if len(m.Trees) > MaxTrees {
		return fmt.Errorf("%d trees: more than the %d risklane accepts", len(m.Trees), MaxTrees)
	}
	var visited []bool
	var stack []int32
	total := 0
	for i := range m.Trees {
		n := len(m.Trees[i].Left)
		if total += n; total > MaxModelNodes {
			return fmt.Errorf("tree %d: more than the %d nodes in all trees risklane accepts", i, MaxModelNodes)
		}
		if n > len(visited) && n <= MaxNodes {
			visited = make([]bool, n)
		}
		var err error
		stack, err = m.Trees[i].validate(m.NumFeature, visited, stack)
		if err != nil {
			return fmt.Errorf("tree %d%w", i, err)
		}
	}
	return nil
}

func validateObjective(objective string, baseScore float32) error {
	bs := float64(baseScore)
	switch objective {
	case BinaryLogistic, RegLogistic:
		if !(bs > 0 && bs < 1) {
			return fmt.Errorf("base_score %v is not a probability strictly between 0 and 1, as %s requires", bs, objective)
		}
	case RegSquaredError, BinaryLogitRaw:
		if math.IsNaN(bs) || math.IsInf(bs, 0) {
			return fmt.Errorf("base_score %v is not a finite number", bs)
		}
	case "":
		return errors.New("no objective")
	default:
		return fmt.Errorf("objective %q is not supported (risklane scores %s)", objective, Objectives)
	}
	return nil
}

func validateNames(names []string, numFeature int) error {
	if len(names) == 0 {
		return nil
	}
	if len(names) != numFeature {
		return fmt.Errorf("%d feature names for %d features", len(names), numFeature)
	}
	seen := make(map[string]int, len(names))
	for i, name := range names {
		if name == "" {
			return fmt.Errorf("feature %d has an empty name", i)
		}
		if strings.ContainsAny(name, "[]<") {
			return fmt.Errorf("feature %d name %q contains '[', ']' or '<', which XGBoost does not accept", i, name)
		}
		if j, dup := seen[name]; dup {
			return fmt.Errorf("features %d and %d are both named %q", j, i, name)
		}
		seen[name] = i
	}
	return nil
}

// validate checks one tree; errors start with " node N: " or ": " so that
// the caller can prefix "tree T". visited must hold at least NumNodes
// entries when the tree is within MaxNodes; it is left all false.
func (t *Tree) validate(numFeature int, visited []bool, stack []int32) ([]int32, error) {
	n := len(t.Left)
	if n == 0 {
		return stack, errors.New(": no nodes")
	}
	if n > MaxNodes {
		return stack, fmt.Errorf(": %d nodes, more than the %d risklane accepts", n, MaxNodes)
	}
	for _, a := range []struct {
		name string
		len  int
	}{
		{"right_children", len(t.Right)},
		{"parents", len(t.Parent)},
		{"split_indices", len(t.SplitIndex)},
		{"split_conditions", len(t.SplitCondition)},
		{"default_left", len(t.DefaultLeft)},
		{"base_weights", len(t.BaseWeight)},
		{"loss_changes", len(t.LossChange)},
		{"sum_hessian", len(t.SumHessian)},
	} {
		if a.len != n {
			return stack, fmt.Errorf(": %s has %d entries but left_children has %d", a.name, a.len, n)
		}
	}
	for id := 0; id < n; id++ {
		if err := t.checkFinite(id); err != nil {
			return stack, err
		}
	}
	visited = visited[:n]
	defer clear(visited)

	if t.Parent[0] != -1 {
		return stack, fmt.Errorf(" node 0: the root has parent %d (want -1)", t.Parent[0])
	}
	stack = append(stack[:0], 0)
	depths := []int32{0} // depth of each node on stack
	visited[0] = true
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		d := depths[len(depths)-1]
		depths = depths[:len(depths)-1]
		if err := t.validateNode(int(id), numFeature); err != nil {
			return stack, err
		}
		if t.Left[id] == -1 {
			continue
		}
		l, r := t.Left[id], t.Right[id]
		for _, c := range [2]struct {
			side string
			id   int32
		}{{"left", l}, {"right", r}} {
			if c.id < 0 || int(c.id) >= n {
				return stack, fmt.Errorf(" node %d: %s child %d out of range (tree has %d nodes)", id, c.side, c.id, n)
			}
			if visited[c.id] {
				return stack, fmt.Errorf(" node %d: %s child %d is already reached from the root (a cycle or a shared node)", id, c.side, c.id)
			}
		}
		if d >= MaxDepth {
			return stack, fmt.Errorf(" node %d: deeper than the %d levels risklane accepts (a damaged or hostile model)", id, MaxDepth)
		}
		if r != l+1 {
			return stack, fmt.Errorf(" node %d: right child %d does not follow left child %d (XGBoost needs siblings side by side)", id, r, l)
		}
		for _, c := range [2]int32{l, r} {
			if t.Parent[c] != id {
				return stack, fmt.Errorf(" node %d: parent is %d but node %d has it as a child", c, t.Parent[c], id)
			}
			visited[c] = true
			stack = append(stack, c)
			depths = append(depths, d+1)
		}
	}
	for id := 0; id < n; id++ {
		if visited[id] {
			continue
		}
		if !t.isDeleted(id) {
			return stack, fmt.Errorf(" node %d: not reachable from the root and not marked deleted", id)
		}
		if p := t.Parent[id]; p < 0 || int(p) >= n {
			return stack, fmt.Errorf(" node %d: deleted node has parent %d out of range (tree has %d nodes)", id, p, n)
		}
	}
	return stack, nil
}

// checkFinite refuses NaN and infinities anywhere in a node: in a threshold
// or leaf value they would corrupt predictions, and in the statistics they
// cannot be written to JSON.
func (t *Tree) checkFinite(id int) error {
	for _, f := range [4]struct {
		what string
		v    float32
	}{
		{"split threshold", t.SplitCondition[id]},
		{"base_weight", t.BaseWeight[id]},
		{"loss_change", t.LossChange[id]},
		{"sum_hessian", t.SumHessian[id]},
	} {
		if v := float64(f.v); math.IsNaN(v) || math.IsInf(v, 0) {
			what := f.what
			if what == "split threshold" && t.Left[id] == -1 {
				what = "leaf value"
			}
			return fmt.Errorf(" node %d: %s %v is not a finite number", id, what, v)
		}
	}
	return nil
}

func (t *Tree) validateNode(id, numFeature int) error {
	if t.Left[id] == -1 {
		if r := t.Right[id]; r < -1 || int(r) >= len(t.Left) {
			return fmt.Errorf(" node %d: leaf has right child %d out of range (tree has %d nodes)", id, r, len(t.Left))
		}
		if t.isDeleted(id) {
			return fmt.Errorf(" node %d: marked deleted but reachable from the root", id)
		}
		if s := t.SplitIndex[id]; s < 0 || int(s) >= numFeature {
			return fmt.Errorf(" node %d: split index %d out of range (model has %d features)", id, s, numFeature)
		}
		return nil
	}
	if t.Left[id] < -1 {
		return fmt.Errorf(" node %d: left child %d out of range (tree has %d nodes)", id, t.Left[id], len(t.Left))
	}
	if s := t.SplitIndex[id]; s < 0 || int(s) >= numFeature {
		return fmt.Errorf(" node %d: splits on feature %d but the model has %d features", id, s, numFeature)
	}
	return nil
}

// isDeleted reports whether node id carries XGBoost's deleted marker.
func (t *Tree) isDeleted(id int) bool {
	return t.Left[id] == -1 && t.SplitIndex[id] == DeletedSplitIndex && t.DefaultLeft[id]
}

// numDeleted counts the nodes XGBoost's pruner deleted.
func (t *Tree) numDeleted() int {
	k := 0
	for id := range t.Left {
		if t.isDeleted(id) {
			k++
		}
	}
	return k
}

// maxDepth returns the depth of the deepest leaf (0 for a lone root) of a
// validated tree.
func (t *Tree) maxDepth() int {
	depth := make([]int32, len(t.Left))
	best := int32(0)
	// Children always have larger ids than their parent in XGBoost trees,
	// but a validated tree only guarantees a tree shape, so walk from the
	// root instead of relying on id order.
	stack := []int32{0}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if depth[id] > best {
			best = depth[id]
		}
		if l := t.Left[id]; l != -1 {
			depth[l], depth[l+1] = depth[id]+1, depth[id]+1
			stack = append(stack, l, l+1)
		}
	}
	return int(best)
}
