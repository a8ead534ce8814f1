package rules

import (
	"math"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/models/riskmodel"
)

func sameColumn(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) })
}

// ModelData gives the training history its out-of-fold features (as
// features.Fit computes them for the model's configuration), and other
// declarations the features the model scores them with (as Transform
// computes them).
func TestModelData(t *testing.T) {
	hist := synthetic(t, 3000, 5)
	other := synthetic(t, 3000, 6) // as many rows as the history: the refit is tried, and differs
	cfg := riskmodel.DefaultConfig()
	cfg.Features = features.Config{Seed: 4, Folds: 3}
	cfg.Classifier.NumRounds, cfg.Classifier.MaxDepth, cfg.Classifier.NumThreads, cfg.NoRevenueHead = 5, 3, 1, true
	m, err := riskmodel.Train(hist, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, fm, err := features.Fit(hist, features.Config{Seed: 4, Folds: 3})
	if err != nil {
		t.Fatal(err)
	}
	X, y, training, err := ModelData(m, hist)
	if err != nil {
		t.Fatal(err)
	}
	if !training || X.Rows != fm.Rows || !slices.Equal(X.Names, fm.Names) {
		t.Fatalf("training history: training %v, %d rows, names %v", training, X.Rows, X.Names)
	}
	for j := range fm.Cols {
		if !sameColumn(X.Cols[j], fm.Cols[j]) {
			t.Errorf("training feature %s differs from features.Fit's", fm.Names[j])
		}
	}
	var labels []int8
	for _, b := range hist {
		labels, _ = features.ReadLabels(b, labels)
	}
	for i, l := range labels {
		if l < 0 && !math.IsNaN(y[i]) || l >= 0 && y[i] != float64(l) {
			t.Fatalf("row %d: label %d, y %v", i, l, y[i])
		}
	}

	// Part of the history is not the history: scoring features.
	part := hist[0].NewSlice(0, hist[0].NumRows()-1)
	defer part.Release()
	_, _, training, err = ModelData(m, append([]arrow.RecordBatch{part}, hist[1:]...))
	if err != nil || training {
		t.Fatalf("the history but its last row: training %v, %v", training, err)
	}
	X, _, training, err = ModelData(m, other)
	if err != nil || training {
		t.Fatalf("other declarations: training %v, %v", training, err)
	}
	cols, err := m.State.Transform(other[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	n := int(other[0].NumRows())
	for j := range cols {
		if !sameColumn(X.Cols[j][:n], cols[j]) {
			t.Errorf("scoring feature %s differs from Transform's", X.Names[j])
		}
	}
}
