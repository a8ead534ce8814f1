package report

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
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
// batches as `risklane rules` measures them (rules.ModelData: the training
// rows get the out-of-fold features the trees were trained on).
func Rules(m models.Ensemble, batches []arrow.RecordBatch, top int) (*RulesSection, error) {
	X, y, _, err := rules.ModelData(m, batches)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	opts := rules.DefaultOptions()
	opts.Top = top
	opts.Namer = rules.FeatureNamer(m.FeatureState())
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
