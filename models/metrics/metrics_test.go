package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"risklane/internal/testenv"
)

const eps = 1e-12

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= eps
}

// The worked example: ten rows, one of them unlabelled.
//
//	row    0    1    2    3    4    5    6    7    8    9
//	score 0.9  0.8  0.8  0.7  0.6  0.5  0.4  0.3  0.2  0.1
//	label  1    0    1   -1    1    0    0    1    0    0
//	rev  100    0   50  999   30    0    0   20    0    0
//
// Row 3 is left out: N = 9, illicit = 4 (rows 0 2 4 7), clean = 5, total
// revenue = 100+50+30+20 = 200 (row 3's 999 does not count). Rows 1 and 2 tie
// at 0.8 and keep input order, so the ranking is 0 1 2 4 5 6 7 8 9 with labels
// 1 0 1 1 0 0 1 0 0.
var (
	exScores  = []float64{0.9, 0.8, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1}
	exLabels  = []int8{1, 0, 1, -1, 1, 0, 0, 1, 0, 0}
	exRevenue = []float64{100, 0, 50, 999, 30, 0, 0, 20, 0, 0}
)

func TestAtRateWorkedExample(t *testing.T) {
	for _, tc := range []struct {
		rate                       float64
		k, hits                    int
		precision, recall, revenue float64
	}{
		// k = max(1, round(9*1/100 = 0.09) = 0) = 1: row 0.
		{1, 1, 1, 1, 0.25, 100.0 / 200},
		// k = round(0.9) = 1.
		{10, 1, 1, 1, 0.25, 0.5},
		// k = round(1.8) = 2: rows 0 1; row 2 loses the tie to row 1.
		{20, 2, 1, 0.5, 0.25, 0.5},
		// k = round(4.5) = 5 (halves round away from zero): rows 0 1 2 4 5,
		// illicit 0 2 4, revenue 100+0+50+30+0 = 180.
		{50, 5, 3, 3.0 / 5, 3.0 / 4, 180.0 / 200},
		// k = 9: everything.
		{100, 9, 4, 4.0 / 9, 1, 1},
	} {
		t.Run(fmt.Sprint(tc.rate), func(t *testing.T) {
			got, err := AtRate(exScores, exLabels, exRevenue, tc.rate)
			if err != nil {
				t.Fatal(err)
			}
			want := AtRateResult{tc.rate, tc.k, tc.hits, tc.precision, tc.recall, tc.revenue}
			if got.K != want.K || got.Hits != want.Hits || !near(got.Precision, want.Precision) ||
				!near(got.Recall, want.Recall) || !near(got.Revenue, want.Revenue) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestEvaluateWorkedExample(t *testing.T) {
	rep, err := Evaluate(exScores, exLabels, exRevenue, nil, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// AUC: 4 illicit x 5 clean = 20 pairs. Row 0 (0.9) beats all 5 clean rows;
	// row 2 (0.8) beats 5 6 8 9 and ties row 1: 4.5; row 4 (0.6) beats 5 6 8 9:
	// 4; row 7 (0.3) beats 8 9: 2. AUC = (5+4.5+4+2)/20 = 0.775.
	//
	// Threshold 0.5 predicts rows 0 1 2 4 5: TP 3 (0 2 4), FP 2 (1 5), FN 1
	// (7). Precision 3/5, recall 3/4, F1 = 2*3/(2*3+2+1) = 6/9.
	want := Report{Rows: 10, N: 9, Illicit: 4, Unlabelled: 1, Revenue: 200, AUC: 0.775,
		Threshold: 0.5, Precision: 0.6, Recall: 0.75, F1: 6.0 / 9}
	if rep.Rows != want.Rows || rep.N != want.N || rep.Illicit != want.Illicit || rep.Unlabelled != want.Unlabelled ||
		!near(rep.Revenue, want.Revenue) || !near(rep.AUC, want.AUC) || !near(rep.Precision, want.Precision) ||
		!near(rep.Recall, want.Recall) || !near(rep.F1, want.F1) {
		t.Errorf("got %+v\nwant %+v", rep, want)
	}
	// Default rates 1 2 5 10 of N = 9 all round to k = 1 (0.09, 0.18, 0.45, 0.9).
	if len(rep.AtRates) != 4 {
		t.Fatalf("got %d rates, want the 4 defaults", len(rep.AtRates))
	}
	for i, a := range rep.AtRates {
		if a.Rate != DefaultRates[i] || a.K != 1 || a.Hits != 1 {
			t.Errorf("rate %d: got %+v, want rate %v k 1 hits 1", i, a, DefaultRates[i])
		}
	}
	if a, err := AUC(exScores, exLabels); err != nil || !near(a, 0.775) {
		t.Errorf("AUC = %v, %v; want 0.775", a, err)
	}
}

func TestEdgeCases(t *testing.T) {
	nan := math.NaN()
	t.Run("all tied", func(t *testing.T) {
		// Every score equal: the ranking is input order, so the top 2 of 4
		// are rows 0 (clean) and 1 (illicit): precision 1/2. Every pair ties:
		// AUC = 0.5.
		s := []float64{0.5, 0.5, 0.5, 0.5}
		l := []int8{0, 1, 1, 0}
		rep, err := Evaluate(s, l, nil, []float64{50}, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		if a := rep.AtRates[0]; a.K != 2 || a.Hits != 1 || !math.IsNaN(a.Revenue) {
			t.Errorf("got %+v, want k 2, hits 1, revenue NaN (no revenue column)", a)
		}
		if rep.AUC != 0.5 {
			t.Errorf("AUC %v, want 0.5", rep.AUC)
		}
	})
	t.Run("one class", func(t *testing.T) {
		s := []float64{0.1, 0.9, 0.3}
		l := []int8{0, 0, -1}
		rep, err := Evaluate(s, l, []float64{0, 0, 5}, nil, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		// No illicit row: recall and AUC undefined; threshold 0.5 predicts
		// row 1 (FP 1), so precision 0/1 = 0 and F1 = 0/(0+1+0) = 0. All
		// labelled revenue is 0, so Revenue@n% is undefined.
		if !math.IsNaN(rep.AUC) || !math.IsNaN(rep.Recall) || rep.Precision != 0 || rep.F1 != 0 ||
			!math.IsNaN(rep.AtRates[0].Recall) || !math.IsNaN(rep.AtRates[0].Revenue) {
			t.Errorf("got %+v", rep)
		}
		if a, err := AUC(s, l); !errors.Is(err, ErrOneClass) || !math.IsNaN(a) {
			t.Errorf("AUC = %v, %v; want NaN, ErrOneClass", a, err)
		}
	})
	t.Run("NaN scores rank last", func(t *testing.T) {
		// Ranking: row 1 (0.2), row 2 (0.1), row 0 (NaN). k at 34% of 3 =
		// round(1.02) = 1: row 1, clean. The illicit row is below both clean
		// rows: AUC 0.
		s := []float64{nan, 0.2, 0.1}
		l := []int8{1, 0, 0}
		rep, err := Evaluate(s, l, nil, []float64{34}, 0.15)
		if err != nil {
			t.Fatal(err)
		}
		if rep.AUC != 0 || rep.AtRates[0].Hits != 0 || rep.F1 != 0 {
			t.Errorf("got %+v", rep)
		}
	})
	t.Run("NaN revenue counts as zero", func(t *testing.T) {
		rep, err := Evaluate([]float64{3, 2, 1}, []int8{1, 1, 0}, []float64{nan, 10, 30}, []float64{67}, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		// k = round(2.01) = 2: rows 0 1, revenue 0 + 10 of 40.
		if a := rep.AtRates[0]; a.K != 2 || !near(a.Revenue, 0.25) || !near(rep.Revenue, 40) {
			t.Errorf("got %+v total %v", a, rep.Revenue)
		}
	})
	for _, tc := range []struct {
		name   string
		s      []float64
		l      []int8
		r      []float64
		rates  []float64
		target error
		msg    string
	}{
		{"no labels", []float64{1, 2}, []int8{-1, -1}, nil, nil, ErrNoLabels, ""},
		{"empty", nil, nil, nil, nil, ErrNoLabels, ""},
		{"bad label", []float64{1, 2}, []int8{0, 2}, nil, nil, nil, "row 1: label 2"},
		{"label length", []float64{1, 2}, []int8{0}, nil, nil, nil, "2 scores but 1 labels"},
		{"revenue length", []float64{1, 2}, []int8{0, 1}, []float64{1}, nil, nil, "1 revenue"},
		{"zero rate", []float64{1, 2}, []int8{0, 1}, nil, []float64{0}, nil, "rate 0%"},
		{"rate over 100", []float64{1, 2}, []int8{0, 1}, nil, []float64{101}, nil, "rate 101%"},
		{"NaN rate", []float64{1, 2}, []int8{0, 1}, nil, []float64{nan}, nil, "rate NaN%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Evaluate(tc.s, tc.l, tc.r, tc.rates, 0.5)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error %v, want %v", err, tc.target)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

func TestReportFormats(t *testing.T) {
	rep, err := Evaluate([]float64{0.1, 0.9, 0.3}, []int8{0, 0, -1}, nil, []float64{50}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	const want = `rows 3: 2 labelled (0 illicit), 1 unlabelled; AUC n/a
threshold 0.5: precision 0.0000  recall n/a  F1 0.0000
rate  k  illicit  precision  recall  revenue
50%   1  0        0.0000     n/a     n/a
`
	if got := rep.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"rows":3,"labelled":2,"illicit":0,"unlabelled":1,"total_revenue":null,"auc":null,"threshold":0.5,"precision":0,"recall":null,"f1":0,"at_rates":[{"rate_percent":50,"k":1,"illicit":0,"precision":0,"recall":null,"revenue":null}]}`
	if string(b) != wantJSON {
		t.Errorf("JSON:\n%s\nwant:\n%s", b, wantJSON)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.String() != rep.String() {
		t.Errorf("JSON round trip changed the report:\n%s", back)
	}
}

// pairwiseAUC is the O(n^2) definition: the share of (illicit, clean) pairs
// where the illicit row scores higher, ties counting one half.
func pairwiseAUC(s []float64, l []int8) float64 {
	var u, pairs float64
	for i := range s {
		if l[i] != Illicit {
			continue
		}
		for j := range s {
			if l[j] != Clean {
				continue
			}
			pairs++
			a, b := rankKey(s[i]), rankKey(s[j])
			switch {
			case a > b:
				u++
			case a == b:
				u += 0.5
			}
		}
	}
	return u / pairs
}

// stableAtRate is a second implementation of AtRate: filter, stable sort.
func stableAtRate(s []float64, l []int8, r []float64, rate float64) (hits int, rev float64) {
	var idx []int
	for i := range l {
		if l[i] != Unknown {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return rankKey(s[idx[a]]) > rankKey(s[idx[b]]) })
	k := int(math.Floor(float64(len(idx))*rate/100 + 0.5))
	if k < 1 {
		k = 1
	}
	for _, i := range idx[:k] {
		if l[i] == Illicit {
			hits++
		}
		rev += r[i]
	}
	return hits, rev
}

// randomData draws n rows whose scores are rounded to two decimals (many
// ties), illicit more likely at high scores, about a tenth unlabelled.
func randomData(rng *rand.Rand, n int) ([]float64, []int8, []float64) {
	s := make([]float64, n)
	l := make([]int8, n)
	r := make([]float64, n)
	for i := range s {
		s[i] = math.Round(rng.Float64()*100) / 100
		switch {
		case rng.Float64() < 0.1:
			l[i] = Unknown
		case rng.Float64() < 0.1+0.5*s[i]:
			l[i] = Illicit
			r[i] = math.Round(rng.ExpFloat64() * 1000)
		}
	}
	return s, l, r
}

func TestAgainstSecondImplementation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 1 + rng.IntN(300)
		s, l, r := randomData(rng, n)
		if trial%7 == 0 {
			s[rng.IntN(n)] = math.NaN()
		}
		rep, err := Evaluate(s, l, r, []float64{1, 2, 5, 10, 33.3, 50}, 0.5)
		if errors.Is(err, ErrNoLabels) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := pairwiseAUC(s, l); !near(rep.AUC, want) {
			t.Errorf("trial %d: AUC %v, pairwise %v", trial, rep.AUC, want)
		}
		for _, a := range rep.AtRates {
			hits, rev := stableAtRate(s, l, r, a.Rate)
			if a.Hits != hits || !near(a.Revenue, rev/rep.Revenue) {
				t.Errorf("trial %d rate %v: hits %d revenue %v, stable sort gives %d %v", trial, a.Rate, a.Hits, a.Revenue, hits, rev/rep.Revenue)
			}
		}
	}
}

// TestAgainstScikitLearn compares AUC with roc_auc_score and F1 with f1_score
// on a few thousand rows with heavy ties.
func TestAgainstScikitLearn(t *testing.T) {
	py := testenv.Python(t, "sklearn", "numpy")
	rng := rand.New(rand.NewPCG(7, 11))
	s, l, _ := randomData(rng, 5000)
	var b strings.Builder
	var ls []float64
	var ll []int8
	for i := range s {
		if l[i] == Unknown {
			continue
		}
		ls = append(ls, s[i])
		ll = append(ll, l[i])
		fmt.Fprintf(&b, "%s,%d\n", strconv.FormatFloat(s[i], 'g', -1, 64), l[i])
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "scores.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
from sklearn.metrics import roc_auc_score, f1_score
d = np.loadtxt(sys.argv[1], delimiter=",")
print(repr(roc_auc_score(d[:, 1], d[:, 0])))
print(repr(f1_score(d[:, 1], (d[:, 0] >= 0.5).astype(int))))
`
	out, err := exec.Command(py, "-c", script, data).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 {
		t.Fatalf("python printed %q", out)
	}
	wantAUC, _ := strconv.ParseFloat(fields[0], 64)
	wantF1, _ := strconv.ParseFloat(fields[1], 64)
	// Unlabelled rows must not matter: evaluate with them in.
	rep, err := Evaluate(s, l, nil, nil, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(rep.AUC-wantAUC) > 1e-12 {
		t.Errorf("AUC %v, scikit-learn %v", rep.AUC, wantAUC)
	}
	if math.Abs(rep.F1-wantF1) > 1e-12 {
		t.Errorf("F1 %v, scikit-learn %v", rep.F1, wantF1)
	}
	if a, _ := AUC(ls, ll); a != rep.AUC {
		t.Errorf("AUC without the unlabelled rows %v differs from %v", a, rep.AUC)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 1_000_000
	s, l, r := randomData(rng, n)
	for i := range s {
		s[i] += rng.Float64() * 1e-3
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Evaluate(s, l, r, nil, 0.5); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
