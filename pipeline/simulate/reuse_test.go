package simulate

import (
	"math"
	"testing"
	"time"

	"risklane/datasets/synth"
	"risklane/features"
	"risklane/ingest"
)

// TestFeaturesMoveEachWeek is why the replay refits the features and bins
// of every retraining rather than binning one feature matrix for the whole
// replay and taking rows of it (docs/simulate.md, Speed): a row's features
// are not fixed. Between two consecutive retrainings the labels revealed by
// one week of inspections change the fraud rates of every history row that
// shares an HS code, an origin or a trader with an inspected row, and the
// week's rows change the frequency counts. So the same initial-window rows
// have other feature values (and the gbdt's quantile cuts, taken from
// them, move); a model trained on a matrix binned once would not be the
// model a fresh training on the same rows gives.
func TestFeaturesMoveEachWeek(t *testing.T) {
	gc := synth.DefaultConfig()
	gc.Rows = 20_000
	gc.End = time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	batches := generated(t, gc)
	defer ingest.Release(batches)
	cfg := Config{Start: time.Date(2024, 2, 5, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: 2, InitialDays: 28,
		InitialLabels: 0.5}
	d, err := split(batches, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.release()
	revealed := [][]bool{make([]bool, d.slots[0].n), make([]bool, d.slots[1].n), make([]bool, d.slots[2].n)}
	for r := range revealed[0] {
		revealed[0][r] = r%2 == 0
	}
	for r := range revealed[1] {
		revealed[1][r] = r%10 == 0 // a week's 10% inspections
	}
	fc := features.Config{Groups: features.DefaultGroups, Folds: features.DefaultFolds, Smoothing: features.DefaultSmoothing}
	var mats [2]*features.Matrix
	for w := range 2 {
		train, err := d.masked(w+1, revealed, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, mats[w], err = features.Fit(train, fc)
		ingest.Release(train)
		if err != nil {
			t.Fatal(err)
		}
	}
	n := d.slots[0].n
	moved := map[string]int{}
	for j, name := range mats[0].Names {
		a, b := mats[0].Cols[j][:n], mats[1].Cols[j][:n]
		for i := range n {
			if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
				moved[name]++
			}
		}
	}
	total := 0
	for _, c := range moved {
		total += c
	}
	t.Logf("%d of %d features of the %d initial-window rows moved in one week (%d values)", len(moved), len(mats[0].Names), n, total)
	if len(moved) == 0 {
		t.Fatal("no feature of the initial window's rows moved between two retrainings: a matrix binned once would do")
	}
	for _, want := range []string{"risk_hs6", "freq_importer"} {
		for name := range moved {
			if len(name) >= len(want) && name[:len(want)] == want {
				want = ""
				break
			}
		}
		if want != "" {
			t.Errorf("no %s* feature moved; moved: %v", want, moved)
		}
	}
}
