package stats

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"risklane/internal/testenv"
)

// Hand-worked: type 7 at p places the quantile at (n-1)p between order
// statistics.
func TestQuantileByHand(t *testing.T) {
	x := []float64{1, 2, 4, 8}
	for _, tc := range []struct{ p, want float64 }{
		{0, 1}, {1, 8}, {0.5, 3}, {0.25, 1.75}, {0.9, 6.8}, {1.0 / 3, 2},
	} {
		if got := Quantile(x, tc.p); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", x, tc.p, got, tc.want)
		}
	}
	if got := Quantile([]float64{5}, 0.3); got != 5 {
		t.Errorf("one value: %v", got)
	}
	if got := Median([]float64{1, 2, 4, 8}); got != 3 {
		t.Errorf("Median = %v, want 3", got)
	}
	if got := MedianOf([]float64{9, 1, 5}); got != 5 {
		t.Errorf("MedianOf = %v, want 5", got)
	}
	// |x - 3| = 2 1 1 5: median 1.5.
	if got := MAD([]float64{1, 2, 4, 8}, 3); got != 1.5 {
		t.Errorf("MAD = %v, want 1.5", got)
	}
	// An order statistic comes back exactly: 40 values, quantile 5 of 21 is
	// at position 39*5/20 = 9.75; quantile 20 at 39, the maximum.
	s := make([]float64, 40)
	for i := range s {
		s[i] = 0.1 * float64(i)
	}
	q := Quantiles(s, 21)
	if q[20] != s[39] || q[0] != s[0] || math.Abs(q[5]-0.975) > 1e-12 {
		t.Errorf("Quantiles: %v", q)
	}
}

