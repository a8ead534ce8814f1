// Package score is the streaming core of a scoring run: it turns record
// batches in the canonical schema into one compact ranking key per row and,
// once the ranking is known, joins every row's declaration_id and reasons
// back in rank order.
//
// A run reads its input once:
//
//  1. Score: ingest decodes batches on its goroutine; workers compute
//     features from the model's saved state and predict. Per row only a
//     packed rank key (float32 score + input ordinal, 8 bytes) stays in
//     memory, with the expected revenue (8 bytes) when the model has a
//     revenue head and the probability (4 bytes) when ranking by expected
//     revenue: 80 to 200 MB for ten million declarations. The
//     declaration_ids go to a spill file. So do the rows that may still end
//     in the red or yellow lanes (the candidates, see candidates): their
//     features, as float32, and the raw columns their reasons quote.
//  2. Ranking (package rank) sorts the keys and cuts the lanes.
//  3. Join distributes the spilled ids by rank range, one spill file per
//     range, and computes the reasons of the candidates that did land in
//     the red and yellow lanes (a third of the candidates). Were a red or
//     yellow row not a candidate (only possible when the row count was not
//     known in advance and the input is ordered by risk), Join reads the
//     input again for those rows alone.
//  4. Write emits the ranked file in rank order, one rank range
//     (RowGroupRows rows) in memory at a time.
//
// Batches pass through bounded channels, so a few batches at most are in
// memory whatever the input size, each released when its last user is done.
package score

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
	"risklane/models"
	"risklane/pipeline/rank"
	"risklane/sink"
)

// Source yields record batches in the canonical schema, in a deterministic
// order: reading the same input twice must give the same rows in the same
// order. The batch returned by RecordBatch is valid until the next call to
// Next; the scoring stage retains what it keeps longer.
type Source interface {
	Next() bool
	RecordBatch() arrow.RecordBatch
	Err() error
}

// contributor is what reasons need from a model: per-feature
// contributions (models.Explainer). A model without them gets noReasons.
type contributor interface {
	Contributions(x, contrib []float64) float64
}

// noReasons is the contributor of a model that is not a models.Explainer:
// every contribution is zero, so reasons quote no feature.
type noReasons struct{}

func (noReasons) Contributions(_, _ []float64) float64 { return 0 }

// contributionsRows adds the contributions of n rows (row-major, nf
// features each) to out, through the model's ContributionsRows when it has
// one (eight rows walk the trees side by side, docs/scoring-engine.md), a
// row at a time otherwise.
func contributionsRows(ex contributor, x []float64, n, nf int, out []float64) {
	if r, ok := ex.(interface {
		ContributionsRows(x []float64, n int, out []float64)
	}); ok {
		r.ContributionsRows(x, n, out)
		return
	}
	for i := range n {
		ex.Contributions(x[i*nf:(i+1)*nf], out[i*nf:(i+1)*nf])
	}
}

// explainerOf returns the contributions the reasons use: the exact ones
// when cfg asks for contributions in the ranked file, else the model's
// (path) contributions, or noReasons.
func explainerOf(cfg *Config) contributor {
	if cfg.Contributions > 0 {
		if e, ok := cfg.Model.(models.ExactExplainer); ok {
			return exactContributor{e}
		}
	}
	if e, ok := cfg.Model.(models.Explainer); ok {
		return e
	}
	return noReasons{}
}

// exactContributor gives a models.ExactExplainer's exact contributions as a
// contributor.
type exactContributor struct{ e models.ExactExplainer }

func (c exactContributor) Contributions(x, contrib []float64) float64 {
	return c.e.ExactContributions(x, contrib)
}

// appendPayload is what the reason spill holds for an explained row: its
// reasons text, or with Config.Contributions the text's length, the text,
// the number of contributions and each one's feature index, value and
// contribution (the top Contributions features by absolute contribution,
// ties by lower index).
func (c *Config) appendPayload(dst, text []byte, x, contrib []float64, idx []int) ([]byte, []int) {
	if c.Contributions <= 0 {
		return append(dst, text...), idx
	}
	idx = idx[:0]
	for f := range contrib {
		idx = append(idx, f)
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(math.Abs(contrib[b]), math.Abs(contrib[a])) })
	idx = idx[:min(c.Contributions, len(idx))]
	dst = binary.AppendUvarint(dst, uint64(len(text)))
	dst = append(dst, text...)
	dst = binary.AppendUvarint(dst, uint64(len(idx)))
	for _, f := range idx {
		dst = binary.AppendUvarint(dst, uint64(f))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x[f]))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(contrib[f]))
	}
	return dst, idx
}

