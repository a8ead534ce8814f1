package gbdtlr

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"risklane/internal/testenv"
)

// randomProblem draws n rows over trees of the given leaf counts, labelled
// by a logistic model of random leaf weights.
func randomProblem(n int, leafCounts []int, seed uint64) *problem {
	rng := rand.New(rand.NewPCG(seed, 1))
	J := 0
	base := make([]int, len(leafCounts))
	for t, c := range leafCounts {
		base[t] = J
		J += c
	}
	truth := make([]float64, J)
	for j := range truth {
		truth[j] = rng.NormFloat64()
	}
	p := &problem{T: len(leafCounts), J: J, threads: 2}
	for range n {
		z := -1.0
		for t, c := range leafCounts {
			l := base[t] + rng.IntN(c)
			p.leaves = append(p.leaves, int32(l))
			z += truth[l]
		}
		y := 0.0
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y = 1
		}
		p.y = append(p.y, y)
	}
	return p
}

// TestAgainstSklearn fits the same L2 logistic regression on one-hot
// leaves in risklane and in scikit-learn and compares the weights.
func TestAgainstSklearn(t *testing.T) {
	py := testenv.Python(t, "sklearn", "scipy")
	p := randomProblem(3000, []int{4, 3, 5, 8}, 7)
	for _, lambda := range []float64{0.1, 1, 30} {
		w, b, st, _ := p.fit(lambda, nil, 1000, 1e-12)
		rows := make([][]int32, len(p.y))
		for i := range rows {
			rows[i] = p.leaves[i*p.T : (i+1)*p.T]
		}
		in, _ := json.Marshal(map[string]any{"leaves": rows, "y": p.y, "cols": p.J, "l2": lambda})
		cmd := exec.Command(py, filepath.Join("testdata", "lr_sklearn.py"))
		cmd.Stdin = bytes.NewReader(in)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("lr_sklearn.py: %v", err)
		}
		var ref struct {
			W []float64
			B float64
		}
		if err := json.Unmarshal(out, &ref); err != nil {
			t.Fatal(err)
		}
		// One-hot blocks are collinear with the intercept (each tree's
		// columns sum to 1); the L2 penalty makes the optimum unique, so
		// the weights themselves must agree.
		worst := math.Abs(b - ref.B)
		for j := range w {
			worst = max(worst, math.Abs(w[j]-ref.W[j]))
		}
		g := make([]float64, p.J+1)
		p.objective(append(append([]float64(nil), w...), b), g, lambda)
		gr := make([]float64, p.J+1)
		p.objective(append(append([]float64(nil), ref.W...), ref.B), gr, lambda)
		t.Logf("lambda %g: %d L-BFGS iterations (%d passes), largest difference from scikit-learn %.2g; largest gradient element %.2g (scikit-learn's %.2g)",
			lambda, st.Iterations, st.Passes, worst, maxAbs(g), maxAbs(gr))
		if worst > 1e-5 {
			t.Errorf("lambda %g: weights differ from scikit-learn's by %g (intercept %v vs %v)", lambda, worst, b, ref.B)
		}
	}
}

// TestGradientFiniteDifference checks the objective's gradient against
// central differences.
func TestGradientFiniteDifference(t *testing.T) {
	p := randomProblem(500, []int{3, 6}, 3)
	rng := rand.New(rand.NewPCG(5, 5))
	x := make([]float64, p.J+1)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	g := make([]float64, len(x))
	p.objective(x, g, 2.5)
	const h = 1e-6
	for i := range x {
		old := x[i]
		x[i] = old + h
		fp := p.objective(x, nil, 2.5)
		x[i] = old - h
		fm := p.objective(x, nil, 2.5)
		x[i] = old
		num := (fp - fm) / (2 * h)
		if math.Abs(num-g[i]) > 1e-6*max(1, math.Abs(num)) {
			t.Errorf("element %d: analytic %v, numeric %v", i, g[i], num)
		}
	}
}

// TestThreadCountInvariant: the fit is bit-identical for any thread count.
func TestThreadCountInvariant(t *testing.T) {
	p := randomProblem(2000, []int{5, 5, 7}, 11)
	p.threads = 1
	w1, b1, _, _ := p.fit(1, nil, 200, 1e-12)
	for _, th := range []int{2, 3, 8} {
		q := *p
		q.threads, q.gradPieces, q.byTree = th, nil, nil
		w, b, _, _ := q.fit(1, nil, 200, 1e-12)
		if b != b1 {
			t.Fatalf("%d threads: intercept %v, 1 thread %v", th, b, b1)
		}
		for j := range w {
			if w[j] != w1[j] {
				t.Fatalf("%d threads: weight %d %v, 1 thread %v", th, j, w[j], w1[j])
			}
		}
	}
}

