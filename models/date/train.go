package date

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/decl"
	"risklane/features"
	"risklane/models"
	"risklane/models/metrics"
	"risklane/models/riskmodel"
	"risklane/stats"
)

// Config holds DATE's training parameters. DefaultConfig documents the
// defaults, which follow the DATE paper's public code where it has one.
type Config struct {
	// LeafTrees: the features, the tree ensemble whose leaves are DATE's
	// cross features (DATE: 100 trees of depth 4; risklane: the GBDT's 400
	// of depth 10) and the seed.
	models.LeafTrees
	// Dim is the width of the embeddings and hidden layers; Heads the
	// self-attention's heads; SelfAtt turns the self-attention on.
	Dim, Heads int
	SelfAtt    bool
	// Alpha weighs the revenue head's squared error against the
	// classifier's cross-entropy.
	Alpha float64
	// RevenueInputs names features the revenue head takes directly (over
	// the revenue scale, a missing value as 0), beside the hidden layer:
	// the declared value and taxes that revenue at stake scales with, which
	// the cross-feature trees, grown to separate fraud, hardly split on.
	// Names the feature state does not compute are skipped.
	RevenueInputs []string
	// TreeMargin adds the cross-feature trees' margin, weighed by a learned
	// scalar, to the classifier's logit (Arch.Margin).
	TreeMargin bool
	// MarginFolds, when 2 or more, trains the network on out-of-fold tree
	// margins: each training row's margin comes from trees of the same
	// parameters trained on the other folds only (K = MarginFolds, the
	// feature layer's folds taken mod K), not from the trees that fitted it;
	// scoring and the validation period use the full trees' margins. It
	// costs about K times the trees' training. 0: off.
	MarginFolds int `json:",omitempty"`
	// RevHidden is the width of the revenue tower (Arch.RevHid; 0: the
	// revenue output on the hidden layer the classifier shares).
	RevHidden int `json:",omitempty"`
	// RevStandard standardises the revenue target (log1p(revenue) less its
	// mean over the illicit training rows, over their standard deviation)
	// instead of dividing it by its maximum: the head's errors are then of
	// the classifier's loss's size, not a thousandth of it.
	RevStandard bool `json:",omitempty"`
	// Calibrate fits, after training, the probability's calibration on the
	// validation period: P(illicit) = sigmoid(a logit + b), a and b of
	// the least cross-entropy (Platt scaling; a network trained on the
	// in-sample margins of its own trees is overconfident on new rows). It
	// leaves the ranking by probability as it is and changes how the
	// expected revenue, probability times revenue, weighs the two.
	Calibrate bool `json:",omitempty"`
	Adam      Adam
	// Epochs is the most passes over the training rows; training stops
	// earlier when the validation AUC has not improved for Patience epochs,
	// keeping the best epoch's weights.
	Epochs, BatchSize, Patience int
	// StopOnRevenue stops early on the validation period's revenue
	// captured by the dual score (the mean of Revenue@1% and @2%) instead
	// of the probability's AUC. The revenue head shares the network with the
	// classifier and was, on AUC alone, kept at whatever epoch suited the
	// classifier (often the first).
	StopOnRevenue bool `json:",omitempty"`
	// RevWeight, when above 0, weighs each illicit training row's
	// cross-entropy by its revenue to this power, over the illicit rows'
	// mean (clipped to 1/20..20 of it, mean 1; licit rows weigh 1): the
	// classifier learns to rank the high-revenue frauds first (revWeights).
	// A training-only option: scoring does not change.
	RevWeight float64 `json:",omitempty"`
	// LabelSmooth, when above 0, trains the classifier against the labels
	// smoothed to y (1 - LabelSmooth) + LabelSmooth / 2, which bounds the
	// logit it is pushed towards (against overconfidence on new rows).
	// Training-only.
	LabelSmooth float64 `json:",omitempty"`
	// RevAllRows trains the revenue head on every training row, its
	// target log1p(revenue) (scaled as RevStandard says) on illicit rows
	// and that of a revenue of 0 on licit ones, as DATE's public code
	// regresses every row: the head then estimates an expected log revenue,
	// small where the row is likely licit, instead of the revenue if
	// illicit, which nothing bounds on licit rows. Training-only: the dual
	// score stays probability x the revenue the head's output stands for.
	RevAllRows bool `json:",omitempty"`
	// RevBase, when set, names a feature holding log1p of a declared
	// amount (log_duty, the declared value times the tax rate; log_value):
	// the revenue head then predicts log1p(revenue) less that feature, the
	// revenue relative to the amount at stake, and the revenue estimate is
	// the row's own amount times it (Model.revenueOf). In generated data
	// revenue = true duty - declared duty, so for an undervaluation the
	// ratio depends on the under-declared fraction, not on the row's size.
	RevBase string `json:",omitempty"`
	// RevCap, when above 0, bounds the revenue estimate at scoring: the
	// head's log target (log1p(revenue), less RevBase's feature when set)
	// is clipped at this quantile of the illicit training rows' (Model.RevCap).
	// The illicit-only head never trained on licit rows, so nothing else
	// bounds it there.
	RevCap float64 `json:",omitempty"`
	// ProbPower is the probability's power in the dual score, p^ProbPower x
	// the revenue estimate (Model.output); 0 (a model saved before it) and
	// 1 are DATE's p x estimate. Above 1 it favours the likelier rows over
	// the larger estimates. A scoring option, stored in the manifest.
	ProbPower float64 `json:",omitempty"`
	// ValidFraction is the share of rows, the latest by date, held out for
	// early stopping.
	ValidFraction float64
	// MinCount is how often an importer or HS code must occur in training to
	// get its own embedding row; rarer ones share the unseen row, which is
	// how that row learns what an unknown trader looks like.
	MinCount int
	// Threads is the number of goroutines (0: GOMAXPROCS). Results do not
	// depend on it.
	Threads int
	// Log, when set, receives one line per epoch.
	Log func(format string, args ...any) `json:"-"`
}

