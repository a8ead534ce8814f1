package gbdt

import (
	"math"
	"reflect"
	"testing"

	"risklane/models/xgb"
)

// The exported model must reproduce, bit for bit, the margins the trainer
// accumulated: that is what makes an exported model predict as trained.
func TestMarginsMatchModel(t *testing.T) {
	X, y := synthetic(6000, 12, 1)
	V, yv := synthetic(2000, 12, 2)
	cases := []struct {
		name string
		edit func(*Params)
	}{
		{"defaults", func(p *Params) {}},
		{"sampling", func(p *Params) {
			p.Subsample, p.ColsampleByTree, p.ColsampleByLevel, p.ColsampleByNode = 0.7, 0.8, 0.8, 0.8
		}},
		{"few bins, regularised", func(p *Params) {
			p.MaxBin, p.Lambda, p.Alpha, p.Gamma, p.MinChildWeight = 16, 3, 0.5, 0.2, 5
		}},
		{"scale_pos_weight, auc", func(p *Params) { p.ScalePosWeight, p.EvalMetric = 3, AUC }},
		{"squared error", func(p *Params) { p.Objective = xgb.RegSquaredError }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			p.NumRounds, p.Seed = 20, 5
			tc.edit(&p)
			tr, model, rep := trainInternal(t, X, y, V, yv, p)
			if len(model.Trees) != p.NumRounds || len(rep.Valid) != p.NumRounds || len(rep.Train) != p.NumRounds {
				t.Fatalf("%d trees, %d valid and %d train metrics for %d rounds", len(model.Trees), len(rep.Valid), len(rep.Train), p.NumRounds)
			}
			for name, got := range map[string][2][]float32{
				"training":   {tr.margin, predictMargins(t, model, X)},
				"validation": {tr.vMargin, predictMargins(t, model, V)},
			} {
				for i := range got[0] {
					if math.Float32bits(got[0][i]) != math.Float32bits(got[1][i]) {
						t.Fatalf("%s row %d: trained margin %v, model predicts %v", name, i, got[0][i], got[1][i])
					}
				}
			}
			// Boosting must help: the last round beats the first on both sets.
			first, last := rep.Valid[0], rep.Valid[len(rep.Valid)-1]
			if better := (last > first) == (rep.Metric == AUC); !better {
				t.Errorf("%s did not improve: %v -> %v", rep.Metric, first, last)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	X, y := synthetic(30000, 8, 3) // several row blocks, so threads share nodes
	p := DefaultParams()
	p.NumRounds, p.Seed = 8, 42
	p.Subsample, p.ColsampleByTree, p.ColsampleByNode = 0.8, 0.9, 0.8
	train := func(threads int, seed uint64) *xgb.Model {
		q := p
		q.NumThreads, q.Seed = threads, seed
		m, _, err := Train(X, y, nil, nil, q)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	one := train(1, 42)
	if two := train(2, 42); !reflect.DeepEqual(one, two) {
		t.Error("1 and 2 threads gave different models")
	}
	if four := train(4, 42); !reflect.DeepEqual(one, four) {
		t.Error("1 and 4 threads gave different models")
	}
	if again := train(2, 42); !reflect.DeepEqual(one, again) {
		t.Error("the same seed gave a different model")
	}
	if other := train(2, 43); reflect.DeepEqual(one, other) {
		t.Error("another seed gave the same model despite sampling")
	}
}