// Config is what a scoring run needs besides its input.
type Config struct {
	// Model is the model that scores; the reasons use its contributions
	// when it is a models.Explainer, and ranking by expected revenue needs
	// a models.RevenueModel with a revenue head (models.CheckRankBy).
	Model models.Model
	// Reasoner writes the reasons; nil means NewReasoner(Model.FeatureNames()).
	Reasoner *Reasoner
	// Explained returns how many of n scored rows get reasons: the red and
	// yellow lanes (rank.Plan.Explained).
	Explained func(n int) int
	// RowsHint, when not zero, is an upper bound on the number of rows the
	// source gives; it makes the choice of the rows that get reasons in the
	// first pass exact (see candidates).
	RowsHint int
	// TempDir holds the spill folder, SpillPrefix* ("" means os.TempDir()).
	TempDir string
	// Workers is the number of goroutines computing features, scores and
	// reasons (beside ingest's reader). Zero means GOMAXPROCS.
	Workers int
	// RankBy is the ranking key; zero means models.ByProbability.
	RankBy models.RankBy
	// Progress, when set, is called from one goroutine with the number of
	// rows done so far in the current pass.
	Progress func(rows int64)
	// Contributions, when above 0, gives every red and yellow row its top
	// Contributions features by exact contribution (TreeSHAP; the model must
	// be a models.ExactExplainer), and their reasons come from them too
	// (docs/interop.md: they cost hundreds of times the path contributions).
	Contributions int
	// Keep names input columns (of the canonical schema, or profile
	// extras) whose values, as text, every ranked row carries.
	Keep []string
}

func (c *Config) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// subBatch is how many rows a worker turns into features at once: the
// row-major feature block (subBatch x F float64) stays in cache-sized
// memory however large the source's batches are.
const subBatch = 4096

// SpillPrefix begins the name of a scoring run's spill folder in TempDir.
// The folder is locked while the run lives; the next run removes the ones
// killed runs left (see sink.RemoveStale).
const SpillPrefix = ".risklane-spill-"

// Timing is how long a pass spent where. Busy times are summed over the
// goroutines doing that work, so they can exceed Wall.
type Timing struct {
	Rows int64 `json:"rows"`
	// Read is the time the pass waited for its source's batches.
	Read time.Duration `json:"read_ns"`
	// Work is the workers' busy time: features, prediction, reasons.
	Work time.Duration `json:"work_ns"`
	Wall time.Duration `json:"wall_ns"`
}

// Scored holds the compact per-row results of the first pass, indexed by
// input ordinal (the row's position among the accepted rows), and the spill
// files of ids and candidates. Remove deletes the files.
type Scored struct {
	// Keys are the rank keys in ordinal order, ready for rank.Sort.
	Keys   []rank.Key
	Timing Timing
	// Candidates is the number of rows the first pass kept for reasons.
	Candidates int64

	cfg        Config
	rows       int
	prob       chunked[float32] // only when ranking by expected revenue
	rev        chunked[float64] // chunks of zeros (no revenue head) stay unallocated
	ids        idDigest
	dir        string
	spill      *sink.TempDir
	idFile     *os.File
	candidates *os.File
}

// Rows returns the number of rows scored.
func (s *Scored) Rows() int { return s.rows }

// Prob returns the probability of the row with the given rank key, as
// float32 (the precision XGBoost predicts in and the ranked file stores).
// Ranked by probability, the key holds it; ranked by expected revenue, it
// is kept apart.
func (s *Scored) Prob(k rank.Key) float32 {
	if s.cfg.RankBy == models.ByExpectedRevenue {
		return s.prob.at(int(k.Ord()))
	}
	return k.Score()
}

