package riskmodel

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/decl"
	"risklane/features"
	"risklane/features/market"
	"risklane/ingest/prices"
	"risklane/models"
	"risklane/models/metrics"
)

// underLabels marks the labelled rows by whether their planted fraud is
// undervaluation (rows not inspected stay unknown).
func underLabels(t *testing.T, batches []arrow.RecordBatch, labels []int8) []int8 {
	t.Helper()
	var out []int8
	for _, b := range batches {
		ft, ok, err := decl.Strings(b, synth.FraudTypeColumn)
		if err != nil || !ok {
			t.Fatalf("fraud type column: %v", err)
		}
		for i := range int(b.NumRows()) {
			v, _ := ft.Value(i)
			switch l := labels[len(out)]; {
			case l == metrics.Unknown:
				out = append(out, metrics.Unknown)
			case v == synth.FraudUndervaluation:
				out = append(out, metrics.Illicit)
			default:
				out = append(out, metrics.Clean)
			}
		}
	}
	return out
}

// The market group, fed the price table the generator writes beside its
// declarations, raises Precision@5% on planted undervaluation over the same
// model without it: on average over four fixed seeds (a single seed can go
// either way by a row or two). The generator's 3,000 HS6 codes leave about
// five training rows per code, where references learned from the
// declarations are thin and market prices are not. Figures in
// docs/prices.md.
func TestMarketRaisesUndervaluationPrecision(t *testing.T) {
	if testing.Short() {
		t.Skip("trains eight models")
	}
	var sum float64
	seeds := []uint64{11, 12, 13, 14}
	for _, seed := range seeds {
		base, with := marketPrecision(t, seed)
		t.Logf("seed %d: Precision@5%% on undervaluation %.4f without the market group, %.4f with it (%+.4f)", seed, base, with, with-base)
		sum += with - base
	}
	mean := sum / float64(len(seeds))
	t.Logf("mean gain %+.4f", mean)
	if !(mean > 0) {
		t.Errorf("the market group does not raise Precision@5%% on undervaluation: mean gain %+.4f", mean)
	}
}

// marketPrecision trains the default model with and without the market
// group on one generated data set and returns their Precision@5% on
// undervaluation over the validation quarter.
func marketPrecision(t *testing.T, seed uint64) (base, with float64) {
	cfg := smallSynth(20_000, seed)
	cfg.NumHS = 3000
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var all []arrow.RecordBatch
	for !g.Done() {
		b, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		defer b.Release()
		all = append(all, b)
	}
	table := filepath.Join(t.TempDir(), "market.parquet")
	if err := prices.Write(table, g.MarketPrices()); err != nil {
		t.Fatal(err)
	}
	train, valid, err := SplitByDate(all, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	labels, _, err := models.Outcomes(valid)
	if err != nil {
		t.Fatal(err)
	}
	under := underLabels(t, valid, labels)
	precision := func(withMarket bool) float64 {
		c := DefaultConfig()
		c.Classifier.NumRounds, c.Classifier.MaxDepth = 60, 6
		c.Revenue.NumRounds = 10
		if withMarket {
			c.Features.Groups = append(slices.Clone(c.Features.Groups), market.GroupName)
			c.Features.Signals = []features.Signal{market.NewFeature(table)}
		}
		m, err := Train(train, nil, c)
		if err != nil {
			t.Fatal(err)
		}
		if withMarket && !slices.ContainsFunc(m.Metrics.Importance, func(im Importance) bool { return im.Group == market.GroupName }) {
			t.Error("the classifier uses no market feature")
		}
		var scores []float64
		for _, b := range valid {
			p, _, err := m.Score(b, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			scores = append(scores, p...)
		}
		r, err := metrics.AtRate(scores, under, nil, 5)
		if err != nil {
			t.Fatal(err)
		}
		return r.Precision
	}
	return precision(false), precision(true)
}
