package date

import (
	"testing"

	"risklane/models"
	"risklane/models/modeltest"
)

// TestKCSTrain trains DATE on the KCS training year and reports the
// validation quarter's metrics (reported, never tuned on).
func TestKCSTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: trains DATE on 37,385 rows")
	}
	train, valid := modeltest.KCS(t, "train.csv"), modeltest.KCS(t, "valid.csv")
	cfg := DefaultConfig()
	cfg.Log = t.Logf
	m, err := Train(train, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trained in %.1fs: %d training rows, %d validation rows from %s, best epoch %d",
		m.History.Seconds, m.History.TrainRows, m.History.ValidRows, m.History.ValidFrom, m.History.BestEpoch)
	p, r, err := m.Evaluate(valid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("KCS valid by probability:\n%v", p)
	t.Logf("KCS valid by expected revenue:\n%v", r)

	// the saved and loaded model scores through the seam as the trained one
	_, back := saveLoad(t, m)
	if back.ID() != m.ID() || back.ID() == "" {
		t.Fatalf("loaded ID %q, saved %q", back.ID(), m.ID())
	}
	var sm models.Model = back
	for _, rec := range valid[:1] {
		n := int(rec.NumRows())
		feats := make([]float64, n*len(sm.FeatureNames()))
		if err := sm.Features(rec, feats); err != nil {
			t.Fatal(err)
		}
		score, exp := make([]float64, n), make([]float64, n)
		if err := sm.Predict(rec, feats, score, exp); err != nil {
			t.Fatal(err)
		}
		score2, exp2 := make([]float64, n), make([]float64, n)
		if err := m.Predict(rec, feats, score2, exp2); err != nil {
			t.Fatal(err)
		}
		for i := range score {
			if score[i] != score2[i] || exp[i] != exp2[i] {
				t.Fatalf("row %d: loaded model scores %v %v, trained %v %v", i, score[i], exp[i], score2[i], exp2[i])
			}
		}
	}
}
