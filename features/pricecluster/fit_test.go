package pricecluster

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/internal/testenv"
	"risklane/sink"
)

// planted is a fixture of declarations with planted undervaluation: per HS6
// group a log-normal unit price (its own median and spread), log-normal
// masses, and a share of rows whose declared value is cut to 15-50% of the
// true value.
type planted struct {
	hs6              []int32
	value, mass, qty []float64
	under            []bool
}

func plant(seed uint64, groups, meanRows int, rate float64) planted {
	rng := rand.New(rand.NewPCG(seed, 77))
	var p planted
	for g := range groups {
		code := int32(100000 + rng.IntN(899999))
		if g%10 == 0 && g > 0 {
			// Some groups share an HS4 heading with the previous one.
			code = p.hs6[len(p.hs6)-1]/100*100 + int32(rng.IntN(100))
		}
		mu := rng.Float64()*8 - 1
		sigma := 0.15 + rng.Float64()*0.45
		n := 5 + rng.IntN(2*meanRows)
		for range n {
			mass := math.Exp(rng.NormFloat64()*1.2 + 4)
			value := mass * math.Exp(mu+sigma*rng.NormFloat64())
			u := rng.Float64() < rate
			if u {
				value *= 0.15 + 0.35*rng.Float64()
			}
			p.hs6 = append(p.hs6, code)
			p.value = append(p.value, value)
			p.mass = append(p.mass, mass)
			p.qty = append(p.qty, math.Round(mass/3)+1)
			p.under = append(p.under, u)
		}
	}
	return p
}

// precisionOfLow returns the precision and recall of the low-cluster flag
// for the planted undervaluation.
func precisionOfLow(a *Assignment, under []bool) (precision, recall float64, flagged int) {
	var hits, planted int
	for i, u := range under {
		if u {
			planted++
		}
		if a.Low[i] == 1 {
			flagged++
			if u {
				hits++
			}
		}
	}
	return float64(hits) / float64(flagged), float64(hits) / float64(planted), flagged
}

func TestLowClusterFindsPlantedUndervaluation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		groups int
	}{
		{"log unit value", Config{Seed: 1}, 300},
		// Three-dimensional Lloyd and the sampled silhouette cost more: fewer
		// groups keep the test quick.
		{"value and mass", Config{Seed: 1, ValueMass: true}, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const rate = 0.05
			p := plant(5, tc.groups, 300, rate)
			m, err := Fit(p.hs6, p.value, p.mass, p.qty, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var a Assignment
			if err := m.Apply(p.hs6, p.value, p.mass, p.qty, &a); err != nil {
				t.Fatal(err)
			}
			prec, rec, flagged := precisionOfLow(&a, p.under)
			t.Logf("%d rows, undervaluation rate %.3f: low flag on %d rows, precision %.3f, recall %.3f", len(p.hs6), rate, flagged, prec, rec)
			if prec < 2*rate {
				t.Errorf("precision %.3f of the low-cluster flag is below twice the undervaluation rate %.3f", prec, rate)
			}
			if rec < 0.2 {
				t.Errorf("recall %.3f: the flag finds almost none of the planted undervaluation", rec)
			}
		})
	}
}

