package rules

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"risklane/models/gbdt"
	"risklane/models/xgb"
)

// Rank is a criterion rules are ranked by; see the package documentation.
type Rank string

// Ranking criteria.
const (
	ByZ     Rank = "z"     // binomial z-score of the fraud rate against the base rate
	ByRate  Rank = "rate"  // fraud rate
	ByValue Rank = "value" // leaf output (log-odds contribution)
)

// ParseRank reads a ranking criterion by name ("z", "rate", "value").
func ParseRank(s string) (Rank, error) {
	switch r := Rank(strings.TrimSpace(s)); r {
	case ByZ, ByRate, ByValue:
		return r, nil
	}
	return "", fmt.Errorf("unknown ranking %q; choose z, rate or value", s)
}

// Options control Extract. The zero value returns every rule that reaches
// at least one labelled row, ranked by ByZ, without deduplication;
// DefaultOptions gives what the rules command prints.
type Options struct {
	// Top is the number of rules returned, strongest first; 0 means all.
	Top int
	// MinSupport is the smallest share of the labelled rows (0 to 1) a rule
	// must reach to be returned. A rule always reaches at least one row.
	MinSupport float64
	// Rank is the ranking criterion; "" means ByZ.
	Rank Rank
	// Similarity, in [0, 1], drops a rule whose rows have a Jaccard
	// similarity of at least Similarity with those of a better-ranked rule.
	// 0 keeps every rule.
	Similarity float64
	// Namer names the features in the rules' text and says which features
	// hold codes. nil means Names of the matrix's feature names (else the
	// model's).
	Namer Namer
	// Threads is the number of goroutines routing rows; 0 means GOMAXPROCS.
	Threads int
}

// DefaultOptions are the rules command's defaults: the 20 strongest rules by
// z-score among those reaching at least 0.5% of the rows, near-duplicates
// (Jaccard similarity 0.9 or more) merged.
func DefaultOptions() Options {
	return Options{Top: 20, MinSupport: 0.005, Rank: ByZ, Similarity: 0.9}
}

// Condition is what a rule asks of one feature: a value v with
// Lo <= v < Hi, compared in float32 as the trees compare (-Inf and +Inf
// mean no bound), or a missing value when Missing. An interval with
// Lo >= Hi holds no value: only a missing value can meet the condition.
type Condition struct {
	Feature int
	Lo, Hi  float64
	Missing bool
	// NoneMissing reports that no measured row lacks the feature: whether
	// missing values meet the condition then concerns no row, and the text
	// leaves out "(or missing)".
	NoneMissing bool
	// Code marks a feature whose values are codes or labels (Namer.Kind).
	// In and Out then list, ascending, the codes the measured rows have
	// inside and outside [Lo, Hi).
	Code    bool
	In, Out []float64
}

// Holds reports whether value v (NaN for missing) meets the condition.
func (c Condition) Holds(v float64) bool {
	if math.IsNaN(v) {
		return c.Missing
	}
	x := float32(v)
	return (math.IsInf(c.Lo, -1) || x >= float32(c.Lo)) && (math.IsInf(c.Hi, 1) || x < float32(c.Hi))
}

// empty reports whether no value lies in [Lo, Hi).
func (c Condition) empty() bool { return c.Lo >= c.Hi }

// Rule is one decision path of the ensemble, measured on labelled rows.
type Rule struct {
	// Conditions are in the order the path first tests each feature, from
	// the root; a single-leaf tree gives a rule without conditions.
	Conditions []Condition
	// Support is the number of labelled rows reaching the leaf;
	// SupportShare their share of all labelled rows.
	Support      int
	SupportShare float64
	// Illicit is the number of illicit rows among them; FraudRate their
	// share; Lift the fraud rate over the base rate (1 when the base rate is
	// 0).
	Illicit   int
	FraudRate float64
	Lift      float64
	// Score is the value of the ranking criterion.
	Score float64
	// Value is the leaf's output, added to the margin of every row it holds.
	Value float64
	// Tree and Leaf locate the path: tree index and leaf node id.
	Tree, Leaf int
	// Similar counts the lower-ranked rules dropped as near-identical to
	// this one.
	Similar int

	namer Namer
}