// DefaultConfig returns DATE's defaults: the GBDT's own trees as cross
// features (riskmodel's classifier parameters: 400 trees of depth 10, eta
// 0.05, rows and features sampled at 0.8; DATE's paper takes its leaves from
// the production XGBoost, its public code grows 100 of depth 4; on the KCS
// training year's own split by date these gave an AUC 0.027 above 200 trees
// of depth 6, docs/date.md), the trees' margin in the logit, the declared
// value, duty and taxes as revenue inputs, dim 16,
// self-attention off (4 heads when on; docs/date.md says why it is off),
// alpha 10, Adam with learning rate 0.005, batches of 256, at most 10 epochs
// with patience 2, the last 10% of rows by date for validation, importers
// and HS codes seen fewer than 10 times sharing the unseen row.
func DefaultConfig() Config {
	t := riskmodel.DefaultConfig().Classifier
	return Config{
		LeafTrees: models.LeafTrees{Features: features.Config{Groups: riskmodel.DefaultGroups}, Trees: t},
		Dim:       16, Heads: 4, SelfAtt: false,
		Alpha:         10,
		RevenueInputs: []string{"log_value", "log_duty", "log_total_taxes"},
		TreeMargin:    true,
		Adam:          Adam{LR: 0.005, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-6},
		Epochs:        10,
		BatchSize:     256, Patience: 2,
		ValidFraction: 0.1,
		MinCount:      10,
	}
}

func (c Config) check() error {
	switch {
	case c.Dim < 1 || c.Dim > 256:
		return fmt.Errorf("date: dim %d: want 1..256", c.Dim)
	case c.SelfAtt && (c.Heads < 1 || c.Dim%c.Heads != 0):
		return fmt.Errorf("date: heads %d: want a divisor of dim %d", c.Heads, c.Dim)
	case c.Epochs < 1 || c.BatchSize < 1 || c.Patience < 1:
		return fmt.Errorf("date: epochs %d, batch %d, patience %d: each must be >= 1", c.Epochs, c.BatchSize, c.Patience)
	case !(c.ValidFraction > 0 && c.ValidFraction < 1):
		return fmt.Errorf("date: validation fraction %v: want a number between 0 and 1", c.ValidFraction)
	case !(c.RevWeight >= 0 && c.RevWeight <= 2) || !(c.LabelSmooth >= 0 && c.LabelSmooth < 1):
		return fmt.Errorf("date: revenue weight %v, label smoothing %v: want 0..2 and 0..1 (excluded)", c.RevWeight, c.LabelSmooth)
	case !(c.Adam.LR > 0) || c.Alpha < 0 || c.Adam.WeightDecay < 0:
		return fmt.Errorf("date: learning rate %v, alpha %v, weight decay %v: want a positive rate and no negative weight", c.Adam.LR, c.Alpha, c.Adam.WeightDecay)
	}
	if err := c.checkRevTarget(); err != nil {
		return err
	}
	return c.checkMarginFolds()
}

