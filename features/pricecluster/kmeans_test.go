package pricecluster

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"risklane/internal/testenv"
)

// skCase is one clustering problem for scikit-learn.
type skCase struct {
	x      []float64
	dim, k int
}

// skResult is scikit-learn's answer to an skCase.
type skResult struct {
	inertia, silhouette float64
	labels              []int32
}

// sklearnKMeans runs scikit-learn's KMeans (k-means++, 10 starts, Lloyd) and
// silhouette_score on every case in one Python process (its start-up costs
// more than the clustering).
func sklearnKMeans(t *testing.T, py string, cases []skCase) []skResult {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-c", `
import sys, numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
for path, k in zip(sys.argv[1::2], sys.argv[2::2]):
    x = np.loadtxt(path, delimiter=",", ndmin=2)
    km = KMeans(n_clusters=int(k), init="k-means++", n_init=10, algorithm="lloyd", random_state=0).fit(x)
    print(repr(km.inertia_), repr(silhouette_score(x, km.labels_)))
    print(" ".join(str(l) for l in km.labels_))
`}
	for i, c := range cases {
		var b strings.Builder
		for j := 0; j < len(c.x); j += c.dim {
			for d := range c.dim {
				if d > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.FormatFloat(c.x[j+d], 'g', -1, 64))
			}
			b.WriteByte('\n')
		}
		path := filepath.Join(dir, fmt.Sprintf("points%d.csv", i))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, path, strconv.Itoa(c.k))
	}
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2*len(cases) {
		t.Fatalf("python printed:\n%s", out)
	}
	res := make([]skResult, len(cases))
	for i := range cases {
		f := strings.Fields(lines[2*i])
		if len(f) != 2 {
			t.Fatalf("python printed %q", lines[2*i])
		}
		var err1, err2 error
		res[i].inertia, err1 = strconv.ParseFloat(f[0], 64)
		res[i].silhouette, err2 = strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("python printed %q", lines[2*i])
		}
		for _, s := range strings.Fields(lines[2*i+1]) {
			v, err := strconv.Atoi(s)
			if err != nil {
				t.Fatal(err)
			}
			res[i].labels = append(res[i].labels, int32(v))
		}
	}
	return res
}

// samePartition reports whether two labellings split the points the same
// way, up to a renaming of the clusters.
func samePartition(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	ab := map[int32]int32{}
	ba := map[int32]int32{}
	for i := range a {
		if v, ok := ab[a[i]]; ok && v != b[i] {
			return false
		}
		if v, ok := ba[b[i]]; ok && v != a[i] {
			return false
		}
		ab[a[i]], ba[b[i]] = b[i], a[i]
	}
	return true
}

// blobs draws n points around the given centres (dim values each) with
// normal noise of standard deviation sd.
func blobs(rng *rand.Rand, n, dim int, centres []float64, sd float64) []float64 {
	k := len(centres) / dim
	x := make([]float64, n*dim)
	for i := range n {
		c := rng.IntN(k)
		for d := range dim {
			x[i*dim+d] = centres[c*dim+d] + sd*rng.NormFloat64()
		}
	}
	return x
}

func TestKMeansAgainstScikitLearn(t *testing.T) {
	py := testenv.Python(t, "sklearn", "numpy")
	rng := rand.New(rand.NewPCG(3, 4))
	lognormalMix := make([]float64, 4000)
	for i := range lognormalMix {
		lognormalMix[i] = math.Log(math.Exp(rng.NormFloat64()*0.7+3) * (1 + 0.5*float64(rng.IntN(3))))
	}
	cases := []struct {
		name      string
		x         []float64
		dim, k    int
		separated bool
	}{
		{"1-D separated", blobs(rng, 3000, 1, []float64{0, 5, 12}, 0.5), 1, 3, true},
		{"1-D separated k5", blobs(rng, 2500, 1, []float64{-20, -8, 0, 9, 30}, 1), 1, 5, true},
		{"1-D overlapping", lognormalMix, 1, 4, false},
		{"1-D uniform", blobs(rng, 2000, 1, []float64{0}, 3), 1, 5, false},
		{"2-D separated", blobs(rng, 2000, 2, []float64{0, 0, 10, 0, 0, 10}, 1), 2, 3, true},
		{"3-D overlapping", blobs(rng, 2000, 3, []float64{0, 0, 0, 2, 1, 0, 0, 2, 1, 1, 1, 3}, 1), 3, 5, false},
	}
	var sk []skCase
	for _, tc := range cases {
		sk = append(sk, skCase{tc.x, tc.dim, tc.k})
	}
	skRes := sklearnKMeans(t, py, sk)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, wantLabels, wantSil := skRes[i].inertia, skRes[i].labels, skRes[i].silhouette
			check := func(path string, res KMeansResult) {
				t.Logf("%s: inertia %.8g, scikit-learn %.8g", path, res.Inertia, want)
				if rel := math.Abs(res.Inertia-want) / want; rel > 0.01 {
					t.Errorf("%s: inertia %.6g, scikit-learn %.6g (%.2f%% apart)", path, res.Inertia, want, 100*rel)
				}
				if got := inertiaOf(tc.x, tc.dim, res.Centres, res.Labels); math.Abs(got-res.Inertia) > 1e-9*want {
					t.Errorf("%s: reported inertia %v, recomputed %v", path, res.Inertia, got)
				}
				if tc.separated && !samePartition(res.Labels, wantLabels) {
					t.Errorf("%s: partition differs from scikit-learn's", path)
				}
				if tc.separated {
					if sil := silhouetteDist(pairDistances(tc.x, tc.dim, nil), len(res.Labels), tc.k, res.Labels); math.Abs(sil-wantSil) > 1e-9 {
						t.Errorf("%s: silhouette %v, scikit-learn %v", path, sil, wantSil)
					}
				}
			}
			res, err := KMeans(tc.x, tc.dim, tc.k, KMeansOptions{Restarts: 10, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			check("KMeans", res)
			// The general Lloyd path on the same points, also in one
			// dimension, where KMeans itself takes the sorted path.
			var s scratch
			gen, ok := s.bestOf(tc.x, tc.dim, tc.k, KMeansOptions{Restarts: 10, MaxIter: 300}, rand.New(rand.NewPCG(5, 6)))
			if !ok {
				t.Fatal("general path found too few distinct points")
			}
			check("general", gen)
		})
	}
}

// inertiaOf recomputes the inertia of a labelling from scratch.
func inertiaOf(x []float64, dim int, centres []float64, labels []int32) float64 {
	var s float64
	for i, l := range labels {
		s += sqDist(x[i*dim:(i+1)*dim], centres[int(l)*dim:(int(l)+1)*dim])
	}
	return s
}

// TestSilhouette1D checks the O(n) sorted silhouette against the O(n^2)
// definition on partitions with ties, singletons and empty clusters.
func TestSilhouette1D(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for trial := range 300 {
		n := 2 + rng.IntN(60)
		x := make([]float64, n)
		for i := range x {
			x[i] = math.Round(rng.NormFloat64()*4) / 2
		}
		sortFloats(x)
		k := 1 + rng.IntN(min(n, 6))
		b := make([]int, k+1)
		b[k] = n
		for j := 1; j < k; j++ {
			b[j] = b[j-1] + rng.IntN(n-b[j-1]+1)
		}
		// Ties must not straddle a bound: move each bound past equal values.
		for j := 1; j < k; j++ {
			for b[j] > 0 && b[j] < n && x[b[j]] == x[b[j]-1] {
				b[j]++
			}
			b[j] = max(b[j], b[j-1])
		}
		labels := make([]int32, n)
		for j := range k {
			for i := b[j]; i < b[j+1]; i++ {
				labels[i] = int32(j)
			}
		}
		var s scratch
		l := s.line(x)
		got := l.silhouette(b)
		want := silhouetteDist(pairDistances(x, 1, nil), n, k, labels)
		if math.Abs(got-want) > 1e-9 {
			t.Fatalf("trial %d: x %v bounds %v: silhouette %v, pairwise %v", trial, x, b, got, want)
		}
	}
}

func sortFloats(x []float64) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}

func TestKMeansErrors(t *testing.T) {
	for _, tc := range []struct {
		x      []float64
		dim, k int
		msg    string
	}{
		{[]float64{1, 2, 3}, 2, 1, "do not make points"},
		{[]float64{1, 2, 3}, 1, 4, "cannot make 4 clusters of 3"},
		{[]float64{1, 2, 3}, 1, 0, "cannot make 0 clusters"},
		{[]float64{1, math.NaN(), 3}, 1, 2, "point 1, dimension 0 is NaN"},
		{[]float64{1, 1, 1}, 1, 2, "fewer distinct"},
		{[]float64{1, 1, 1, 1}, 2, 2, "fewer distinct"},
	} {
		_, err := KMeans(tc.x, tc.dim, tc.k, KMeansOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("KMeans(%v, %d, %d): error %v, want one mentioning %q", tc.x, tc.dim, tc.k, err, tc.msg)
		}
	}
}

func TestKMeansDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := blobs(rng, 500, 2, []float64{0, 0, 1, 1, 2, 0}, 0.8)
	a, _ := KMeans(x, 2, 3, KMeansOptions{Seed: 42})
	b, _ := KMeans(x, 2, 3, KMeansOptions{Seed: 42})
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("the same seed gave different results")
	}
}
