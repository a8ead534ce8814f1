package iforest

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"slices"
	"testing"

	"risklane/internal/testenv"
)

// TestHandWorkedTree: the score of a tree built by hand, worked out on
// paper. One tree fitted on a sample of 4: the root splits x < 5 into a leaf
// of 1 row and a node splitting x < 8 into leaves of 2 and 1 rows. With
// c(4) = 2(ln 3 + 0.5772) - 2*3/4 = 1.85166:
// x = 3: path 1, a leaf of one row adds c(1) = 0: 2^(-1/1.85166) = 0.68774;
// x = 6: path 2 + c(2) = 3: 2^(-3/1.85166) = 0.32530;
// x = 9: path 2: 2^(-2/1.85166) = 0.47299.
func TestHandWorkedTree(t *testing.T) {
	fr := &Forest{f: 1, sample: 4, trees: [][]node{{
		{feature: 0, split: 5, left: 1, right: 2},
		{feature: -1, size: 1},
		{feature: 0, split: 8, left: 3, right: 4},
		{feature: -1, size: 2},
		{feature: -1, size: 1},
	}}}
	out := make([]float64, 3)
	fr.Score([]float64{3, 6, 9}, 3, out)
	for i, want := range []float64{0.68774, 0.32530, 0.47299} {
		if math.Abs(out[i]-want) > 5e-5 {
			t.Errorf("row %d: score %.5f, want %.5f", i, out[i], want)
		}
	}
}

// sklearnScores fits scikit-learn's IsolationForest (trees of sample rows,
// one forest per seed) on x and returns each forest's anomaly scores (the
// negated score_samples, the paper's 2^(-E[h]/c(psi))).
func sklearnScores(t *testing.T, python string, x []float64, n, f, trees, sample int, seeds []int) [][]float64 {
	t.Helper()
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = x[i*f : (i+1)*f]
	}
	in, _ := json.Marshal(map[string]any{"x": rows, "trees": trees, "sample": sample, "seeds": seeds})
	const script = `
import json, sys
import numpy as np
from sklearn.ensemble import IsolationForest
a = json.load(sys.stdin)
x = np.array(a["x"], dtype=float)
out = []
for s in a["seeds"]:
    m = IsolationForest(n_estimators=a["trees"], max_samples=a["sample"], random_state=s).fit(x)
    out.append((-m.score_samples(x)).tolist())
json.dump(out, sys.stdout)
`
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("scikit-learn: %v\n%s", err, stderr.String())
	}
	var out [][]float64
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// spearman is the rank correlation of a and b (average ranks for ties).
func spearman(a, b []float64) float64 {
	ra, rb := ranks(a), ranks(b)
	var ma, mb float64
	for i := range ra {
		ma += ra[i]
		mb += rb[i]
	}
	ma /= float64(len(ra))
	mb /= float64(len(rb))
	var sab, saa, sbb float64
	for i := range ra {
		sab += (ra[i] - ma) * (rb[i] - mb)
		saa += (ra[i] - ma) * (ra[i] - ma)
		sbb += (rb[i] - mb) * (rb[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

func ranks(x []float64) []float64 {
	order := make([]int, len(x))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmpF(x[a], x[b]) })
	r := make([]float64, len(x))
	for i := 0; i < len(order); {
		j := i
		for j < len(order) && x[order[j]] == x[order[i]] {
			j++
		}
		for k := i; k < j; k++ {
			r[order[k]] = float64(i+j-1) / 2
		}
		i = j
	}
	return r
}

// TestAgainstSklearn fits risklane's forest and scikit-learn's on the same
// data, 300 trees of 256 rows each, and compares the scores: their rank
// correlation must be as high as that of two scikit-learn forests of other
// seeds (the noise of the random trees) less 0.01, and the scores must agree
// to 0.01 on average (the same normaliser and path lengths). Two data sets:
// a Gaussian cloud with outliers, and columns shaped like declaration
// features (log values, codes with few levels, a rate, correlated columns).
func TestAgainstSklearn(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: runs scikit-learn")
	}
	python := testenv.Python(t, "sklearn", "numpy")
	r := rand.New(rand.NewPCG(7, 8))
	type set struct {
		name string
		n, f int
		x    []float64
	}
	cloud := set{name: "cloud", n: 3000, f: 3}
	for i := range cloud.n {
		for j := 0; j < cloud.f; j++ {
			v := r.NormFloat64()
			if i >= cloud.n-30 {
				v = 5 + 2*r.Float64()
			}
			cloud.x = append(cloud.x, v)
		}
	}
	decl := set{name: "declaration-like", n: 4000, f: 6}
	for range decl.n {
		logValue := 8 + 1.5*r.NormFloat64()
		logMass := logValue - 2 + 0.5*r.NormFloat64()
		code := float64(r.IntN(12))
		rate := 0.05
		if r.Float64() < 0.1 {
			rate = 0.3 + 0.2*r.Float64()
		}
		count := math.Floor(math.Exp(3 * r.Float64()))
		decl.x = append(decl.x, logValue, logMass, code, rate, count, logValue-logMass)
	}
	const trees = 300
	for _, s := range []set{cloud, decl} {
		sk := sklearnScores(t, python, s.x, s.n, s.f, trees, 256, []int{1, 2})
		cfg := Config{Trees: trees, Sample: 256, Seed: 5}
		ours := make([]float64, s.n)
		Fit(s.x, s.n, s.f, cfg).Score(s.x, s.n, ours)
		noise := spearman(sk[0], sk[1])
		got := spearman(ours, sk[0])
		mad := 0.0
		for i := range ours {
			mad += math.Abs(ours[i] - sk[0][i])
		}
		mad /= float64(s.n)
		t.Logf("%s: rank correlation with scikit-learn %.4f (scikit-learn with itself, another seed: %.4f); mean |score difference| %.4f", s.name, got, noise, mad)
		if got < noise-0.01 {
			t.Errorf("%s: rank correlation with scikit-learn %.4f, below its own seed-to-seed %.4f less 0.01", s.name, got, noise)
		}
		if mad > 0.01 {
			t.Errorf("%s: scores differ from scikit-learn's by %.4f on average, want <= 0.01", s.name, mad)
		}
	}
}
