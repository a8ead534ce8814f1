package date

import (
	"fmt"

	"risklane/models"
	"risklane/models/explain"
	"risklane/models/xgb"
)

var _ models.Explainer = (*Model)(nil)

// treeExplainers prepares one path explainer per cross-feature tree, for
// Contributions.
func (m *Model) treeExplainers() error {
	m.perTree = make([]*explain.Explainer, len(m.Trees.Trees))
	for t := range m.Trees.Trees {
		one := &xgb.Model{Objective: m.Trees.Objective, BaseScore: 0.5, NumFeature: m.Trees.NumFeature,
			FeatureNames: m.Trees.FeatureNames, Trees: m.Trees.Trees[t : t+1]}
		if one.Objective == "" {
			one.Objective = xgb.BinaryLogistic
		}
		ex, err := explain.New(one)
		if err != nil {
			return fmt.Errorf("date: tree %d: %w", t, err)
		}
		m.perTree[t] = ex
	}
	return nil
}

// reasonWork is one Contributions call's scratch.
type reasonWork struct {
	w      *work[float32]
	nodes  []int32
	tmp    []float64
	leaves []int32
	x      []float32
}

// Contributions attributes a row's risk to its features for the reasons an
// officer reads, through DATE's attention: the importer x HS-code query
// weighs the row's leaves (one per tree), and each tree's path to its leaf
// credits its split features with the change it makes in that tree's
// estimate (explain's path contributions). A feature's contribution is the
// sum over the trees of the tree's attention weight times the number of
// trees times its path contribution: under uniform attention it is the
// trees' own contribution, and the trees the attention picks out for this
// importer and HS code count most. x is a row of Features (the tree
// ensemble's features, then the two embedding rows, which are credited
// nothing); the returned margin is the classifier's logit. Unlike a tree
// ensemble's, the contributions do not add up to the logit: DATE's network
// is not additive in its features, and the contributions only rank them.
func (m *Model) Contributions(x, contrib []float64) float64 {
	F := len(m.State.Names())
	rw, _ := m.reasonPool.Get().(*reasonWork)
	if rw == nil {
		rw = &reasonWork{w: newWork[float32](m.Arch), nodes: make([]int32, m.Arch.Trees), tmp: make([]float64, F)}
	}
	defer m.reasonPool.Put(rw)
	tx, imp, item, err := m.split(x, 1, nil, nil, nil)
	if err != nil {
		return 0
	}
	if rw.leaves, err = m.leavesOf(tx, 1, rw.leaves, 1); err != nil {
		return 0
	}
	rw.x = m.appendRevInputs(rw.x[:0], tx)
	logit, _ := m.net.forward(rw.w, rw.leaves, imp[0], item[0], rw.x)
	T := float64(m.Arch.Trees)
	for t, ex := range m.perTree {
		a := float64(rw.w.w[t]) * T
		clear(rw.tmp)
		ex.Contributions(tx, rw.tmp)
		for f, c := range rw.tmp {
			contrib[f] += a * c
		}
	}
	return float64(logit)
}

// AttentionOf returns, for one row of Features, the attention weight of
// each tree's leaf (they sum to 1): which leaves, hence which tree paths,
// DATE looked at for this importer and HS code.
func (m *Model) AttentionOf(x []float64) ([]float64, error) {
	tx, imp, item, err := m.split(x, 1, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	leaves, err := m.leavesOf(tx, 1, nil, 1)
	if err != nil {
		return nil, err
	}
	w := newWork[float32](m.Arch)
	m.net.forward(w, leaves, imp[0], item[0], m.appendRevInputs(nil, tx))
	out := make([]float64, len(w.w))
	for t, v := range w.w {
		out[t] = float64(v)
	}
	return out, nil
}
