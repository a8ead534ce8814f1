package models

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// toy is the smallest trained model, for TestRecipe.
type toy struct {
	Model
	cfg      toyConfig
	reported int
}

func (*toy) Save(string) error { return nil }

type toyConfig struct {
	Depth int
	Seed  uint64
}

func toyRecipe(report error) Recipe[toyConfig, *toy] {
	return Recipe[toyConfig, *toy]{
		Kind: "toy",
		Settings: []Setting[toyConfig]{{Param: Param{Name: "depth", Default: 3, Min: 1, Max: 8, Integer: true},
			Set: func(c *toyConfig, v float64) { c.Depth = int(v) }}},
		Base: func(tc TrainConfig) toyConfig { return toyConfig{Depth: 3, Seed: tc.Seed} },
		Check: func(c toyConfig) error {
			if c.Depth == 7 {
				return errors.New("toy: depth 7 is unlucky")
			}
			return nil
		},
		Fit: func(_, _ []arrow.RecordBatch, c toyConfig) (*toy, error) { return &toy{cfg: c}, nil },
		Report: func(m *toy, valid []arrow.RecordBatch) error {
			m.reported = len(valid)
			return report
		},
	}
}

// TestRecipe pins the one path every trained kind takes from a
// TrainConfig to a model: the parameters are checked against their
// declarations before anything else (the errors name the kind and the
// flag), applied on the kind's base, vetted by Check; a report on
// validation data is asked for only when there is some, and its failure is
// the kind's "validation data" error with no model.
func TestRecipe(t *testing.T) {
	r := toyRecipe(nil)
	for _, c := range []struct {
		params map[string]float64
		want   string
	}{
		{map[string]float64{"width": 2}, "--width is not a parameter of toy models"},
		{map[string]float64{"depth": 9}, "--depth 9: want 1 to 8"},
		{map[string]float64{"depth": 2.5}, "--depth 2.5: want a whole number"},
		{map[string]float64{"depth": 7}, "toy: depth 7 is unlucky"},
	} {
		if _, err := r.Config(TrainConfig{Params: c.params}); err == nil || err.Error() != c.want {
			t.Errorf("Config(%v): %v, want %q", c.params, err, c.want)
		}
		if m, err := r.Train(nil, nil, TrainConfig{Params: c.params}); m != nil || err == nil || err.Error() != c.want {
			t.Errorf("Train(%v): %v, %v, want no model and %q", c.params, m, err, c.want)
		}
	}
	cfg, err := r.Config(TrainConfig{Seed: 5, Params: map[string]float64{"depth": 6}})
	if err != nil || cfg != (toyConfig{Depth: 6, Seed: 5}) {
		t.Fatalf("Config: %+v, %v", cfg, err)
	}
	if p := r.Params(); len(p) != 1 || p[0].Name != "depth" {
		t.Fatalf("Params: %+v", p)
	}

	m, err := r.Train(nil, nil, TrainConfig{})
	if err != nil || m.(*toy).reported != 0 || m.(*toy).cfg.Depth != 3 {
		t.Fatalf("Train without validation data: %+v, %v", m, err)
	}
	valid := make([]arrow.RecordBatch, 2)
	if m, err = r.Train(nil, valid, TrainConfig{}); err != nil || m.(*toy).reported != 2 {
		t.Fatalf("Train with validation data: %+v, %v", m, err)
	}
	bad := errors.New("column \"Net Mass\" is missing")
	m, err = toyRecipe(bad).Train(nil, valid, TrainConfig{})
	if m != nil || !errors.Is(err, bad) || !strings.HasPrefix(err.Error(), "toy: validation data: ") {
		t.Fatalf("Train with a failing report: %v, %v", m, err)
	}
}

// A recipe takes TrainConfig.RowHalfLife only when it says it trains on row
// weights; a bad half-life is refused either way.
func TestRecipeRowHalfLife(t *testing.T) {
	r := toyRecipe(nil)
	want := "--train-halflife 28: toy models cannot weight their training rows; use the gbdt kind or leave it at 0"
	if _, err := r.Config(TrainConfig{RowHalfLife: 28}); err == nil || err.Error() != want {
		t.Errorf("toy without row weights: %v, want %q", err, want)
	}
	r.RowWeights = true
	if _, err := r.Config(TrainConfig{RowHalfLife: 28}); err != nil {
		t.Errorf("toy with row weights: %v", err)
	}
	for _, bad := range []float64{-1, math.Inf(1), math.NaN()} {
		if _, err := r.Config(TrainConfig{RowHalfLife: bad}); err == nil || !strings.Contains(err.Error(), "--train-halflife") {
			t.Errorf("half-life %v: %v", bad, err)
		}
	}
}