// revBases are the features Config.RevBase may name: log1p of the duty at
// stake and of the declared value.
var revBases = []string{"log_duty", "log_value"}

// checkRevTarget checks the revenue target's options (also on load: a
// manifest's configuration).
func (c Config) checkRevTarget() error {
	switch {
	case c.RevCap != 0 && !(c.RevCap >= 0.5 && c.RevCap <= 1):
		return fmt.Errorf("date: revenue cap quantile %v: want 0 (none) or 0.5..1", c.RevCap)
	case c.RevBase != "" && !slices.Contains(revBases, c.RevBase):
		return fmt.Errorf("date: revenue base %q: want one of %q or none", c.RevBase, revBases)
	case c.ProbPower != 0 && !(c.ProbPower >= minProbPower && c.ProbPower <= maxProbPower):
		return fmt.Errorf("date: the dual score's power on the probability (ProbPower) is %v: want %v..%v (or 0 or 1: p x estimate)", c.ProbPower, minProbPower, maxProbPower)
	}
	return nil
}

// The dual score's power on the probability (Config.ProbPower) is within
// these bounds.
const minProbPower, maxProbPower = 0.25, 4

// uvRevInputs are the revenue inputs the rev-uv-inputs parameter adds: the
// unit value's z-score within the HS6 code and within HS6 x origin, and the
// duty rate (docs/date.md, Session 9).
var uvRevInputs = []string{"uv_kg_z_hs6", "uv_kg_z_hs6_origin", "tax_rate"}

