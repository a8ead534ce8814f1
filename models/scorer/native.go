package scorer

import (
	"math"
	"unsafe"

	"risklane/models/xgb"
)

// The native engine: risklane's own tree walk, the default. Its design and
// how it matches XGBoost are described in docs/scoring-engine.md; in short:
//
//   - every node of every tree is 12 bytes in one array (float32 threshold
//     or leaf value, column, left child; the right child is left+1, as
//     XGBoost lays trees out), node ids kept;
//   - a step is one comparison, "go to left+1 unless v < threshold", with
//     no separate test for missing values: NaN fails "<" and so goes to
//     left+1, XGBoost's right, as it should at a node whose default is
//     right. A node whose default is left reads the negated column instead
//     (a block holds each row as x, then -x) against -prev(t), prev(t) the
//     float32 below t, and flips the outcome (bit 31 of its column): for
//     float32 v, !(-v < -prev(t)) holds exactly when v < t or v is NaN,
//     XGBoost's left;
//   - a leaf is a node that loops onto itself: it reads a column that is
//     always NaN and flips, to its own index. So every row walks a
//     tree in exactly the tree's depth steps, with no test for "leaf?", and
//     the rows of a group walk side by side: their steps are independent,
//     which keeps the processor's load units busy instead of waiting for
//     one chain of loads;
//   - a block of rows is rounded to float32 once (XGBoost's DMatrix holds
//     float32) and walked by one tree after another, so a tree stays in
//     cache for the whole block, and the margin of each row is summed in
//     float32 in tree order from the base margin, as XGBoost's CPU predictor
//     sums; the sigmoid is XGBoost's.
type forest struct {
	numFeature int
	stride     int // values per row of a block: the features, their negations, the NaN column
	nodes      []node
	roots      []int32
	sizes      []int32
	depth      []int32 // steps from the root to the deepest leaf
	base       float32 // the base margin
	logistic   bool
	blockRows  int // rows per block (a multiple of group)
}

// node is one tree node. For a leaf, value is the leaf's output, feature
// the NaN column with flipBit, and left the node itself.
type node struct {
	value   float32
	feature uint32 // the column of the block row; bit 31: flip the outcome
	left    int32  // index in the tree's nodes
}

const flipBit = 1 << 31

// group is how many rows walk a tree side by side.
const group = 8

// newForest lays out a validated model.
func newForest(m *xgb.Model) *forest {
	f := &forest{
		numFeature: m.NumFeature,
		stride:     2*m.NumFeature + 1,
		roots:      make([]int32, len(m.Trees)),
		sizes:      make([]int32, len(m.Trees)),
		depth:      make([]int32, len(m.Trees)),
		base:       m.BaseMargin(),
		logistic:   m.Objective == xgb.BinaryLogistic,
	}
	// A block's float32 rows stay within about 256 KB (level 2 cache) and
	// hold at least a few groups; the trees are read once per block.
	f.blockRows = max(group, min(1024, (1<<16)/f.stride)/group*group)
	total := 0
	for i := range m.Trees {
		total += m.Trees[i].NumNodes()
	}
	f.nodes = make([]node, total)
	nan := uint32(2*m.NumFeature) | flipBit
	at := 0
	for i := range m.Trees {
		t := &m.Trees[i]
		f.roots[i], f.sizes[i] = int32(at), int32(t.NumNodes())
		nodes := f.nodes[at : at+t.NumNodes()]
		for id := range nodes {
			if t.Left[id] == -1 {
				nodes[id] = node{value: t.SplitCondition[id], feature: nan, left: int32(id)}
				continue
			}
			n := node{value: t.SplitCondition[id], feature: uint32(t.SplitIndex[id]), left: t.Left[id]}
			if t.DefaultLeft[id] {
				n.value = -math.Nextafter32(n.value, float32(math.Inf(-1)))
				n.feature = (n.feature + uint32(m.NumFeature)) | flipBit
			}
			nodes[id] = n
		}
		f.depth[i] = int32(treeDepth(t))
		at += t.NumNodes()
	}
	return f
}

// treeDepth returns the number of steps from the root to the deepest leaf.
func treeDepth(t *xgb.Tree) int {
	depth := make([]int, t.NumNodes())
	deepest := 0
	// XGBoost numbers a child after its parent, which Validate checks (a
	// tree is acyclic and rooted at 0), but walk explicitly to depend on no
	// order.
	stack := []int32{0}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if t.Left[id] == -1 {
			deepest = max(deepest, depth[id])
			continue
		}
		for _, c := range []int32{t.Left[id], t.Left[id] + 1} {
			depth[c] = depth[id] + 1
			stack = append(stack, c)
		}
	}
	return deepest
}

