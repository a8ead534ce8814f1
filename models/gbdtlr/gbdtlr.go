// Package gbdtlr is GBDT+LR (He et al., ADKDD 2014), the baseline of the
// DATE paper and of BACUDA's selection framework, as a risklane model kind:
// a tree ensemble sends each declaration to one leaf per tree (DATE's first
// stage, date.Cross) and a logistic regression with L2 on the one-hot leaf
// indices gives the probability of illicit. docs/gbdtlr.md says how it is
// built and verified.
package gbdtlr

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
	"risklane/models/date"
	"risklane/models/explain"
	"risklane/models/metrics"
	"risklane/models/riskmodel"
)

// Kind is the manifest kind of GBDT+LR model folders.
const Kind = "gbdtlr"

// Config holds GBDT+LR's training parameters.
type Config struct {
	// LeafTrees: the features, the ensemble whose leaves are the one-hot
	// features (DATE's: the GBDT's 400 of depth 10) and the seed.
	models.LeafTrees
	// L2 is the penalty lambda of the regression: it minimises the sum of
	// the rows' log losses plus lambda/2 times the squared weights (the
	// intercept is not penalised), scikit-learn's C = 1/lambda. Zero: chosen
	// from L2Grid by the AUC of the latest ValidFraction of the training
	// rows by date.
	L2     float64
	L2Grid []float64
	// ValidFraction is the share of rows, the latest by date, held out to
	// choose L2 (when L2 is 0); the model is trained on the rest.
	ValidFraction float64
	// MaxIter bounds the L-BFGS iterations of a fit; Tol stops them when
	// no element of the gradient of the mean loss (with the penalty over
	// n) is larger.
	MaxIter int
	Tol     float64
	// GridTol is the looser tolerance the lambdas of the grid are fitted
	// to, to rank them by validation AUC (0: Tol); the chosen one is then
	// fitted on to Tol from there.
	GridTol float64 `json:",omitempty"`
	// Threads is the number of goroutines (0: GOMAXPROCS); results do not
	// depend on it.
	Threads int `json:"-"`
}

// DefaultConfig returns the defaults: DATE's trees (the GBDT's 400 of
// depth 10, eta 0.05, date.DefaultConfig), lambda chosen from 1, 10, 100, 1000 on the latest 10% of the
// training rows by date, each fitted to a largest mean-gradient element of 1e-5 and the chosen one on to 1e-7 (at most 1000 L-BFGS iterations a fit).
func DefaultConfig() Config {
	d := date.DefaultConfig()
	return Config{LeafTrees: d.LeafTrees, L2Grid: []float64{1, 10, 100, 1000},
		ValidFraction: 0.1, MaxIter: 1000, Tol: 1e-7, GridTol: 1e-5}
}

func (c Config) check() error {
	switch {
	case c.L2 < 0 || math.IsNaN(c.L2) || math.IsInf(c.L2, 0):
		return fmt.Errorf("gbdtlr: L2 %v: want a number >= 0", c.L2)
	case c.L2 == 0 && len(c.L2Grid) == 0:
		return fmt.Errorf("gbdtlr: no L2 given and no grid to choose it from")
	case !(c.ValidFraction > 0 && c.ValidFraction < 1):
		return fmt.Errorf("gbdtlr: validation fraction %v: want a number between 0 and 1", c.ValidFraction)
	case c.MaxIter < 1 || !(c.Tol > 0) || !(c.GridTol >= 0):
		return fmt.Errorf("gbdtlr: max iterations %d, tolerance %v: want >= 1 and > 0", c.MaxIter, c.Tol)
	}
	return nil
}

// History records how training went.
type History struct {
	TrainRows, ValidRows int
	ValidFrom            string
	// Grid, GridAUC: the lambdas tried and their validation AUCs.
	Grid, GridAUC []float64
	L2            float64
	// Iterations are the chosen fit's L-BFGS iterations, Passes the
	// passes over the rows of all fits (an evaluation of the objective
	// and gradient or a Hessian-vector product is one).
	Iterations int
	Passes     float64
	Loss       float64
	Seconds    float64
}