func TestWeightsHostile(t *testing.T) {
	b := writeWeights(-1.5, []float64{0.25, -2, 3, 0})
	if bias, w, err := readWeights(b, 4); err != nil || bias != -1.5 || len(w) != 4 || w[1] != -2 {
		t.Fatalf("round trip: %v %v %v", bias, w, err)
	}
	for n := range len(b) {
		if _, _, err := readWeights(b[:n], 4); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(b))
		}
	}
	if _, _, err := readWeights(b, 5); err == nil {
		t.Fatal("weights of 4 leaves read for trees of 5")
	}
	huge := bytes.Clone(b)
	copy(huge[len(weightsMagic):], []byte{0xff, 0xff, 0xff, 0xff})
	all := ^uint32(0) // int(all) is -1 where int is 32 bits
	if _, _, err := readWeights(huge, int(all)); err == nil {
		t.Fatal("a file announcing 4G leaves read")
	}
	nan := writeWeights(math.NaN(), []float64{1})
	if _, _, err := readWeights(nan, 1); err == nil {
		t.Fatal("a NaN intercept read")
	}
}

func FuzzWeights(f *testing.F) {
	f.Add(writeWeights(-1.5, []float64{0.25, -2, 3, 0}), 4)
	f.Add(writeWeights(0, nil), 0)
	f.Fuzz(func(t *testing.T, b []byte, leaves int) {
		bias, w, err := readWeights(b, leaves)
		if err != nil {
			return
		}
		if got := writeWeights(bias, w); !bytes.Equal(got, b) {
			t.Fatalf("read and written back differs")
		}
	})
}

// rowByRow is the objective and gradient computed row by row, as before
// the tree-by-tree layout: TestObjectiveByTree's reference.
func rowByRow(p *problem, x []float64, lambda float64) (float64, []float64) {
	n, T, J := len(p.y), p.T, p.J
	w, b := x[:J], x[J]
	grad := make([]float64, J+1)
	var f float64
	for k := range pieces {
		g := make([]float64, J+1)
		var s float64
		for i := k * n / pieces; i < (k+1)*n/pieces; i++ {
			z := b
			for _, l := range p.leaves[i*T : (i+1)*T] {
				z += w[l]
			}
			if z > 0 {
				s += z + math.Log1p(math.Exp(-z)) - p.y[i]*z
			} else {
				s += math.Log1p(math.Exp(z)) - p.y[i]*z
			}
			r := sigmoid(z) - p.y[i]
			for _, l := range p.leaves[i*T : (i+1)*T] {
				g[l] += r
			}
			g[J] += r
		}
		f += s
		for j, v := range g {
			grad[j] += v
		}
	}
	var sq float64
	for _, v := range w {
		sq += v * v
	}
	f += lambda / 2 * sq
	for j, v := range w {
		grad[j] += lambda * v
	}
	for j := range grad {
		grad[j] /= float64(n)
	}
	return f / float64(n), grad
}

// TestObjectiveByTree: the tree-by-tree objective and gradient are the
// row-by-row ones bit for bit, so the fit is what it was before.
func TestObjectiveByTree(t *testing.T) {
	p := randomProblem(3001, []int{7, 3, 12, 5, 9, 4}, 21)
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, p.J+1)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	for _, lambda := range []float64{0.5, 10} {
		g := make([]float64, p.J+1)
		f := p.objective(x, g, lambda)
		fr, gr := rowByRow(p, x, lambda)
		if f != fr || p.objective(x, nil, lambda) != fr {
			t.Errorf("lambda %g: objective %v, row by row %v", lambda, f, fr)
		}
		for j := range g {
			if g[j] != gr[j] {
				t.Fatalf("lambda %g: gradient element %d %v, row by row %v", lambda, j, g[j], gr[j])
			}
		}
	}
}