// Matches reports whether row i of X meets every condition of the rule:
// exactly the rows whose path through tree r.Tree ends in leaf r.Leaf.
func (r Rule) Matches(X *gbdt.Matrix, i int) bool {
	for _, c := range r.Conditions {
		if !c.Holds(X.Cols[c.Feature][i]) {
			return false
		}
	}
	return true
}

// Extract measures every decision path of m on the rows of X with labels y
// (1 illicit, 0 clean, NaN not inspected: such rows are left out) and
// returns the strongest rules as opts asks. X has one column per feature of
// m, in the model's order.
func Extract(m *xgb.Model, X *gbdt.Matrix, y []float64, opts Options) ([]Rule, error) {
	if err := checkInput(m, X, y, &opts); err != nil {
		return nil, err
	}
	labelled, illicit := 0, 0
	for _, v := range y {
		if v == v {
			labelled++
			illicit += int(v)
		}
	}
	if labelled == 0 {
		return nil, errors.New("rules: no labelled row (every label is NaN); support and fraud rate need inspected rows")
	}
	minCount := max(1, int(math.Ceil(opts.MinSupport*float64(labelled)-1e-9)))
	leaves := measureTrees(m, X.Cols, y, minCount, opts.Threads)

	base := float64(illicit) / float64(labelled)
	var cands []candidate
	for t, ls := range leaves {
		for _, l := range ls {
			r := Rule{Conditions: l.conds, Support: l.n, Illicit: l.bad, Tree: t, Leaf: int(l.node),
				Value: float64(m.Trees[t].SplitCondition[l.node]), namer: opts.Namer}
			r.SupportShare = float64(l.n) / float64(labelled)
			r.FraudRate = float64(l.bad) / float64(l.n)
			r.Lift = 1
			if base > 0 {
				r.Lift = r.FraudRate / base
			}
			r.Score = criterion(opts.Rank, r, base)
			cands = append(cands, candidate{rule: r, sketch: l.sketch})
		}
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(b.rule.Score, a.rule.Score), cmp.Compare(b.rule.Support, a.rule.Support),
			cmp.Compare(a.rule.Tree, b.rule.Tree), cmp.Compare(a.rule.Leaf, b.rule.Leaf))
	})
	out := dedup(cands, opts.Top, opts.Similarity)
	describe(out, X.Cols, y, opts.Namer)
	return out, nil
}