// Model is a trained GBDT+LR model. Its scoring methods are safe for
// concurrent use.
type Model struct {
	Config Config
	*date.Cross
	// W is the weight of each leaf (date.Cross numbering), B the intercept.
	W       []float64
	B       float64
	History History

	id         string
	validation *string
	ex         *explain.Explainer
}

// Train fits the feature state, the trees and the regression on the rows
// of batches before the validation period (the latest ValidFraction by
// date), choosing lambda on that period when Config.L2 is 0.
func Train(batches []arrow.RecordBatch, cfg Config) (*Model, error) {
	start := time.Now()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	threads := cfg.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	from, err := date.ValidationStart(batches, cfg.ValidFraction)
	if err != nil {
		return nil, fmt.Errorf("gbdtlr: %w", err)
	}
	fit, hold, err := riskmodel.SplitByDate(batches, from)
	if err != nil {
		return nil, err
	}
	cf, err := date.FitCross(fit, cfg.Features, cfg.Trees, cfg.Seed, threads)
	if err != nil {
		return nil, fmt.Errorf("gbdtlr: %w", err)
	}
	y := make([]float64, len(cf.Rows))
	for k, i := range cf.Rows {
		y[k] = float64(cf.Labels[i])
	}
	m := &Model{Config: cfg, Cross: cf.Cross}
	h := &m.History
	h.TrainRows, h.ValidFrom = len(y), from.Format(time.DateOnly)
	p := &problem{leaves: cf.Leaves, y: y, T: m.NumTrees(), J: m.NumLeaves(), threads: threads}
	p.setup()
	p.leaves, cf = nil, nil // laid out tree by tree now; 4 bytes a leaf and row saved

	lambda := cfg.L2
	if lambda == 0 {
		vl, vy, err := m.labelled(hold, threads)
		if err != nil {
			return nil, fmt.Errorf("gbdtlr: validation period: %w", err)
		}
		h.ValidRows = len(vy)
		// Fitted from the largest lambda down, each from the previous
		// one's weights (the path moves little from one to the next);
		// chosen in the grid's order, the first of equal AUCs.
		order := slices.Clone(cfg.L2Grid)
		slices.SortFunc(order, func(a, b float64) int { return cmp.Compare(b, a) })
		type fitted struct {
			x    []float64
			st   fitStats
			loss float64
		}
		fits := map[float64]fitted{}
		var x []float64
		for _, l := range order {
			if _, done := fits[l]; done {
				continue
			}
			if x == nil {
				x = p.start()
			} else {
				x = slices.Clone(x)
			}
			_, _, st, loss := p.fit(l, x, cfg.MaxIter, cmp.Or(cfg.GridTol, cfg.Tol))
			fits[l] = fitted{x, st, loss}
			h.Passes += float64(st.Passes)
		}
		best := math.Inf(-1)
		prob := make([]float64, len(vy))
		var bf fitted
		for _, l := range cfg.L2Grid {
			f := fits[l]
			m.W, m.B = f.x[:p.J:p.J], f.x[p.J]
			m.probs(vl, prob)
			auc, _ := metrics.AUC(prob, vy)
			h.Grid, h.GridAUC = append(h.Grid, l), append(h.GridAUC, auc)
			if auc > best || math.IsNaN(best) {
				best, lambda, bf = auc, l, f
			}
		}
		// The chosen lambda's fit, on to the final tolerance.
		_, _, st, loss := p.fit(lambda, bf.x, cfg.MaxIter, cfg.Tol)
		h.Passes += float64(st.Passes)
		m.W, m.B, h.Iterations, h.Loss = bf.x[:p.J:p.J], bf.x[p.J], bf.st.Iterations+st.Iterations, loss
	} else {
		var st fitStats
		m.W, m.B, st, h.Loss = p.fit(lambda, nil, cfg.MaxIter, cfg.Tol)
		h.Iterations, h.Passes = st.Iterations, float64(st.Passes)
	}
	h.L2 = lambda
	h.Seconds = time.Since(start).Seconds()
	if err := m.explainer(); err != nil {
		return nil, err
	}
	return m, nil
}

