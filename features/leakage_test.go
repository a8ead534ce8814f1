package features

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// randomRows makes n declarations over small pools of importers, HS codes and
// origins, with fraud more likely for some importers, so that every key
// repeats and its rate depends on the labels.
func randomRows(n int, seed uint64) []row {
	r := rand.New(rand.NewPCG(seed, 1))
	hs := []string{"010121", "010129", "020110", "020120", "847130", "847150", "870323"}
	origins := []string{"CN", "KR", "US", "VN", ""}
	rows := make([]row, n)
	for i := range rows {
		imp := r.IntN(40)
		y := int8(0)
		if r.Float64() < 0.1+float64(imp%5)*0.1 {
			y = 1
		}
		if r.IntN(20) == 0 {
			y = -1
		}
		rows[i] = row{
			ID:        fmt.Sprintf("D%d", i/2), // two items per declaration
			Date:      fmt.Sprintf("2020-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28)),
			Office:    fmt.Sprintf("O%d", r.IntN(4)),
			Importer:  fmt.Sprintf("I%d", imp),
			Declarant: fmt.Sprintf("C%d", r.IntN(10)),
			Seller:    fmt.Sprintf("S%d", r.IntN(60)),
			HS:        hs[r.IntN(len(hs))],
			Origin:    origins[r.IntN(len(origins))],
			Departure: origins[r.IntN(len(origins))],
			Qty:       float64(1 + r.IntN(50)),
			Mass:      1 + r.Float64()*100,
			Value:     10 + r.Float64()*1e4,
			Rate:      float64(r.IntN(3) * 4),
			Illicit:   y,
			Extra:     []string{"A", "B", ""}[r.IntN(3)],
		}
	}
	return rows
}

// TestNoLeakage flips the label of one training row at a time and refits:
// the row's own features must not move (they never saw its label), while
// rows of other folds that share its keys do move (the label is used, for
// other rows). Items of one declaration share a fold. It holds as well with
// recency-weighted rates (Config.HalfLife): a weight scales a label's part,
// it never lets a row see its own.
func TestNoLeakage(t *testing.T) {
	for _, h := range []float64{0, 28} {
		t.Run(fmt.Sprintf("halflife=%g", h), func(t *testing.T) { noLeakage(t, h) })
	}
}

func noLeakage(t *testing.T, halfLife float64) {
	rows := randomRows(600, 3)
	cfg := Config{Groups: BuiltinGroups, Seed: 11, HalfLife: halfLife}
	base, m0, err := Fit([]arrowBatch{makeBatch(t, rows)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(rows); i += 2 {
		if m0.Fold[i] != m0.Fold[i+1] {
			t.Fatalf("rows %d and %d are items of declaration %s but in folds %d and %d", i, i+1, rows[i].ID, m0.Fold[i], m0.Fold[i+1])
		}
	}
	for _, i := range []int{0, 17, 298, 599} {
		flipped := append([]row(nil), rows...)
		flipped[i].Illicit = 1 - max(flipped[i].Illicit, 0)
		_, m1, err := Fit([]arrowBatch{makeBatch(t, flipped)}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for c, name := range base.Names() {
			if !same(m0.Cols[c][i], m1.Cols[c][i]) {
				t.Errorf("row %d: flipping its own label changed its %s from %v to %v", i, name, m0.Cols[c][i], m1.Cols[c][i])
			}
		}
		moved, sameFoldMoved := 0, 0
		riskImp := col(t, base.Names(), m0.Cols, "risk_importer")
		riskImp1 := col(t, base.Names(), m1.Cols, "risk_importer")
		for j := range rows {
			if rows[j].Importer != rows[i].Importer || j == i {
				continue
			}
			if riskImp[j] != riskImp1[j] {
				if m0.Fold[j] == m0.Fold[i] {
					sameFoldMoved++
				} else {
					moved++
				}
			}
		}
		if moved == 0 {
			t.Errorf("row %d: no row of another fold with importer %s changed its risk_importer: the label is not used at all", i, rows[i].Importer)
		}
		if sameFoldMoved != 0 {
			t.Errorf("row %d: %d rows of its own fold changed risk_importer; they must not see that fold's labels", i, sameFoldMoved)
		}
	}
}

// TestScoringUsesWholeHistory checks the other half: a state scores new rows
// with every training label, so flipping one changes the scored value.
func TestScoringUsesWholeHistory(t *testing.T) {
	rows := randomRows(200, 5)
	st0, _, err := Fit([]arrowBatch{makeBatch(t, rows)}, Config{Groups: BuiltinGroups})
	if err != nil {
		t.Fatal(err)
	}
	rows[0].Illicit = 1 - max(rows[0].Illicit, 0)
	st1, _, err := Fit([]arrowBatch{makeBatch(t, rows)}, Config{Groups: BuiltinGroups})
	if err != nil {
		t.Fatal(err)
	}
	probe := makeBatch(t, rows[:1])
	a, _ := st0.Transform(probe, nil)
	b, _ := st1.Transform(probe, nil)
	if col(t, st0.Names(), a, "risk_importer")[0] == col(t, st1.Names(), b, "risk_importer")[0] {
		t.Error("scoring-time risk_importer ignores a training label")
	}
}