// checkRevInputs refuses a configuration naming one of uvRevInputs as a
// revenue input when the feature state (names) does not compute it: the
// data lack the columns it needs (the other revenue inputs are taken when
// present, as before).
func checkRevInputs(names, inputs []string) error {
	var missing []string
	for _, w := range inputs {
		if slices.Contains(uvRevInputs, w) && !slices.Contains(names, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("date: revenue inputs %q: the feature state does not compute them from these data (unit values need the HS code, value and net mass columns, and an origin for the HS6 x origin one; the duty rate needs the tax rate column)", missing)
	}
	return nil
}

// History records how training went, epoch by epoch.
type History struct {
	TrainRows, ValidRows int
	ValidFrom            string
	Loss, ValidAUC       []float64
	// ValidRevenue is, with StopOnRevenue, each epoch's criterion.
	ValidRevenue []float64 `json:",omitempty"`
	BestEpoch    int
	Seconds      float64
}

// Train fits the feature state and the tree ensemble on the rows of batches
// before the validation period, then DATE's network on the same rows,
// stopping early on the validation period's AUC.
func Train(batches []arrow.RecordBatch, cfg Config) (*Model, error) {
	start := time.Now()
	m, train, valid, vlabels, err := prepare(batches, cfg)
	if err != nil {
		return nil, err
	}
	m.fit(train, valid, vlabels, start)
	if cfg.Calibrate {
		m.calibrate(valid, vlabels)
	}
	m.Config.Log = nil
	m.ready()
	return m, nil
}

// prepare fits the features and the trees and builds the network's
// training and validation batches; the network is initialised, untrained.
func prepare(batches []arrow.RecordBatch, cfg Config) (m *Model, train, valid *Batch, vlabels []int8, err error) {
	fail := func(err error) (*Model, *Batch, *Batch, []int8, error) { return nil, nil, nil, nil, err }
	if err := cfg.check(); err != nil {
		return fail(err)
	}
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.GOMAXPROCS(0)
	}
	from, err := ValidationStart(batches, cfg.ValidFraction)
	if err != nil {
		return fail(err)
	}
	fit, hold, err := riskmodel.SplitByDate(batches, from)
	if err != nil {
		return fail(err)
	}
	cf, err := FitCross(fit, cfg.Features, cfg.Trees, cfg.Seed, cfg.Threads)
	if err != nil {
		return fail(fmt.Errorf("date: %w", err))
	}
	labels, revenue, lab := cf.Labels, cf.Revenue, cf.Rows
	m = &Model{Config: cfg, State: cf.State, Trees: cf.Trees, sc: cf.sc, leaves: cf.lt}
	if err := checkRevInputs(m.State.Names(), cfg.RevenueInputs); err != nil {
		return fail(err)
	}
	m.revIdx = revInputIndex(m.State.Names(), cfg.RevenueInputs)
	if err := m.treeExplainers(); err != nil {
		return fail(err)
	}
	var imps, items []string
	for _, b := range fit {
		if imps, err = readStrings(b, decl.ImporterID, imps); err != nil {
			return fail(err)
		}
		if items, err = readStrings(b, decl.HSCode, items); err != nil {
			return fail(err)
		}
	}
	m.Importers, m.Items = newVocab(imps, cfg.MinCount), newVocab(items, cfg.MinCount)
	m.RevScale = 0
	for _, i := range lab {
		if labels[i] == 1 && revenue[i] > 0 {
			m.RevScale = max(m.RevScale, math.Log1p(revenue[i]))
		}
	}
	if m.RevScale == 0 {
		m.RevScale = 1
	}
	m.CalA, m.CalB = 1, 0
	if m.baseCol, err = baseColumn(m.State.Names(), cfg.RevBase); err != nil {
		return fail(err)
	}
	train = &Batch{Leaves: cf.Leaves}
	if cfg.MarginFolds > 0 && cfg.TreeMargin {
		if train.Margin, err = outOfFoldMargins(cf, cfg.Trees, cfg.Seed, cfg.MarginFolds, cfg.Threads); err != nil {
			return fail(err)
		}
	}
	F := len(m.State.Names())
	var trainRev []float64
	for k, i := range lab {
		train.X = m.appendRevInputs(train.X, cf.Feats[k*F:(k+1)*F])
		train.Base = m.appendBase(train.Base, cf.Feats[k*F:(k+1)*F])
		train.Imp = append(train.Imp, m.Importers[imps[i]])
		train.Item = append(train.Item, m.Items[items[i]])
		train.Y = append(train.Y, float32(labels[i]))
		trainRev = append(trainRev, revenue[i])
	}
	train.revenue = trainRev
	m.setRevTargets(train, trainRev)
	train.W = revWeights(train.Y, trainRev, cfg.RevWeight)

	valid, vlabels, err = m.batchOf(hold)
	if err != nil {
		return fail(fmt.Errorf("date: validation data: %w", err))
	}
	m.Arch = Arch{Trees: len(m.Trees.Trees), Leaves: m.leaves.Rows, Importers: m.Importers.rows(), Items: m.Items.rows(),
		Dim: cfg.Dim, Heads: cfg.Heads, SelfAtt: cfg.SelfAtt, RevIn: len(m.revIdx), Margin: cfg.TreeMargin, RevHid: cfg.RevHidden}
	if !cfg.SelfAtt {
		m.Arch.Heads = 0
	}
	if err := m.Arch.check(); err != nil {
		return fail(fmt.Errorf("date: %w", err))
	}
	m.Params = initParams(m.Arch, cfg.Seed)
	m.net = m.newNet()
	m.History.ValidFrom = from.Format(time.DateOnly)
	return m, train, valid, vlabels, nil
}

