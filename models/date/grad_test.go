package date

import (
	"math"
	"math/rand/v2"
	"testing"
)

// smallBatch draws a batch for arch a with both labels present.
func smallBatch(a Arch, rows int, seed uint64) *Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := &Batch{}
	per := a.Leaves / a.Trees
	for i := range rows {
		for t := range a.Trees {
			b.Leaves = append(b.Leaves, int32(t*per+rng.IntN(per)))
		}
		b.Imp = append(b.Imp, int32(rng.IntN(a.Importers)))
		b.Item = append(b.Item, int32(rng.IntN(a.Items)))
		b.Y = append(b.Y, float32(i%2))
		b.Rev = append(b.Rev, float32(rng.Float64()))
		for range a.RevIn {
			b.X = append(b.X, float32(rng.Float64()))
		}
	}
	return b
}

// testLeafValues are the leaf values test networks take: spread, of both
// signs, as a tree ensemble's are.
func testLeafValues(a Arch) []float64 {
	lv := make([]float64, a.Leaves)
	for i := range lv {
		lv[i] = 0.4 * math.Sin(float64(3*i+1))
	}
	return lv
}

// testNet is newNet with testLeafValues.
func testNet[F Float](a Arch, p []F) *net[F] {
	n := newNet(a, p)
	for _, v := range testLeafValues(a) {
		n.lv = append(n.lv, F(v))
	}
	return n
}

func testArchs() map[string]Arch {
	return map[string]Arch{
		"self-attention":    {Trees: 5, Leaves: 15, Importers: 4, Items: 3, Dim: 8, Heads: 2, SelfAtt: true, RevIn: 2, Margin: true},
		"no self-attention": {Trees: 5, Leaves: 15, Importers: 4, Items: 3, Dim: 8, RevIn: 3, Margin: true},
		"revenue tower":     {Trees: 5, Leaves: 15, Importers: 4, Items: 3, Dim: 8, RevIn: 3, Margin: true, RevHid: 6},
		"tower, self-att":   {Trees: 4, Leaves: 12, Importers: 4, Items: 3, Dim: 8, Heads: 2, SelfAtt: true, RevIn: 2, Margin: true, RevHid: 5},
	}
}

// TestGradientFiniteDifference checks the analytic gradient of every
// parameter tensor, hence the backward pass of every layer (embeddings,
// self-attention, layer norm, query attention, fusion, hidden, both heads
// the revenue inputs' weights and the loss), against central differences,
// in float64.
func TestGradientFiniteDifference(t *testing.T) {
	for name, a := range testArchs() {
		for _, l := range testLosses() {
			t.Run(name+l.name, func(t *testing.T) { finiteDifference(t, a, l) })
		}
	}
}

// testLoss is a loss the gradient checks run: the plain one, or the
// cross-entropy weighed by revenue (Config.RevWeight) with smoothed labels
// (Config.LabelSmooth).
type testLoss struct {
	name   string
	smooth float64
	// set gives a batch its weights (none for the plain loss).
	set func(*Batch)
	// revAll trains the revenue head on every row (Config.RevAllRows):
	// the checks give the licit rows the target of a revenue of 0 with
	// setRevTargets, after PyTorch got the batch as drawn (it builds the
	// target from the labels itself).
	revAll bool
	// base makes the target relative to each row's base (Config.RevBase,
	// standardised): the batch gets bases, and setRevTargets the targets
	// from the revenues testRevenues gives, after PyTorch got the batch as
	// drawn with those revenues (it builds the target, its mean and sd, from
	// the revenues and the bases itself).
	base bool
}

// testRevenues are the revenues of b's rows the revenue targets of the
// checks stand for: expm1(5 x the drawn target), so that with a revenue
// scale of 5 and no base the target is the one drawn.
func testRevenues(b *Batch) []float64 {
	rev := make([]float64, b.Rows())
	for i, r := range b.Rev {
		rev[i] = math.Expm1(5 * float64(r))
	}
	return rev
}