// blockBuf is one goroutine's float32 copy of a block of rows.
type blockBuf struct {
	x    []float32 // blockRows x stride
	sums []float32
	idx  []int32 // the leaf reached by each row of a block in one tree
}

func (f *forest) newBuf() *blockBuf {
	return &blockBuf{
		x:    make([]float32, f.blockRows*f.stride),
		sums: make([]float32, f.blockRows),
		idx:  make([]int32, f.blockRows),
	}
}

// load rounds rows lo..hi of rows (row-major, numFeature values each) to
// float32 into b, with their negations and the NaN column, and pads the last
// group with missing rows. It returns the number of rows to walk (a
// multiple of group).
func (f *forest) load(b *blockBuf, rows []float64, lo, hi int) int {
	nf, st := f.numFeature, f.stride
	nan := float32(math.NaN())
	n := hi - lo
	padded := (n + group - 1) / group * group
	src := rows[lo*nf : hi*nf]
	for r := range n {
		dst := b.x[r*st : r*st+st]
		neg := dst[nf : 2*nf]
		for j, v := range src[r*nf : r*nf+nf] {
			dst[j] = float32(v)
			neg[j] = -float32(v)
		}
		dst[2*nf] = nan
	}
	for i := n * st; i < padded*st; i++ {
		b.x[i] = nan
	}
	return padded
}

// margins sums into b.sums[:n] the base margin and every tree's leaf value
// for the n loaded rows.
func (f *forest) margins(b *blockBuf, n int) {
	sums := b.sums[:n]
	for i := range sums {
		sums[i] = f.base
	}
	for t, root := range f.roots {
		nodes := f.nodes[root : root+f.sizes[t]]
		f.walk(nodes, f.depth[t], b.x[:n*f.stride], b.idx[:n])
		for i, id := range b.idx[:n] {
			sums[i] += nodes[id].value
		}
	}
}

// walk writes to idx the leaf each row of x reaches in one tree of the
// given depth, group rows side by side.
//
// It reads nodes and values through unsafe pointers: a node's left child
// and column are in range by construction (newForest from a validated
// model: children within the tree, columns below NumFeature, leaves onto
// themselves), so the bounds checks the compiler would add on every step,
// a third of the work, prove nothing.
func (f *forest) walk(nodes []node, depth int32, x []float32, idx []int32) {
	st := uintptr(f.stride) * 4
	np := unsafe.Pointer(unsafe.SliceData(nodes))
	for r := 0; r+group <= len(idx); r += group {
		rows := unsafe.Pointer(&x[r*f.stride : (r+group)*f.stride][0])
		var at [group]int32
		for range depth {
			for g := range group {
				n := (*node)(unsafe.Add(np, uintptr(at[g])*unsafe.Sizeof(node{})))
				v := *(*float32)(unsafe.Add(rows, uintptr(g)*st+uintptr(n.feature&^flipBit)*4))
				// A conditional move, not a branch: the direction depends
				// on the data.
				var next int32
				if !(v < n.value) {
					next = 1
				}
				at[g] = n.left + (next ^ int32(n.feature>>31))
			}
		}
		copy(idx[r:r+group], at[:])
	}
}

// leafIDs writes the XGBoost node id of the leaf each of the n loaded rows
// reaches in each tree: out[r*T+t].
func (f *forest) leafIDs(b *blockBuf, n, rows int, out []int32) {
	nt := len(f.roots)
	for t, root := range f.roots {
		nodes := f.nodes[root : root+f.sizes[t]]
		f.walk(nodes, f.depth[t], b.x[:n*f.stride], b.idx[:n])
		for r, id := range b.idx[:rows] {
			out[r*nt+t] = id
		}
	}
}

// output turns margins into predictions: XGBoost's float32 sigmoid for
// binary:logistic.
func (f *forest) output(sums []float32, out []float64, margin bool) {
	if margin || !f.logistic {
		for i, s := range sums {
			out[i] = float64(s)
		}
		return
	}
	for i, s := range sums {
		out[i] = float64(xgb.Sigmoid(s))
	}
}