// Revenue returns the expected revenue of the row at an ordinal.
func (s *Scored) Revenue(ord uint32) float64 { return s.rev.at(int(ord)) }

// Remove deletes the spill files. Safe to call more than once.
func (s *Scored) Remove() {
	for _, f := range []*os.File{s.idFile, s.candidates} {
		if f != nil {
			f.Close()
		}
	}
	s.idFile, s.candidates = nil, nil
	s.spill.Remove()
}

// idDigest is an order-sensitive fingerprint of the declaration_id column:
// a second read of the input is checked against the first.
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
	return decl.Need[*array.String](rec, decl.DeclarationID)
}

// scoredBatch is a worker's output for one batch.
type scoredBatch struct {
	start      int
	prob       []float32
	rev        []float64
	key        []rank.Key
	captured   []rank.Key // keys of the candidate rows
	ids        []byte     // the batch's id block
	candidates []byte     // candidate records (appendCandidate)
	idDigest   uint64
	busy       time.Duration
}

// Score runs the first pass over src (see the package comment). Memory is
// the 8-byte key of each row (plus 8 bytes of expected revenue with a
// revenue head, and 4 of probability when ranking by expected revenue), the
// candidate heap (8 bytes per red or yellow row) and a few batches.
func Score(ctx context.Context, src Source, cfg Config) (_ *Scored, err error) {
	t0 := time.Now()
	if cfg.Reasoner == nil {
		cfg.Reasoner = NewReasoner(cfg.Model.FeatureNames())
	}
	if cfg.Explained == nil {
		return nil, fmt.Errorf("score: no Explained function")
	}
	if cfg.RankBy == "" {
		cfg.RankBy = models.ByProbability
	}
	if err := models.CheckRankBy(cfg.Model, cfg.RankBy); err != nil {
		return nil, err
	}
	if _, ok := cfg.Model.(models.ExactExplainer); cfg.Contributions > 0 && !ok {
		return nil, fmt.Errorf("score: a %s model gives no exact contributions (--contributions)", cfg.Model.Kind())
	}
	ex := explainerOf(&cfg)
	s := &Scored{cfg: cfg, ids: idDigest{seed: maphash.MakeSeed()}}
	defer func() {
		if err != nil {
			s.Remove()
		}
	}()
	// The spill folders of killed runs go first; a live run's is locked.
	tmpDir := cfg.TempDir
	if tmpDir == "" {
		tmpDir = os.TempDir()
	}
	if _, err := sink.RemoveStale(tmpDir, SpillPrefix); err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	if s.spill, err = sink.MkdirTemp(tmpDir, SpillPrefix); err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	s.dir = s.spill.Path()
	if s.idFile, err = os.Create(filepath.Join(s.dir, "ids")); err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	if s.candidates, err = os.Create(filepath.Join(s.dir, "candidates")); err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	idOut := bufio.NewWriterSize(s.idFile, 1<<20)
	reasonOut := bufio.NewWriterSize(s.candidates, 1<<20)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := cfg.workers()
	batches := make(chan batch, workers)
	results := make(chan scoredBatch, workers)
	go readBatches(ctx, cancel, src, batches, &s.Timing.Read)

	cand := newCandidates(cfg.Explained, cfg.RowsHint)
	// The collector hands each batch's buffers back once stored and
	// written, so that workers refill them instead of growing new ones (a
	// batch's candidate records run to megabytes: regrowing them by
	// append was a twelfth of a small model's run).
	recycle := make(chan scoredBatch, 2*workers+2)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newScoreWorker(&cfg, ex, &s.ids, &cand.threshold)
			w.recycle = recycle
			for b := range batches {
				r, err := w.batch(b)
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

	// The collector alone writes the per-row arrays, the heap and the spill
	// files. Batches arrive in any order; each knows its ordinals.
	var keys chunked[rank.Key]
	var done int64
	for r := range results {
		if context.Cause(ctx) != nil {
			continue // keep receiving so that the workers finish
		}
		if err := s.put(&keys, r); err != nil {
			cancel(err)
			continue
		}
		done += int64(len(r.prob))
		cand.seen(int(done))
		for _, k := range r.captured {
			cand.offer(k)
		}
		s.Candidates += int64(len(r.captured))
		s.ids.sum += r.idDigest
		s.Timing.Work += r.busy
		if _, err := idOut.Write(r.ids); err != nil {
			cancel(fmt.Errorf("spill: %w", err))
		}
		if _, err := reasonOut.Write(r.candidates); err != nil {
			cancel(fmt.Errorf("spill: %w", err))
		}
		if cfg.Progress != nil {
			cfg.Progress(done)
		}
		select {
		case recycle <- r:
		default:
		}
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	for _, w := range []*bufio.Writer{idOut, reasonOut} {
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
	}
	s.Keys = keys.flatten()
	if len(s.Keys) != s.rows {
		return nil, fmt.Errorf("internal error: %d keys for %d rows", len(s.Keys), s.rows)
	}
	s.Timing.Rows = int64(len(s.Keys))
	s.Timing.Wall = time.Since(t0)
	return s, nil
}

// maxRows is the most rows one run ranks: ordinals are 32-bit in the keys.
// It is an int64 so that the check compiles where int is 32 bits.
const maxRows int64 = 1<<32 - 1

// put stores one batch's results.
func (s *Scored) put(keys *chunked[rank.Key], r scoredBatch) error {
	if int64(r.start)+int64(len(r.prob)) > maxRows {
		return fmt.Errorf("more than %d rows: split the input into several runs", maxRows)
	}
	byRevenue := s.cfg.RankBy == models.ByExpectedRevenue
	for i, p := range r.prob {
		ord := r.start + i
		if byRevenue {
			s.prob.set(ord, p)
		}
		s.rev.set(ord, r.rev[i])
		keys.set(ord, r.key[i])
	}
	s.rows = max(s.rows, r.start+len(r.prob))
	return nil
}

// columnar is a model that computes its features column by column and
// predicts from them (riskmodel.Model): the scoring stage then spares the
// transposes from columns to rows and back to the tree engine's column
// blocks.
type columnar interface {
	FeatureColumns(rec arrow.RecordBatch, cols [][]float64) ([][]float64, error)
	PredictColumns(cols [][]float64, score, expRev []float64) error
}

// scoreWorker holds one worker's buffers for the first pass.
type scoreWorker struct {
	cfg       *Config
	ex        contributor
	ids       *idDigest
	threshold *atomic.Uint64
	nf        int
	byRevenue bool

	quoted  []string
	feats   []float64   // row-major features, or
	cols    [][]float64 // a columnar model's features
	col     columnar
	prob    []float64
	rev     []float64
	contrib []float64
	scratch reasonScratch
	row     rowView
	// recycle, when set, gives back the buffers of batches the collector
	// is done with.
	recycle chan scoredBatch
}

func newScoreWorker(cfg *Config, ex contributor, ids *idDigest, threshold *atomic.Uint64) *scoreWorker {
	nf := len(cfg.Model.FeatureNames())
	w := &scoreWorker{cfg: cfg, ex: ex, ids: ids, threshold: threshold, nf: nf, byRevenue: cfg.RankBy == models.ByExpectedRevenue,
		quoted: cfg.Reasoner.Quoted(), prob: make([]float64, subBatch),
		rev: make([]float64, subBatch), contrib: make([]float64, nf)}
	// The repair's workers (no threshold) compute row-major features for
	// explain.
	if c, ok := cfg.Model.(columnar); ok && threshold != nil {
		w.col = c
	} else {
		w.feats = make([]float64, subBatch*nf)
	}
	return w
}

// batch scores one batch, subBatch rows at a time, and writes the reasons of
// its candidate rows.
func (w *scoreWorker) batch(b batch) (scoredBatch, error) {
	t0 := time.Now()
	n := int(b.rec.NumRows())
	idCol, err := idColumn(b.rec)
	if err != nil {
		return scoredBatch{}, err
	}
	r := w.buffers(n)
	r.start = b.start
	r.ids = binary.AppendUvarint(r.ids, uint64(b.start))
	r.ids = binary.AppendUvarint(r.ids, uint64(n))
	keep := make([]arrow.Array, len(w.cfg.Keep))
	for k, name := range w.cfg.Keep {
		idx := b.rec.Schema().FieldIndices(name)
		if len(idx) == 0 {
			return scoredBatch{}, fmt.Errorf("no column %q to keep", name)
		}
		keep[k] = b.rec.Column(idx[0])
	}
	for i := range n {
		id := idCol.Value(i)
		r.ids = binary.AppendUvarint(r.ids, uint64(len(id)))
		r.ids = append(r.ids, id...)
		r.idDigest += w.ids.rowHash(b.start+i, id)
		for _, a := range keep {
			v := ""
			if a.IsValid(i) {
				v = a.ValueStr(i)
			}
			r.ids = binary.AppendUvarint(r.ids, uint64(len(v)))
			r.ids = append(r.ids, v...)
		}
	}
	if w.threshold != nil && w.threshold.Load() == math.MaxUint64 {
		// Until the candidate heap first fills, every row is a candidate:
		// room for all the batch's records at once, rather than a
		// regrowth (copy) per sub-batch.
		r.candidates = slices.Grow(r.candidates, n*w.recordGuess())
	}
	for i := 0; i < n; i += subBatch {
		j := min(i+subBatch, n)
		if err := w.subBatch(b, i, j, &r); err != nil {
			return scoredBatch{}, err
		}
	}
	r.busy = time.Since(t0)
	return r, nil
}

// buffers returns an empty scoredBatch for n rows, with the buffers of one
// the collector gave back when there is one.
func (w *scoreWorker) buffers(n int) scoredBatch {
	var r scoredBatch
	select {
	case r = <-w.recycle: // a nil channel is never ready
	default:
	}
	return scoredBatch{prob: grow(r.prob, n), rev: grow(r.rev, n), key: grow(r.key, n),
		captured: r.captured[:0], ids: r.ids[:0], candidates: r.candidates[:0]}
}

// grow returns s resized to n elements, reallocated only when too small;
// the elements are not cleared (every one is set before it is read).
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func (w *scoreWorker) subBatch(b batch, i, j int, r *scoredBatch) error {
	k := j - i
	sub := b.rec.NewSlice(int64(i), int64(j))
	defer sub.Release()
	if err := w.predict(sub, b.start+i); err != nil {
		return err
	}
	// A stale threshold is never too strict: it only ever admits more rows.
	threshold := rank.Key(w.threshold.Load())
	first := len(r.captured)
	for t := range k {
		ord := b.start + i + t
		score := float32(w.prob[t])
		if w.byRevenue {
			score = float32(w.rev[t])
		}
		key := rank.MakeKey(score, uint32(ord))
		r.prob[i+t], r.rev[i+t], r.key[i+t] = float32(w.prob[t]), w.rev[t], key
		if key < threshold {
			r.captured = append(r.captured, key)
		}
	}
	kept := r.captured[first:]
	if len(kept) == 0 {
		return nil
	}
	// Room for the records at once (their fixed part, and a guess of 16
	// bytes per quoted column), rather than by append's regrowth.
	r.candidates = slices.Grow(r.candidates, len(kept)*w.recordGuess())
	w.row.bind(sub)
	for _, key := range kept {
		t := int(key.Ord()) - b.start - i
		if w.col != nil {
			r.candidates = appendCandidateColumns(r.candidates, key.Ord(), w.cols, &w.row, t, w.quoted)
		} else {
			r.candidates = appendCandidate(r.candidates, key.Ord(), w.feats[t*w.nf:(t+1)*w.nf], &w.row, t, w.quoted)
		}
	}
	return nil
}

// recordGuess is the room a candidate record is given (appendCandidate):
// its fixed part and a guess of 16 bytes per quoted column.
func (w *scoreWorker) recordGuess() int {
	return binary.MaxVarintLen32 + 4*w.nf + 16*len(w.quoted)
}

// predict computes the features (w.feats) and the model's outputs (w.prob,
// w.rev) of sub, at most subBatch rows, whose first row is at ordinal start.
func (w *scoreWorker) predict(sub arrow.RecordBatch, start int) error {
	k := int(sub.NumRows())
	if w.col != nil {
		cols, err := w.col.FeatureColumns(sub, w.cols)
		if err != nil {
			return fmt.Errorf("features of rows %d to %d: %w", start+1, start+k, err)
		}
		w.cols = cols
		if err := w.col.PredictColumns(cols, w.prob[:k], w.rev[:k]); err != nil {
			return fmt.Errorf("scoring rows %d to %d: %w", start+1, start+k, err)
		}
		return nil
	}
	feats := w.feats[:k*w.nf]
	if err := w.cfg.Model.Features(sub, feats); err != nil {
		return fmt.Errorf("features of rows %d to %d: %w", start+1, start+k, err)
	}
	if err := w.cfg.Model.Predict(sub, feats, w.prob[:k], w.rev[:k]); err != nil {
		return fmt.Errorf("scoring rows %d to %d: %w", start+1, start+k, err)
	}
	return nil
}

// A candidate record keeps what a row's reasons need: its ordinal (uvarint),
// its features as float32 (the precision the trees compare in, so the
// contributions are exactly those of the float64 values) and the raw
// columns the sentences quote (uvarint length and bytes; empty for null).
// Reasons are computed in Join, for the candidates that did land in the red
// and yellow lanes: a third of them, typically.
func appendCandidate(dst []byte, ord uint32, x []float64, row *rowView, i int, cols []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(ord))
	n := len(dst)
	dst = slices.Grow(dst, 4*len(x))[:n+4*len(x)]
	for f, v := range x {
		binary.LittleEndian.PutUint32(dst[n+4*f:], math.Float32bits(float32(v)))
	}
	return appendQuoted(dst, row, i, cols)
}

// appendCandidateColumns is appendCandidate for row i of features given
// column by column (feats[f][i]).
func appendCandidateColumns(dst []byte, ord uint32, feats [][]float64, row *rowView, i int, cols []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(ord))
	n := len(dst)
	dst = slices.Grow(dst, 4*len(feats))[:n+4*len(feats)]
	for f, c := range feats {
		binary.LittleEndian.PutUint32(dst[n+4*f:], math.Float32bits(float32(c[i])))
	}
	return appendQuoted(dst, row, i, cols)
}

