package models

import (
	"github.com/apache/arrow-go/v18/arrow"

	"risklane/decl"
	"risklane/features"
	"risklane/models/metrics"
)

// Evaluation is the ranking of a labelled data set by a model.
type Evaluation struct {
	RankBy RankBy
	metrics.Report
}

// BatchScorer is a model that scores a whole batch at once, faster than
// Features and Predict (on several cores): prob and expRev as Predict fills
// them, reused when large enough.
type BatchScorer interface {
	Model
	Score(rec arrow.RecordBatch, prob, expRev []float64) ([]float64, []float64, error)
}

// Evaluate scores batches with m and computes the metrics (docs/DESIGN.md,
// "Metrics") of their ranking by score or by expected revenue. A ranking m
// cannot give is refused (CheckRankBy).
func Evaluate(m Model, batches []arrow.RecordBatch, by RankBy) (Evaluation, error) {
	if by == "" {
		by = ByProbability
	}
	if err := CheckRankBy(m, by); err != nil {
		return Evaluation{}, err
	}
	labels, revenue, err := Outcomes(batches)
	if err != nil {
		return Evaluation{}, err
	}
	prob, exp, err := ScoreAll(m, batches)
	if err != nil {
		return Evaluation{}, err
	}
	scores := prob
	if by == ByExpectedRevenue {
		scores = exp
	}
	r, err := metrics.Evaluate(scores, labels, revenue, nil, 0.5)
	if err != nil {
		return Evaluation{}, err
	}
	return Evaluation{RankBy: by, Report: r}, nil
}

// ScoreAll scores every row of batches, in order: score and expected
// revenue as Predict gives them, through BatchScorer when m is one.
func ScoreAll(m Model, batches []arrow.RecordBatch) (score, expRev []float64, err error) {
	var p, e, feats []float64
	bs, fast := m.(BatchScorer)
	for _, b := range batches {
		if fast {
			if p, e, err = bs.Score(b, p, e); err != nil {
				return nil, nil, err
			}
		} else {
			n := int(b.NumRows())
			p, e = resize(p, n), resize(e, n)
			feats = resize(feats, n*len(m.FeatureNames()))
			if err := m.Features(b, feats); err != nil {
				return nil, nil, err
			}
			if err := m.Predict(b, feats, p, e); err != nil {
				return nil, nil, err
			}
		}
		score = append(score, p...)
		expRev = append(expRev, e...)
	}
	return score, expRev, nil
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// Outcomes reads the labels and revenue of batches: labels 1, 0 or -1 (not
// inspected), revenue NaN where null or when the data has no revenue column.
func Outcomes(batches []arrow.RecordBatch) ([]int8, []float64, error) {
	var labels []int8
	var revenue []float64
	for _, b := range batches {
		var err error
		if labels, err = features.ReadLabels(b, labels); err != nil {
			return nil, nil, err
		}
		c, err := decl.Float64s(b, decl.Revenue)
		if err != nil {
			return nil, nil, err
		}
		for i := range int(b.NumRows()) {
			revenue = append(revenue, decl.FloatAt(c, i))
		}
	}
	return labels, revenue, nil
}
