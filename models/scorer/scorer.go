// Package scorer scores rows with a validated XGBoost tree ensemble, in
// blocks of rows and on several goroutines, and gives the leaf each row
// reaches in each tree (the input of tree embeddings and GBDT+LR).
//
// Two engines walk the trees (docs/scoring-engine.md):
//
//   - Native (the default) is risklane's own: a flat node array walked by a
//     block of rows at a time, with XGBoost's semantics (float32 inputs,
//     value < threshold goes left, default directions for missing values,
//     float32 sums from the base margin, XGBoost's sigmoid);
//   - Leaves is github.com/dmitryikh/leaves, kept as a second opinion and
//     selectable (--engine leaves). leaves never sees a file risklane has not
//     checked: the model is validated, written to memory in the legacy binary
//     layout and loaded from there.
//
// The legacy binary stores each threshold t as the float32 just below it,
// because leaves sends a value left when value <= threshold (LightGBM's
// rule) where XGBoost sends it left when value < threshold: for float32
// numbers v and t, v <= prev(t) exactly when v < t (see
// xgb.WriteLegacyBinary). What leaves does not do is round values to
// float32 as XGBoost does (a value such as 0.1 that falls between two
// float32 numbers can go the other way), so the leaves engine is given
// float32(x). NaN follows the node's default direction in both. leaves adds
// the stored base_score to the margin as it is, which is why the legacy
// binary stores it as a margin. What remains is that leaves sums leaf
// values in float64 where XGBoost sums in float32: margins agree to about
// 1e-6 relative.
package scorer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/dmitryikh/leaves"

	"risklane/models/xgb"
)

// Engine names the code that walks the trees.
type Engine string

// Engines.
const (
	Native Engine = "native" // risklane's own block walk (the default)
	Leaves Engine = "leaves" // github.com/dmitryikh/leaves
)

// ParseEngine reads an --engine value; "" means Native.
func ParseEngine(s string) (Engine, error) {
	switch Engine(s) {
	case "", Native:
		return Native, nil
	case Leaves:
		return Leaves, nil
	}
	return "", fmt.Errorf("engine %q: use %s or %s", s, Native, Leaves)
}

// For the leaves engine a goroutine takes blocks of up to maxBlockRows rows
// at a time: small enough to spread work evenly, large enough that the
// per-block cost is noise. For wide rows a block holds fewer rows, so that
// its float32-rounded copy stays within blockValues values.
const (
	maxBlockRows = 256
	blockValues  = 1 << 16
)

// Scorer scores rows with one model. It is safe for concurrent use.
type Scorer struct {
	engine     Engine
	numFeature int
	numTrees   int
	forest     *forest // always built: PredictLeaves walks it whatever the engine
	bufs       sync.Pool

	// The leaves engine only.
	blockRows int
	ensemble  *leaves.Ensemble // with the sigmoid for the sigmoid objectives
	raw       *leaves.Ensemble // margins
}

// New validates m and prepares it for the native engine. The Scorer keeps
// no reference to m.
func New(m *xgb.Model) (*Scorer, error) { return NewEngine(m, Native) }

// NewEngine validates m and prepares it for the given engine; for Leaves it
// loads the model into leaves.
func NewEngine(m *xgb.Model, engine Engine) (*Scorer, error) {
	if engine == "" {
		engine = Native
	}
	if engine != Native && engine != Leaves {
		return nil, fmt.Errorf("engine %q: use %s or %s", engine, Native, Leaves)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("invalid model: %w", err)
	}
	if len(m.Trees) == 0 {
		return nil, errors.New("the model has no trees")
	}
	total := 0
	for i := range m.Trees {
		total += m.Trees[i].NumNodes()
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("the model has %d nodes in all, more than the %d risklane scores", total, math.MaxInt32)
	}
	s := &Scorer{
		engine:     engine,
		numFeature: m.NumFeature,
		numTrees:   len(m.Trees),
		forest:     newForest(m),
	}
	s.bufs.New = func() any { return s.forest.newBuf() }
	if engine == Leaves {
		// leaves knows the sigmoid by binary:logistic's name only;
		// reg:logistic predicts the same way.
		lm := *m
		if m.Sigmoid() {
			lm.Objective = xgb.BinaryLogistic
		}
		var bin bytes.Buffer
		if err := xgb.WriteLegacyBinary(&bin, &lm); err != nil {
			return nil, err
		}
		ens, err := leaves.XGEnsembleFromReader(bufio.NewReader(&bin), m.Sigmoid())
		if err != nil {
			return nil, fmt.Errorf("leaves refused the model: %w", err)
		}
		s.blockRows = max(1, min(maxBlockRows, blockValues/m.NumFeature))
		s.ensemble, s.raw = ens, ens.EnsembleWithRawPredictions()
	}
	return s, nil
}

