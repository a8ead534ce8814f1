package date

import (
	"fmt"
	"slices"

	"risklane/models"
	"risklane/models/explain"
	"risklane/models/xgb"
)

var _ models.Explainer = (*Model)(nil)

// treeExplainers lists the cross-feature trees' paths for Contributions.
func (m *Model) treeExplainers() error {
	all := *m.Trees
	if all.Objective == "" {
		all.Objective = xgb.BinaryLogistic
	}
	ex, err := explain.New(&all)
	if err != nil {
		return fmt.Errorf("date: trees: %w", err)
	}
	m.expl = ex
	return nil
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
	var logit [1]float64
	if err := m.contributions(x, 1, contrib, logit[:]); err != nil {
		return 0
	}
	return logit[0]
}

// ContributionsRows is Contributions for n rows of Features at once (x and
// out row-major, len(FeatureNames()) values a row), adding each row's
// contributions to its values of out: the trees are walked for all the rows
// together and each leaf's path is listed once (explain's
// WeightedContributionsLeaves), which is how score explains its red and
// yellow rows.
func (m *Model) ContributionsRows(x []float64, n int, out []float64) {
	_ = m.contributions(x, n, out, nil) // a row Features did not write is credited nothing
}

// contributions adds the contributions of n rows of Features to out and,
// when logits is not nil, writes each row's logit there.
func (m *Model) contributions(x []float64, n int, out, logits []float64) error {
	F, T := len(m.State.Names()), m.Arch.Trees
	tx, imp, item, err := m.split(x, n, nil, nil, nil)
	if err != nil {
		return err
	}
	nodes := make([]int32, n*T)
	if err := m.sc.PredictLeaves(tx, n, nodes, 1); err != nil {
		return err
	}
	leaves := slices.Clone(nodes)
	if err := m.leaves.rowsOf(leaves); err != nil {
		return err
	}
	proj := m.proj
	if proj == nil && !m.Arch.SelfAtt {
		proj = m.net.leafProjections()
	}
	w := m.work()
	defer m.works.Put(w)
	weight := make([]float64, n*T)
	rx := make([]float32, 0, n*m.Arch.RevIn)
	for i := range n {
		rx = m.appendRevInputs(rx, tx[i*F:(i+1)*F])
	}
	z, r := make([]float32, n), make([]float32, n)
	if proj != nil {
		att := make([]float32, n*T)
		m.scoreRows(w, proj, leaves, n, imp, item, rx, z, r, att)
		for i, a := range att {
			weight[i] = float64(a) * float64(T)
		}
	} else {
		R := m.Arch.RevIn
		for i := range n {
			z[i], r[i] = m.net.forward(w, leaves[i*T:(i+1)*T], imp[i], item[i], rx[i*R:(i+1)*R])
			for t, a := range w.w {
				weight[i*T+t] = float64(a) * float64(T)
			}
		}
	}
	if logits != nil {
		for i, v := range z {
			logits[i] = float64(v)
		}
	}
	c := make([]float64, n*F)
	if err := m.expl.WeightedContributionsLeaves(nodes, weight, n, c); err != nil {
		return err
	}
	for i := range n {
		o := out[i*(F+2) : i*(F+2)+F]
		for f, v := range c[i*F : (i+1)*F] {
			o[f] += v
		}
	}
	return nil
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