// labelled returns the leaves and labels of the labelled rows of batches,
// scored as new declarations (whole-history features).
func (m *Model) labelled(batches []arrow.RecordBatch, threads int) ([]int32, []int8, error) {
	labels, _, err := models.Outcomes(batches)
	if err != nil {
		return nil, nil, err
	}
	var out, leaves []int32
	var lab []int8
	var feats []float64
	T, k := m.NumTrees(), 0
	for _, b := range batches {
		n := int(b.NumRows())
		if feats, err = m.State.TransformRows(b, feats); err != nil {
			return nil, nil, err
		}
		if leaves, err = m.Cross.Leaves(feats, n, leaves, threads); err != nil {
			return nil, nil, err
		}
		for i := range n {
			if l := labels[k+i]; l >= 0 {
				out = append(out, leaves[i*T:(i+1)*T]...)
				lab = append(lab, l)
			}
		}
		k += n
	}
	return out, lab, nil
}

// margin is the regression's logit of one row's leaves.
func (m *Model) margin(leaves []int32) float64 {
	z := m.B
	for _, l := range leaves {
		z += m.W[l]
	}
	return z
}

// probs writes the probability of each row of leaves (T per row).
func (m *Model) probs(leaves []int32, prob []float64) {
	T := m.NumTrees()
	for i := range prob {
		prob[i] = sigmoid(m.margin(leaves[i*T : (i+1)*T]))
	}
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// Evaluate scores the labelled rows of batches and reports the metrics of
// their ranking by probability.
func (m *Model) Evaluate(batches []arrow.RecordBatch) (metrics.Report, error) {
	leaves, labels, err := m.labelled(batches, m.Config.Threads)
	if err != nil {
		return metrics.Report{}, err
	}
	all, revenue, err := models.Outcomes(batches)
	if err != nil {
		return metrics.Report{}, err
	}
	var rev []float64
	for i, l := range all {
		if l >= 0 {
			rev = append(rev, revenue[i])
		}
	}
	prob := make([]float64, len(labels))
	m.probs(leaves, prob)
	return metrics.Evaluate(prob, labels, rev, nil, 0.5)
}

// problem is the regression on one-hot leaves: rows of T leaf indices
// among J, labels y.
type problem struct {
	leaves     []int32
	y          []float64
	T, J       int
	threads    int
	gradPieces [][]float64
	// byTree is leaves tree by tree (byTree[t*n+i] = leaves[i*T+t]) and z
	// the rows' margins (scratch), kept between evaluations; d, when not
	// nil, receives each row's curvature p(1-p) at the point of the last
	// gradient (the Newton fit of tron_test.go).
	byTree []int32
	z, d   []float64
}

// pieces is the fixed number of row ranges whose gradients are summed
// apart and then added in order, so that the result does not depend on the
// number of threads.
const pieces = 8

// setup lays the leaves out tree by tree and allocates the buffers, once.
func (p *problem) setup() {
	if p.byTree != nil {
		return
	}
	n, T := len(p.y), p.T
	p.gradPieces = make([][]float64, pieces)
	for i := range p.gradPieces {
		p.gradPieces[i] = make([]float64, p.J+1)
	}
	p.byTree = make([]int32, len(p.leaves))
	for i := range n {
		for t, l := range p.leaves[i*T : (i+1)*T] {
			p.byTree[t*n+i] = l
		}
	}
	p.z = make([]float64, n)
}

// inPieces runs work on each piece's rows [lo, hi), on up to p.threads
// goroutines, with the piece's cleared vector of J+1 sums; sum (when not
// nil) receives the pieces' vectors added in order.
func (p *problem) inPieces(sum []float64, work func(k, lo, hi int, g []float64)) {
	n := len(p.y)
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, p.threads))
	for k := range pieces {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			g := p.gradPieces[k]
			clear(g)
			work(k, k*n/pieces, (k+1)*n/pieces, g)
		}()
	}
	wg.Wait()
	if sum != nil {
		clear(sum)
		for _, g := range p.gradPieces {
			for j, v := range g {
				sum[j] += v
			}
		}
	}
}