// Engine returns the engine that walks the trees.
func (s *Scorer) Engine() Engine { return s.engine }

// NumFeature returns the number of values each row must have.
func (s *Scorer) NumFeature() int { return s.numFeature }

// NumTrees returns the number of trees, the number of leaf ids per row from
// PredictLeaves.
func (s *Scorer) NumTrees() int { return s.numTrees }

// Predict writes the prediction for each of nrows rows to out: the
// probability for the sigmoid objectives (xgb.Model.Sigmoid), the margin
// for reg:squarederror and binary:logitraw. rows is
// row-major with NumFeature values per row, NaN marking a missing value.
// threads goroutines share the work (0 means GOMAXPROCS).
func (s *Scorer) Predict(rows []float64, nrows int, out []float64, threads int) error {
	return PredictAll(rows, nrows, threads, Head{Scorer: s, Out: out})
}

// PredictMargin is Predict without the sigmoid: the raw score, as XGBoost's
// predict(output_margin=True).
func (s *Scorer) PredictMargin(rows []float64, nrows int, out []float64, threads int) error {
	return PredictAll(rows, nrows, threads, Head{Scorer: s, Out: out, Margin: true})
}

// Head is one ensemble of a PredictAll call and where its predictions go.
type Head struct {
	Scorer *Scorer
	Out    []float64 // one prediction per row
	Margin bool      // the raw score, without the sigmoid
}

// PredictAll scores the same rows with several ensembles over the same
// features (a classifier and its revenue head) in one pass: each block of
// rows is rounded to float32 once and walked by every native head while it
// is in cache. rows, nrows and threads are as for Predict. Heads on the
// leaves engine are scored one after another.
func PredictAll(rows []float64, nrows, threads int, heads ...Head) error {
	return predictAll(rows, nil, nrows, threads, heads)
}

// PredictAllColumns is PredictAll for features given column by column:
// cols[j][r] is feature j of row r (each column at least nrows long). The
// native engine rounds them into its blocks straight from the columns, so
// a caller that computes features by column (features.State.Transform)
// needs no transpose to rows; the predictions are PredictAll's, bit for bit
// (TestColumnsLikeRows).
func PredictAllColumns(cols [][]float64, nrows, threads int, heads ...Head) error {
	return predictAll(nil, cols, nrows, threads, heads)
}

// predictAll is PredictAll of rows, or of cols when rows is nil.
func predictAll(rows []float64, cols [][]float64, nrows, threads int, heads []Head) error {
	var native []Head
	for _, h := range heads {
		if err := h.Scorer.checkIn(rows, cols, nrows, len(h.Out), nrows); err != nil {
			return err
		}
		if h.Scorer.numFeature != heads[0].Scorer.numFeature {
			return fmt.Errorf("heads take %d and %d features", heads[0].Scorer.numFeature, h.Scorer.numFeature)
		}
		if h.Scorer.engine == Leaves {
			if rows == nil {
				rows = rowMajor(cols, nrows)
			}
			if err := h.Scorer.predictLeaves(rows, nrows, h.Out, h.Margin, threads); err != nil {
				return err
			}
			continue
		}
		native = append(native, h)
	}
	if len(native) == 0 || nrows == 0 {
		return nil
	}
	lead := native[0].Scorer
	parallel(nrows, lead.forest.blockRows, threads, func() func(lo, hi int) {
		return func(lo, hi int) {
			b := lead.bufs.Get().(*blockBuf)
			defer lead.bufs.Put(b)
			var n int
			if cols != nil {
				n = lead.forest.loadColumns(b, cols, lo, hi)
			} else {
				n = lead.forest.load(b, rows, lo, hi)
			}
			for _, h := range native {
				f := h.Scorer.forest
				f.margins(b, n)
				f.output(b.sums[:hi-lo], h.Out[lo:hi], h.Margin)
			}
		}
	})
	return nil
}

