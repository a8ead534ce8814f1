package run

import (
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/models/riskmodel"
	"risklane/models/scorer"
	"risklane/models/xgb"
	"risklane/pipeline/score"
)

// riskModel is a trained model as a scoring run uses it: the fitted feature
// state, the probability ensemble scored through leaves, and optionally the
// revenue head.
type riskModel struct {
	id      string
	state   *features.State
	trees   *xgb.Model
	prob    *scorer.Scorer
	revenue *scorer.Scorer
	names   []string
}

// NewModel assembles a scoring model from its parts: the feature state, the
// probability ensemble (binary:logistic over the state's features) and, when
// not nil, the revenue head (reg:squarederror on log1p(revenue) of illicit
// rows, over the same features), whose prediction times the probability is
// the expected revenue. Without a revenue head, expected revenue is 0.
func NewModel(id string, st *features.State, prob, revenue *xgb.Model) (score.Model, error) {
	names := st.Names()
	for _, m := range []*xgb.Model{prob, revenue} {
		if m == nil {
			continue
		}
		if m.NumFeature != len(names) {
			return nil, fmt.Errorf("model %s: the trees take %d features, the feature state gives %d; the model folder is inconsistent, retrain it", id, m.NumFeature, len(names))
		}
		if len(m.FeatureNames) > 0 && !slices.Equal(m.FeatureNames, names) {
			return nil, fmt.Errorf("model %s: the trees' feature names differ from the feature state's; the model folder is inconsistent, retrain it", id)
		}
	}
	if prob.Objective != xgb.BinaryLogistic {
		return nil, fmt.Errorf("model %s: the risk model's objective is %s, want %s", id, prob.Objective, xgb.BinaryLogistic)
	}
	ps, err := scorer.New(prob)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", id, err)
	}
	m := &riskModel{id: id, state: st, trees: prob, prob: ps, names: names}
	if revenue != nil {
		if m.revenue, err = scorer.New(revenue); err != nil {
			return nil, fmt.Errorf("model %s: revenue head: %w", id, err)
		}
	}
	return m, nil
}

func (m *riskModel) ID() string                       { return m.id }
func (m *riskModel) FeatureNames() []string           { return m.names }
func (m *riskModel) Trees() *xgb.Model                { return m.trees }
func (m *riskModel) Check(schema *arrow.Schema) error { return m.state.Check(schema) }
func (m *riskModel) Columns() []string                { return m.state.Columns() }

func (m *riskModel) Features(rec arrow.RecordBatch, feats []float64) error {
	out, err := m.state.TransformRows(rec, feats)
	if err != nil {
		return err
	}
	if len(out) > 0 && &out[0] != &feats[0] {
		copy(feats, out)
	}
	return nil
}

// Predict scores one sub-batch on the calling goroutine: the scoring stage
// already runs one per core.
func (m *riskModel) Predict(feats []float64, prob, expRev []float64) error {
	n := len(prob)
	if err := m.prob.Predict(feats, n, prob, 1); err != nil {
		return err
	}
	if m.revenue == nil {
		clear(expRev)
		return nil
	}
	if err := m.revenue.Predict(feats, n, expRev, 1); err != nil {
		return err
	}
	for i, r := range expRev {
		expRev[i] = prob[i] * math.Max(0, math.Expm1(r))
	}
	return nil
}

// LoadModel loads a model folder written by risklane train (package
// riskmodel checks its files' hashes and that the trees take the features the
// state computes).
func LoadModel(dir string) (score.Model, error) {
	m, err := riskmodel.Load(dir)
	if err != nil {
		return nil, err
	}
	return NewModel(m.Manifest.ID, m.Features, m.Classifier, m.Revenue)
}