// fit trains the network on train, stopping early on valid's AUC, and
// keeps the best epoch's weights.
func (m *Model) fit(train, valid *Batch, vlabels []int8, start time.Time) {
	cfg := m.Config
	h := &m.History
	h.TrainRows, h.ValidRows = train.Rows(), valid.Rows()
	tr := newTrainer(m.net, cfg.Alpha, cfg.Threads)
	tr.smooth = float32(cfg.LabelSmooth)
	tr.revAll = cfg.RevAllRows
	opt := newAdam[float32](cfg.Adam, len(m.Params))
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	order := make([]int, train.Rows())
	for i := range order {
		order[i] = i
	}
	best := append([]float32(nil), m.Params...)
	bestAUC, since := math.Inf(-1), 0
	prob := make([]float64, valid.Rows())
	var exp, vrev []float64
	if cfg.StopOnRevenue {
		exp, vrev = make([]float64, valid.Rows()), make([]float64, valid.Rows())
		for i, r := range valid.Rev {
			if !math.IsNaN(float64(r)) {
				vrev[i] = m.revenueOf(float64(r), baseOf(valid, i))
			}
		}
	}
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var sum float64
		steps := 0
		for lo := 0; lo < len(order); lo += cfg.BatchSize {
			idx := order[lo:min(lo+cfg.BatchSize, len(order))]
			sum += tr.lossGrad(train, idx)
			opt.step(m.Params, tr.grad)
			steps++
		}
		h.Loss = append(h.Loss, sum/float64(steps))
		auc := math.NaN()
		if valid.Rows() > 0 {
			if cfg.StopOnRevenue {
				m.predict(valid, prob, exp, cfg.Threads)
				auc, _ = metrics.AUC(prob, vlabels)
				h.ValidRevenue = append(h.ValidRevenue, m.revenueAt12(exp, vlabels, vrev))
			} else {
				m.predict(valid, prob, nil, cfg.Threads)
				auc, _ = metrics.AUC(prob, vlabels)
			}
		}
		h.ValidAUC = append(h.ValidAUC, auc)
		if cfg.Log != nil {
			cfg.Log("date: epoch %d: loss %.5f, validation AUC %.4f (%s)", epoch, h.Loss[epoch-1], auc, time.Since(start).Round(time.Second))
		}
		crit := auc
		if cfg.StopOnRevenue && len(h.ValidRevenue) > 0 {
			crit = h.ValidRevenue[len(h.ValidRevenue)-1]
		}
		if math.IsNaN(crit) || crit > bestAUC {
			bestAUC, since, h.BestEpoch = crit, 0, epoch
			copy(best, m.Params)
		} else if since++; since >= cfg.Patience {
			break
		}
	}
	copy(m.Params, best)
	h.Seconds = time.Since(start).Seconds()
}

// calibrate sets CalA and CalB to the Platt scaling of the network's
// logits on the validation rows b (labels y): the a and b that minimise
// the cross-entropy of sigmoid(a z + b), by Newton's method with a halving
// line search, from a = 1, b = 0. With one class only, or a fit that does
// not give a positive a, the probability stays the sigmoid of the logit.
func (m *Model) calibrate(b *Batch, y []int8) {
	m.CalA, m.CalB = 1, 0
	z := make([]float64, b.Rows())
	m.forward(b, m.Config.Threads, func(i int, zi, _ float32) { z[i] = float64(zi) })
	if a, c, ok := plattFit(z, y); ok {
		m.CalA, m.CalB = a, c
	}
}

// plattFit returns the a and b that minimise the cross-entropy of
// sigmoid(a z + b) against labels y (0 or 1; others skipped), and whether
// the fit converged to a positive a.
func plattFit(z []float64, y []int8) (a, b float64, ok bool) {
	var n, pos float64
	for _, l := range y {
		if l == 0 || l == 1 {
			n++
			pos += float64(l)
		}
	}
	if pos == 0 || pos == n {
		return 1, 0, false
	}
	loss := func(a, b float64) float64 {
		var s float64
		for i, zi := range z {
			if y[i] == 0 || y[i] == 1 {
				s += softplus(a*zi+b) - float64(y[i])*(a*zi+b)
			}
		}
		return s
	}
	a, b = 1, 0
	cur := loss(a, b)
	for range 100 {
		var ga, gb, haa, hab, hbb float64
		for i, zi := range z {
			if y[i] != 0 && y[i] != 1 {
				continue
			}
			p := sigmoid(a*zi + b)
			g, w := p-float64(y[i]), p*(1-p)
			ga, gb = ga+g*zi, gb+g
			haa, hab, hbb = haa+w*zi*zi, hab+w*zi, hbb+w
		}
		det := haa*hbb - hab*hab
		if !(det > 0) {
			break
		}
		da, db := (hbb*ga-hab*gb)/det, (haa*gb-hab*ga)/det
		step, next := 1.0, cur
		for ; step > 1e-10; step /= 2 {
			if next = loss(a-step*da, b-step*db); next <= cur {
				break
			}
		}
		if step <= 1e-10 {
			break
		}
		a, b = a-step*da, b-step*db
		done := cur-next <= 1e-12*max(1, cur)
		cur = next
		if done {
			break
		}
	}
	ok = a > 0 && !math.IsInf(a, 0) && !math.IsNaN(a) && !math.IsInf(b, 0) && !math.IsNaN(b)
	return a, b, ok
}