func checkInput(m *xgb.Model, X *gbdt.Matrix, y []float64, opts *Options) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("rules: invalid model: %w", err)
	}
	if X == nil {
		return errors.New("rules: no data")
	}
	if len(X.Cols) != m.NumFeature {
		return fmt.Errorf("rules: the model takes %d features, the data has %d; measure rules on data with the model's features", m.NumFeature, len(X.Cols))
	}
	if X.Rows <= 0 {
		return errors.New("rules: no rows to measure the rules on")
	}
	for j, c := range X.Cols {
		if len(c) != X.Rows {
			return fmt.Errorf("rules: feature %d has %d values for %d rows", j, len(c), X.Rows)
		}
	}
	if len(X.Names) > 0 && len(m.FeatureNames) > 0 && !slices.Equal(X.Names, m.FeatureNames) {
		for k := range min(len(X.Names), len(m.FeatureNames)) {
			if X.Names[k] != m.FeatureNames[k] {
				return fmt.Errorf("rules: feature %d is %q in the data but %q in the model", k, X.Names[k], m.FeatureNames[k])
			}
		}
		return fmt.Errorf("rules: the data names %d features, the model %d", len(X.Names), len(m.FeatureNames))
	}
	if len(y) != X.Rows {
		return fmt.Errorf("rules: %d labels for %d rows", len(y), X.Rows)
	}
	for i, v := range y {
		if v != 0 && v != 1 && v == v {
			return fmt.Errorf("rules: label of row %d is %v; labels are 1 (illicit), 0 (clean) or NaN (not inspected)", i, v)
		}
	}
	switch {
	case opts.Top < 0:
		return fmt.Errorf("rules: top = %d; use 0 (all rules) or more", opts.Top)
	case !(opts.MinSupport >= 0 && opts.MinSupport <= 1):
		return fmt.Errorf("rules: min support = %v; use a share from 0 to 1 (0.005 is 0.5%% of the rows)", opts.MinSupport)
	case !(opts.Similarity >= 0 && opts.Similarity <= 1):
		return fmt.Errorf("rules: similarity = %v; use 0 (keep every rule) to 1 (merge identical row sets only)", opts.Similarity)
	case opts.Threads < 0:
		return fmt.Errorf("rules: threads = %d; use 0 (all cores) or more", opts.Threads)
	}
	if opts.Rank == "" {
		opts.Rank = ByZ
	}
	if _, err := ParseRank(string(opts.Rank)); err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	if opts.Threads == 0 {
		opts.Threads = runtime.GOMAXPROCS(0)
	}
	if opts.Namer == nil {
		names := X.Names
		if len(names) == 0 {
			names = m.FeatureNames
		}
		opts.Namer = Names(names)
	}
	return nil
}

// criterion computes the ranking criterion of a measured rule.
func criterion(rank Rank, r Rule, base float64) float64 {
	switch rank {
	case ByRate:
		return r.FraudRate
	case ByValue:
		return r.Value
	}
	if base <= 0 || base >= 1 {
		return 0
	}
	return (r.FraudRate - base) * math.Sqrt(float64(r.Support)) / math.Sqrt(base*(1-base))
}

// leaf is one measured leaf of a tree with its simplified path.
type leaf struct {
	node   int32
	n, bad int
	sketch []uint64
	conds  []Condition
}

// measureTrees routes the labelled rows through every tree, trees shared
// among goroutines, and returns per tree the leaves reaching at least
// minCount rows.
func measureTrees(m *xgb.Model, cols [][]float64, y []float64, minCount, threads int) [][]leaf {
	out := make([][]leaf, len(m.Trees))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(threads, len(m.Trees)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sc scratch
			for {
				t := int(next.Add(1) - 1)
				if t >= len(m.Trees) {
					return
				}
				out[t] = sc.measure(&m.Trees[t], cols, y, minCount)
			}
		}()
	}
	wg.Wait()
	return out
}

// sketchSize is k of the bottom-k sketches of leaf row sets.
const sketchSize = 64

// scratch is one goroutine's working space, reused from tree to tree.
type scratch struct {
	n, bad []int
	slot   []int32  // per node: its leaf's sketch slot
	sk     []uint64 // sketchSize hashes per slot, ascending
	skLen  []int
	steps  []step
	stack  []frame
}

// walk returns the leaf row i of the columns reaches in t, comparing as
// XGBoost does.
func walk(t *xgb.Tree, cols [][]float64, i int) int32 {
	n := int32(0)
	for {
		l := t.Left[n]
		if l == -1 {
			return n
		}
		v := cols[t.SplitIndex[n]][i]
		var left bool
		if v != v {
			left = t.DefaultLeft[n]
		} else {
			left = float32(v) < t.SplitCondition[n]
		}
		if left {
			n = l
		} else {
			n = t.Right[n]
		}
	}
}

