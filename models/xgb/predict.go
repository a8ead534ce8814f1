package xgb

import "math"

// This file is the reference predictor: one row at a time, written to follow
// XGBoost's CPU predictor step by step rather than to be fast. Scoring goes
// through package scorer (its native engine, or leaves); tests check them
// against each other and against real XGBoost.

// BaseMargin returns the margin every prediction starts from:
// logit(BaseScore) for the sigmoid objectives (see Sigmoid), computed in
// float32 as XGBoost's ProbToMargin does, and BaseScore itself for
// reg:squarederror and binary:logitraw.
func (m *Model) BaseMargin() float32 {
	if m.Sigmoid() {
		q := 1/m.BaseScore - 1
		return float32(-math.Log(float64(q)))
	}
	return m.BaseScore
}

// Leaf returns the id of the leaf that row lands in. row holds at least as
// many values as the model has features; NaN marks a missing value, which
// follows DefaultLeft. As in XGBoost, a value goes left when, rounded to
// float32, it is less than the node's float32 threshold.
func (t *Tree) Leaf(row []float64) int {
	id := int32(0)
	for t.Left[id] != -1 {
		v := row[t.SplitIndex[id]]
		var left bool
		if math.IsNaN(v) {
			left = t.DefaultLeft[id]
		} else {
			left = float32(v) < t.SplitCondition[id]
		}
		if left {
			id = t.Left[id]
		} else {
			id = t.Right[id]
		}
	}
	return int(id)
}

// PredictMargin returns the raw score of one row of a validated model: the
// base margin plus every tree's leaf value, summed in float32 in tree order
// as XGBoost does. row is as for Leaf.
func (m *Model) PredictMargin(row []float64) float64 {
	sum := m.BaseMargin()
	for i := range m.Trees {
		t := &m.Trees[i]
		sum += t.SplitCondition[t.Leaf(row)]
	}
	return float64(sum)
}

// Predict returns the prediction for one row: the probability for the
// sigmoid objectives (the sigmoid of the margin, computed in float32 as
// XGBoost does), the margin itself for reg:squarederror and binary:logitraw.
func (m *Model) Predict(row []float64) float64 {
	margin := m.PredictMargin(row)
	if m.Sigmoid() {
		return float64(Sigmoid(float32(margin)))
	}
	return margin
}

// Sigmoid is XGBoost's common::Sigmoid: float32, with the exponent clipped
// at 88.7 so that expf cannot overflow.
func Sigmoid(x float32) float32 {
	e := float32(math.Exp(float64(min(-x, 88.7))))
	return 1 / (e + 1)
}