// revenueAt12 is the mean share of the revenue that the top 1% and 2% of
// rows by expected revenue capture (StopOnRevenue's criterion).
func (m *Model) revenueAt12(exp []float64, labels []int8, revenue []float64) float64 {
	r, err := metrics.Evaluate(exp, labels, revenue, nil, 0.5)
	if err != nil {
		return math.NaN()
	}
	var s float64
	var k int
	for _, a := range r.AtRates {
		if a.Rate == 1 || a.Rate == 2 {
			s += a.Revenue
			k++
		}
	}
	if k == 0 {
		return math.NaN()
	}
	return s / float64(k)
}

// setRevTargets fits the revenue target's scale and bound to the training
// rows b (revenue their revenues, NaN where unknown) as m.Config says, and
// sets b.Rev: RevMean and RevSD (0 and the training maximum of
// log1p(revenue), DATE's normalisation, or with RevStandard the mean and
// standard deviation of the log target over the illicit rows), RevCap (the
// Config.RevCap quantile of the illicit rows' log target; +Inf without),
// and each row's revTarget (with RevAllRows, the licit rows' that of a
// revenue of 0).
func (m *Model) setRevTargets(b *Batch, revenue []float64) {
	cfg := m.Config
	m.RevMean, m.RevSD, m.RevCap = 0, m.RevScale, math.Inf(1)
	var logs []float64
	for i, y := range b.Y {
		if y == 1 && revenue[i] >= 0 {
			logs = append(logs, math.Log1p(revenue[i])-baseOf(b, i))
		}
	}
	if cfg.RevStandard && len(logs) > 1 {
		var s, ss float64
		for _, x := range logs {
			s, ss = s+x, ss+x*x
		}
		n := float64(len(logs))
		mean := s / n
		if sd := math.Sqrt(max(0, ss/n-mean*mean)); sd > 1e-9 {
			m.RevMean, m.RevSD = mean, sd
		}
	}
	if cfg.RevCap > 0 && len(logs) > 0 {
		slices.Sort(logs)
		m.RevCap = stats.Quantile(logs, cfg.RevCap)
	}
	b.Rev = b.Rev[:0]
	for i, y := range b.Y {
		r := revenue[i]
		if y == 0 && cfg.RevAllRows {
			r = 0
		}
		b.Rev = append(b.Rev, float32(m.revTarget(r, baseOf(b, i))))
	}
}

// baseOf is row i's base (Batch.Base), 0 when b has none.
func baseOf(b *Batch, i int) float64 {
	if len(b.Base) == 0 {
		return 0
	}
	return float64(b.Base[i])
}

// revTarget is the revenue head's target for a revenue r on a row of base
// base (Config.RevBase's feature, log1p of the amount at stake; 0 without):
// log1p(r) less the base, less RevMean, over RevSD; NaN when unknown.
func (m *Model) revTarget(r, base float64) float64 {
	if math.IsNaN(r) || r < 0 {
		return math.NaN()
	}
	return (math.Log1p(r) - base - m.RevMean) / m.RevSD
}

// revenueOf is the revenue a revenue output (or target) r stands for on a
// row of base base, the inverse of revTarget: the log target clipped at
// RevCap, plus the base, negative log revenues taken as 0.
func (m *Model) revenueOf(r, base float64) float64 {
	return math.Expm1(max(0, min(m.RevCap, m.RevMean+r*m.RevSD)+base))
}

// newNet builds the float32 network of m's architecture and parameters,
// with the leaf values of its trees.
func (m *Model) newNet() *net[float32] {
	n := newNet(m.Arch, m.Params)
	n.lv = make([]float32, len(m.leaves.Value))
	for i, v := range m.leaves.Value {
		n.lv[i] = float32(v)
	}
	return n
}

// revInputIndex returns the positions in names of the revenue inputs
// wanted, in the order wanted, skipping those absent.
func revInputIndex(names, wanted []string) []int {
	var idx []int
	for _, w := range wanted {
		if i := slices.Index(names, w); i >= 0 {
			idx = append(idx, i)
		}
	}
	return idx
}

