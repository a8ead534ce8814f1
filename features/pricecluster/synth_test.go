package pricecluster

import (
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/datasets/synth"
	"risklane/decl"
)

// synthColumns generates declarations with datasets/synth and returns the
// columns the clustering needs and whether each row is planted
// undervaluation.
func synthColumns(t *testing.T, rows int64) (hs6 []int32, value, mass, qty []float64, under []bool) {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Rows = rows
	cfg.Seed = 7
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := g.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		col := func(name string) int {
			idx := rec.Schema().FieldIndices(name)
			if len(idx) != 1 {
				t.Fatalf("synth batch has no column %s", name)
			}
			return idx[0]
		}
		hs := rec.Column(col(decl.HSCode)).(*array.String)
		cif := rec.Column(col(decl.CIFValue)).(*array.Float64)
		net := rec.Column(col(decl.NetMassKg)).(*array.Float64)
		q := rec.Column(col(decl.Quantity)).(*array.Float64)
		ft := rec.Column(col(synth.FraudTypeColumn)).(*array.String)
		for i := range int(rec.NumRows()) {
			hs6 = append(hs6, ParseHS6(hs.Value(i)))
			value = append(value, cif.Value(i))
			mass = append(mass, net.Value(i))
			qty = append(qty, q.Value(i))
			under = append(under, ft.IsValid(i) && ft.Value(i) == synth.FraudUndervaluation)
		}
		rec.Release()
	}
	return hs6, value, mass, qty, under
}

// TestLowClusterOnSynth fits on the first half of generated declarations
// (they are in date order) and flags the second half: the low-cluster flag
// alone must find planted undervaluation with precision at least twice the
// undervaluation rate.
func TestLowClusterOnSynth(t *testing.T) {
	hs6, value, mass, qty, under := synthColumns(t, 200_000)
	half := len(hs6) / 2
	m, err := Fit(hs6[:half], value[:half], mass[:half], qty[:half], Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var a Assignment
	if err := m.Apply(hs6[half:], value[half:], mass[half:], qty[half:], &a); err != nil {
		t.Fatal(err)
	}
	var planted int
	for _, u := range under[half:] {
		if u {
			planted++
		}
	}
	rate := float64(planted) / float64(len(hs6)-half)
	prec, rec, flagged := precisionOfLow(&a, under[half:])
	t.Logf("%d test rows, undervaluation rate %.4f: low flag on %d rows, precision %.3f (%.1f times the rate), recall %.3f",
		len(hs6)-half, rate, flagged, prec, prec/rate, rec)
	if prec < 2*rate {
		t.Errorf("precision %.3f of the low-cluster flag is below twice the undervaluation rate %.4f", prec, rate)
	}
}
