package date

import (
	"math"
	"testing"

	"risklane/models/explain"
	"risklane/models/modeltest"
)

// TestContributions checks DATE's reasons against an independent
// computation: with the query attention's output vector h set to zero every
// leaf gets the same weight, and the attention-weighted path contributions
// must then be the tree ensemble's own (explain over all trees at once);
// with the trained h, they must follow the attention weights, and the two
// embedding-row features are credited nothing.
func TestContributions(t *testing.T) {
	batches := modeltest.Declarations(t, 20_000, 5)
	cfg := DefaultConfig()
	cfg.Trees.NumRounds, cfg.Epochs = 20, 1
	m, err := Train(batches, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := batches[len(batches)-1]
	n, F := int(rec.NumRows()), len(m.FeatureNames())
	feats := make([]float64, n*F)
	if err := m.Features(rec, feats); err != nil {
		t.Fatal(err)
	}
	whole, err := explain.New(m.Trees)
	if err != nil {
		t.Fatal(err)
	}
	score, exp := make([]float64, n), make([]float64, n)
	if err := m.Predict(rec, feats, score, exp); err != nil {
		t.Fatal(err)
	}
	spec, _ := m.Arch.layout()
	var hOff int
	for _, ts := range spec {
		if ts.Name == "att_h" {
			hOff = ts.Off
		}
	}
	saved := append([]float32(nil), m.Params[hOff:hOff+m.Arch.Dim]...)
	contrib, ref := make([]float64, F), make([]float64, F-2)
	for i := range min(n, 200) {
		x := feats[i*F : (i+1)*F]
		clear(contrib)
		logit := m.Contributions(x, contrib)
		if p := 1 / (1 + math.Exp(-logit)); math.Abs(p-score[i]) > 1e-6 {
			t.Fatalf("row %d: Contributions' logit gives %v, Predict %v", i, p, score[i])
		}
		if contrib[F-2] != 0 || contrib[F-1] != 0 {
			t.Fatalf("row %d: the embedding rows are credited %v, %v", i, contrib[F-2], contrib[F-1])
		}
		att, err := m.AttentionOf(x)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, a := range att {
			s += a
		}
		if math.Abs(s-1) > 1e-5 {
			t.Fatalf("row %d: attention weights add up to %v", i, s)
		}
	}
	// score explains its rows in batches: ContributionsRows must add what
	// Contributions gives row by row
	k := min(n, 200)
	rows := make([]float64, k*F)
	m.ContributionsRows(feats[:k*F], k, rows)
	for i := range k {
		clear(contrib)
		m.Contributions(feats[i*F:(i+1)*F], contrib)
		for f := range F {
			if math.Abs(rows[i*F+f]-contrib[f]) > 1e-9*max(1, math.Abs(contrib[f])) {
				t.Fatalf("row %d feature %d: ContributionsRows %v, Contributions %v", i, f, rows[i*F+f], contrib[f])
			}
		}
	}
	clear(m.Params[hOff : hOff+m.Arch.Dim])
	defer copy(m.Params[hOff:], saved)
	for i := range min(n, 200) {
		x := feats[i*F : (i+1)*F]
		clear(contrib)
		clear(ref)
		m.Contributions(x, contrib)
		whole.Contributions(x[:F-2], ref)
		for f := range ref {
			if math.Abs(contrib[f]-ref[f]) > 1e-5*max(1, math.Abs(ref[f])) {
				t.Fatalf("row %d feature %s: uniform attention gives %v, the ensemble's path contribution is %v", i, m.FeatureNames()[f], contrib[f], ref[f])
			}
		}
	}
}

// TestForwardScore: scoring through the leaf projections, rows at a time
// and tree by tree, gives the training forward pass's outputs and attention
// weights, row by row.
func TestForwardScore(t *testing.T) {
	for _, hid := range []int{0, 20} { // without and with a revenue tower
		forwardScoreCheck(t, hid)
	}
}

func forwardScoreCheck(t *testing.T, revHid int) {
	a := benchArch()
	a.SelfAtt, a.RevIn, a.Margin, a.RevHid = false, 3, true, revHid
	p := initParams(a, 3)
	for i := range p {
		p[i] += float32(0.01 * math.Sin(float64(i))) // weigh the revenue inputs too
	}
	n := testNet(a, p)
	b := smallBatch(a, 300, 4) // more rows than scoreGroup, not a multiple
	proj := n.leafProjections()
	N := b.Rows()
	z2, r2, att := make([]float32, N), make([]float32, N), make([]float32, N*a.Trees)
	var rs scoreRows[float32]
	n.forwardScoreRows(newWork[float32](a), &rs, proj, b.Leaves, N, b.Imp, b.Item, b.X, z2, r2, att)
	w1 := newWork[float32](a)
	for i := range N {
		leaves := b.Leaves[i*a.Trees : (i+1)*a.Trees]
		x := b.X[i*a.RevIn : (i+1)*a.RevIn]
		z1, r1 := n.forward(w1, leaves, b.Imp[i], b.Item[i], x)
		if d := math.Abs(float64(z1 - z2[i])); d > 1e-5*max(1, math.Abs(float64(z1))) {
			t.Fatalf("row %d: logit %v, scoring path %v", i, z1, z2[i])
		}
		if d := math.Abs(float64(r1 - r2[i])); d > 1e-5*max(1, math.Abs(float64(r1))) {
			t.Fatalf("tower %d, row %d: revenue output %v, scoring path %v", revHid, i, r1, r2[i])
		}
		for k := range w1.w {
			if math.Abs(float64(w1.w[k]-att[i*a.Trees+k])) > 1e-6 {
				t.Fatalf("row %d tree %d: attention %v, scoring path %v", i, k, w1.w[k], att[i*a.Trees+k])
			}
		}
	}
}