// appendQuoted appends the quoted columns of a candidate record.
func appendQuoted(dst []byte, row *rowView, i int, cols []string) []byte {
	for _, c := range cols {
		v, ok := row.value(i, c)
		if !ok {
			v = ""
		}
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// chunkRows is the size of a chunk: growing by chunks never copies what is
// already stored, so memory is the rows and no more while the count is
// unknown.
const chunkRows = 1 << 20

// chunked is a growable array in fixed-size chunks.
type chunked[T comparable] struct {
	chunks [][]T
	n      int
}

// set stores v at i. A chunk is allocated when a value other than the zero
// value first lands in it: an array of zeros costs nothing.
func (c *chunked[T]) set(i int, v T) {
	k := i / chunkRows
	for len(c.chunks) <= k {
		c.chunks = append(c.chunks, nil)
	}
	if c.chunks[k] == nil {
		var zero T
		if v == zero {
			c.n = max(c.n, i+1)
			return
		}
		c.chunks[k] = make([]T, chunkRows)
	}
	c.chunks[k][i%chunkRows] = v
	c.n = max(c.n, i+1)
}

func (c *chunked[T]) at(i int) T {
	if k := i / chunkRows; k < len(c.chunks) && c.chunks[k] != nil {
		return c.chunks[k][i%chunkRows]
	}
	var zero T
	return zero
}

// flatten returns the elements as one slice (rank.Sort needs one), dropping
// each chunk once copied. Up to chunkRows elements (a 1M-row night) it is
// the first chunk itself: no second array of keys, new to the process.
func (c *chunked[T]) flatten() []T {
	if len(c.chunks) == 1 && c.chunks[0] != nil {
		out := c.chunks[0][:c.n]
		c.chunks = nil
		return out
	}
	out := make([]T, c.n)
	for k := range c.chunks {
		copy(out[k*chunkRows:], c.chunks[k])
		c.chunks[k] = nil
	}
	c.chunks = nil
	return out
}
