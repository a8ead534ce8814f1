package simulate

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/ingest"
	"risklane/models"
)

// TestNoveltyWeights, worked by hand (half-life 56 days). Inspected: a row
// of importer A, declarant D, HS6 847100 from CN on days -56 and 0, and a
// row of B, D, 620300 from VN on day 0. On day 56 each inspection counts
// 2^((day-56)/56): A, 847100 and CN|847100 have 0.5 + 1 = 1.5 before
// halving, 0.75 on day 56 (novelty 1/1.75 = 4/7 each); D 1.25 (1/2.25 =
// 4/9); B, 620300, VN|620300 0.5 (2/3). So
//
//	A D 847100 CN: (3 x 4/7 + 4/9) / 4 = 34/63
//	C D 620300 CN: (1 + 4/9 + 2/3 + 1) / 4 = 7/9 (C and CN|620300 never inspected)
//	B and nothing else: 2/3; C alone: 1; no key at all: 1
//
// and an expected revenue of e-1 multiplies by 1 + log1p(e-1) = 2 (noveltyflat
// not). Without decay (half-life 0) A counts 2: 1/3.
func TestNoveltyWeights(t *testing.T) {
	n := newNovelty(56)
	a := keys{"A", "D", "847100", "CN|847100"}
	n.add(a, -56)
	n.add(a, 0)
	n.add(keys{"B", "D", "620300", "VN|620300"}, 0)
	rows := []keys{a, {"C", "D", "620300", "CN|620300"}, {"B", "", "", ""}, {"C", "", "", ""}, {}}
	want := []float64{34.0 / 63, 7.0 / 9, 2.0 / 3, 1, 1}
	rev := []float64{0, math.E - 1, 0, 0, 0}
	w, flat := n.weights(rows, 56, rev, false), n.weights(rows, 56, rev, true)
	for i := range rows {
		f := 1.0
		if i == 1 {
			f = 2
		}
		if math.Abs(w[i]-f*want[i]) > 1e-12 || math.Abs(flat[i]-want[i]) > 1e-12 {
			t.Errorf("row %v: weight %v, flat %v; want %v, %v", rows[i], w[i], flat[i], f*want[i], want[i])
		}
	}
	plain := newNovelty(0)
	plain.add(a, -56)
	plain.add(a, 0)
	if got := plain.of(keys{"A", "", "", ""}, 56); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("no decay: A's novelty %v, want 1/3", got)
	}
}

// TestWeightedPick: the draw takes rows with probability proportional to
// their weight among the free rows left, without replacement. Weights 3, 1,
// 0 and one draw: 3/4, 1/4, never. Weights 2, 1, 1 and two draws: row 0 is
// in the sample with probability 1/2 + 2 x 1/4 x 2/3 = 5/6 (first, or second
// after either other row), the others 7/12 each.
func TestWeightedPick(t *testing.T) {
	const runs = 20_000
	count := func(w []float64, k int, taken []bool) []float64 {
		c := make([]float64, len(w))
		for seed := range uint64(runs) {
			pd := &period{n: len(w), taken: slices.Clone(taken), rng: newRand(seed)}
			got := weightedPick(pd, w, k)
			if len(got) != k {
				t.Fatalf("picked %v, want %d rows", got, k)
			}
			for _, r := range got {
				c[r] += 1.0 / runs
			}
		}
		return c
	}
	near := func(name string, got, want []float64) {
		for i := range want {
			if math.Abs(got[i]-want[i]) > 0.015 {
				t.Errorf("%s: row %d drawn %.4f of the runs, want %.4f", name, i, got[i], want[i])
			}
		}
	}
	near("3,1,0 once", count([]float64{3, 1, 0}, 1, make([]bool, 3)), []float64{0.75, 0.25, 0})
	near("2,1,1 twice", count([]float64{2, 1, 1}, 2, make([]bool, 3)), []float64{5.0 / 6, 7.0 / 12, 7.0 / 12})
	near("3,1,0 once, row 0 taken", count([]float64{3, 1, 0}, 1, []bool{true, false, false}), []float64{0, 1, 0})
	near("3,1,0 twice", count([]float64{3, 1, 0}, 2, make([]bool, 3)), []float64{1, 1, 0})
}

// TestHiddenLabels: a hidden exploring part inspects (its rows count in the
// period's inspections and frauds) but the next training gets only the
// other parts' labels; the same strategy without ":hidden" reveals all.
// Novelty parts are deterministic for a seed.
func TestHiddenLabels(t *testing.T) {
	gc := synth.DefaultConfig()
	gc.Rows = 20_000
	gc.End = time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	batches := generated(t, gc)
	defer ingest.Release(batches)
	for _, spec := range []string{"spy:0.5+random:0.5:hidden", "spy:0.5+novelty:0.5:hidden", "spy:0.5+noveltyflat:0.5", "spy:0.5+random:0.5"} {
		s := &spy{}
		cfg := Config{Start: time.Date(2024, 2, 5, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: 4, InitialDays: 28,
			Budget: Budget{0.1, 0.1}, RetrainEvery: 1, Seed: 1, Kind: s.kind(), Strategies: []string{spec}}
		var exploited, exploitFrauds []int
		cfg.onPicks = func(_ string, _ int, bs []arrow.RecordBatch, picks []int, explored []bool) {
			labels, _, err := models.Outcomes(bs)
			if err != nil {
				t.Fatal(err)
			}
			n, f := 0, 0
			for i, r := range picks {
				if !explored[i] {
					n++
					f += int(labels[r])
				}
			}
			exploited, exploitFrauds = append(exploited, n), append(exploitFrauds, f)
		}
		rows, err := Run(batches, cfg)
		if err != nil {
			t.Fatal(err)
		}
		hidden := strings.HasSuffix(spec, ":hidden")
		for p, r := range rows[:len(rows)-1] {
			more, moreF := s.labelled[p+1]-s.labelled[p], s.illicit[p+1]-s.illicit[p]
			wantN, wantF := r.Inspected, r.Frauds
			if hidden {
				wantN, wantF = exploited[p], exploitFrauds[p]
			}
			if more != wantN || moreF != wantF || math.Abs(r.Exploration-0.5) > 0.01 {
				t.Errorf("%s period %d: the next training got %d more labels (%d frauds), want %d (%d); %d inspected, exploration %.3f",
					spec, p+1, more, moreF, wantN, wantF, r.Inspected, r.Exploration)
			}
		}
		if again, _ := Run(batches, cfg); !slices.EqualFunc(rows, again, func(a, b Row) bool { return a.Frauds == b.Frauds && a.Revenue == b.Revenue }) {
			t.Errorf("%s: two runs with the same seed differ", spec)
		}
	}
}
