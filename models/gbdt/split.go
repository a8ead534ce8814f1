package gbdt

import "math"

// kRtEps is XGBoost's smallest loss change worth a split.
const kRtEps = 1e-6

// split is the best split found for a node, in bin space.
type split struct {
	gain        float32 // loss change, as XGBoost stores it
	feature     int
	bin         int // rows with code <= bin go left; -1: every value goes right
	defaultLeft bool
	left, right gradSum
	found       bool
}

// better reports whether s should replace best, with XGBoost's
// SplitEntry::NeedReplace order: higher gain, and on a tie the lower feature.
func (s *split) better(best *split) bool {
	if !s.found {
		return false
	}
	if !best.found {
		return true
	}
	if best.feature <= s.feature {
		return s.gain > best.gain
	}
	return !(best.gain > s.gain)
}

func thresholdL1(g, alpha float64) float64 {
	switch {
	case g > alpha:
		return g - alpha
	case g < -alpha:
		return g + alpha
	}
	return 0
}

// gain is XGBoost's CalcGain for a node's statistics (max_delta_step 0, no
// monotone constraints): ThresholdL1(G)^2 / (H + lambda), divided in float32
// as TreeEvaluator::Divide does.
func (c *config) gain(s gradSum) float32 {
	if s.h <= 0 {
		return 0
	}
	t := thresholdL1(s.g, c.alpha)
	return float32(t*t) / float32(s.h+c.lambda)
}

// weight is XGBoost 1.7's CalcWeight: -ThresholdL1(G) / (H + lambda), or 0
// when the hessian is below min_child_weight. It is not yet scaled by eta.
func (c *config) weight(s gradSum) float32 {
	if s.h < c.minChild || s.h <= 0 {
		return 0
	}
	return float32(-thresholdL1(s.g, c.alpha) / (s.h + c.lambda))
}

// leafValue is the eta-scaled leaf output, rounded as XGBoost rounds it.
func (c *config) leafValue(s gradSum) float32 { return c.weight(s) * c.eta }

// bestFeatureSplit enumerates the split points of one feature as XGBoost's
// HistEvaluator::EnumerateSplit does: forward with missing values going
// right, then, when the node has missing values for the feature, backward
// with them going left. The first candidate with the highest gain wins.
//
// Two candidates need a threshold beyond every value: all values left (the
// last cut) and all values right (the minimum value). When a feature reaches
// float32's limit that threshold would be infinite, which no model file can
// hold; allLeft and allRight say whether each is allowed.
func (c *config) bestFeatureSplit(h *featureHist, nBins int, hasMissing bool, parent gradSum, parentGain float32, allLeft, allRight bool) split {
	best := split{}
	var left gradSum
	last := nBins
	if !allLeft {
		last--
	}
	for b := range last {
		s := h[b]
		if s.h == 0 && s.g == 0 {
			continue // an empty bin repeats the previous candidate
		}
		left = left.add(s)
		if left.h < c.minChild {
			continue
		}
		right := parent.sub(left)
		if right.h < c.minChild {
			break // hessians are positive: the right side only shrinks
		}
		g := (c.gain(left) + c.gain(right)) - parentGain
		if g > best.gain && !math.IsInf(float64(g), 0) {
			best = split{gain: g, bin: b, left: left, right: right, found: true}
		}
	}
	if !hasMissing || !(h[nBins].h > 0) {
		return best
	}
	var right gradSum
	first := 0
	if !allRight {
		first = 1
	}
	for b := nBins - 1; b >= first; b-- {
		s := h[b]
		if s.h == 0 && s.g == 0 {
			continue
		}
		right = right.add(s)
		if right.h < c.minChild {
			continue
		}
		left := parent.sub(right)
		if left.h < c.minChild {
			break
		}
		g := (c.gain(left) + c.gain(right)) - parentGain
		if g > best.gain && !math.IsInf(float64(g), 0) {
			best = split{gain: g, bin: b - 1, defaultLeft: true, left: left, right: right, found: true}
		}
	}
	return best
}

// acceptable applies XGBoost's CPUExpandEntry::IsValid to a node's best split.
func (c *config) acceptable(s *split) bool {
	return s.found && s.gain > kRtEps && s.gain >= c.gamma && s.left.h != 0 && s.right.h != 0
}
