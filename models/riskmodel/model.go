package riskmodel

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/models"
	"risklane/models/explain"
	"risklane/models/gbdt"
	"risklane/models/metrics"
	"risklane/models/scorer"
	"risklane/models/xgb"
)

// Model is a trained risk model. Its scoring methods are safe for concurrent
// use.
type Model struct {
	Manifest   Manifest
	State      *features.State
	Classifier *xgb.Model
	// Revenue is the revenue head (reg:squarederror on log1p of the revenue
	// of illicit rows); nil when the model has none.
	Revenue *xgb.Model
	Metrics Metrics

	// built once by prepare: leaves scorers, the explainer, the names
	clf, rev *scorer.Scorer
	engine   scorer.Engine // "" is scorer.Native
	ex       *explain.Explainer
	names    []string
	rows     sync.Pool // row-major feature buffers
	leafIDs  sync.Pool // *[]int32, leaf ids for ContributionsRows
}

// Train fits the feature state on batches (the labelled history), trains the
// classifier on the out-of-fold features of its labelled rows and, unless
// there is too little revenue, the revenue head on its illicit rows with a
// known revenue. valid, which may be nil, is a validation set: it is scored
// as new declarations are (whole-history features) and only reported on.
func Train(batches, valid []arrow.RecordBatch, cfg Config) (*Model, error) {
	start := time.Now()
	if cfg.Classifier.NumRounds == 0 {
		return nil, errors.New("riskmodel: classifier parameters are unset; start from DefaultConfig")
	}
	st, fm, err := features.Fit(batches, cfg.Features)
	if err != nil {
		return nil, err
	}
	labels, revenue, err := models.Outcomes(batches)
	if err != nil {
		return nil, fmt.Errorf("riskmodel: training data: %w", err)
	}
	var lab []int
	var y []float64
	illicit := 0
	for i, l := range labels {
		if l >= 0 {
			lab = append(lab, i)
			y = append(y, float64(l))
			illicit += int(l)
		}
	}
	if illicit == 0 || illicit == len(lab) {
		return nil, fmt.Errorf("riskmodel: the training data has %d illicit rows among %d labelled: a classifier needs both classes", illicit, len(lab))
	}
	train := &gbdt.Matrix{Rows: len(lab), Cols: subset(fm.Cols, lab, fm.Rows), Names: fm.Names}
	var weights []float64 // every row's, nil for none
	if cfg.RowHalfLife != 0 {
		if err := models.CheckRowHalfLife(cfg.RowHalfLife); err != nil {
			return nil, fmt.Errorf("riskmodel: %w", err)
		}
		if weights, err = features.RecencyWeights(batches, cfg.RowHalfLife); err != nil {
			return nil, fmt.Errorf("riskmodel: --train-halflife: %w", err)
		}
		train.Weights = pick(weights, lab)
	}

	var vm *gbdt.Matrix
	var vy []float64
	var vlabels []int8
	var vrevenue []float64
	if len(valid) > 0 {
		cols, err := transformAll(st, valid)
		if err != nil {
			return nil, fmt.Errorf("riskmodel: validation data: %w", err)
		}
		if vlabels, vrevenue, err = models.Outcomes(valid); err != nil {
			return nil, fmt.Errorf("riskmodel: validation data: %w", err)
		}
		var vl []int
		for i, l := range vlabels {
			if l >= 0 {
				vl = append(vl, i)
				vy = append(vy, float64(l))
			}
		}
		if len(vl) == 0 {
			return nil, errors.New("riskmodel: the validation data has no labelled row")
		}
		vm = &gbdt.Matrix{Rows: len(vl), Cols: subset(cols, vl, len(vlabels)), Names: fm.Names}
	}

	if cfg.NoDiagnostics {
		cfg.Classifier.EvalTrain, cfg.Revenue.EvalTrain = false, false
	}
	cp := cfg.Classifier
	cp.Objective = xgb.BinaryLogistic
	clf, rep, err := gbdt.Train(train, y, vm, vy, cp)
	if err != nil {
		return nil, fmt.Errorf("riskmodel: classifier: %w", err)
	}
	m := &Model{State: st, Classifier: clf}
	m.Metrics.Train = TrainSummary{
		Rows: fm.Rows, Labelled: len(lab), Illicit: illicit, Features: len(fm.Names),
		Trees: len(clf.Trees), BestIteration: rep.BestIteration,
	}
	m.Metrics.ValidCurve = rep.Valid
	m.Metrics.CurveMetric = rep.Metric
	m.Metrics.Importance = importance(rep, st)

	var rp *gbdt.Params
	if !cfg.NoRevenueHead {
		rev, sum, err := trainRevenue(fm.Cols, fm.Names, labels, revenue, weights, vm, vlabels, vrevenue, valid != nil, cfg.Revenue)
		if err != nil {
			return nil, err
		}
		m.Revenue, m.Metrics.RevenueHead = rev, sum
		if rev != nil {
			p := cfg.Revenue
			p.Objective = xgb.RegSquaredError
			rp = &p
		}
	}
	if err := m.prepare(); err != nil {
		return nil, err
	}

	// in-sample metrics on the training rows (out-of-fold features)
	if !cfg.NoDiagnostics {
		tr, err := m.evaluateMatrix(fm.Cols, fm.Rows, labels, revenue)
		if err != nil {
			return nil, err
		}
		m.Metrics.Training = &tr
	}
	if len(valid) > 0 {
		bp, err := m.Evaluate(valid, models.ByProbability)
		if err != nil {
			return nil, err
		}
		m.Metrics.Validation = &bp.Report
		if m.Revenue != nil {
			br, err := m.Evaluate(valid, models.ByExpectedRevenue)
			if err != nil {
				return nil, err
			}
			m.Metrics.ValidationByRevenue = &br.Report
		}
	}
	m.Metrics.TrainSeconds = time.Since(start).Seconds()
	m.Manifest = newManifest(cfg, st, cp, rp)
	return m, nil
}