func (s *Scorer) predictLeaves(rows []float64, nrows int, out []float64, margin bool, threads int) error {
	ens := s.ensemble
	if margin {
		ens = s.raw
	}
	nf := s.numFeature
	var failed atomic.Pointer[error]
	parallel(nrows, s.blockRows, threads, func() func(lo, hi int) {
		buf := make([]float64, s.blockRows*nf)
		return func(lo, hi int) {
			b := buf[:(hi-lo)*nf]
			for i, v := range rows[lo*nf : hi*nf] {
				b[i] = float64(float32(v))
			}
			if err := ens.PredictDense(b, hi-lo, nf, out[lo:hi], 0, 1); err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		}
	})
	if p := failed.Load(); p != nil {
		return fmt.Errorf("leaves: %w", *p)
	}
	return nil
}

// PredictLeaves writes, for each of nrows rows and each tree, the XGBoost
// node id of the leaf the row reaches, as XGBoost's predict(pred_leaf=True):
// out[r*NumTrees()+t] for row r and tree t. rows and threads are as for
// Predict. leaves numbers leaves in its own order, so this always walks the
// native engine's trees.
func (s *Scorer) PredictLeaves(rows []float64, nrows int, out []int32, threads int) error {
	if err := s.check(rows, nrows, len(out), nrows*s.numTrees); err != nil {
		return err
	}
	f, nt := s.forest, s.numTrees
	parallel(nrows, f.blockRows, threads, func() func(lo, hi int) {
		return func(lo, hi int) {
			b := s.bufs.Get().(*blockBuf)
			defer s.bufs.Put(b)
			n := f.load(b, rows, lo, hi)
			f.leafIDs(b, n, hi-lo, out[lo*nt:hi*nt])
		}
	})
	return nil
}

// rowMajor is the first nrows rows of cols, row-major.
func rowMajor(cols [][]float64, nrows int) []float64 {
	nf := len(cols)
	rows := make([]float64, nrows*nf)
	for j, c := range cols {
		for i, v := range c[:nrows] {
			rows[i*nf+j] = v
		}
	}
	return rows
}

// checkIn is check for rows, or for cols when rows is nil.
func (s *Scorer) checkIn(rows []float64, cols [][]float64, nrows, outLen, wantOut int) error {
	if rows != nil || cols == nil {
		return s.check(rows, nrows, outLen, wantOut)
	}
	if nrows < 0 {
		return fmt.Errorf("nrows %d is negative", nrows)
	}
	if len(cols) != s.numFeature {
		return fmt.Errorf("%d columns for %d features", len(cols), s.numFeature)
	}
	for j, c := range cols {
		if len(c) < nrows {
			return fmt.Errorf("column %d has %d values for %d rows", j, len(c), nrows)
		}
	}
	if outLen < wantOut {
		return fmt.Errorf("output has room for %d values, need %d", outLen, wantOut)
	}
	return nil
}

func (s *Scorer) check(rows []float64, nrows, outLen, wantOut int) error {
	if nrows < 0 {
		return fmt.Errorf("nrows %d is negative", nrows)
	}
	if want := nrows * s.numFeature; len(rows) != want {
		return fmt.Errorf("%d values for %d rows of %d features (want %d)", len(rows), nrows, s.numFeature, want)
	}
	if outLen < wantOut {
		return fmt.Errorf("output has room for %d values, need %d", outLen, wantOut)
	}
	return nil
}

// parallel runs blocks of blockRows rows on up to threads goroutines; each
// goroutine builds its own worker (with its own buffers) once.
func parallel(nrows, blockRows, threads int, worker func() func(lo, hi int)) {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	blocks := (nrows + blockRows - 1) / blockRows
	threads = min(threads, blocks)
	if threads <= 1 {
		w := worker()
		for lo := 0; lo < nrows; lo += blockRows {
			w(lo, min(lo+blockRows, nrows))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range threads {
		wg.Go(func() {
			w := worker()
			for {
				b := int(next.Add(1)) - 1
				if b >= blocks {
					return
				}
				lo := b * blockRows
				w(lo, min(lo+blockRows, nrows))
			}
		})
	}
	wg.Wait()
}
