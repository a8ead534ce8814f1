// Package scorer scores rows with a validated XGBoost tree ensemble through
// github.com/dmitryikh/leaves, in batches and on several goroutines, and
// gives the leaf each row reaches in each tree (the input of tree embeddings
// and GBDT+LR).
//
// leaves never sees a file risklane has not checked: New validates the
// model, writes it to memory in the legacy binary layout and loads that.
//
// Two differences between leaves and XGBoost are compensated here, so that
// predictions match XGBoost's:
//
//   - leaves sends a value left when value <= threshold (LightGBM's rule);
//     XGBoost sends it left when value < threshold;
//   - leaves compares in float64; XGBoost rounds every value to float32
//     first (its DMatrix stores float32), so a value such as 0.1 that falls
//     between two float32 numbers can go the other way.
//
// Each value x is therefore given to leaves as the float32 number just above
// float32(x): for float32 numbers v and t, v < t exactly when next(v) <= t.
// NaN stays NaN and follows the node's default direction in both. leaves
// adds the stored base_score to the margin as it is, which is why the
// legacy binary stores it as a margin (see xgb.WriteLegacyBinary). What
// remains is that leaves sums leaf values in float64 where XGBoost sums in
// float32: margins agree to about 1e-6 relative.
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

// A goroutine takes blocks of up to maxBlockRows rows at a time: small
// enough to spread work evenly, large enough that the per-block cost is
// noise. For wide rows a block holds fewer rows, so that its float32-rounded
// copy stays within blockValues values.
const (
	maxBlockRows = 256
	blockValues  = 1 << 16
)

// Scorer scores rows with one model. It is safe for concurrent use.
type Scorer struct {
	numFeature int
	numTrees   int
	blockRows  int
	ensemble   *leaves.Ensemble // with the sigmoid for binary:logistic
	raw        *leaves.Ensemble // margins

	// The trees again, flattened for PredictLeaves: leaves numbers leaves
	// its own way, while callers want XGBoost's node ids.
	nodes []flatNode
	roots []int32
}

// flatNode is one node of all trees in one array. XGBoost's node ids are
// kept (node id = index - root of its tree), and its right child is always
// left+1, so a node needs one child index.
type flatNode struct {
	threshold float32
	feature   uint32 // bit 31: missing values go left
	left      int32  // index in nodes; -1 for a leaf
}

const defaultLeftBit = 1 << 31

// New validates m and loads it into leaves. The Scorer keeps no reference
// to m.
func New(m *xgb.Model) (*Scorer, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("invalid model: %w", err)
	}
	if len(m.Trees) == 0 {
		return nil, errors.New("the model has no trees")
	}
	var bin bytes.Buffer
	if err := xgb.WriteLegacyBinary(&bin, m); err != nil {
		return nil, err
	}
	ens, err := leaves.XGEnsembleFromReader(bufio.NewReader(&bin), m.Objective == xgb.BinaryLogistic)
	if err != nil {
		return nil, fmt.Errorf("leaves refused the model: %w", err)
	}
	total := 0
	for i := range m.Trees {
		total += m.Trees[i].NumNodes()
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("the model has %d nodes in all, more than the %d risklane scores", total, math.MaxInt32)
	}
	s := &Scorer{
		numFeature: m.NumFeature,
		numTrees:   len(m.Trees),
		blockRows:  max(1, min(maxBlockRows, blockValues/m.NumFeature)),
		ensemble:   ens,
		raw:        ens.EnsembleWithRawPredictions(),
	}
	s.flatten(m, total)
	return s, nil
}

func (s *Scorer) flatten(m *xgb.Model, total int) {
	s.nodes = make([]flatNode, total)
	s.roots = make([]int32, len(m.Trees))
	at := int32(0)
	for i := range m.Trees {
		t := &m.Trees[i]
		s.roots[i] = at
		for id := range t.NumNodes() {
			n := flatNode{threshold: t.SplitCondition[id], feature: uint32(t.SplitIndex[id]), left: -1}
			if t.Left[id] != -1 {
				n.left = at + t.Left[id]
				if t.DefaultLeft[id] {
					n.feature |= defaultLeftBit
				}
			}
			s.nodes[int(at)+id] = n
		}
		at += int32(t.NumNodes())
	}
}

// NumFeature returns the number of values each row must have.
func (s *Scorer) NumFeature() int { return s.numFeature }

// NumTrees returns the number of trees, the number of leaf ids per row from
// PredictLeaves.
func (s *Scorer) NumTrees() int { return s.numTrees }

// Predict writes the prediction for each of nrows rows to out: the
// probability for binary:logistic, the value for reg:squarederror. rows is
// row-major with NumFeature values per row, NaN marking a missing value.
// threads goroutines share the work (0 means GOMAXPROCS).
func (s *Scorer) Predict(rows []float64, nrows int, out []float64, threads int) error {
	return s.predict(s.ensemble, rows, nrows, out, threads)
}

// PredictMargin is Predict without the sigmoid: the raw score, as XGBoost's
// predict(output_margin=True).
func (s *Scorer) PredictMargin(rows []float64, nrows int, out []float64, threads int) error {
	return s.predict(s.raw, rows, nrows, out, threads)
}

func (s *Scorer) predict(ens *leaves.Ensemble, rows []float64, nrows int, out []float64, threads int) error {
	if err := s.check(rows, nrows, len(out), nrows); err != nil {
		return err
	}
	nf := s.numFeature
	var failed atomic.Pointer[error]
	parallel(nrows, s.blockRows, threads, func() func(lo, hi int) {
		buf := make([]float64, s.blockRows*nf)
		return func(lo, hi int) {
			b := buf[:(hi-lo)*nf]
			for i, v := range rows[lo*nf : hi*nf] {
				b[i] = nextFloat32(v)
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
// Predict. leaves numbers leaves in its own order, so this walks risklane's
// own flat copy of the trees, with XGBoost's float32 comparison.
func (s *Scorer) PredictLeaves(rows []float64, nrows int, out []int32, threads int) error {
	if err := s.check(rows, nrows, len(out), nrows*s.numTrees); err != nil {
		return err
	}
	nf, nt := s.numFeature, s.numTrees
	parallel(nrows, s.blockRows, threads, func() func(lo, hi int) {
		return func(lo, hi int) {
			for r := lo; r < hi; r++ {
				s.leavesOf(rows[r*nf:(r+1)*nf], out[r*nt:(r+1)*nt])
			}
		}
	})
	return nil
}

func (s *Scorer) leavesOf(row []float64, out []int32) {
	nodes := s.nodes
	for t, root := range s.roots {
		i := root
		for {
			n := &nodes[i]
			if n.left < 0 {
				break
			}
			// Written so that the compiler can use conditional moves: the
			// direction depends on the data and mispredicts half the time as
			// a branch. NaN fails "<" and so goes right, unless the node's
			// default is left.
			v := float32(row[n.feature&^defaultLeftBit])
			var right, missing int32
			if !(v < n.threshold) {
				right = 1
			}
			if v != v {
				missing = 1
			}
			i = n.left + (right ^ missing&int32(n.feature>>31))
		}
		out[t] = i - root
	}
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

// nextFloat32 returns the smallest float32 number greater than float32(x),
// as a float64; NaN and +Inf stay as they are. See the package comment.
func nextFloat32(x float64) float64 {
	f := float32(x)
	b := math.Float32bits(f)
	switch {
	case f != f || b == 0x7f800000: // NaN, +Inf
		return float64(f)
	case b == 0x80000000: // -0
		b = 1
	case b>>31 == 0:
		b++
	default:
		b--
	}
	return float64(math.Float32frombits(b))
}
