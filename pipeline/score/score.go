// Package score is the streaming core of a scoring run: it turns record
// batches in the canonical schema into one compact ranking key per row, then,
// once the ranking is known, joins each row's declaration_id and reasons back
// in rank order.
//
// A run reads its input twice and never holds it whole:
//
//  1. Score: a reader goroutine decodes batches; workers compute features
//     from the model's saved state and predict; per row only a packed rank
//     key (float32 score + input ordinal, 8 bytes), the probability (4 bytes)
//     and the expected revenue (8 bytes) are kept: 20 bytes a row, 200 MB for
//     ten million declarations.
//  2. Ranking (package rank) sorts the keys and cuts the lanes.
//  3. Explain: the input is read again; rows in the red and yellow lanes get
//     their features recomputed and their reasons written; every row's
//     declaration_id and reasons go to one of several spill files by rank
//     range (a distribution pass), so that
//  4. Write can emit the ranked file in rank order holding one rank range
//     (RowGroupRows rows) in memory at a time.
//
// Batches pass through bounded channels, so at most a few batches are in
// memory whatever the input size, and each is released as soon as its last
// reader is done with it.
package score

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/models/xgb"
	"risklane/pipeline/decl"
	"risklane/pipeline/rank"
)

// Source yields record batches in the canonical schema, in a deterministic
// order: reading the same input twice must give the same rows in the same
// order. The batch returned by RecordBatch is valid until the next call to
// Next; Score retains what it keeps longer.
type Source interface {
	Next() bool
	RecordBatch() arrow.RecordBatch
	Err() error
}

// Model is what scoring needs from a trained model. Its methods are called
// from several goroutines at once.
type Model interface {
	// ID identifies the model in the ranked file and the manifest.
	ID() string
	// FeatureNames names the model's features, in order.
	FeatureNames() []string
	// Check refuses an input schema that cannot give the model's features,
	// saying which columns are missing or of the wrong type.
	Check(schema *arrow.Schema) error
	// Features computes the features of every row of rec from the model's
	// saved feature state, row-major: feats[i*F+f] for row i, feature f
	// (NaN = missing). len(feats) == rows*F.
	Features(rec arrow.RecordBatch, feats []float64) error
	// Predict scores rows given their features: prob is the probability of
	// illicit, expRev the expected revenue (prob times the revenue the model
	// expects an inspection to raise; 0 when the model has no revenue head).
	Predict(feats []float64, prob, expRev []float64) error
	// Trees returns the ensemble behind prob, for reasons.
	Trees() *xgb.Model
}

// RankBy says what the ranking key is.
type RankBy string

// Ranking keys.
const (
	ByProbability RankBy = "probability"
	ByRevenue     RankBy = "revenue" // expected revenue, as DATE's dual task ranks
)