// appendRevInputs appends to dst the revenue inputs of one row of the
// feature state's features: each over the revenue scale (the head's
// target is log1p(revenue) over it, and the inputs are logs of amounts in
// the same currency), a missing value as 0.
func (m *Model) appendRevInputs(dst []float32, row []float64) []float32 {
	for _, f := range m.revIdx {
		x := row[f] / m.RevScale
		if math.IsNaN(x) || math.IsInf(x, 0) {
			x = 0
		}
		dst = append(dst, float32(x))
	}
	return dst
}

// baseColumn is 1 + the position of the revenue base feature
// (Config.RevBase) among names; 0 without one.
func baseColumn(names []string, base string) (int, error) {
	if base == "" {
		return 0, nil
	}
	i := slices.Index(names, base)
	if i < 0 {
		return 0, fmt.Errorf("date: the revenue base %q is not among the feature state's features (the data lack its columns?)", base)
	}
	return i + 1, nil
}

// appendBase appends to dst the revenue base of one row of the feature
// state's features (Config.RevBase's feature, log1p of an amount; a
// missing or negative value as 0, the target then log1p(revenue) alone),
// or returns dst as it is without a base.
func (m *Model) appendBase(dst []float32, row []float64) []float32 {
	if m.baseCol == 0 {
		return dst
	}
	x := row[m.baseCol-1]
	if !(x > 0) || math.IsInf(x, 0) {
		x = 0
	}
	return append(dst, float32(x))
}

// leavesOf writes the embedding rows of the leaves of n rows of features.
func (m *Model) leavesOf(rows []float64, n int, dst []int32, threads int) ([]int32, error) {
	T := len(m.Trees.Trees)
	if cap(dst) < n*T {
		dst = make([]int32, n*T)
	}
	dst = dst[:n*T]
	if err := m.sc.PredictLeaves(rows, n, dst, threads); err != nil {
		return nil, fmt.Errorf("date: %w", err)
	}
	return dst, m.leaves.rowsOf(dst)
}

// batchOf builds the batch of the labelled rows of batches, scored as new
// declarations (whole-history features), and returns their labels.
func (m *Model) batchOf(batches []arrow.RecordBatch) (*Batch, []int8, error) {
	labels, revenue, err := models.Outcomes(batches)
	if err != nil {
		return nil, nil, err
	}
	out := &Batch{}
	var lab []int8
	var feats []float64
	var leaves []int32
	var imps, items []string
	k := 0
	for _, b := range batches {
		n := int(b.NumRows())
		if feats, err = m.State.TransformRows(b, feats); err != nil {
			return nil, nil, err
		}
		if leaves, err = m.leavesOf(feats, n, leaves, m.Config.Threads); err != nil {
			return nil, nil, err
		}
		if imps, err = readStrings(b, decl.ImporterID, imps[:0]); err != nil {
			return nil, nil, err
		}
		if items, err = readStrings(b, decl.HSCode, items[:0]); err != nil {
			return nil, nil, err
		}
		T, F := len(m.Trees.Trees), len(m.State.Names())
		for i := range n {
			l := labels[k+i]
			if l < 0 {
				continue
			}
			out.Leaves = append(out.Leaves, leaves[i*T:(i+1)*T]...)
			out.X = m.appendRevInputs(out.X, feats[i*F:(i+1)*F])
			out.Base = m.appendBase(out.Base, feats[i*F:(i+1)*F])
			out.Imp = append(out.Imp, m.Importers[imps[i]])
			out.Item = append(out.Item, m.Items[items[i]])
			out.Y = append(out.Y, float32(l))
			out.Rev = append(out.Rev, float32(m.revTarget(revenue[k+i], baseOf(out, len(out.Y)-1))))
			lab = append(lab, l)
		}
		k += n
	}
	return out, lab, nil
}

// predict writes each row's probability of illicit into prob and, when
// expRev is not nil, its expected revenue: the probability times the
// revenue head's prediction. Without self-attention it scores through the
// leaf projections (forwardScoreRows).
func (m *Model) predict(b *Batch, prob, expRev []float64, threads int) {
	m.forward(b, threads, func(i int, z, r float32) { m.output(i, z, r, baseOf(b, i), prob, expRev) })
}