// BenchmarkObjective evaluates the objective and gradient on a problem of
// KCS's shape under GBDT+LR's defaults (33,647 rows, 400 trees, about
// 85,000 leaves): tree by tree against row by row, in one run.
//
//	go test ./models/gbdtlr -run '^$' -bench Objective
func BenchmarkObjective(b *testing.B) {
	counts := make([]int, 400)
	for t := range counts {
		counts[t] = 212
	}
	p := randomProblem(33_647, counts, 17)
	p.threads = 1 // as rowByRow
	x := make([]float64, p.J+1)
	g := make([]float64, p.J+1)
	b.Run("by-tree", func(b *testing.B) {
		for b.Loop() {
			p.objective(x, g, 1)
		}
		b.ReportMetric(float64(len(p.leaves))*float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
	})
	b.Run("row-by-row", func(b *testing.B) {
		for b.Loop() {
			rowByRow(p, x, 1)
		}
		b.ReportMetric(float64(len(p.leaves))*float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
	})
}

// TestHessVec checks the Hessian-vector product against central
// differences of the gradient, and the diagonal against products with the
// unit vectors.
func TestHessVec(t *testing.T) {
	p := randomProblem(700, []int{4, 6, 3}, 9)
	p.setup()
	p.d = make([]float64, len(p.y)) // the curvatures, kept for the Newton fit only
	rng := rand.New(rand.NewPCG(8, 8))
	const lambda = 1.5
	x, v := make([]float64, p.J+1), make([]float64, p.J+1)
	for i := range x {
		x[i], v[i] = rng.NormFloat64(), rng.NormFloat64()
	}
	g := make([]float64, p.J+1)
	p.objective(x, g, lambda)
	hv, m := make([]float64, p.J+1), make([]float64, p.J+1)
	p.hessVec(v, hv, lambda)
	p.diag(m, lambda)
	const h = 1e-5
	gp, gm := make([]float64, p.J+1), make([]float64, p.J+1)
	xp, xm := slices.Clone(x), slices.Clone(x)
	axpy(h, v, xp)
	axpy(-h, v, xm)
	p.objective(xp, gp, lambda)
	p.objective(xm, gm, lambda)
	for i := range hv {
		if num := (gp[i] - gm[i]) / (2 * h); math.Abs(num-hv[i]) > 1e-7*max(1, math.Abs(num)) {
			t.Errorf("H v element %d: %v, numeric %v", i, hv[i], num)
		}
	}
	p.objective(x, g, lambda) // the curvatures at x again
	e, he := make([]float64, p.J+1), make([]float64, p.J+1)
	for i := range e {
		clear(e)
		e[i] = 1
		p.hessVec(e, he, lambda)
		if math.Abs(he[i]-m[i]) > 1e-15*max(1, m[i]) {
			t.Errorf("diagonal element %d: %v, H e %v", i, m[i], he[i])
		}
	}
}

// TestTronMatchesLBFGS: on a problem small enough to solve by hand, the
// trust-region Newton fit (tron_test.go) and Train's L-BFGS fit reach the
// same objective (relative difference below 1e-12) and the hand-solved weights.
//
// One tree of two leaves, four rows each, three illicit in the first and
// one in the second. By symmetry the intercept is 0 and the weights are w
// and -w, with 4 sigmoid(w) - 3 + lambda w = 0 (the first leaf's gradient),
// solved here by bisection; a second tree that puts every row in its one
// leaf leaves that unchanged (its weight is 0: the intercept absorbs it).
func TestTronMatchesLBFGS(t *testing.T) {
	p := &problem{T: 2, J: 3, threads: 2}
	for i := range 8 {
		p.leaves = append(p.leaves, int32(i/4), 2)
		y := 0.0
		if i < 3 || i == 4 {
			y = 1
		}
		p.y = append(p.y, y)
	}
	for _, lambda := range []float64{0.01, 1, 10} {
		lo, hi := 0.0, 10.0
		for range 200 {
			mid := (lo + hi) / 2
			if 4*sigmoid(mid)-3+lambda*mid > 0 {
				hi = mid
			} else {
				lo = mid
			}
		}
		w := (lo + hi) / 2
		want := (4*math.Log1p(math.Exp(w)) - 3*w + 4*math.Log1p(math.Exp(-w)) + w + lambda*w*w) / 8
		tw, tb, st, tf := p.tronFit(lambda, nil, 100, 1e-12)
		lw, lb, iters, lf, _ := p.lbfgsFit(lambda, 1000, 1e-12)
		t.Logf("lambda %g: w %.12f by hand; Newton %d iterations (%.1f passes) objective %.15f, L-BFGS %d iterations %.15f, by hand %.15f",
			lambda, w, st.Newton, st.Passes(), tf, iters, lf, want)
		if math.Abs(tf-lf) > 1e-12*lf || math.Abs(tf-want) > 1e-12*want {
			t.Errorf("lambda %g: objective %v (Newton), %v (L-BFGS), %v (by hand)", lambda, tf, lf, want)
		}
		for _, fit := range []struct {
			name string
			w    []float64
			b    float64
		}{{"Newton", tw, tb}, {"L-BFGS", lw, lb}} {
			if math.Abs(fit.w[0]-w) > 1e-9 || math.Abs(fit.w[1]+w) > 1e-9 || math.Abs(fit.w[2]) > 1e-9 || math.Abs(fit.b) > 1e-9 {
				t.Errorf("lambda %g: %s weights %v, intercept %v; by hand %v, %v, 0, 0", lambda, fit.name, fit.w, fit.b, w, -w)
			}
		}
	}
}
