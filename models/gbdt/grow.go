package gbdt

import (
	"math"

	"risklane/models/xgb"
)

// node is a tree node while its tree grows.
type node struct {
	id         int32
	begin, end int // its rows are rows[begin:end]
	sum        gradSum
	gain       float32 // XGBoost's root_gain: the node's own CalcGain
	hist       histogram
	features   []int // features its split may use
	best       split
}

func (n *node) rows() int { return n.end - n.begin }

// treeBuilder assembles an xgb.Tree in XGBoost's node order (breadth first:
// the children of a node get the next two ids when it is expanded) together
// with the bin-space split of every node, which routes training rows.
type treeBuilder struct {
	tree xgb.Tree
	bin  []int16 // rows with code <= bin go left
}

// addLeaf appends a leaf holding the statistics s and returns its id. Like
// XGBoost, a leaf made by a split records its eta-scaled weight as base
// weight, a lone root its unscaled one.
func (tb *treeBuilder) addLeaf(c *config, parent int32, s gradSum) int32 {
	t := &tb.tree
	id := int32(len(t.Left))
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Parent = append(t.Parent, parent)
	t.SplitIndex = append(t.SplitIndex, 0)
	t.SplitCondition = append(t.SplitCondition, c.leafValue(s))
	t.DefaultLeft = append(t.DefaultLeft, false)
	if parent < 0 {
		t.BaseWeight = append(t.BaseWeight, c.weight(s))
	} else {
		t.BaseWeight = append(t.BaseWeight, c.leafValue(s))
	}
	t.LossChange = append(t.LossChange, 0)
	t.SumHessian = append(t.SumHessian, float32(s.h))
	tb.bin = append(tb.bin, 0)
	return id
}

// expand turns leaf n into a split node with two new leaves, recording what
// XGBoost's RegTree::ExpandNode records.
func (tb *treeBuilder) expand(c *config, b *binned, n *node) (left, right *node) {
	s := &n.best
	l := tb.addLeaf(c, n.id, s.left)
	r := tb.addLeaf(c, n.id, s.right)
	t := &tb.tree
	whole := s.left.add(s.right)
	t.Left[n.id] = l
	t.Right[n.id] = r
	t.SplitIndex[n.id] = int32(s.feature)
	t.SplitCondition[n.id] = b.threshold(s.feature, s.bin)
	t.DefaultLeft[n.id] = s.defaultLeft
	t.BaseWeight[n.id] = c.weight(whole)
	t.LossChange[n.id] = s.gain
	t.SumHessian[n.id] = float32(whole.h)
	tb.bin[n.id] = int16(s.bin)
	left = &node{id: l, sum: s.left, gain: c.gain(s.left)}
	right = &node{id: r, sum: s.right, gain: c.gain(s.right)}
	return left, right
}

// growTree grows one tree on the rows t.rows[:m] (the round's sample) and
// returns it with its leaves, each covering a range of t.rows.
func (t *trainer) growTree(m int) (*treeBuilder, []*node) {
	c := &t.c
	tb := &treeBuilder{}
	treeFeatures := t.sampleFeatures(t.allFeatures, c.colTree)
	root := &node{begin: 0, end: m, sum: t.sumGradients(m)}
	root.gain = c.gain(root.sum)
	root.id = tb.addLeaf(c, -1, root.sum)

	var leaves []*node
	level := []*node{root}
	if m >= 2 {
		t.buildHistograms([]histJob{{build: root, contiguous: m == t.bins.rows}}, treeFeatures)
	}
	for depth := 0; depth < c.depth && len(level) > 0; depth++ {
		levelFeatures := t.sampleFeatures(treeFeatures, c.colLevel)
		for _, n := range level {
			if n.hist != nil {
				n.features = t.sampleFeatures(levelFeatures, c.colNode)
			}
		}
		t.evaluate(level)

		var splitting, next []*node
		var jobs []histJob
		for _, n := range level {
			if n.hist == nil || !c.acceptable(&n.best) {
				t.hists.put(n.hist)
				n.hist = nil
				leaves = append(leaves, n)
				continue
			}
			splitting = append(splitting, n)
		}
		for _, n := range splitting {
			l, r := tb.expand(c, t.bins, n)
			next = append(next, l, r)
		}
		t.partition(splitting, next)
		for i, n := range splitting {
			l, r := next[2*i], next[2*i+1]
			if depth+1 < c.depth {
				if j, ok := t.histJobFor(n, l, r); ok {
					jobs = append(jobs, j)
				}
			} else {
				t.hists.put(n.hist)
				n.hist = nil
			}
		}
		t.buildHistograms(jobs, treeFeatures)
		for _, j := range jobs {
			t.hists.put(j.scratch)
		}
		level = next
	}
	for _, n := range level {
		t.hists.put(n.hist)
		n.hist = nil
	}
	return tb, append(leaves, level...)
}

