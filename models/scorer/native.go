package scorer

import (
	"math"
	"unsafe"

	"risklane/models/xgb"
)

// The native engine: risklane's own tree walk, the default. Its design and
// how it matches XGBoost are described in docs/scoring-engine.md; in short:
//
//   - every node of every tree is 16 bytes in one array (float32 threshold
//     or leaf value, byte offset of the column it reads, byte offset of its
//     second child, XGBoost's node id); the two children sit side by side;
//   - a block of rows is rounded to float32 once (XGBoost's DMatrix holds
//     float32) and stored column by column, each feature then its negation
//     then an always-NaN column; eight rows of a block walk a tree side by
//     side, each step "go to the second child, or the first when
//     v < threshold": NaN fails "<" and goes to the second child, XGBoost's
//     right, as it should at a node whose default is right. A node whose
//     default is left reads the negated column against -prev(t), prev(t) the
//     float32 below t, with its children stored the other way round: for
//     float32 v, !(-v < -prev(t)) holds exactly when v < t or v is NaN,
//     XGBoost's left;
//   - a leaf reads the NaN column and its second child is itself, so every
//     row walks a tree in exactly the tree's depth steps, with no test for
//     "leaf?", and the eight rows' steps are independent, which keeps the
//     processor's load units busy instead of waiting for one chain of loads;
//   - the block is walked by one tree after another, so a tree stays in
//     cache for the whole block, and the margin of each row is summed in
//     float32 in tree order from the base margin, as XGBoost's CPU predictor
//     sums; the sigmoid is XGBoost's.
type forest struct {
	numFeature int
	cols       int // columns of a block: the features, their negations, the NaN column
	nodes      []node
	roots      []int32
	sizes      []int32
	depth      []int32 // steps from the root to the deepest leaf
	base       float32 // the base margin
	logistic   bool
	blockRows  int // rows per block (a multiple of group)
}

// node is one tree node, 16 bytes. Within a tree, the two children of a node
// sit side by side (XGBoost lays them out so): the one to take when
// "v < value" holds first, then the other, at byte offset second. For a
// node whose default is right the first is XGBoost's left child; for a node
// whose default is left (it reads the negated column), the two children
// are swapped. A leaf reads the NaN column ("<" fails) and its second is
// its own offset, so it stays in place.
type node struct {
	value  float32 // the threshold, or the leaf value
	off    uint32  // byte offset of the column the node reads in a block
	second uint32  // byte offset, in the tree's nodes, of the child taken when "v < value" fails
	id     int32   // XGBoost's node id (pred_leaf)
}

const nodeSize = 16 // unsafe.Sizeof(node{}), a power of two: offsets, not indices

// group is how many rows walk a tree side by side.
const group = 8

