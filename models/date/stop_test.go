package date

import (
	"math"
	"testing"
	"time"

	"risklane/models/modeltest"
)

// TestStopOnRevenue: with StopOnRevenue every epoch's criterion is the
// validation revenue at 1% and 2% by expected revenue, the best epoch is
// the first with the highest, and the weights kept are that epoch's (the
// criterion recomputed from the returned model equals it).
func TestStopOnRevenue(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Trees.NumRounds, cfg.Trees.MaxDepth = 10, 4
	cfg.Epochs, cfg.Patience, cfg.StopOnRevenue, cfg.Seed = 4, 4, true, 3
	m, train, valid, vlabels, err := prepare(modeltest.Declarations(t, 12_000, 3), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.fit(train, valid, vlabels, time.Now())
	h := m.History
	if len(h.ValidRevenue) != len(h.Loss) || len(h.Loss) != cfg.Epochs {
		t.Fatalf("%d epochs, %d criteria: want %d of each", len(h.Loss), len(h.ValidRevenue), cfg.Epochs)
	}
	best := 0
	for i, v := range h.ValidRevenue {
		if v > h.ValidRevenue[best] {
			best = i
		}
	}
	if h.BestEpoch != best+1 {
		t.Errorf("best epoch %d, criteria %v", h.BestEpoch, h.ValidRevenue)
	}
	prob, exp, rev := make([]float64, valid.Rows()), make([]float64, valid.Rows()), make([]float64, valid.Rows())
	for i, r := range valid.Rev {
		if !math.IsNaN(float64(r)) {
			rev[i] = m.revenueOf(float64(r), baseOf(valid, i))
		}
	}
	m.predict(valid, prob, exp, 1)
	if got := m.revenueAt12(exp, vlabels, rev); got != h.ValidRevenue[best] {
		t.Errorf("kept weights give %v, best epoch's criterion %v", got, h.ValidRevenue[best])
	}
	t.Logf("validation revenue at 1%%/2%% per epoch %.4f, AUC %.4f, best epoch %d", h.ValidRevenue, h.ValidAUC, h.BestEpoch)
}
