package report

import (
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/demo"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/riskmodel"
	"risklane/models/scorer"
)

// smallModel trains a quick model on the demo data before October and
// returns it with the October-to-December rows.
func smallModel(t *testing.T) (*riskmodel.Model, []arrow.RecordBatch) {
	t.Helper()
	paths, err := demo.WriteTo(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	batches, _, err := ingest.ReadAll(paths[:1], profile.Canonical(), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := riskmodel.SplitByDate(batches, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	cfg := riskmodel.DefaultConfig()
	cfg.Classifier.NumRounds, cfg.Classifier.MaxDepth = 20, 4
	cfg.Revenue.NumRounds = 10
	m, err := riskmodel.Train(train, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, test
}

// The report's metrics are the ones riskmodel's Evaluate (behind `risklane
// evaluate`) computes on the same rows, and each rule's counts are the
// labelled rows that leaves routes to its leaf.
func TestScoreAndRules(t *testing.T) {
	m, test := smallModel(t)
	scores, err := Score(m, test)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := ReadColumns(test)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := NewMetrics(scores, cols.Labels, cols.Revenue)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Evaluate(test, models.ByProbability)
	if err != nil {
		t.Fatal(err)
	}
	got, want := sec.Report, ev.Report
	if got.N != want.N || got.Illicit != want.Illicit || got.AUC != want.AUC || len(got.AtRates) != len(want.AtRates) {
		t.Fatalf("report %+v\nevaluate %+v", got, want)
	}
	for i := range want.AtRates {
		if got.AtRates[i] != want.AtRates[i] {
			t.Errorf("at %v%%: report %+v, evaluate %+v", want.AtRates[i].Rate, got.AtRates[i], want.AtRates[i])
		}
	}

	rs, err := Rules(m, test, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Rules) == 0 || len(rs.Rules) > 5 || rs.Rows != len(cols.Labels) {
		t.Fatalf("%d rules on %d rows", len(rs.Rules), rs.Rows)
	}
	// Route every row through the trees with the scorer and count the rows
	// of each leaf.
	st := m.State
	var cols2 [][]float64
	nf := len(st.Names())
	var rows []float64
	for _, b := range test {
		if cols2, err = st.Transform(b, cols2); err != nil {
			t.Fatal(err)
		}
		for i := range int(b.NumRows()) {
			for j := range nf {
				rows = append(rows, cols2[j][i])
			}
		}
	}
	sc, err := scorer.New(m.Classifier)
	if err != nil {
		t.Fatal(err)
	}
	n := len(cols.Labels)
	leaves := make([]int32, n*sc.NumTrees())
	if err := sc.PredictLeaves(rows, n, leaves, 1); err != nil {
		t.Fatal(err)
	}
	for k, r := range rs.Rules {
		support, illicit := 0, 0
		for i := range n {
			if leaves[i*sc.NumTrees()+r.Tree] != int32(r.Leaf) || cols.Labels[i] < 0 {
				continue
			}
			support++
			if cols.Labels[i] == 1 {
				illicit++
			}
		}
		if r.Rows != support || r.Illicit != illicit || r.Text == "" {
			t.Errorf("rule %d (%s): %d rows, %d frauds; routing the rows gives %d and %d", k+1, r.Text, r.Rows, r.Illicit, support, illicit)
		}
		base := float64(sec.Report.Illicit) / float64(sec.Report.N)
		if wantLift := float64(illicit) / float64(support) / base; math.Abs(r.Lift-wantLift) > 1e-9 {
			t.Errorf("rule %d: lift %v, want %v", k+1, r.Lift, wantLift)
		}
	}
}