// TestGroupsAgainstScikitLearn refits a few groups' points with
// scikit-learn: at the k that Fit chose, the inertia (sum of size*spread^2)
// must be within 1% of scikit-learn's, and scikit-learn's silhouette at that
// k must be the best of k = 2..5 (within 0.01, for near-ties).
func TestGroupsAgainstScikitLearn(t *testing.T) {
	py := testenv.Python(t, "sklearn", "numpy")
	p := plant(11, 6, 400, 0.08)
	m, err := Fit(p.hs6, p.value, p.mass, p.qty, Config{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	var groups []*Group
	for i := range m.Groups {
		g := &m.Groups[i]
		if g.Level != LevelHS6 {
			continue
		}
		var b strings.Builder
		for r := range p.hs6 {
			if p.hs6[r] == g.Code {
				lu, _ := logUnitValue(p.value[r], p.mass[r], p.qty[r])
				fmt.Fprintln(&b, strconv.FormatFloat(lu, 'g', -1, 64))
			}
		}
		f := filepath.Join(dir, fmt.Sprintf("g%d.csv", i))
		if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		groups = append(groups, g)
	}
	script := `
import sys, numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
for f in sys.argv[1:]:
    x = np.loadtxt(f, ndmin=2)
    out = []
    for k in range(2, 6):
        km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
        out += [km.inertia_, silhouette_score(x, km.labels_)]
    print(" ".join(repr(v) for v in out))
`
	out, err := exec.Command(py, append([]string{"-c", script}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(groups) {
		t.Fatalf("python printed %d lines for %d groups:\n%s", len(lines), len(groups), out)
	}
	for i, g := range groups {
		var inertia, sil [6]float64
		f := strings.Fields(lines[i])
		for k := 2; k <= 5; k++ {
			inertia[k], _ = strconv.ParseFloat(f[2*(k-2)], 64)
			sil[k], _ = strconv.ParseFloat(f[2*(k-2)+1], 64)
		}
		var ours float64
		for c := range g.K {
			ours += float64(g.Sizes[c]) * g.Spreads[c] * g.Spreads[c]
		}
		bestSil := math.Inf(-1)
		for k := 2; k <= 5; k++ {
			bestSil = max(bestSil, sil[k])
		}
		t.Logf("group %s: k %d, inertia %.6g (scikit-learn %.6g), silhouette %.4f (scikit-learn %.4f, best %.4f)",
			g.Name(), g.K, ours, inertia[g.K], g.Silhouette, sil[g.K], bestSil)
		if math.Abs(ours-inertia[g.K]) > 0.01*inertia[g.K] {
			t.Errorf("group %s k %d: inertia %v, scikit-learn %v", g.Name(), g.K, ours, inertia[g.K])
		}
		if sil[g.K] < bestSil-0.01 {
			t.Errorf("group %s: chose k %d with scikit-learn silhouette %v, but another k reaches %v", g.Name(), g.K, sil[g.K], bestSil)
		}
	}
}

func TestEdgeCases(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	var hs6 []int32
	var value, mass, qty []float64
	add := func(code int32, n int, v, m, q float64) {
		for range n {
			hs6 = append(hs6, code)
			value = append(value, v)
			mass = append(mass, m)
			qty = append(qty, q)
		}
	}
	add(111111, 1, 100, 2, 1)        // one row: uses HS4 1111 or global
	add(222222, 50, 500, 5, 1)       // identical values: k = 1
	add(333333, 40, 80, 0, 4)        // zero mass: per unit
	add(333333, 5, 80, nan, 2)       // missing mass: per unit
	add(444444, 3, 10, nan, nan)     // no mass, no quantity: no unit value
	add(444444, 2, 0, 1, 1)          // zero value: no unit value
	add(444444, 2, nan, 1, 1)        // missing value
	add(444444, 2, inf, 1, 1)        // infinite value
	add(555555, 60, 1000, 10, 1)     // a normal group ...
	add(555555, 1, 1e300, 1e-300, 1) // ... with a huge outlier
	add(555555, 1, 5e-324, 1e300, 1) // ... and a tiny one
	add(NoHS6, 3, 50, 1, 1)          // no HS code
	add(666600, 10, 10, 1, 1)        // two prices in one HS6, well
	add(666600, 60, 1000, 1, 1)      // separated, the cheap one rarer
	for i := range 30 {
		add(777700+int32(i), 1, 10+float64(i), 1, 1) // 30 one-row HS6 groups forming HS4 7777
	}
	for _, cfg := range []Config{{}, {ValueMass: true}} {
		t.Run(fmt.Sprint("value_mass=", cfg.ValueMass), func(t *testing.T) {
			m, err := Fit(hs6, value, mass, qty, cfg)
			if err != nil {
				t.Fatal(err)
			}
			// JSON refuses NaN and Inf, so a model that saves is all finite.
			var buf bytes.Buffer
			if err := m.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			var a Assignment
			if err := m.Apply(hs6, value, mass, qty, &a); err != nil {
				t.Fatal(err)
			}
			for i := range hs6 {
				_, basis := logUnitValue(value[i], mass[i], qty[i])
				if basis == NoBasis {
					if a.Group[i] != -1 || a.Rank[i] != -1 || a.Low[i] != -1 || !math.IsNaN(a.Pctl[i]) || !math.IsNaN(a.LogDist[i]) {
						t.Errorf("row %d has no unit value but got group %d rank %d", i, a.Group[i], a.Rank[i])
					}
					continue
				}
				if a.Group[i] < 0 || math.IsNaN(a.LogDist[i]) || math.IsNaN(a.Pctl[i]) || a.Pctl[i] < 0 || a.Pctl[i] > 100 {
					t.Errorf("row %d (hs6 %d value %v mass %v): group %d dist %v pctl %v", i, hs6[i], value[i], mass[i], a.Group[i], a.LogDist[i], a.Pctl[i])
					continue
				}
				g := &m.Groups[a.Group[i]]
				if g.Basis != basis {
					t.Errorf("row %d basis %s assigned to a %s group", i, basis, g.Basis)
				}
			}
			group := func(row int) *Group { return &m.Groups[a.Group[row]] }
			if g := group(0); g.Level != LevelAll {
				t.Errorf("the one-row group went to %s %s, want the global group (HS4 1111 has one row)", g.Level, g.Name())
			}
			if g := group(1); g.Level != LevelHS6 || g.K != 1 || a.Pctl[1] != 50 || a.LogDist[1] != 0 {
				t.Errorf("identical values: group %s k %d pctl %v dist %v; want its own group, k 1, percentile 50, distance 0", g.Name(), g.K, a.Pctl[1], a.LogDist[1])
			}
			if g := group(51); g.Basis != PerUnit || g.Code != 333333 || g.N != 45 {
				t.Errorf("zero and missing mass: group %s per %s with %d rows, want 333333 per unit with 45", g.Name(), g.Basis, g.N)
			}
			out := 51 + 45 + 9 + 60
			if g := group(out); g.Code != 555555 || a.Rank[out] != int8(g.K-1) || a.Pctl[out] != 100 {
				t.Errorf("huge outlier: group %s rank %d of %d pctl %v", g.Name(), a.Rank[out], g.K, a.Pctl[out])
			}
			if a.Rank[out+1] != 0 || a.Low[out+1] != 1 || a.Pctl[out+1] != 0 {
				t.Errorf("tiny outlier: rank %d low %d pctl %v; want the cheapest, low cluster, percentile 0", a.Rank[out+1], a.Low[out+1], a.Pctl[out+1])
			}
			if g := group(out + 2); g.Level != LevelAll {
				t.Errorf("a row without HS code went to %s", g.Level)
			}
			two := out + 5
			if g := group(two); g.K != 2 || g.NumLow != 1 || a.Low[two] != 1 || a.Low[two+10] != 0 {
				t.Errorf("two prices: k %d, %d low, low flags %d %d; want k 2, the cheap cluster low", g.K, g.NumLow, a.Low[two], a.Low[two+10])
			}
			if g := group(two + 70); g.Level != LevelHS4 || g.Name() != "7777" || g.N != 30 {
				t.Errorf("one-row HS6 groups went to %s %s (%d rows), want HS4 7777 with 30", g.Level, g.Name(), g.N)
			}
		})
	}
}

func TestApplyFallbackForUnseenCodes(t *testing.T) {
	p := plant(2, 20, 100, 0)
	m, err := Fit(p.hs6, p.value, p.mass, p.qty, Config{})
	if err != nil {
		t.Fatal(err)
	}
	known := p.hs6[0]
	unseenSameHS4 := known/100*100 + (known%100+1)%100
	for p.hs6[0] == unseenSameHS4 {
		unseenSameHS4++
	}
	var a Assignment
	err = m.Apply([]int32{known, unseenSameHS4, 999999, NoHS6, known}, []float64{10, 10, 10, 10, 10}, []float64{1, 1, 1, 1, 0}, nil, &a)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"hs6 " + fmt.Sprintf("%06d", known), "hs4 " + fmt.Sprintf("%04d", known/100), "all all", "all all", ""}
	for i, w := range want {
		got := ""
		if a.Group[i] >= 0 {
			g := &m.Groups[a.Group[i]]
			got = g.Level.String() + " " + g.Name()
		}
		if got != w {
			t.Errorf("row %d: group %q, want %q", i, got, w)
		}
	}
}

func TestFitDeterministic(t *testing.T) {
	p := plant(3, 80, 200, 0.05)
	var out []string
	for _, cfg := range []Config{{Seed: 9, Workers: 1}, {Seed: 9, Workers: 2}, {Seed: 9, Workers: 7}} {
		m, err := Fit(p.hs6, p.value, p.mass, p.qty, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := m.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.String())
	}
	if out[0] != out[1] || out[0] != out[2] {
		t.Error("the fitted model depends on the number of workers")
	}
}

func TestModelJSONRoundTrip(t *testing.T) {
	p := plant(4, 30, 200, 0.05)
	for _, cfg := range []Config{{Seed: 1}, {Seed: 1, ValueMass: true}} {
		m, err := Fit(p.hs6, p.value, p.mass, p.qty, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := m.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		back, err := ReadModel(&b, "model.json")
		if err != nil {
			t.Fatal(err)
		}
		var a1, a2 Assignment
		if err := m.Apply(p.hs6, p.value, p.mass, p.qty, &a1); err != nil {
			t.Fatal(err)
		}
		if err := back.Apply(p.hs6, p.value, p.mass, p.qty, &a2); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(a1) != fmt.Sprint(a2) {
			t.Errorf("value_mass=%v: the reloaded model assigns differently", cfg.ValueMass)
		}
	}
}

func TestReadModelRejects(t *testing.T) {
	p := plant(4, 3, 60, 0.05)
	m, err := Fit(p.hs6, p.value, p.mass, p.qty, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := m.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	good := b.String()
	for _, tc := range []struct {
		name, old, new, msg string
	}{
		{"version", `"version":1`, `"version":2`, "version 2"},
		{"dims", `"dims":1`, `"dims":3`, "3 dimensions"},
		{"level", `"level":"hs6"`, `"level":"hs8"`, "unknown group level"},
		{"basis", `"basis":"kg"`, `"basis":"lb"`, "unknown unit-value basis"},
		{"code", `"level":"hs4","basis":"kg","code":`, `"level":"hs4","basis":"kg","code":99999`, "out of range"},
		{"k", `"k":`, `"k":7`, "k = 7"},
		{"quantiles", `"log_uv_quantiles":[`, `"log_uv_quantiles":[1,`, "22 quantiles"},
		{"unknown field", `"version":1`, `"version":1,"extra":0`, "unknown field"},
		{"num_low", `"num_low":`, `"num_low":9`, "num_low 9"},
		{"truncated", `}]}`, `}`, "not a price-cluster model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.old, tc.new, 1)
			if bad == good {
				t.Fatalf("%q not in the model", tc.old)
			}
			_, err := ReadModel(strings.NewReader(bad), "m.json")
			if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "m.json: ") {
				t.Errorf("error %v, want one naming m.json and mentioning %q", err, tc.msg)
			}
		})
	}
}

func TestFitErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hs6   []int32
		value []float64
		mass  []float64
		cfg   Config
		msg   string
	}{
		{"value length", []int32{1, 2}, []float64{1}, nil, Config{}, "2 HS6 codes but 1 value"},
		{"mass length", []int32{1}, []float64{1}, []float64{1, 2}, Config{}, "2 mass"},
		{"code", []int32{1234567}, []float64{1}, nil, Config{}, "row 0: HS6 code 1234567"},
		{"k order", nil, nil, nil, Config{KMin: 4, KMax: 3}, "k-max 3 is below k-min 4"},
		{"k too big", nil, nil, nil, Config{KMax: 50}, "k-max 50"},
		{"gap", nil, nil, nil, Config{LowMinGap: math.Inf(1)}, "must be finite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Fit(tc.hs6, tc.value, tc.mass, nil, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one mentioning %q", err, tc.msg)
			}
		})
	}
}

