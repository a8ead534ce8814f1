package gbdt

import (
	"math"

	"risklane/models/xgb"
	"risklane/stats"
)

// metric evaluates the configured metric on margins against labels y,
// weighted by w (nil: every row 1) as XGBoost 1.7's metrics are: the sum of
// weight x loss over the sum of weights, and AUC from weighted counts.
func (t *trainer) metric(margin, y, w []float32) float64 {
	if len(y) == 0 {
		return math.NaN()
	}
	logistic := t.c.objective == xgb.BinaryLogistic
	if t.c.metric == AUC {
		// Rank probabilities, not margins: float32 saturation ties rows
		// exactly where XGBoost sees ties.
		p := make([]float32, len(margin))
		pos := make([]bool, len(y))
		for i, m := range margin {
			p[i] = sigmoid(m)
			pos[i] = y[i] > 0.5
		}
		if w != nil {
			return stats.WeightedAUC(p, pos, w)
		}
		return stats.AUC(p, pos)
	}
	// Sum per fixed block, then the blocks in order: the same bits whatever
	// the thread count.
	blocks := make([]gradSum, (len(y)+blockRows-1)/blockRows) // (loss, weight) sums
	forBlocks(t.c.threads, len(y), func(lo, hi int) {
		s := 0.0
		ws := float64(hi - lo)
		if w != nil {
			ws = 0
		}
		for i := lo; i < hi; i++ {
			pred := margin[i]
			if logistic {
				pred = sigmoid(pred)
			}
			var loss float64
			if t.c.metric == LogLoss {
				loss = logLoss(float64(pred), float64(y[i]))
			} else {
				d := float64(y[i]) - float64(pred)
				loss = d * d
			}
			if w != nil {
				loss *= float64(w[i])
				ws += float64(w[i])
			}
			s += loss
		}
		blocks[lo/blockRows] = gradSum{s, ws}
	})
	var sum gradSum
	for _, b := range blocks {
		sum = sum.add(b)
	}
	mean := sum.g / sum.h
	if t.c.metric == RMSE {
		return math.Sqrt(mean)
	}
	return mean
}

// logLoss is one row's negative log-likelihood, with the probability clipped
// to [1e-16, 1-1e-16] as XGBoost's logloss metric does.
func logLoss(p, y float64) float64 {
	const eps = 1e-16
	p = min(max(p, eps), 1-eps)
	return -(y*math.Log(p) + (1-y)*math.Log(1-p))
}