// margins sets z[lo:hi] to the rows' margins b + sum of w over their leaves.
func (p *problem) margins(z []float64, lo, hi int, w []float64, b float64) {
	n := len(p.y)
	for i := range z {
		z[i] = b
	}
	for t := range p.T {
		for i, l := range p.byTree[t*n+lo : t*n+hi] {
			z[i] += w[l]
		}
	}
}

// scatter adds each row's r[i] (rows lo..hi) to the sums g of its leaves and
// to g[J].
func (p *problem) scatter(g, r []float64, lo, hi int) {
	n := len(p.y)
	for t := range p.T {
		for i, l := range p.byTree[t*n+lo : t*n+hi] {
			g[l] += r[i]
		}
	}
	for _, v := range r {
		g[p.J] += v
	}
}

// objective returns (1/n) (sum of log losses + lambda/2 |w|^2) at x = (w,
// b) and, when grad is not nil, its gradient, and keeps the rows'
// curvatures for hessVec and diag.
//
// It goes through each piece's rows tree by tree: a tree's leaves are a
// few hundred consecutive weights, which stay in the cache while its
// column of rows is read, where row by row every one of a row's 400
// lookups landed in another tree's part of a vector of 85,000 weights (KCS,
// 400 trees of depth 10). Each margin still adds its trees in order and
// each leaf's gradient its rows in order, so the sums are the row-by-row
// ones, bit for bit (TestObjectiveByTree).
func (p *problem) objective(x, grad []float64, lambda float64) float64 {
	p.setup()
	n, J := len(p.y), p.J
	w, b := x[:J], x[J]
	loss := make([]float64, pieces)
	var sum []float64
	if grad != nil {
		sum = grad
	}
	p.inPieces(sum, func(k, lo, hi int, g []float64) {
		z := p.z[lo:hi]
		p.margins(z, lo, hi, w, b)
		var s float64
		for i, zi := range z {
			y := p.y[lo+i]
			// log(1+e^z) - y z, computed without overflow
			if zi > 0 {
				s += zi + math.Log1p(math.Exp(-zi)) - y*zi
			} else {
				s += math.Log1p(math.Exp(zi)) - y*zi
			}
			if grad != nil {
				q := sigmoid(zi)
				if p.d != nil { // kept for the Newton fit (tron_test.go)
					p.d[lo+i] = q * (1 - q)
				}
				z[i] = q - y // the residual, from here on
			}
		}
		if grad != nil {
			p.scatter(g, z, lo, hi)
		}
		loss[k] = s
	})
	var f, sq float64
	for _, s := range loss {
		f += s
	}
	for _, v := range w {
		sq += v * v
	}
	f += lambda / 2 * sq
	if grad != nil {
		for j, v := range w {
			grad[j] += lambda * v
		}
		for j := range grad {
			grad[j] /= float64(n)
		}
	}
	return f / float64(n)
}

// start is the fit's starting point without a warm start: zero weights,
// the intercept at the labels' log-odds.
func (p *problem) start() []float64 {
	J := p.J
	x := make([]float64, J+1)
	var pos float64
	for _, v := range p.y {
		pos += v
	}
	if n := float64(len(p.y)); pos > 0 && pos < n {
		x[J] = math.Log(pos / (n - pos))
	}
	return x
}

// fitStats counts a fit's work: L-BFGS iterations and passes over the
// rows (evaluations of the objective and gradient).
type fitStats struct {
	Iterations, Passes int
}

// fit minimises the objective by L-BFGS from x (p.start() when nil,
// overwritten otherwise) and returns the weights, the intercept, the work
// done and the final objective.
func (p *problem) fit(lambda float64, x []float64, maxIter int, tol float64) ([]float64, float64, fitStats, float64) {
	if x == nil {
		x = p.start()
	}
	var st fitStats
	x, st.Iterations = lbfgs(func(x, g []float64) float64 { st.Passes++; return p.objective(x, g, lambda) }, x, maxIter, tol)
	return x[:p.J:p.J], x[p.J], st, p.objective(x, nil, lambda)
}