// Evaluation is the ranking of a labelled data set by a model.
type Evaluation = models.Evaluation

// Evaluate scores batches and computes the metrics of their ranking by
// probability or by expected revenue (models.Evaluate).
func (m *Model) Evaluate(batches []arrow.RecordBatch, by models.RankBy) (Evaluation, error) {
	ev, err := models.Evaluate(m, batches, by)
	if err != nil {
		return Evaluation{}, fmt.Errorf("riskmodel: %w", err)
	}
	return ev, nil
}

// Score computes, for every row of rec, the probability that it is illicit
// and its expected revenue (probability times the revenue head's prediction;
// 0 without a revenue head). prob and expRev are reused when large enough.
// It fails, naming them, when rec lacks columns the features need.
func (m *Model) Score(rec arrow.RecordBatch, prob, expRev []float64) ([]float64, []float64, error) {
	n := int(rec.NumRows())
	buf, _ := m.rows.Get().(*[]float64)
	if buf == nil {
		buf = new([]float64)
	}
	defer m.rows.Put(buf)
	rows, err := m.State.TransformRows(rec, *buf)
	if err != nil {
		return nil, nil, err
	}
	*buf = rows
	prob, expRev = grow(prob, n), grow(expRev, n)
	if err := m.predict(rows, prob, expRev, 0); err != nil {
		return nil, nil, err
	}
	return prob, expRev, nil
}

// predict scores len(prob) rows of row-major features on threads
// goroutines (0: GOMAXPROCS): prob the classifier's probability, expRev
// the expected revenue, prob times the revenue head's prediction (expm1 of
// its log1p scale, floored at 0), or 0 without a revenue head.
func (m *Model) predict(rows, prob, expRev []float64, threads int) error {
	return m.predictFrom(rows, nil, prob, expRev, threads)
}

// predictFrom is predict of row-major rows, or of column-major cols
// (cols[j][i] is feature j of row i) when rows is nil.
func (m *Model) predictFrom(rows []float64, cols [][]float64, prob, expRev []float64, threads int) error {
	n := len(prob)
	heads := []scorer.Head{{Scorer: m.clf, Out: prob}}
	if m.rev != nil {
		// Both heads in one pass over each block of rows (docs/scoring-engine.md).
		heads = append(heads, scorer.Head{Scorer: m.rev, Out: expRev})
	}
	var err error
	if cols != nil {
		err = scorer.PredictAllColumns(cols, n, threads, heads...)
	} else {
		err = scorer.PredictAll(rows, n, threads, heads...)
	}
	if err != nil {
		return fmt.Errorf("riskmodel: %w", err)
	}
	if m.rev == nil {
		clear(expRev)
		return nil
	}
	for i, r := range expRev {
		expRev[i] = prob[i] * math.Max(0, math.Expm1(r))
	}
	return nil
}

