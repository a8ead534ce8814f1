package simulate

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"risklane/datasets/synth"
	"risklane/ingest"
)

// TestLabelFrequencyKnownCase: Elkan and Noto's e1 on a case whose answer is
// known. Rows fall in 10 categories; categories 0-2 are all illicit, the
// rest all clean; a random 30% of the illicit rows are found (selected
// completely at random). The ideal PU classifier g (the share found in a
// row's category) then scores every illicit row about 0.3, so e1 must give
// c = 0.3 within sampling error, and g / c must give P(illicit | x): about 1
// in categories 0-2 and 0 elsewhere.
func TestLabelFrequencyKnownCase(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n, c = 20_000, 0.3
	cat := make([]int, n)
	found := make([]bool, n)
	var seen, hits [10]float64
	for i := range n {
		cat[i] = r.IntN(10)
		found[i] = cat[i] < 3 && r.Float64() < c
		seen[cat[i]]++
		if found[i] {
			hits[cat[i]]++
		}
	}
	g := make([]float64, n)
	for i := range n {
		g[i] = hits[cat[i]] / seen[cat[i]]
	}
	got, err := meanFound(g, found)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-c) > 0.015 {
		t.Errorf("e1 = %.4f, want %.2f", got, c)
	}
	for k := range 10 {
		p := hits[k] / seen[k] / got
		want := 0.0
		if k < 3 {
			want = 1
		}
		if math.Abs(p-want) > 0.06 {
			t.Errorf("category %d: g/c = %.3f, want %.0f", k, p, want)
		}
	}
	if _, err := meanFound(g, make([]bool, n)); err == nil {
		t.Error("e1 without any row found gave no error")
	}
}

// TestPULabels: the pu strategy trains on every history row, the frauds its
// inspections found (and the initial window's) as illicit and every other
// row as clean, so each training has all rows before its period labelled
// and as many frauds as labelled-only training would have.
func TestPULabels(t *testing.T) {
	gc := synth.DefaultConfig()
	gc.Rows = 20_000
	gc.End = time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	batches := generated(t, gc)
	defer ingest.Release(batches)
	spyPU, spyGBDT := &spy{}, &spy{}
	var rows [2][]Row
	for i, s := range []*spy{spyPU, spyGBDT} {
		cfg := Config{Start: time.Date(2024, 2, 5, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: 4, InitialDays: 28,
			Budget: Budget{0.1, 0.1}, RetrainEvery: 1, Seed: 1, Kind: s.kind(), Strategies: []string{[]string{"pu", "spy"}[i]}}
		var err error
		if rows[i], err = Run(batches, cfg); err != nil {
			t.Fatal(err)
		}
	}
	history := 0
	d, err := split(batches, Config{Start: time.Date(2024, 2, 5, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: 4, InitialDays: 28})
	if err != nil {
		t.Fatal(err)
	}
	defer d.release()
	for p := range 4 {
		history += d.slots[p].n
		if spyPU.labelled[p] != history {
			t.Errorf("period %d: pu trained on %d labelled rows, want all %d history rows", p+1, spyPU.labelled[p], history)
		}
		if spyPU.illicit[p] != spyGBDT.illicit[p] {
			t.Errorf("period %d: pu trained on %d frauds, labelled-only on %d; want the same frauds found", p+1, spyPU.illicit[p], spyGBDT.illicit[p])
		}
		if p > 0 && spyGBDT.labelled[p] >= history { // the initial window is all labelled
			t.Errorf("period %d: labelled-only trained on %d labels of %d rows: the test cannot tell pu from it", p+1, spyGBDT.labelled[p], history)
		}
	}
}
