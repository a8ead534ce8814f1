package features

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestHalfLifeHandWorked checks the recency-weighted fraud rates against
// values worked out by hand on handRows (smoothing m = 2, 2 folds, seed 7,
// half-life 1 day). The latest date is row 6's, 2020-01-06, so rows 1 to 5
// (labelled, dated the 1st to the 5th) weigh 1/32, 2/32, 4/32, 8/32, 16/32;
// row 6 is not labelled. Illicit rows 1 and 2: weight 31/32, illicit 3/32,
// prior 3/31. With rate = (illicit weight + m * prior) / (weight + m):
//
//	importer A (rows 1, 2, 3): (3/32 + 6/31) / (7/32 + 2) = 285/2201
//	importer B (rows 4, 5):    (0 + 6/31) / (24/32 + 2)    = 24/341
//	importer D (never seen):   the prior 3/31
//
// Out of fold (seed 7 puts rows 3, 4, 6 in fold 0, rows 1, 2, 5 in fold 1):
// fold 0's rows see fold 1's labels: weight 19/32, illicit 3/32, prior 3/19;
// fold 1's see fold 0's: weight 12/32, no fraud, prior 0.
//
//	row 3 (A, fold 0): A in fold 1 is rows 1, 2: (3/32 + 6/19) / (3/32 + 2) = 249/1273
//	row 4 (B, fold 0): B in fold 1 is row 5:     (0 + 6/19) / (16/32 + 2)   = 12/95
//	row 6 (C, fold 0): C has no label:           the fold's prior 3/19
//	row 1 (A, fold 1): A in fold 0 is row 3:     (0 + 0) / (4/32 + 2)       = 0
//
// Without row 3's date, it weighs as the oldest dated row (1/32): weight
// 28/32, illicit 3/32, prior 3/28, and importer A is (3/32 + 6/28) / (4/32
// + 2) = 69/476.
func TestHalfLifeHandWorked(t *testing.T) {
	cfg := Config{Groups: []string{GroupRisk, GroupTraders}, Folds: 2, Smoothing: 2, Seed: 7, HalfLife: 1}
	st, m, err := Fit([]arrowBatch{makeBatch(t, handRows())}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint8{1, 1, 0, 0, 1, 0}; !bytes.Equal(m.Fold, want) {
		t.Fatalf("seed 7 gives folds %v; the hand-worked values assume %v", m.Fold, want)
	}
	probe := makeBatch(t, []row{{ID: "a", Importer: "A"}, {ID: "b", Importer: "B"}, {ID: "d", Importer: "D"}})
	cols, err := st.Transform(probe, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := col(t, st.Names(), cols, "risk_importer")
	for i, w := range []float64{285.0 / 2201, 24.0 / 341, 3.0 / 31} {
		if !close(got[i], w) {
			t.Errorf("scoring risk_importer of %c = %v, want %v", "abd"[i], got[i], w)
		}
	}
	train := col(t, st.Names(), m.Cols, "risk_importer")
	for i, w := range map[int]float64{2: 249.0 / 1273, 3: 12.0 / 95, 5: 3.0 / 19, 0: 0} {
		if !close(train[i], w) {
			t.Errorf("out-of-fold risk_importer of row %d = %v, want %v", i+1, train[i], w)
		}
	}

	undated := handRows()
	undated[2].Date = ""
	st2, _, err := Fit([]arrowBatch{makeBatch(t, undated)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cols, err = st2.Transform(probe, nil)
	if err != nil {
		t.Fatal(err)
	}
	got = col(t, st2.Names(), cols, "risk_importer")
	for i, w := range []float64{69.0 / 476, 3.0 / 28} {
		j := []int{0, 2}[i]
		if !close(got[j], w) {
			t.Errorf("undated row 3: scoring risk_importer of %c = %v, want %v", "abd"[j], got[j], w)
		}
	}
}

// TestHalfLifeOffIsUnweighted: with every row on one day, a half-life weighs
// every row exactly 1, so the weighted path must give the unweighted fit
// (HalfLife 0) bit for bit, matrix and rates; the state of HalfLife 0 has no
// half_life in its JSON (a state saved before the option reads the same),
// the other records it and reads back with it.
func TestHalfLifeOffIsUnweighted(t *testing.T) {
	rows := randomRows(400, 7)
	for i := range rows {
		rows[i].Date = "2020-05-05"
	}
	b := makeBatch(t, rows)
	off, m0, err := Fit([]arrowBatch{b}, Config{Groups: BuiltinGroups, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	on, m1, err := Fit([]arrowBatch{b}, Config{Groups: BuiltinGroups, Seed: 3, HalfLife: 7})
	if err != nil {
		t.Fatal(err)
	}
	for c, name := range off.Names() {
		for i := range m0.Cols[c] {
			if math.Float64bits(m0.Cols[c][i]) != math.Float64bits(m1.Cols[c][i]) {
				t.Fatalf("training %s of row %d: %v unweighted, %v with every weight 1", name, i, m0.Cols[c][i], m1.Cols[c][i])
			}
		}
	}
	a, _ := json.Marshal(off)
	w, _ := json.Marshal(on)
	if strings.Contains(string(a), "half_life") {
		t.Error("a state without half-life writes half_life in its JSON")
	}
	if !strings.Contains(string(w), `"half_life":7`) {
		t.Errorf("a state with half-life 7 does not record it: %.300s", w)
	}
	if string(a) != strings.Replace(string(w), `"half_life":7,`, "", 1) {
		t.Error("the states differ in more than half_life")
	}
	back, err := Read(bytes.NewReader(w))
	if err != nil {
		t.Fatal(err)
	}
	if back.Config().HalfLife != 7 || off.Config().HalfLife != 0 {
		t.Errorf("half-life read back as %v (want 7), unweighted state's %v", back.Config().HalfLife, off.Config().HalfLife)
	}
}

// TestHalfLifeLongIsUnweighted: the longest allowed half-life on a year of
// dates gives every fraud rate within 1e-9 of the unweighted ones, and a
// half-life of 30 days moves them (the weights are used at all).
func TestHalfLifeLongIsUnweighted(t *testing.T) {
	b := makeBatch(t, randomRows(600, 3))
	fit := func(h float64) (*State, *Matrix) {
		st, m, err := Fit([]arrowBatch{b}, Config{Groups: BuiltinGroups, Seed: 11, HalfLife: h})
		if err != nil {
			t.Fatal(err)
		}
		return st, m
	}
	st0, m0 := fit(0)
	_, mLong := fit(MaxHalfLife)
	_, m30 := fit(30)
	probe, _ := st0.Transform(b, nil)
	stLong, _ := fit(MaxHalfLife)
	probeLong, _ := stLong.Transform(b, nil)
	moved := 0
	for c, name := range st0.Names() {
		for i := range m0.Cols[c] {
			if d := math.Abs(m0.Cols[c][i] - mLong.Cols[c][i]); d > 1e-9 || math.IsNaN(m0.Cols[c][i]) != math.IsNaN(mLong.Cols[c][i]) {
				t.Fatalf("training %s of row %d: %v unweighted, %v with half-life %g", name, i, m0.Cols[c][i], mLong.Cols[c][i], float64(MaxHalfLife))
			}
			if d := math.Abs(probe[c][i] - probeLong[c][i]); d > 1e-9 {
				t.Fatalf("scoring %s of row %d: %v unweighted, %v with half-life %g", name, i, probe[c][i], probeLong[c][i], float64(MaxHalfLife))
			}
			if strings.HasPrefix(name, "risk_") && math.Abs(m0.Cols[c][i]-m30.Cols[c][i]) > 1e-3 {
				moved++
			}
		}
	}
	if moved < 100 {
		t.Errorf("a half-life of 30 days moved only %d training fraud rates by more than 1e-3", moved)
	}
}

// TestHalfLifeRefused: bad half-lives, data without dates, and Assemble
// (whose counts carry no dates) give clear errors.
func TestHalfLifeRefused(t *testing.T) {
	b := makeBatch(t, randomRows(50, 1))
	for _, h := range []float64{-1, math.NaN(), math.Inf(1), 2 * MaxHalfLife} {
		_, _, err := Fit([]arrowBatch{b}, Config{Groups: []string{GroupRisk}, HalfLife: h})
		if err == nil || !strings.Contains(err.Error(), "half-life") {
			t.Errorf("half-life %v: error %v, want one about the half-life", h, err)
		}
	}
	undated := randomRows(50, 1)
	for i := range undated {
		undated[i].Date = ""
	}
	_, _, err := Fit([]arrowBatch{makeBatch(t, undated)}, Config{Groups: []string{GroupRisk}, HalfLife: 28})
	if err == nil || !strings.Contains(err.Error(), "no training row has one") {
		t.Errorf("no dates: error %v, want one saying no row has a date", err)
	}
	tl := NewTally()
	if err := tl.Add(b, func(UnitValueKey, float64) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := Assemble(tl, nil, Config{Groups: []string{GroupRisk}}); err != nil {
		t.Fatalf("Assemble without half-life: %v", err)
	}
	_, err = Assemble(tl, nil, Config{Groups: []string{GroupRisk}, HalfLife: 28})
	if err == nil || !strings.Contains(err.Error(), "half-life") {
		t.Errorf("Assemble with a half-life: error %v, want a refusal naming the half-life", err)
	}
}

// TestRecencyWeights checks the one rule both half-lives follow (the fraud
// rates' and the training rows', risklane/models.TrainConfig.RowHalfLife)
// on handRows split over two batches, half-life 2 days: the latest date is
// row 6's (2020-01-06, unlabelled rows count for the history's date), so
// rows 1 to 6 are 5, 4, 3, 2, 1, 0 days old and weigh 2^-2.5, 2^-2, 2^-1.5,
// 2^-1, 2^-0.5, 1; without row 3's date it weighs as the oldest dated row,
// 2^-2.5.
func TestRecencyWeights(t *testing.T) {
	rows := handRows()
	batches := func() []arrowBatch { return []arrowBatch{makeBatch(t, rows[:2]), makeBatch(t, rows[2:])} }
	want := []float64{math.Exp2(-2.5), 0.25, math.Exp2(-1.5), 0.5, math.Sqrt(0.5), 1}
	check := func(name string) {
		t.Helper()
		w, err := RecencyWeights(batches(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(w) != len(want) {
			t.Fatalf("%s: %d weights, want %d", name, len(w), len(want))
		}
		for i := range want {
			if math.Abs(w[i]-want[i]) > 1e-15 {
				t.Errorf("%s: row %d weighs %v, want %v", name, i+1, w[i], want[i])
			}
		}
	}
	check("dated")
	rows[2].Date, want[2] = "", math.Exp2(-2.5)
	check("row 3 undated")
	if w, err := RecencyWeights(batches(), 0); w != nil || err != nil {
		t.Errorf("half-life 0: %v, %v; want nil weights (every row weighs 1)", w, err)
	}
	for _, h := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := RecencyWeights(batches(), h); err == nil || !strings.Contains(err.Error(), "half-life") {
			t.Errorf("half-life %v: error %v, want a refusal", h, err)
		}
	}
}