// New assembles a model from its parts: the fitted feature state, the
// classifier (binary:logistic over the state's features) and, when not
// nil, the revenue head over the same features. It validates them as Load
// does; the model's ID is the one Save would give it.
func New(st *features.State, classifier, revenue *xgb.Model) (*Model, error) {
	m := &Model{State: st, Classifier: classifier, Revenue: revenue}
	m.Metrics.Train.Features = len(st.Names())
	if err := m.prepare(); err != nil {
		return nil, err
	}
	files, err := m.files()
	if err != nil {
		return nil, err
	}
	m.Manifest.Features = st.Names()
	m.Manifest.Groups = st.Groups()
	m.Manifest.Files = models.Hashes(files)
	m.Manifest.ID = models.FolderID(m.Manifest.Files)
	return m, nil
}

// WithClassifier returns a copy of m that uses c as its classifier: a model
// trained elsewhere (Python XGBoost) on the features m's state computes, in
// the same order. c must be binary:logistic over exactly those features.
// Its ID is m's with the classifier's file replaced by c's XGBoost JSON.
func (m *Model) WithClassifier(c *xgb.Model) (*Model, error) {
	out := &Model{Manifest: m.Manifest, State: m.State, Classifier: c, Revenue: m.Revenue, Metrics: m.Metrics}
	if err := out.prepare(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := xgb.WriteJSON(&b, c); err != nil {
		return nil, fmt.Errorf("riskmodel: %w", err)
	}
	hashes := maps.Clone(m.Manifest.Files)
	delete(hashes, ModelBinFile)
	hashes[ModelFile] = models.Hashes(map[string][]byte{ModelFile: b.Bytes()})[ModelFile]
	out.Manifest.Files = hashes
	out.Manifest.ID = models.FolderID(hashes)
	return out, nil
}

// UseEngine makes the model walk its trees with the given engine:
// scorer.Native (the default) or scorer.Leaves, which `risklane score
// --engine leaves` selects to compare (docs/scoring-engine.md). Call it
// before the model is shared.
func (m *Model) UseEngine(engine scorer.Engine) error {
	m.engine = engine
	return m.prepare()
}

// prepare checks that the trees take the state's features and prepares
// them for the model's tree engine.
func (m *Model) prepare() error {
	names := m.State.Names()
	if !m.Classifier.Sigmoid() {
		return fmt.Errorf("riskmodel: the classifier's objective is %s; risklane ranks with %s or %s models (their score is a probability)", m.Classifier.Objective, xgb.BinaryLogistic, xgb.RegLogistic)
	}
	for _, t := range []struct {
		what string
		m    *xgb.Model
	}{{"classifier", m.Classifier}, {"revenue head", m.Revenue}} {
		if t.m == nil {
			continue
		}
		if t.m.NumFeature != len(names) {
			return fmt.Errorf("riskmodel: the %s takes %d features but the feature state computes %d (%s); they were not trained together",
				t.what, t.m.NumFeature, len(names), summarize(names))
		}
		if len(t.m.FeatureNames) > 0 && !slices.Equal(t.m.FeatureNames, names) {
			return fmt.Errorf("riskmodel: the %s's features differ from the feature state's: %s",
				t.what, firstDifference(t.m.FeatureNames, names))
		}
	}
	var err error
	if m.clf, err = scorer.NewEngine(m.Classifier, m.engine); err != nil {
		return fmt.Errorf("riskmodel: classifier: %w", err)
	}
	if m.ex, err = explain.New(m.Classifier); err != nil {
		return fmt.Errorf("riskmodel: classifier: %w", err)
	}
	m.rev = nil
	if m.Revenue != nil {
		if m.rev, err = scorer.NewEngine(m.Revenue, m.engine); err != nil {
			return fmt.Errorf("riskmodel: revenue head: %w", err)
		}
	}
	m.names = names
	return nil
}

func summarize(names []string) string {
	if len(names) <= 6 {
		return fmt.Sprint(names)
	}
	return fmt.Sprintf("%v ... %v", names[:3], names[len(names)-3:])
}

func firstDifference(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("feature %d is %q in the trees and %q in the state", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("the trees name %d features, the state %d", len(got), len(want))
}

// trainRevenue trains the revenue head on the illicit training rows with a
// known, non-negative revenue; nil when there are fewer than MinRevenueRows.
func trainRevenue(cols [][]float64, names []string, labels []int8, revenue, weights []float64,
	vm *gbdt.Matrix, vlabels []int8, vrevenue []float64, hasValid bool, p gbdt.Params) (*xgb.Model, RevenueSummary, error) {
	var idx []int
	var y []float64
	for i, l := range labels {
		if l == 1 && revenue[i] >= 0 {
			idx = append(idx, i)
			y = append(y, math.Log1p(revenue[i]))
		}
	}
	sum := RevenueSummary{Rows: len(idx)}
	if len(idx) < MinRevenueRows {
		sum.Note = fmt.Sprintf("no revenue head: %d illicit training rows have a revenue, %d needed", len(idx), MinRevenueRows)
		return nil, sum, nil
	}
	train := &gbdt.Matrix{Rows: len(idx), Cols: subset(cols, idx, len(labels)), Names: names}
	if weights != nil {
		train.Weights = pick(weights, idx)
	}
	var vmat *gbdt.Matrix
	var vy []float64
	if hasValid {
		// vm holds the labelled validation rows in order; pick the illicit
		// ones with a revenue
		var vidx []int
		j := 0
		for i, l := range vlabels {
			if l < 0 {
				continue
			}
			if l == 1 && vrevenue[i] >= 0 {
				vidx = append(vidx, j)
				vy = append(vy, math.Log1p(vrevenue[i]))
			}
			j++
		}
		if len(vidx) > 0 {
			vmat = &gbdt.Matrix{Rows: len(vidx), Cols: subset(vm.Cols, vidx, vm.Rows), Names: names}
		} else {
			vy = nil
		}
	}
	p.Objective = xgb.RegSquaredError
	p.EarlyStoppingRounds = 0
	m, rep, err := gbdt.Train(train, y, vmat, vy, p)
	if err != nil {
		return nil, sum, fmt.Errorf("riskmodel: revenue head: %w", err)
	}
	if len(rep.Valid) > 0 {
		v := rep.Valid[len(rep.Valid)-1]
		sum.ValidRMSE = &v
	}
	return m, sum, nil
}

func importance(rep *gbdt.Report, st *features.State) []Importance {
	names, groups := st.Names(), st.GroupOf()
	total := 0.0
	for _, g := range rep.Gain {
		total += g
	}
	var out []Importance
	for i, n := range names {
		g, ok := rep.Gain[n]
		if !ok {
			continue
		}
		share := 0.0
		if total > 0 {
			share = g / total
		}
		out = append(out, Importance{Feature: n, Group: groups[i], Gain: g, Cover: rep.Cover[n], Splits: rep.Splits[n], Share: share})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Gain > out[b].Gain })
	return out
}

// evaluateMatrix ranks rows given column-major features.
func (m *Model) evaluateMatrix(cols [][]float64, n int, labels []int8, revenue []float64) (metrics.Report, error) {
	nf := len(cols)
	rows := make([]float64, n*nf)
	for j, c := range cols {
		for i, v := range c[:n] {
			rows[i*nf+j] = v
		}
	}
	prob := make([]float64, n)
	if err := m.clf.Predict(rows, n, prob, 0); err != nil {
		return metrics.Report{}, err
	}
	return metrics.Evaluate(prob, labels, revenue, nil, 0.5)
}

// transformAll computes the scoring-time features of batches, column-major.
func transformAll(st *features.State, batches []arrow.RecordBatch) ([][]float64, error) {
	out := make([][]float64, len(st.Names()))
	var cols [][]float64
	var err error
	for _, b := range batches {
		if cols, err = st.Transform(b, cols); err != nil {
			return nil, err
		}
		for j := range out {
			out[j] = append(out[j], cols[j]...)
		}
	}
	return out, nil
}

// subset returns the rows idx of every column; the columns themselves when
// idx is every row.
func subset(cols [][]float64, idx []int, n int) [][]float64 {
	if len(idx) == n {
		return cols
	}
	out := make([][]float64, len(cols))
	for j, c := range cols {
		s := make([]float64, len(idx))
		for k, i := range idx {
			s[k] = c[i]
		}
		out[j] = s
	}
	return out
}

// pick returns x[i] for each i of idx.
func pick(x []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = x[i]
	}
	return out
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