// Options tune a scoring pass.
type Options struct {
	// Workers is the number of goroutines computing features and scores
	// (beside the reader). Zero means GOMAXPROCS.
	Workers int
	// RankBy is the ranking key; zero means ByProbability.
	RankBy RankBy
	// Progress, when set, is called from one goroutine with the number of
	// rows done so far.
	Progress func(rows int64)
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// subBatch is how many rows a worker turns into features at once: the
// row-major feature block (subBatch x F float64) stays in cache-sized
// memory however large the source's batches are.
const subBatch = 4096

// Timing is how long a pass spent where. Busy times are summed over the
// goroutines doing that work, so they can exceed Wall.
type Timing struct {
	Rows int64 `json:"rows"`
	// Read is the time the reader spent decoding and validating batches.
	Read time.Duration `json:"read_ns"`
	// Work is the worker time: features and prediction (Score) or features,
	// contributions and sentences (Explain).
	Work time.Duration `json:"work_ns"`
	Wall time.Duration `json:"wall_ns"`
}

// Scored holds the compact per-row results of the first pass, indexed by
// input ordinal (the row's position among the accepted rows).
type Scored struct {
	// Keys are the rank keys in ordinal order, ready for rank.Sort.
	Keys   []rank.Key
	Timing Timing

	prob chunked[float32]
	rev  chunked[float64]
	ids  idDigest
}

// Rows returns the number of rows scored.
func (s *Scored) Rows() int { return s.prob.n }

// Prob returns the probability of the row at an ordinal, as float32 (the
// precision XGBoost predicts in and the ranked file stores).
func (s *Scored) Prob(ord uint32) float32 { return s.prob.at(int(ord)) }

// Revenue returns the expected revenue of the row at an ordinal.
func (s *Scored) Revenue(ord uint32) float64 { return s.rev.at(int(ord)) }

// idDigest is an order-sensitive fingerprint of the declaration_id column:
// the second pass checks that it reads the rows the first one ranked.
type idDigest struct {
	seed maphash.Seed
	sum  uint64
}

func (d *idDigest) rowHash(ord int, id string) uint64 {
	return mix(maphash.String(d.seed, id) ^ uint64(ord)*0x9e3779b97f4a7c15)
}

// mix is SplitMix64's finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// batch is one source batch on its way through a pass.
type batch struct {
	rec   arrow.RecordBatch
	start int // ordinal of its first row
}

// readBatches runs the reader side of a pass: it sends every batch of src,
// retained, with its first ordinal, then cancels ctx with the source's error
// if any, and closes out (in that order, so that whoever sees out closed
// also sees the error). It stops early when ctx is done.
func readBatches(ctx context.Context, cancel context.CancelCauseFunc, src Source, out chan<- batch, readTime *time.Duration) {
	if err := sendBatches(ctx, src, out, readTime); err != nil {
		cancel(err)
	}
	close(out)
}

func sendBatches(ctx context.Context, src Source, out chan<- batch, readTime *time.Duration) error {
	start := 0
	for {
		t0 := time.Now()
		ok := src.Next()
		*readTime += time.Since(t0)
		if !ok {
			return src.Err()
		}
		rec := src.RecordBatch()
		n := int(rec.NumRows())
		if n == 0 {
			continue
		}
		rec.Retain()
		select {
		case out <- batch{rec: rec, start: start}:
		case <-ctx.Done():
			rec.Release()
			return ctx.Err()
		}
		start += n
	}
}

// drain releases whatever is left in a batch channel after a failure.
func drain(in <-chan batch) {
	for b := range in {
		b.rec.Release()
	}
}

// idColumn returns the declaration_id column of rec.
func idColumn(rec arrow.RecordBatch) (*array.String, error) {
	idx := rec.Schema().FieldIndices(decl.DeclarationID)
	if len(idx) == 0 {
		return nil, fmt.Errorf("input has no %s column", decl.DeclarationID)
	}
	ids, ok := rec.Column(idx[0]).(*array.String)
	if !ok {
		return nil, fmt.Errorf("column %s is %s, want string", decl.DeclarationID, rec.Column(idx[0]).DataType())
	}
	return ids, nil
}

// scoredRows is a worker's output for one batch.
type scoredRows struct {
	start int
	prob  []float32
	rev   []float64
	key   []float32
	ids   uint64
	busy  time.Duration
}

// Score runs the first pass over src: features, prediction and one rank key
// per row. Memory is the 20 bytes a row of Scored plus a few batches.
func Score(ctx context.Context, src Source, m Model, opt Options) (*Scored, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	t0 := time.Now()
	workers := opt.workers()
	nf := len(m.FeatureNames())
	byRevenue := opt.RankBy == ByRevenue

	s := &Scored{ids: idDigest{seed: maphash.MakeSeed()}}
	batches := make(chan batch, workers)
	results := make(chan scoredRows, workers)
	go readBatches(ctx, cancel, src, batches, &s.Timing.Read)

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			feats := make([]float64, subBatch*nf)
			prob := make([]float64, subBatch)
			rev := make([]float64, subBatch)
			for b := range batches {
				r, err := scoreBatch(b, m, nf, byRevenue, &s.ids, feats, prob, rev)
				b.rec.Release()
				if err != nil {
					cancel(err)
					drain(batches)
					return
				}
				results <- r
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	// The collector is the only writer of the per-row arrays. Batches arrive
	// in any order; each knows its ordinals, so rows land in place.
	var keys chunked[rank.Key]
	var done int64
	for r := range results {
		if err := s.put(&keys, r); err != nil {
			cancel(err)
			continue // keep receiving so that the workers finish
		}
		s.ids.sum += r.ids
		s.Timing.Work += r.busy
		done += int64(len(r.prob))
		if opt.Progress != nil {
			opt.Progress(done)
		}
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	s.Keys = keys.flatten()
	s.Timing.Rows = int64(len(s.Keys))
	s.Timing.Wall = time.Since(t0)
	return s, nil
}

// scoreBatch computes features and scores of one batch, subBatch rows at a
// time.
func scoreBatch(b batch, m Model, nf int, byRevenue bool, ids *idDigest, feats, prob, rev []float64) (scoredRows, error) {
	t0 := time.Now()
	n := int(b.rec.NumRows())
	idCol, err := idColumn(b.rec)
	if err != nil {
		return scoredRows{}, err
	}
	r := scoredRows{start: b.start, prob: make([]float32, n), rev: make([]float64, n), key: make([]float32, n)}
	for i := 0; i < n; i += subBatch {
		j := min(i+subBatch, n)
		k := j - i
		sub := b.rec.NewSlice(int64(i), int64(j))
		err := m.Features(sub, feats[:k*nf])
		sub.Release()
		if err != nil {
			return scoredRows{}, fmt.Errorf("features of rows %d to %d: %w", b.start+i+1, b.start+j, err)
		}
		if err := m.Predict(feats[:k*nf], prob[:k], rev[:k]); err != nil {
			return scoredRows{}, fmt.Errorf("scoring rows %d to %d: %w", b.start+i+1, b.start+j, err)
		}
		for t := range k {
			r.prob[i+t] = float32(prob[t])
			r.rev[i+t] = rev[t]
			if byRevenue {
				r.key[i+t] = float32(rev[t])
			} else {
				r.key[i+t] = float32(prob[t])
			}
		}
	}
	for i := range n {
		r.ids += ids.rowHash(b.start+i, idCol.Value(i))
	}
	r.busy = time.Since(t0)
	return r, nil
}

// maxRows is the most rows one run ranks: ordinals are 32-bit in the keys.
const maxRows = 1<<32 - 1

// put stores one batch's results; the collector goroutine alone calls it.
func (s *Scored) put(keys *chunked[rank.Key], r scoredRows) error {
	if r.start+len(r.prob) > maxRows {
		return fmt.Errorf("more than %d rows: split the input into several runs", maxRows)
	}
	for i, p := range r.prob {
		ord := r.start + i
		s.prob.set(ord, p)
		s.rev.set(ord, r.rev[i])
		keys.set(ord, rank.MakeKey(r.key[i], uint32(ord)))
	}
	return nil
}

// chunkRows is the size of a chunk: growing by chunks never copies what is
// already stored, so memory is the rows and no more while the count is
// unknown.
const chunkRows = 1 << 20

// chunked is a growable array in fixed-size chunks.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

func (c *chunked[T]) set(i int, v T) {
	for len(c.chunks)*chunkRows <= i {
		c.chunks = append(c.chunks, make([]T, chunkRows))
	}
	c.chunks[i/chunkRows][i%chunkRows] = v
	c.n = max(c.n, i+1)
}

func (c *chunked[T]) at(i int) T { return c.chunks[i/chunkRows][i%chunkRows] }

// flatten returns the elements as one slice (rank.Sort needs one), dropping
// each chunk once copied.
func (c *chunked[T]) flatten() []T {
	out := make([]T, c.n)
	for k := range c.chunks {
		copy(out[k*chunkRows:], c.chunks[k])
		c.chunks[k] = nil
	}
	c.chunks = nil
	return out
}

// errInputChanged is returned when the second pass does not read the rows
// the first pass ranked.
var errInputChanged = errors.New("the input changed while it was being scored (the second read gave different rows); rerun when the input files are complete")
