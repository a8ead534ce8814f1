package report

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/models/gbdt"
	"risklane/models/metrics"
	"risklane/models/riskmodel"
	"risklane/models/rules"
)

// Score returns the model's probability that each row of batches is
// illicit, in order: the scores riskmodel's Evaluate (and so `risklane
// evaluate`) ranks by probability.
func Score(m *riskmodel.Model, batches []arrow.RecordBatch) ([]float64, error) {
	var out, prob, exp []float64
	var err error
	for _, b := range batches {
		if prob, exp, err = m.Score(b, prob, exp); err != nil {
			return nil, err
		}
		out = append(out, prob...)
	}
	return out, nil
}

// TopRules is the number of rules the report lists.
const TopRules = 10

// Rules extracts the model's strongest decision paths with the rules
// command's defaults (rules.DefaultOptions), measured on the labelled rows of
// batches.
func Rules(m *riskmodel.Model, batches []arrow.RecordBatch, top int) (*RulesSection, error) {
	names := m.Features.Names()
	X := &gbdt.Matrix{Cols: make([][]float64, len(names)), Names: names}
	var y []float64
	var cols [][]float64
	var labels []int8
	for _, b := range batches {
		var err error
		if cols, err = m.Features.Transform(b, cols); err != nil {
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
	opts.Namer = rules.FeatureNamer(m.Features)
	rs, err := rules.Extract(m.Classifier, X, y, opts)
	if err != nil {
		return nil, fmt.Errorf("report: rules: %w", err)
	}
	s := &RulesSection{Rows: X.Rows}
	for _, r := range rs {
		s.Rules = append(s.Rules, Rule{Text: r.Text(opts.Namer), Rows: r.Support, Illicit: r.Illicit, Lift: r.Lift, Tree: r.Tree, Leaf: r.Leaf})
	}
	return s, nil
}