func TestTables(t *testing.T) {
	p := plant(8, 10, 200, 0.1)
	m, err := Fit(p.hs6, p.value, p.mass, p.qty, Config{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	groups := m.GroupTable(mem)
	defer groups.Release()
	var clusters int
	for _, g := range m.Groups {
		clusters += g.K
	}
	if int(groups.NumRows()) != clusters {
		t.Errorf("group table has %d rows, want one per cluster: %d", groups.NumRows(), clusters)
	}
	ref := m.ReferencePrices(mem)
	defer ref.Release()
	dir := t.TempDir()
	path := filepath.Join(dir, "prices.csv")
	if err := sink.WriteTable(path, ref); err != nil {
		t.Fatal(err)
	}
	if err := sink.WriteTable(filepath.Join(dir, "groups.parquet"), groups); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if lines[0] != "hs6,basis,n,median,p10,p25,p75,p90,low_threshold" {
		t.Errorf("header %q", lines[0])
	}
	// Check the first HS6 group's median against the rows directly.
	g := &m.Groups[0]
	var uv []float64
	for i := range p.hs6 {
		if p.hs6[i] == g.Code {
			uv = append(uv, p.value[i]/p.mass[i])
		}
	}
	sortFloats(uv)
	med := uv[len(uv)/2]
	if len(uv)%2 == 0 {
		med = (uv[len(uv)/2-1] + med) / 2
	}
	f := strings.Split(lines[1], ",")
	got, _ := strconv.ParseFloat(f[3], 64)
	if f[0] != g.Name() || f[2] != strconv.Itoa(len(uv)) || math.Abs(got-med) > 1e-5*med {
		t.Errorf("first row %q; want hs6 %s, n %d, median %.6g", lines[1], g.Name(), len(uv), med)
	}
}