// histJob builds one node's histograms and, when derive is set, turns its
// parent's histograms (already handed to derive) into derive's by subtraction.
type histJob struct {
	build      *node
	derive     *node
	contiguous bool      // build holds every row in row order
	scratch    histogram // build's buffer when build itself will not split
}

// histJobFor plans the histograms of a split's two children: the child with
// fewer rows is built, its sibling derived from the parent. A child that
// cannot split needs none, unless its sibling is derived from it.
func (t *trainer) histJobFor(parent, l, r *node) (histJob, bool) {
	small, large := l, r
	if r.rows() < l.rows() {
		small, large = r, l
	}
	switch {
	case !t.canSplit(small) && !t.canSplit(large):
		t.hists.put(parent.hist)
		parent.hist = nil
		return histJob{}, false
	case !t.canSplit(large):
		small.hist = t.hists.get()
		t.hists.put(parent.hist)
		parent.hist = nil
		return histJob{build: small}, true
	case !t.canSplit(small):
		large.hist = parent.hist
		parent.hist = nil
		scratch := t.hists.get()
		small.hist = scratch
		return histJob{build: small, derive: large, scratch: scratch}, true
	}
	large.hist = parent.hist
	parent.hist = nil
	small.hist = t.hists.get()
	return histJob{build: small, derive: large}, true
}

// canSplit reports whether n could have two children of at least
// MinChildWeight hessian each; the margin keeps float rounding in the
// children's sums from ever making a split possible that this rules out.
func (t *trainer) canSplit(n *node) bool {
	return n.rows() >= 2 && !(n.sum.h < 2*t.c.minChild*(1-1e-9))
}

// buildHistograms runs the jobs, one task per (job, feature).
func (t *trainer) buildHistograms(jobs []histJob, features []int) {
	if len(jobs) == 0 {
		return
	}
	for _, j := range jobs {
		if j.build.hist == nil {
			j.build.hist = t.hists.get()
		}
	}
	// Gather each built node's gradient pairs into row order once, so that
	// the per-feature loops read them sequentially.
	var gathers []rowRange
	for _, j := range jobs {
		if !j.contiguous {
			gathers = appendBlocks(gathers, j.build.begin, j.build.end)
		}
	}
	parallelFor(t.c.threads, len(gathers), func(i int) {
		g := gathers[i]
		og := t.ordered[g.lo:g.hi]
		for k, r := range t.rows[g.lo:g.hi] {
			og[k] = t.gh[r]
		}
	})
	nf := len(features)
	parallelFor(t.c.threads, len(jobs)*nf, func(task int) {
		j := jobs[task/nf]
		f := features[task%nf]
		b := j.build
		used := t.bins.slots(f)
		h := b.hist.feature(f)
		if j.contiguous {
			buildFeature(h, used, t.bins.codes[f], nil, t.gh)
		} else {
			buildFeature(h, used, t.bins.codes[f], t.rows[b.begin:b.end], t.ordered[b.begin:b.end])
		}
		if j.derive != nil {
			subtractFeature(j.derive.hist.feature(f), h, used)
		}
	})
	for _, j := range jobs {
		if j.scratch != nil {
			j.build.hist = nil
		}
	}
}

// slots is the number of histogram slots feature f uses: its bins, plus one
// for missing values when it has any.
func (b *binned) slots(f int) int {
	if b.missing[f] {
		return b.nBins[f] + 1
	}
	return b.nBins[f]
}