func (sc *scratch) measure(t *xgb.Tree, cols [][]float64, y []float64, minCount int) []leaf {
	nodes := t.NumNodes()
	sc.n = resize(sc.n, nodes)
	sc.bad = resize(sc.bad, nodes)
	sc.slot = resize(sc.slot, nodes)
	slots := 0
	for id := range nodes {
		sc.slot[id] = -1
		if t.Left[id] == -1 {
			sc.slot[id] = int32(slots)
			slots++
		}
	}
	sc.sk = resize(sc.sk, slots*sketchSize)
	sc.skLen = resize(sc.skLen, slots)
	for i, label := range y {
		if label != label {
			continue
		}
		l := walk(t, cols, i)
		sc.n[l]++
		if label == 1 {
			sc.bad[l]++
		}
		s := int(sc.slot[l])
		sc.skLen[s] = insert(sc.sk[s*sketchSize:(s+1)*sketchSize], sc.skLen[s], rowHash(i))
	}
	return sc.paths(t, minCount)
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// rowHash is splitmix64 of the row index: a fixed pseudo-random order of
// the rows that every tree's sketches share.
func rowHash(i int) uint64 {
	z := uint64(i) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// insert adds h to the ascending bottom-k sketch sk[:n] and returns its new
// length. Most rows of a large leaf hash above the sketch's largest value
// and cost one comparison.
func insert(sk []uint64, n int, h uint64) int {
	if n == len(sk) && h >= sk[n-1] {
		return n
	}
	j, _ := slices.BinarySearch(sk[:n], h)
	if n < len(sk) {
		n++
	}
	copy(sk[j+1:n], sk[j:n-1])
	sk[j] = h
	return n
}

// step is one split on a path: the feature, its threshold, the branch taken
// and where missing values go.
type step struct {
	feature     int32
	threshold   float32
	left        bool
	defaultLeft bool
}

type frame struct {
	node  int32
	depth int32
	step  step
}

// paths walks t depth first and returns its leaves that reach at least
// minCount rows, each with its simplified path and a copy of its sketch.
func (sc *scratch) paths(t *xgb.Tree, minCount int) []leaf {
	var out []leaf
	sc.stack = append(sc.stack[:0], frame{node: 0})
	sc.steps = sc.steps[:0]
	for len(sc.stack) > 0 {
		f := sc.stack[len(sc.stack)-1]
		sc.stack = sc.stack[:len(sc.stack)-1]
		if f.depth > 0 {
			sc.steps = append(sc.steps[:f.depth-1], f.step)
		}
		id := f.node
		if t.Left[id] == -1 {
			if sc.n[id] >= minCount {
				s := int(sc.slot[id])
				out = append(out, leaf{node: id, n: sc.n[id], bad: sc.bad[id],
					sketch: slices.Clone(sc.sk[s*sketchSize : s*sketchSize+sc.skLen[s]]),
					conds:  simplify(sc.steps)})
			}
			continue
		}
		s := step{feature: t.SplitIndex[id], threshold: t.SplitCondition[id], defaultLeft: t.DefaultLeft[id]}
		right, left := s, s
		left.left = true
		sc.stack = append(sc.stack, frame{t.Right[id], f.depth + 1, right}, frame{t.Left[id], f.depth + 1, left})
	}
	return out
}

// simplify merges the splits of a path into one condition per feature, in
// the order the path first tests each feature.
func simplify(steps []step) []Condition {
	var cs []Condition
	for _, s := range steps {
		j := slices.IndexFunc(cs, func(c Condition) bool { return c.Feature == int(s.feature) })
		if j < 0 {
			j = len(cs)
			cs = append(cs, Condition{Feature: int(s.feature), Lo: math.Inf(-1), Hi: math.Inf(1), Missing: true})
		}
		c := &cs[j]
		th := float64(s.threshold)
		if s.left {
			c.Hi = min(c.Hi, th)
		} else {
			c.Lo = max(c.Lo, th)
		}
		if s.defaultLeft != s.left {
			c.Missing = false
		}
	}
	return cs
}

// candidate is a measured rule with the sketch of the rows it reaches.
type candidate struct {
	rule   Rule
	sketch []uint64
}

// dedup keeps, in rank order, up to top rules (all when top is 0) no two of
// which reach row sets with a Jaccard similarity of similarity or more
// (none dropped when similarity is 0). Every dropped rule is counted in the
// Similar of the best-ranked kept rule it resembles, including rules ranked
// below the last one kept.
func dedup(cands []candidate, top int, similarity float64) []Rule {
	var kept []candidate
	for _, c := range cands {
		dup := -1
		if similarity > 0 {
			for k := range kept {
				if similar(&kept[k], &c, similarity) {
					dup = k
					break
				}
			}
		}
		switch {
		case dup >= 0:
			kept[dup].rule.Similar++
		case top == 0 || len(kept) < top:
			kept = append(kept, c)
		case similarity == 0:
			// Nothing left to count against the kept rules.
			return rulesOf(kept)
		}
	}
	return rulesOf(kept)
}

func rulesOf(cs []candidate) []Rule {
	out := make([]Rule, len(cs))
	for i, c := range cs {
		out[i] = c.rule
	}
	return out
}

// similar reports whether the row sets of a and b have a Jaccard similarity
// of at least s.
func similar(a, b *candidate, s float64) bool {
	na, nb := a.rule.Support, b.rule.Support
	if float64(min(na, nb)) < s*float64(max(na, nb)) {
		return false // |A ∩ B| / |A ∪ B| <= min / max
	}
	return jaccard(a.sketch, b.sketch, na, nb) >= s
}

// jaccard estimates the Jaccard similarity of two sets from their bottom-k
// sketches: among the k smallest hashes of the union, the share found in
// both sketches. A sketch holding its whole set (size na or nb) makes the
// answer exact when the union's smallest k are all the union.
func jaccard(a, b []uint64, na, nb int) float64 {
	k := sketchSize
	if len(a) == na && len(b) == nb {
		k = na + nb // both sets whole: compare them all
	}
	union, both := 0, 0
	i, j := 0, 0
	for union < k && (i < len(a) || j < len(b)) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			i++
		case i == len(a) || b[j] < a[i]:
			j++
		default:
			both++
			i++
			j++
		}
		union++
	}
	if union == 0 {
		return 0
	}
	return float64(both) / float64(union)
}

