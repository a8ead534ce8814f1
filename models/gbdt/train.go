package gbdt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"risklane/models/xgb"
)

// trainer holds one training run's state.
type trainer struct {
	c           config
	names       []string
	featNames   []string // names for the report: Names or f0, f1, ...
	bins        *binned
	allFeatures []int

	y      []float32
	w      []float32 // row weights as float32, as XGBoost keeps them; nil: all 1
	margin []float32 // training margins, accumulated exactly as a predictor would
	gh     []gradPair

	valid   [][]float32 // validation features as float32, column by column
	yValid  []float32
	wValid  []float32
	vMargin []float32

	baseScore  float32
	baseMargin float32

	rng *rand.Rand

	// Per-tree scratch, sized once.
	rows              []uint32 // sampled rows, grouped by node as the tree grows
	outOfSample       []uint32 // rows left out of the round's sample
	ordered           []gradPair
	tmpLeft, tmpRight []uint32
	hists             histPool
}

func newTrainer(train *Matrix, y []float64, valid *Matrix, yValid []float64, c config) (*trainer, error) {
	n, nf := train.Rows, len(train.Cols)
	t := &trainer{
		c:        c,
		names:    train.Names,
		y:        toFloat32(y),
		w:        weights32(train.Weights),
		margin:   make([]float32, n),
		gh:       make([]gradPair, n),
		rows:     make([]uint32, n),
		ordered:  make([]gradPair, n),
		tmpLeft:  make([]uint32, n),
		tmpRight: make([]uint32, n),
		hists:    histPool{size: nf * slotsPerFeature},
		rng:      rand.New(rand.NewPCG(c.seed, 0x6a09e667f3bcc909)),
	}
	t.featNames = make([]string, nf)
	for f := range nf {
		if len(train.Names) == nf {
			t.featNames[f] = train.Names[f]
		} else {
			t.featNames[f] = fmt.Sprintf("f%d", f)
		}
		t.allFeatures = append(t.allFeatures, f)
	}
	if err := t.initBase(y, train.Weights); err != nil {
		return nil, err
	}
	for i := range t.margin {
		t.margin[i] = t.baseMargin
	}
	t.bins = quantise(train, c.maxBin, c.threads)
	if valid != nil {
		t.valid = make([][]float32, nf)
		for f, col := range valid.Cols {
			t.valid[f] = toFloat32(col)
		}
		t.yValid = toFloat32(yValid)
		t.wValid = weights32(valid.Weights)
		t.vMargin = make([]float32, valid.Rows)
		for i := range t.vMargin {
			t.vMargin[i] = t.baseMargin
		}
	}
	if c.metric == AUC {
		if err := bothClasses("training", y, c.evalTrain); err != nil {
			return nil, err
		}
		if err := bothClasses("validation", yValid, valid != nil); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func bothClasses(which string, y []float64, used bool) error {
	if !used {
		return nil
	}
	pos := 0
	for _, v := range y {
		if v == 1 {
			pos++
		}
	}
	if pos == 0 || pos == len(y) {
		return fmt.Errorf("gbdt: AUC needs both classes, but the %d %s labels are all %v; use %q or another validation set", len(y), which, y[0], LogLoss)
	}
	return nil
}

// weights32 is toFloat32 of weights, keeping nil as nil.
func weights32(w []float64) []float32 {
	if w == nil {
		return nil
	}
	return toFloat32(w)
}

func toFloat32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// initBase sets the base score (automatic when 0) and the margin it starts
// from. XGBoost 1.7 never reads the weights here (its base_score is a fixed
// 0.5 unless given); the automatic regression base score, the mean label, is
// the weighted mean when there are weights, as XGBoost 2.x's intercept is.
func (t *trainer) initBase(y, w []float64) error {
	bs := t.c.baseScore
	if bs == 0 {
		if t.c.objective == xgb.BinaryLogistic {
			bs = 0.5
		} else if w == nil {
			sum := 0.0
			for _, v := range y {
				sum += v
			}
			bs = sum / float64(len(y))
		} else {
			sum, wsum := 0.0, 0.0
			for i, v := range y {
				sum += float64(float32(w[i])) * v
				wsum += float64(float32(w[i]))
			}
			bs = sum / wsum
		}
	}
	t.baseScore = float32(bs)
	t.baseMargin = t.baseScore
	if t.c.objective == xgb.BinaryLogistic {
		// XGBoost's ProbToMargin, -logf(1/base_score - 1), in float32.
		t.baseMargin = float32(-math.Log(float64(1/t.baseScore - 1)))
	}
	if math.IsInf(float64(t.baseMargin), 0) || math.IsNaN(float64(t.baseMargin)) {
		return fmt.Errorf("gbdt: base score %v gives no finite margin", bs)
	}
	return nil
}

// run boosts the rounds and assembles the model and report.
func (t *trainer) run() (*xgb.Model, *Report, error) {
	c := &t.c
	rep := &Report{Metric: c.metric, BaseScore: float64(t.baseScore)}
	maximize := c.metric == AUC
	var trees []xgb.Tree
	best, bestScore := 0, math.NaN()
	for round := range c.rounds {
		t.gradients()
		m := t.sampleRows()
		tb, leaves := t.growTree(m)
		if err := checkFinite(&tb.tree, round); err != nil {
			return nil, nil, err
		}
		trees = append(trees, tb.tree)
		t.updateTrainMargins(tb, leaves)
		if c.evalTrain {
			rep.Train = append(rep.Train, t.metric(t.margin, t.y, t.w))
		}
		if t.valid == nil {
			t.logRound(rep, round, false)
			continue
		}
		t.updateValidMargins(&tb.tree)
		score := t.metric(t.vMargin, t.yValid, t.wValid)
		rep.Valid = append(rep.Valid, score)
		if round == 0 || (maximize && score > bestScore) || (!maximize && score < bestScore) {
			best, bestScore = round, score
		}
		stop := c.earlyStop > 0 && round-best >= c.earlyStop
		t.logRound(rep, round, stop)
		if stop {
			break
		}
	}
	if c.earlyStop > 0 {
		trees = trees[:best+1]
	}
	rep.BestIteration = len(trees) - 1
	model := &xgb.Model{
		Objective:  c.objective,
		BaseScore:  t.baseScore,
		NumFeature: len(t.allFeatures),
		Trees:      trees,
	}
	if len(t.names) > 0 {
		model.FeatureNames = slices.Clone(t.names)
	}
	if c.earlyStop > 0 {
		// As XGBoost records them; the model holds exactly the trees up to
		// best_iteration, so both agree with scoring every tree.
		model.Attributes = map[string]string{
			"best_iteration": strconv.Itoa(best),
			"best_score":     strconv.FormatFloat(bestScore, 'g', -1, 64),
		}
	}
	rep.Gain, rep.Cover, rep.Splits = importance(trees, t.featNames)
	return model, rep, nil
}

// checkFinite refuses a tree with an infinite or NaN value, which no model
// file can hold: it only arises when labels, Eta or ScalePosWeight push the
// float32 arithmetic XGBoost uses beyond its range.
func checkFinite(tr *xgb.Tree, round int) error {
	for n := range tr.NumNodes() {
		for _, v := range []struct {
			what string
			v    float32
		}{{"value", tr.SplitCondition[n]}, {"weight", tr.BaseWeight[n]}, {"gain", tr.LossChange[n]}, {"cover", tr.SumHessian[n]}} {
			if f := float64(v.v); math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("gbdt: round %d: node %d has %s %v: training overflowed float32 (rescale the labels, or lower Eta or ScalePosWeight)", round, n, v.what, v.v)
			}
		}
	}
	return nil
}

func importance(trees []xgb.Tree, names []string) (gain, cover map[string]float64, splits map[string]int) {
	gain, cover, splits = map[string]float64{}, map[string]float64{}, map[string]int{}
	for i := range trees {
		tr := &trees[i]
		for n := range tr.NumNodes() {
			if tr.IsLeaf(n) {
				continue
			}
			name := names[tr.SplitIndex[n]]
			gain[name] += float64(tr.LossChange[n])
			cover[name] += float64(tr.SumHessian[n])
			splits[name]++
		}
	}
	return gain, cover, splits
}

// gradients computes every row's gradient pair from its current margin, as
// XGBoost's objectives do in float32: both multiplied by the row's weight,
// which ScalePosWeight multiplies for positive rows.
func (t *trainer) gradients() {
	logistic := t.c.objective == xgb.BinaryLogistic
	scale := t.c.scalePos
	forBlocks(t.c.threads, len(t.gh), func(lo, hi int) {
		gh, y, margin := t.gh[lo:hi], t.y[lo:hi], t.margin[lo:hi]
		var weights []float32
		if t.w != nil {
			weights = t.w[lo:hi]
		}
		for i := range gh {
			w := float32(1)
			if weights != nil {
				w = weights[i]
			}
			if !logistic {
				if weights == nil {
					gh[i] = gradPair{margin[i] - y[i], 1}
				} else {
					gh[i] = gradPair{(margin[i] - y[i]) * w, w}
				}
				continue
			}
			p := sigmoid(margin[i])
			if y[i] == 1 {
				w *= scale
			}
			gh[i] = gradPair{(p - y[i]) * w, max(p*(1-p), 1e-16) * w}
		}
	})
}

// sigmoid is XGBoost's common::Sigmoid: 1 / (expf(min(-x, 88.7)) + 1) in
// float32 (its extra 1e-16 vanishes in float32).
func sigmoid(x float32) float32 {
	return 1 / (float32(math.Exp(float64(min(-x, 88.7)))) + 1)
}

// sampleRows draws the round's rows into t.rows[:m] (in row order) and the
// others into t.outOfSample, and returns m.
func (t *trainer) sampleRows() int {
	n := len(t.rows)
	if t.c.subsample >= 1 {
		for i := range t.rows {
			t.rows[i] = uint32(i)
		}
		t.outOfSample = t.outOfSample[:0]
		return n
	}
	limit := uint64(t.c.subsample * (1 << 64))
	m := 0
	out := t.outOfSample[:0]
	for i := range n {
		if t.rng.Uint64() < limit {
			t.rows[m] = uint32(i)
			m++
		} else {
			out = append(out, uint32(i))
		}
	}
	t.outOfSample = out
	return m
}

// sampleFeatures draws max(1, floor(frac * len(from))) features from from,
// in ascending order, as XGBoost's ColumnSampler does.
func (t *trainer) sampleFeatures(from []int, frac float32) []int {
	if frac >= 1 {
		return from
	}
	k := max(1, int(frac*float32(len(from))))
	s := slices.Clone(from)
	t.rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	s = s[:k]
	slices.Sort(s)
	return s
}

// sumGradients sums the gradient pairs of t.rows[:m] by fixed blocks, then
// the blocks in order.
func (t *trainer) sumGradients(m int) gradSum {
	blocks := make([]gradSum, (m+blockRows-1)/blockRows)
	forBlocks(t.c.threads, m, func(lo, hi int) {
		var s gradSum
		for _, r := range t.rows[lo:hi] {
			s.g += float64(t.gh[r].g)
			s.h += float64(t.gh[r].h)
		}
		blocks[lo/blockRows] = s
	})
	var s gradSum
	for _, b := range blocks {
		s = s.add(b)
	}
	return s
}

// updateTrainMargins adds the new tree's output to every training row: the
// sampled rows through the leaf that holds them, the others by walking the
// tree in bin space (which the thresholds make equal to walking it on the
// float32 values).
func (t *trainer) updateTrainMargins(tb *treeBuilder, leaves []*node) {
	var tasks []rowRange
	var values []float32
	for _, l := range leaves {
		for _, r := range appendBlocks(nil, l.begin, l.end) {
			tasks = append(tasks, r)
			values = append(values, tb.tree.SplitCondition[l.id])
		}
	}
	parallelFor(t.c.threads, len(tasks), func(i int) {
		v := values[i]
		for _, r := range t.rows[tasks[i].lo:tasks[i].hi] {
			t.margin[r] += v
		}
	})
	out := t.outOfSample
	forBlocks(t.c.threads, len(out), func(lo, hi int) {
		tr := &tb.tree
		for _, r := range out[lo:hi] {
			n := int32(0)
			for tr.Left[n] != -1 {
				f := tr.SplitIndex[n]
				code := int(t.bins.codes[f][r])
				var left bool
				if t.bins.missing[f] && code == t.bins.nBins[f] {
					left = tr.DefaultLeft[n]
				} else {
					left = code <= int(tb.bin[n])
				}
				if left {
					n = tr.Left[n]
				} else {
					n = tr.Right[n]
				}
			}
			t.margin[r] += tr.SplitCondition[n]
		}
	})
}

// updateValidMargins adds the tree's output to every validation row, walking
// it on the float32 feature values exactly as XGBoost's predictor does.
func (t *trainer) updateValidMargins(tr *xgb.Tree) {
	forBlocks(t.c.threads, len(t.vMargin), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n := int32(0)
			for tr.Left[n] != -1 {
				x := t.valid[tr.SplitIndex[n]][r]
				switch {
				case x != x:
					if tr.DefaultLeft[n] {
						n = tr.Left[n]
					} else {
						n = tr.Right[n]
					}
				case x < tr.SplitCondition[n]:
					n = tr.Left[n]
				default:
					n = tr.Right[n]
				}
			}
			t.vMargin[r] += tr.SplitCondition[n]
		}
	})
}

// logRound writes the evaluation log line of a round (Params.EvalLog) when
// the round is the first, a multiple of the step, the last or the one early
// stopping ends on.
func (t *trainer) logRound(rep *Report, round int, stop bool) {
	w := t.c.evalLog
	if w == nil || (len(rep.Train) == 0 && len(rep.Valid) == 0) {
		return
	}
	every := t.c.evalLogEvery
	if every <= 0 {
		every = 50
	}
	if round != 0 && round%every != 0 && round != t.c.rounds-1 && !stop {
		return
	}
	line := fmt.Sprintf("[%d]", round)
	if len(rep.Train) > round {
		line += fmt.Sprintf("\ttrain-%s:%.5f", t.c.metric, rep.Train[round])
	}
	if len(rep.Valid) > round {
		line += fmt.Sprintf("\tvalid-%s:%.5f", t.c.metric, rep.Valid[round])
	}
	fmt.Fprintln(w, line)
}