// TestQuantilesAgainstNumpy checks Quantiles and Quantile against
// numpy.quantile (linear, its default).
func TestQuantilesAgainstNumpy(t *testing.T) {
	py := testenv.Python(t, "numpy")
	rng := rand.New(rand.NewPCG(1, 5))
	for _, n := range []int{1, 2, 7, 100, 1001} {
		x := make([]float64, n)
		var b strings.Builder
		for i := range x {
			x[i] = math.Round(rng.NormFloat64()*100) / 10
			fmt.Fprintln(&b, x[i])
		}
		f := filepath.Join(t.TempDir(), "x.txt")
		if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, "-c", `
import sys, numpy as np
x = np.loadtxt(sys.argv[1], ndmin=1)
print(" ".join(repr(v) for v in np.quantile(x, np.linspace(0, 1, 21))))
print(repr(np.median(x)), repr(np.percentile(x, 37)))`, f).CombinedOutput()
		if err != nil {
			t.Fatalf("python: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		slices.Sort(x)
		got := Quantiles(x, 21)
		for i, s := range strings.Fields(lines[0]) {
			want, _ := strconv.ParseFloat(s, 64)
			if math.Abs(got[i]-want) > 1e-9 {
				t.Errorf("n %d: quantile %d%% = %v, numpy %v", n, 5*i, got[i], want)
			}
		}
		ref := strings.Fields(lines[1])
		med, _ := strconv.ParseFloat(ref[0], 64)
		p37, _ := strconv.ParseFloat(ref[1], 64)
		if got := Median(x); math.Abs(got-med) > 1e-9 {
			t.Errorf("n %d: median %v, numpy %v", n, got, med)
		}
		if got := Quantile(x, 0.37); math.Abs(got-p37) > 1e-9 {
			t.Errorf("n %d: 37th percentile %v, numpy %v", n, got, p37)
		}
	}
}

// Hand-worked percentiles, among 6 quantiles (0, 20, ..., 100%) and 21.
func TestPercentile(t *testing.T) {
	q := []float64{0, 1, 2, 2, 2, 5} // at 0, 20, 40, 60, 80, 100%
	for _, tc := range []struct{ x, want float64 }{
		{-1, 0},
		{0, 0},
		{0.5, 10},
		{1, 20},
		{2, 60},                // equal to q[2..4]: middle of 40..80
		{2 + 1e-12, 60},        // within the tolerance
		{3.5, 80 + 20*1.5/3.0}, // between 2 and 5
		{5, 100},
		{7, 100},
	} {
		if got := Percentile(q, tc.x); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Percentile(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	lin := make([]float64, 21) // quantile i at value i: percentile = 5*value
	same := make([]float64, 21)
	step := make([]float64, 21) // 0 up to 50%, then 1
	for i := range lin {
		lin[i] = float64(i)
		same[i] = 3
		if i > 10 {
			step[i] = 1
		}
	}
	for _, tc := range []struct {
		q       []float64
		y, want float64
	}{
		{lin, -1, 0},
		{lin, 0, 0},
		{lin, 2.5, 12.5},
		{lin, 7, 35},
		{lin, 20, 100},
		{lin, 21, 100},
		{same, 3, 50},   // all 21 quantiles equal: the middle of 0..100
		{step, 0, 25},   // quantiles 0..10 equal 0: the middle of 0%..50%
		{step, 1, 77.5}, // quantiles 11..20 equal 1: the middle of 55%..100%
		{step, 0.5, 52.5},
	} {
		if got := Percentile(tc.q, tc.y); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tc.q, tc.y, got, tc.want)
		}
	}
}

// pairwiseAUC is the definition: the share of (positive, negative) pairs the
// scores order correctly, ties counting one half.
func pairwiseAUC(score []float64, pos []bool) float64 {
	var num, den float64
	for i := range score {
		for j := range score {
			if pos[i] && !pos[j] {
				den++
				switch {
				case score[i] > score[j]:
					num++
				case score[i] == score[j]:
					num += 0.5
				}
			}
		}
	}
	return num / den
}

func randomRanking(r *rand.Rand, trial int) ([]float64, []bool) {
	n := 1 + r.IntN(300)
	score, pos := make([]float64, n), make([]bool, n)
	for i := range score {
		score[i] = float64(r.IntN(1 + trial*3)) // many ties in early trials
		pos[i] = r.Float64() < 0.3+0.02*score[i]
	}
	return score, pos
}

func TestAUCPairwise(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := range 20 {
		score, pos := randomRanking(r, trial)
		got, want := AUC(score, pos), pairwiseAUC(score, pos)
		if math.IsNaN(want) != math.IsNaN(got) || math.Abs(got-want) > 1e-12 {
			t.Errorf("trial %d: AUC %v, pairwise %v", trial, got, want)
		}
		f32 := make([]float32, len(score))
		for i, s := range score {
			f32[i] = float32(s)
		}
		if g := AUC(f32, pos); g != got && !math.IsNaN(got) {
			t.Errorf("trial %d: float32 AUC %v, float64 %v", trial, g, got)
		}
	}
	// Hand-worked: positives at 3 and 1, negatives at 2, 1 and NaN (as
	// -Inf): pairs 3>2 3>1 3>NaN, 1<2 1=1 1>NaN: 4.5 of 6.
	got := AUC([]float64{3, 1, 2, 1, math.NaN()}, []bool{true, true, false, false, false})
	if got != 0.75 {
		t.Errorf("hand-worked AUC %v, want 0.75", got)
	}
	if got := AUC([]float64{1, 2}, []bool{true, true}); !math.IsNaN(got) {
		t.Errorf("one class: %v, want NaN", got)
	}
}

// WeightedAUC with integer weights is AUC of the rows repeated that many
// times (a row of weight 0 left out), and with unit weights AUC itself.
func TestWeightedAUCRepeats(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for trial := range 20 {
		score, pos := randomRanking(r, trial)
		w := make([]float64, len(score))
		ones := make([]float32, len(score))
		var rs []float64
		var rp []bool
		for i := range score {
			w[i], ones[i] = float64(r.IntN(4)), 1
			for range int(w[i]) {
				rs, rp = append(rs, score[i]), append(rp, pos[i])
			}
		}
		got, want := WeightedAUC(score, pos, w), AUC(rs, rp)
		if math.IsNaN(want) != math.IsNaN(got) || math.Abs(got-want) > 1e-12 {
			t.Errorf("trial %d: WeightedAUC %v, AUC of the repeated rows %v", trial, got, want)
		}
		if g, a := WeightedAUC(score, pos, ones), AUC(score, pos); math.Abs(g-a) > 1e-12 || math.IsNaN(g) != math.IsNaN(a) {
			t.Errorf("trial %d: unit weights %v, AUC %v", trial, g, a)
		}
	}
	// Hand-worked: positive 3 (weight 2), negatives 2 (weight 1) and 3
	// (weight 0.5): pairs 2x1 in order, 2x0.5 tied: (2 + 0.5) / 3.
	if got := WeightedAUC([]float64{3, 2, 3}, []bool{true, false, false}, []float64{2, 1, 0.5}); math.Abs(got-2.5/3) > 1e-15 {
		t.Errorf("hand-worked weighted AUC %v, want %v", got, 2.5/3)
	}
}

// TestAUCAgainstSklearn compares with scikit-learn's roc_auc_score.
func TestAUCAgainstSklearn(t *testing.T) {
	py := testenv.Python(t, "sklearn")
	r := rand.New(rand.NewPCG(9, 10))
	var b strings.Builder
	var want []float64
	var cases [][]float64
	var labels [][]bool
	for trial := range 10 {
		score, pos := randomRanking(r, trial+3)
		if !slices.Contains(pos, true) || !slices.Contains(pos, false) {
			continue
		}
		cases, labels = append(cases, score), append(labels, pos)
		for i := range score {
			y := 0
			if pos[i] {
				y = 1
			}
			fmt.Fprintf(&b, "%d %v %d\n", len(cases)-1, score[i], y)
		}
	}
	f := filepath.Join(t.TempDir(), "s.txt")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", `
import sys, numpy as np
from sklearn.metrics import roc_auc_score
d = np.loadtxt(sys.argv[1], ndmin=2)
for c in range(int(d[:, 0].max()) + 1):
    m = d[:, 0] == c
    print(repr(roc_auc_score(d[m, 2], d[m, 1])))`, f).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	for _, s := range strings.Fields(string(out)) {
		v, _ := strconv.ParseFloat(s, 64)
		want = append(want, v)
	}
	if len(want) != len(cases) {
		t.Fatalf("%d answers for %d cases", len(want), len(cases))
	}
	for c := range cases {
		if got := AUC(cases[c], labels[c]); math.Abs(got-want[c]) > 1e-12 {
			t.Errorf("case %d: AUC %v, sklearn %v", c, got, want[c])
		}
	}
}

// TestSearchFloatsLikeBinarySearch: Percentile's search gives
// slices.BinarySearch's index (cmp.Less's order, NaN first) on sorted
// slices with runs of ties, NaNs, ±Inf and ±0, for targets at, between and
// beyond the elements, NaN and ±Inf among them.
func TestSearchFloatsLikeBinarySearch(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for trial := range 3000 {
		n := r.IntN(25)
		q := make([]float64, n)
		for i := range q {
			switch r.IntN(12) {
			case 0:
				q[i] = math.NaN()
			case 1:
				q[i] = math.Inf(1 - 2*r.IntN(2))
			case 2:
				q[i] = math.Copysign(0, float64(1-2*r.IntN(2)))
			default:
				q[i] = float64(r.IntN(9)) - 4 + float64(r.IntN(3))*0.25
			}
		}
		slices.SortFunc(q, cmp.Compare[float64])
		targets := append(slices.Clone(q), math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1))
		for range 8 {
			targets = append(targets, r.Float64()*12-6)
		}
		for _, x := range targets {
			want, _ := slices.BinarySearch(q, x)
			if got := searchFloats(q, x); got != want {
				t.Fatalf("trial %d: searchFloats(%v, %v) = %d, slices.BinarySearch %d", trial, q, x, got, want)
			}
		}
	}
}
