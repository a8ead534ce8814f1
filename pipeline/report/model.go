package report

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/models"
	"risklane/models/gbdt"
	"risklane/models/metrics"
	"risklane/models/rules"
)

// Score returns the model's score of each row of batches (its probability
// of illicit for a models.Probabilistic model), in order: the scores
// models.Evaluate (and so `risklane evaluate`) ranks by probability.
func Score(m models.Model, batches []arrow.RecordBatch) ([]float64, error) {
	score, _, err := models.ScoreAll(m, batches)
	return score, err
}

// TopRules is the number of rules the report lists.
const TopRules = 10

// Rules extracts the model's strongest decision paths with the rules
// command's defaults (rules.DefaultOptions), measured on the labelled rows of
// batches.
func Rules(m models.Ensemble, batches []arrow.RecordBatch, top int) (*RulesSection, error) {
	st := m.FeatureState()
	names := st.Names()
	X := &gbdt.Matrix{Cols: make([][]float64, len(names)), Names: names}
	var y []float64
	var cols [][]float64
	var labels []int8
	for _, b := range batches {
		var err error
		if cols, err = st.Transform(b, cols); err != nil {
			return nil, err
		}
		for j := range X.Cols {
			X.Cols[j] = append(X.Cols[j], cols[j]...)
		}
		if labels, err = features.ReadLabels(b, labels[:0]); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		for _, l := range labels {
			if l == metrics.Unknown {
				y = append(y, math.NaN())
			} else {
				y = append(y, float64(l))
			}
		}
		X.Rows += int(b.NumRows())
	}
	opts := rules.DefaultOptions()
	opts.Top = top
	opts.Namer = rules.FeatureNamer(st)
	rs, err := rules.Extract(m.Trees(), X, y, opts)
	if err != nil {
		return nil, fmt.Errorf("report: rules: %w", err)
	}
	s := &RulesSection{Rows: X.Rows}
	for _, r := range rs {
		s.Rules = append(s.Rules, Rule{Text: r.Text(opts.Namer), Rows: r.Support, Illicit: r.Illicit, Lift: r.Lift, Tree: r.Tree, Leaf: r.Leaf})
	}
	return s, nil
}