// evaluate finds every node's best split, one task per (node, feature), and
// combines each node's candidates in feature order.
func (t *trainer) evaluate(level []*node) {
	type task struct{ n, k int } // level[n], feature level[n].features[k]
	var tasks []task
	cand := make([][]split, len(level))
	for i, n := range level {
		if n.hist == nil {
			continue
		}
		cand[i] = make([]split, len(n.features))
		for k := range n.features {
			tasks = append(tasks, task{i, k})
		}
	}
	c := &t.c
	parallelFor(c.threads, len(tasks), func(i int) {
		tk := tasks[i]
		n := level[tk.n]
		f := n.features[tk.k]
		if t.bins.nBins[f] == 0 {
			return
		}
		nb := t.bins.nBins[f]
		s := c.bestFeatureSplit(n.hist.feature(f), nb, t.bins.missing[f], n.sum, n.gain, finite(t.bins.cuts[f][nb-1]), finite(t.bins.minVal[f]))
		s.feature = f
		cand[tk.n][tk.k] = s
	})
	for i, n := range level {
		n.best = split{}
		for k := range cand[i] {
			if s := &cand[i][k]; s.better(&n.best) {
				n.best = *s
			}
		}
	}
}

func finite(v float32) bool { return !math.IsInf(float64(v), 0) }

type rowRange struct{ lo, hi int }

// appendBlocks appends [lo, hi) cut into blocks of at most blockRows.
func appendBlocks(dst []rowRange, lo, hi int) []rowRange {
	for b := lo; b < hi; b += blockRows {
		dst = append(dst, rowRange{b, min(b+blockRows, hi)})
	}
	return dst
}

// partition reorders each split node's rows into its left child's rows
// followed by its right child's, both in row order (a stable partition), and
// sets the children's ranges. children holds the (left, right) pairs.
func (t *trainer) partition(splitting, children []*node) {
	type task struct {
		n      int // index into splitting
		lo, hi int
		nl     int // rows sent left, set by the task
	}
	var tasks []task
	luts := make([][256]uint8, len(splitting))
	for i, n := range splitting {
		s := &n.best
		lut := &luts[i]
		for code := range lut {
			if code <= s.bin {
				lut[code] = 1
			}
		}
		if nb := t.bins.nBins[s.feature]; t.bins.missing[s.feature] && s.defaultLeft {
			lut[nb] = 1
		}
		for _, r := range appendBlocks(nil, n.begin, n.end) {
			tasks = append(tasks, task{n: i, lo: r.lo, hi: r.hi})
		}
	}
	parallelFor(t.c.threads, len(tasks), func(i int) {
		tk := &tasks[i]
		codes := t.bins.codes[splitting[tk.n].best.feature]
		lut := &luts[tk.n]
		left, right := t.tmpLeft[tk.lo:tk.hi], t.tmpRight[tk.lo:tk.hi]
		nl, nr := 0, 0
		for _, r := range t.rows[tk.lo:tk.hi] {
			goLeft := int(lut[codes[r]])
			left[nl] = r
			right[nr] = r
			nl += goLeft
			nr += 1 - goLeft
		}
		tk.nl = nl
	})
	// Place each block's rows: lefts first, in block order, then rights.
	type move struct{ from, to, n int }
	var lefts, rights []move
	k := 0
	for i, n := range splitting {
		total := 0
		for j := k; j < len(tasks) && tasks[j].n == i; j++ {
			total += tasks[j].nl
		}
		l, r := children[2*i], children[2*i+1]
		l.begin, l.end = n.begin, n.begin+total
		r.begin, r.end = n.begin+total, n.end
		lp, rp := l.begin, r.begin
		for ; k < len(tasks) && tasks[k].n == i; k++ {
			tk := tasks[k]
			lefts = append(lefts, move{tk.lo, lp, tk.nl})
			rights = append(rights, move{tk.lo, rp, tk.hi - tk.lo - tk.nl})
			lp += tk.nl
			rp += tk.hi - tk.lo - tk.nl
		}
	}
	parallelFor(t.c.threads, len(lefts), func(i int) {
		m := lefts[i]
		copy(t.rows[m.to:m.to+m.n], t.tmpLeft[m.from:m.from+m.n])
		m = rights[i]
		copy(t.rows[m.to:m.to+m.n], t.tmpRight[m.from:m.from+m.n])
	})
}