// describe completes the conditions of the rules with what the data says
// of their features: whether any labelled row lacks the feature, and for a
// code feature the codes inside and outside the interval.
func describe(rs []Rule, cols [][]float64, y []float64, n Namer) {
	domains := map[int][]float64{}
	missing := map[int]bool{}
	for r := range rs {
		for c := range rs[r].Conditions {
			cond := &rs[r].Conditions[c]
			f := cond.Feature
			has, ok := missing[f]
			if !ok {
				has = anyMissing(cols[f], y)
				missing[f] = has
			}
			cond.NoneMissing = !has
			if n.Kind(f) == Amount {
				continue
			}
			d, ok := domains[f]
			if !ok {
				d = distinct(cols[f], y)
				domains[f] = d
			}
			cond.Code = true
			cond.In, cond.Out = []float64{}, []float64{}
			for _, v := range d {
				if cond.Holds(v) {
					cond.In = append(cond.In, v)
				} else {
					cond.Out = append(cond.Out, v)
				}
			}
		}
	}
}

// anyMissing reports whether a labelled row has no value in col.
func anyMissing(col, y []float64) bool {
	for i, v := range col {
		if v != v && y[i] == y[i] {
			return true
		}
	}
	return false
}

// distinct returns the values of col on labelled rows, ascending, without
// NaN and without repeats.
func distinct(col, y []float64) []float64 {
	seen := map[float64]struct{}{}
	for i, v := range col {
		if v == v && y[i] == y[i] {
			seen[v] = struct{}{}
		}
	}
	out := make([]float64, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
