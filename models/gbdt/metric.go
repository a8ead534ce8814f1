package gbdt

import (
	"math"
	"slices"

	"risklane/models/xgb"
)

// metric evaluates the configured metric on margins against labels y.
func (t *trainer) metric(margin, y []float32) float64 {
	if len(y) == 0 {
		return math.NaN()
	}
	logistic := t.c.objective == xgb.BinaryLogistic
	if t.c.metric == AUC {
		// Rank probabilities, not margins: float32 saturation ties rows
		// exactly where XGBoost sees ties.
		p := make([]float32, len(margin))
		for i, m := range margin {
			p[i] = sigmoid(m)
		}
		return aucOf(p, y)
	}
	// Sum per fixed block, then the blocks in order: the same bits whatever
	// the thread count.
	blocks := make([]float64, (len(y)+blockRows-1)/blockRows)
	forBlocks(t.c.threads, len(y), func(lo, hi int) {
		s := 0.0
		for i := lo; i < hi; i++ {
			pred := margin[i]
			if logistic {
				pred = sigmoid(pred)
			}
			if t.c.metric == LogLoss {
				s += logLoss(float64(pred), float64(y[i]))
			} else {
				d := float64(y[i]) - float64(pred)
				s += d * d
			}
		}
		blocks[lo/blockRows] = s
	})
	sum := 0.0
	for _, b := range blocks {
		sum += b
	}
	mean := sum / float64(len(y))
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

// aucOf is the area under the ROC curve of scores against 0/1 labels, with
// tied scores sharing their average rank (the Mann-Whitney statistic).
func aucOf(score, y []float32) float64 {
	idx := make([]int32, len(score))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		switch {
		case score[a] < score[b]:
			return -1
		case score[a] > score[b]:
			return 1
		}
		return 0
	})
	var pos, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		var p float64
		for ; j < len(idx) && score[idx[j]] == score[idx[i]]; j++ {
			p += float64(y[idx[j]])
		}
		// Ranks i+1 .. j share their mean.
		rankSum += p * float64(i+1+j) / 2
		pos += p
		i = j
	}
	neg := float64(len(idx)) - pos
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}