// forward runs the network over the rows of b and hands each row's logit
// and revenue output to emit, from several goroutines (each row once).
// Without self-attention it scores through the leaf projections
// (forwardScoreRows).
func (m *Model) forward(b *Batch, threads int, emit func(i int, z, r float32)) {
	n, T, R := b.Rows(), m.Arch.Trees, m.Arch.RevIn
	proj := m.proj
	if proj == nil && !m.Arch.SelfAtt {
		proj = m.net.leafProjections()
	}
	rows := func(w *work[float32], lo, hi int) {
		if proj != nil {
			k := hi - lo
			w.zs, w.rs = growF(w.zs, k), growF(w.rs, k)
			var x []float32
			if R > 0 {
				x = b.X[lo*R : hi*R]
			}
			m.scoreRows(w, proj, b.Leaves[lo*T:hi*T], k, b.Imp[lo:hi], b.Item[lo:hi], x, w.zs, w.rs, nil)
			for j := range k {
				emit(lo+j, w.zs[j], w.rs[j])
			}
			return
		}
		for i := lo; i < hi; i++ {
			var x []float32
			if R > 0 {
				x = b.X[i*R : (i+1)*R]
			}
			z, r := m.net.forward(w, b.Leaves[i*T:(i+1)*T], b.Imp[i], b.Item[i], x)
			emit(i, z, r)
		}
	}
	if threads <= 1 {
		w := m.work()
		rows(w, 0, n)
		m.works.Put(w)
		return
	}
	const block = 256
	var next sync.Mutex
	pos := 0
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := m.work()
			defer m.works.Put(w)
			for {
				next.Lock()
				lo := pos
				pos += block
				next.Unlock()
				if lo >= n {
					return
				}
				rows(w, lo, min(lo+block, n))
			}
		}()
	}
	wg.Wait()
}

// output writes row i's probability and expected revenue from its logit z
// and revenue output r (predict).
func (m *Model) output(i int, z, r float32, base float64, prob, expRev []float64) {
	p := float64(sigmoid(z))
	if m.CalA > 0 && (m.CalA != 1 || m.CalB != 0) {
		p = 1 / (1 + math.Exp(-(m.CalA*float64(z) + m.CalB)))
	}
	prob[i] = p
	if expRev != nil {
		w := p
		if a := m.Config.ProbPower; a != 0 && a != 1 {
			w = math.Pow(p, a)
		}
		expRev[i] = w * m.revenueOf(float64(r), base)
	}
}

// work returns a row workspace from the model's pool.
func (m *Model) work() *work[float32] {
	if w, ok := m.works.Get().(*work[float32]); ok {
		return w
	}
	return newWork[float32](m.Arch)
}

// ready prepares what scoring needs once the parameters are final: the
// leaf projections of a network without self-attention.
func (m *Model) ready() {
	m.proj = nil
	if !m.Arch.SelfAtt {
		m.proj = m.net.leafProjections()
	}
}

var errNoTrees = errors.New("the model has no trees")

func (m *Model) prepareTrees() error {
	c, err := NewCross(m.State, m.Trees)
	if err != nil {
		return fmt.Errorf("date: %w", err)
	}
	m.sc, m.leaves = c.sc, c.lt
	return m.treeExplainers()
}

// Evaluate scores the labelled rows of batches and reports the metrics of
// their ranking by probability and by expected revenue (DATE's dual-task
// score).
func (m *Model) Evaluate(batches []arrow.RecordBatch) (byProb, byRevenue metrics.Report, err error) {
	b, labels, err := m.batchOf(batches)
	if err != nil {
		return byProb, byRevenue, err
	}
	_, revenue, err := models.Outcomes(batches)
	if err != nil {
		return byProb, byRevenue, err
	}
	allLabels, _, _ := models.Outcomes(batches)
	var rev []float64
	for i, l := range allLabels {
		if l >= 0 {
			rev = append(rev, revenue[i])
		}
	}
	prob, exp := make([]float64, b.Rows()), make([]float64, b.Rows())
	m.predict(b, prob, exp, m.Config.Threads)
	if byProb, err = metrics.Evaluate(prob, labels, rev, nil, 0.5); err != nil {
		return byProb, byRevenue, err
	}
	byRevenue, err = metrics.Evaluate(exp, labels, rev, nil, 0.5)
	return byProb, byRevenue, err
}