// targets gives b the revenue targets of loss l as training does
// (setRevTargets; the drawn ones for the plain loss).
func (l testLoss) targets(b *Batch) {
	if !l.revAll && !l.base {
		return
	}
	m := &Model{Config: Config{RevAllRows: l.revAll, RevStandard: l.base}, RevScale: 5}
	if l.base {
		m.Config.RevBase = "log_duty"
	}
	m.setRevTargets(b, testRevenues(b))
}

func testLosses() []testLoss {
	return []testLoss{
		{name: "", set: func(*Batch) {}},
		{name: ", weighed and smoothed", smooth: 0.1, set: func(b *Batch) {
			// revenue weights of power 1 from revenues spread over two
			// orders of magnitude, so that the rows' weights differ
			rev := make([]float64, b.Rows())
			for i := range rev {
				rev[i] = math.Exp(5 * float64(b.Rev[i]))
			}
			b.W = revWeights(b.Y, rev, 1)
		}},
		{name: ", revenue on every row", set: func(*Batch) {}, revAll: true},
		{name: ", revenue over its base", set: setBases, base: true},
		{name: ", revenue over its base on every row", set: setBases, base: true, revAll: true},
	}
}

// setBases gives b's rows revenue bases (log1p of a duty) of 0 to 8.
func setBases(b *Batch) {
	b.Base = b.Base[:0]
	for i := range b.Rows() {
		b.Base = append(b.Base, float32(8*math.Abs(math.Sin(float64(3*i+1)))))
	}
}

func finiteDifference(t *testing.T, a Arch, l testLoss) {
	p32 := initParams(a, 7)
	p := make([]float64, len(p32))
	rng := rand.New(rand.NewPCG(3, 3))
	for i, x := range p32 {
		// move the biases and the layer norm off their initial values so
		// that every path carries a gradient
		p[i] = float64(x) + 0.05*rng.NormFloat64()
	}
	// a revenue output away from 0, a weighed tree margin
	spec, _ := a.layout()
	for _, ts := range spec {
		switch ts.Name {
		case "reg_b":
			p[ts.Off] = 1
		case "cls_m":
			p[ts.Off] = 0.7
		}
	}
	b := smallBatch(a, 8, 11)
	l.set(b)
	l.targets(b)
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	n := testNet(a, p)
	tr := newTrainer(n, 3, 2)
	tr.smooth = l.smooth
	tr.revAll = l.revAll
	tr.lossGrad(b, idx)
	grad := append([]float64(nil), tr.grad...)
	const h = 1e-6
	for _, ts := range spec {
		worst := 0.0
		for i := ts.Off; i < ts.Off+ts.Size(); i++ {
			orig := p[i]
			p[i] = orig + h
			up := tr.lossGrad(b, idx)
			p[i] = orig - h
			down := tr.lossGrad(b, idx)
			p[i] = orig
			fd := (up - down) / (2 * h)
			err := math.Abs(grad[i]-fd) / math.Max(1e-3, math.Abs(fd))
			worst = max(worst, err)
			if err > 1e-4 {
				t.Errorf("%s[%d]: analytic %.9g, finite difference %.9g", ts.Name, i-ts.Off, grad[i], fd)
			}
		}
		t.Logf("%-8s %5d params, worst relative error %.2g", ts.Name, ts.Size(), worst)
	}
}

// TestThreadCountInvariant checks that the gradient is bit-identical for
// any number of threads.
func TestThreadCountInvariant(t *testing.T) {
	a := testArchs()["self-attention"]
	p := initParams(a, 1)
	b := smallBatch(a, 37, 2)
	idx := make([]int, 37)
	for i := range idx {
		idx[i] = i
	}
	var first []float32
	for threads := 1; threads <= 4; threads++ {
		tr := newTrainer(testNet(a, p), 10, threads)
		tr.lossGrad(b, idx)
		if first == nil {
			first = append([]float32(nil), tr.grad...)
			continue
		}
		for i := range first {
			if first[i] != tr.grad[i] {
				t.Fatalf("threads %d: gradient %d is %v, with 1 thread %v", threads, i, tr.grad[i], first[i])
			}
		}
	}
}