// newForest lays out a validated model.
func newForest(m *xgb.Model) *forest {
	f := &forest{
		numFeature: m.NumFeature,
		cols:       2*m.NumFeature + 1,
		roots:      make([]int32, len(m.Trees)),
		sizes:      make([]int32, len(m.Trees)),
		depth:      make([]int32, len(m.Trees)),
		base:       m.BaseMargin(),
		logistic:   m.Sigmoid(),
	}
	// A block's float32 columns stay within about 256 KB (level 2 cache)
	// and hold at least a few groups; the trees are read once per block.
	f.blockRows = max(group, min(1024, (1<<16)/f.cols)/group*group)
	total := 0
	for i := range m.Trees {
		total += m.Trees[i].NumNodes()
	}
	f.nodes = make([]node, total)
	col := func(c int) uint32 { return uint32(c * f.blockRows * 4) }
	at := 0
	for i := range m.Trees {
		t := &m.Trees[i]
		f.roots[i], f.sizes[i] = int32(at), int32(t.NumNodes())
		nodes := f.nodes[at : at+t.NumNodes()]
		// slot[id] is where node id sits: its own id, or its sibling's when
		// its parent's default is left.
		slot := make([]int32, t.NumNodes())
		for id := range slot {
			slot[id] = int32(id)
		}
		for id := range slot {
			if l := t.Left[id]; l != -1 && t.DefaultLeft[id] {
				slot[l], slot[l+1] = l+1, l
			}
		}
		for id := range nodes {
			s := slot[id]
			if t.Left[id] == -1 {
				nodes[s] = node{value: t.SplitCondition[id], off: col(2 * m.NumFeature), second: uint32(s) * nodeSize, id: int32(id)}
				continue
			}
			n := node{value: t.SplitCondition[id], off: col(int(t.SplitIndex[id])), second: uint32(t.Left[id]+1) * nodeSize, id: int32(id)}
			if t.DefaultLeft[id] {
				n.value = -math.Nextafter32(n.value, float32(math.Inf(-1)))
				n.off = col(int(t.SplitIndex[id]) + m.NumFeature)
			}
			nodes[s] = n
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

// blockBuf is one goroutine's float32 copy of a block of rows, column by
// column (column c of row r at x[c*blockRows+r]).
type blockBuf struct {
	x    []float32 // cols x blockRows
	sums []float32
}

func (f *forest) newBuf() *blockBuf {
	b := &blockBuf{
		x:    make([]float32, f.blockRows*f.cols),
		sums: make([]float32, f.blockRows),
	}
	nan := float32(math.NaN())
	for r := range f.blockRows {
		b.x[2*f.numFeature*f.blockRows+r] = nan
	}
	return b
}

// load rounds rows lo..hi of rows (row-major, numFeature values each) to
// float32 into b's columns, with their negations. It returns the number of
// rows to walk, a multiple of group: the rows past hi hold whatever an
// earlier block left, and their sums are not used.
func (f *forest) load(b *blockBuf, rows []float64, lo, hi int) int {
	nf, br := f.numFeature, f.blockRows
	n := hi - lo
	src := rows[lo*nf : hi*nf]
	x := b.x[:2*nf*br]
	for j := range nf {
		col := x[j*br : j*br+n]
		neg := x[(nf+j)*br : (nf+j)*br+n]
		for r := range col {
			v := float32(src[r*nf+j])
			col[r], neg[r] = v, -v
		}
	}
	return (n + group - 1) / group * group
}

// loadColumns is load for rows lo..hi of cols (column-major: cols[j][r] is
// feature j of row r): the same float32 values, read column by column
// instead of across rows.
func (f *forest) loadColumns(b *blockBuf, cols [][]float64, lo, hi int) int {
	nf, br := f.numFeature, f.blockRows
	n := hi - lo
	x := b.x[:2*nf*br]
	for j, c := range cols[:nf] {
		src := c[lo:hi]
		col := x[j*br : j*br+n]
		neg := x[(nf+j)*br : (nf+j)*br+n]
		for r, v := range src {
			col[r], neg[r] = float32(v), -float32(v)
		}
	}
	return (n + group - 1) / group * group
}

// margins sums into b.sums[:n] the base margin and every tree's leaf value
// for the n loaded rows.
func (f *forest) margins(b *blockBuf, n int) {
	sums := b.sums[:n]
	for i := range sums {
		sums[i] = f.base
	}
	for t, root := range f.roots {
		f.walk(f.nodes[root:root+f.sizes[t]], f.depth[t], b.x, sums, nil, 0)
	}
}

// walk adds to sums the leaf value each row of the block reaches in one
// tree of the given depth (or, with ids set, writes the leaf's XGBoost id
// to ids[r*stride] for the rows that fit), group rows side by side. len(sums) is the number of
// rows, a multiple of group.
//
// It reads nodes and values through unsafe pointers: a node's children and
// column offset are in range by construction (newForest from a validated
// model: children within the tree, columns within a block, leaves onto
// themselves), so the bounds checks the compiler would add on every step
// prove nothing.
func (f *forest) walk(nodes []node, depth int32, x []float32, sums []float32, ids []int32, stride int) {
	np := unsafe.Pointer(unsafe.SliceData(nodes))
	xp := unsafe.Pointer(unsafe.SliceData(x))
	if ids == nil {
		if groups := len(sums) / group; groups > 0 {
			walkSum(np, xp, int(depth), unsafe.Pointer(unsafe.SliceData(sums)), groups)
		}
		return
	}
	var at [group]uint32
	for r := 0; r+group <= len(sums); r += group {
		walkGroup(np, unsafe.Add(xp, r*4), int(depth), &at)
		for g, a := range at {
			if (r+g)*stride < len(ids) {
				ids[(r+g)*stride] = (*node)(unsafe.Add(np, a)).id
			}
		}
	}
}

// walkSumGo walks groups groups of eight rows down one tree, group after
// group (rows and sums advance by a group, eight float32s, each time), and
// adds the value of the leaf each row reaches to its sum, in float32: the
// reference for walkSum.
func walkSumGo(np, rows unsafe.Pointer, depth int, sums unsafe.Pointer, groups int) {
	var at [group]uint32
	for k := range groups {
		walkGroupGo(np, unsafe.Add(rows, k*group*4), depth, &at)
		s := (*[group]float32)(unsafe.Add(sums, k*group*4))
		for g, a := range at {
			s[g] += (*node)(unsafe.Add(np, a)).value
		}
	}
}

// walkGroupGo walks the group of rows at rows (column-major, as in a
// block) depth steps down the tree whose nodes are at np, from the root,
// and writes the byte offset of the node each row ends at to at. It is the
// reference for walkGroup, which on amd64 is the same steps in assembly
// (native_amd64.s: the eight rows' positions stay in registers, where the
// compiler spills some of them to the stack on every step) and elsewhere
// walkGroupGo itself.
func walkGroupGo(np, rows unsafe.Pointer, depth int, at *[group]uint32) {
	var a0, a1, a2, a3, a4, a5, a6, a7 uint32
	for range depth {
		a0 = step(np, rows, a0, 0)
		a1 = step(np, rows, a1, 4)
		a2 = step(np, rows, a2, 8)
		a3 = step(np, rows, a3, 12)
		a4 = step(np, rows, a4, 16)
		a5 = step(np, rows, a5, 20)
		a6 = step(np, rows, a6, 24)
		a7 = step(np, rows, a7, 28)
	}
	*at = [group]uint32{a0, a1, a2, a3, a4, a5, a6, a7}
}

// step is one row's step down a tree: from the node at byte offset at to
// the second of its children, or the first when "v < value" holds (NaN
// fails it). g is the row's byte offset within its group.
func step(np, rows unsafe.Pointer, at uint32, g uintptr) uint32 {
	n := (*node)(unsafe.Add(np, at))
	v := *(*float32)(unsafe.Add(rows, uintptr(n.off)+g))
	// A conditional set, not a branch: the direction depends on the data.
	var first uint32
	if v < n.value {
		first = 1
	}
	return n.second - first*nodeSize
}

// leafIDs writes the XGBoost node id of the leaf each of the first rows
// loaded rows (n walked) reaches in each tree: out[r*T+t].
func (f *forest) leafIDs(b *blockBuf, n, rows int, out []int32) {
	nt := len(f.roots)
	for t, root := range f.roots {
		f.walk(f.nodes[root:root+f.sizes[t]], f.depth[t], b.x, b.sums[:n], out[t:rows*nt], nt)
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
