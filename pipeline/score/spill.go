package score

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unsafe"

	"risklane/models/explain"
	"risklane/pipeline/rank"
)

// bucketRows is the rank range of one spill file: one row group of the
// ranked file, so that writing holds one range in memory at a time.
const bucketRows = rank.RowGroupRows

// ExplorationReason is the reason given for a red row drawn at random.
const ExplorationReason = "random exploration draw"

// Spill holds every ranked row's declaration_id and reasons in temporary
// files, one per rank range, until Write joins them with the scores.
type Spill struct {
	dir     string
	files   []*os.File
	writers []*bufio.Writer
	counts  []int
	Timing  Timing
}

// Remove deletes the spill files. Safe to call more than once.
func (sp *Spill) Remove() {
	for _, f := range sp.files {
		if f != nil {
			f.Close()
		}
	}
	sp.files = nil
	os.RemoveAll(sp.dir)
}

// Explain runs the second pass: it reads src again (it must give the rows
// Score read, in the same order; Explain checks that), recomputes the
// features of the rows in the red and yellow lanes, turns each one's
// strongest contributions into sentences, and spills every row's
// declaration_id and reasons by rank range into a new folder under tmpDir.
//
// ranked is s.Keys sorted and cut by rank.Plan.Apply into lanes.
func Explain(ctx context.Context, src Source, m Model, s *Scored, ranked []rank.Key, lanes rank.Lanes,
	reasoner *Reasoner, tmpDir string, opt Options) (_ *Spill, err error) {
	t0 := time.Now()
	ex, err := explain.New(m.Trees())
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.ID(), err)
	}
	nf := len(m.FeatureNames())
	if ex.NumFeature() != nf {
		return nil, fmt.Errorf("model %s: the trees use %d features, the feature state gives %d", m.ID(), ex.NumFeature(), nf)
	}
	dir, err := os.MkdirTemp(tmpDir, "risklane-spill-")
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	nb := (len(ranked) + bucketRows - 1) / bucketRows
	sp := &Spill{dir: dir, files: make([]*os.File, nb), writers: make([]*bufio.Writer, nb), counts: make([]int, nb)}
	defer func() {
		if err != nil {
			sp.Remove()
		}
	}()
	for b := range nb {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%06d", b)))
		if err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
		sp.files[b] = f
		sp.writers[b] = bufio.NewWriterSize(f, 64<<10)
	}

	// rankOf is the inverse permutation: where each input row ranks.
	rankOf := make([]uint32, len(ranked))
	for r, k := range ranked {
		rankOf[k.Ord()] = uint32(r)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := opt.workers()
	batches := make(chan batch, workers)
	go readBatches(ctx, cancel, src, batches, &sp.Timing.Read)

	var (
		mu       sync.Mutex // guards the spill writers, digest, counts, timing, progress
		digest   uint64
		rows     int64
		writeErr error
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := explainWorker{m: m, ex: ex, nf: nf, rankOf: rankOf, lanes: lanes, reasoner: reasoner, ids: &s.ids,
				feats: make([]float64, subBatch*nf), contrib: make([]float64, nf), buckets: make([][]byte, nb)}
			for b := range batches {
				t1 := time.Now()
				err := w.batch(b)
				b.rec.Release()
				busy := time.Since(t1)
				if err != nil {
					cancel(err)
					drain(batches)
					return
				}
				mu.Lock()
				for k, buf := range w.buckets {
					if len(buf) > 0 && writeErr == nil {
						if _, err := sp.writers[k].Write(buf); err != nil {
							writeErr = fmt.Errorf("spill: %w", err)
							cancel(writeErr)
						}
					}
					w.buckets[k] = buf[:0]
				}
				digest += w.digest
				rows += w.rows
				sp.Timing.Work += busy
				if opt.Progress != nil {
					opt.Progress(rows)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	if rows != int64(len(ranked)) || digest != s.ids.sum {
		return nil, errInputChanged
	}
	for b, w := range sp.writers {
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
		sp.counts[b] = min(bucketRows, len(ranked)-b*bucketRows)
	}
	sp.Timing.Rows = rows
	sp.Timing.Wall = time.Since(t0)
	return sp, nil
}

// explainWorker holds one worker's buffers for the second pass.
type explainWorker struct {
	m        Model
	ex       *explain.Explainer
	nf       int
	rankOf   []uint32
	lanes    rank.Lanes
	reasoner *Reasoner
	ids      *idDigest

	feats   []float64
	contrib []float64
	scratch reasonScratch
	row     rowView
	reason  []byte
	buckets [][]byte // spill records of the current batch, by bucket
	digest  uint64
	rows    int64
}

// batch spills the rows of one batch into w.buckets.
func (w *explainWorker) batch(b batch) error {
	idCol, err := idColumn(b.rec)
	if err != nil {
		return err
	}
	n := int(b.rec.NumRows())
	if b.start+n > len(w.rankOf) {
		return errInputChanged
	}
	w.digest, w.rows = 0, int64(n)
	for i := 0; i < n; i += subBatch {
		j := min(i+subBatch, n)
		if err := w.subBatch(b, idCol.Value, i, j); err != nil {
			return err
		}
	}
	for i := range n {
		w.digest += w.ids.rowHash(b.start+i, idCol.Value(i))
	}
	return nil
}

func (w *explainWorker) subBatch(b batch, id func(int) string, i, j int) error {
	explained := false
	for t := i; t < j; t++ {
		if w.lanes.Explained(int(w.rankOf[b.start+t])) {
			explained = true
			break
		}
	}
	if explained {
		rec := b.rec.NewSlice(int64(i), int64(j))
		defer rec.Release()
		if err := w.m.Features(rec, w.feats[:(j-i)*w.nf]); err != nil {
			return fmt.Errorf("features of rows %d to %d: %w", b.start+i+1, b.start+j, err)
		}
		w.row.bind(rec)
	}
	for t := i; t < j; t++ {
		r := int(w.rankOf[b.start+t])
		w.reason = w.reason[:0]
		switch {
		case w.lanes.Explained(r):
			x := w.feats[(t-i)*w.nf : (t-i+1)*w.nf]
			clear(w.contrib)
			w.ex.Contributions(x, w.contrib)
			w.reason = w.reasoner.appendReasons(w.reason, &w.scratch, &w.row, t-i, x, w.contrib)
		case w.lanes.Exploration(r):
			w.reason = append(w.reason, ExplorationReason...)
		}
		k := r / bucketRows
		w.buckets[k] = appendRecord(w.buckets[k], uint32(r%bucketRows), id(t), w.reason)
	}
	return nil
}

// A spill record: the rank within its bucket (4 bytes, little-endian), then
// the declaration_id and the reasons, each as a uvarint length and bytes.
func appendRecord(dst []byte, rank uint32, id string, reasons []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, rank)
	dst = binary.AppendUvarint(dst, uint64(len(id)))
	dst = append(dst, id...)
	dst = binary.AppendUvarint(dst, uint64(len(reasons)))
	return append(dst, reasons...)
}

// RunInfo are the values every row of a run's ranked file carries.
type RunInfo struct {
	ModelID string
	RunID   string
}

// Write emits the ranked rows in rank order to every writer, one rank range
// at a time, and removes the spill files as it goes.
func (sp *Spill) Write(s *Scored, ranked []rank.Key, lanes rank.Lanes, info RunInfo, outs []*rank.Writer, progress func(int64)) (Timing, error) {
	t0 := time.Now()
	rows := make([]rank.Row, bucketRows)
	var done int64
	for b, f := range sp.files {
		data, err := readBucket(f)
		if err != nil {
			return Timing{}, err
		}
		f.Close()
		os.Remove(f.Name())
		sp.files[b] = nil
		base := b * bucketRows
		n := sp.counts[b]
		filled := make([]bool, n)
		for len(data) > 0 {
			var r rank.Row
			var off uint32
			var ok bool
			off, r.DeclarationID, r.Reasons, data, ok = nextRecord(data)
			if !ok || int(off) >= n || filled[off] {
				return Timing{}, fmt.Errorf("spill file %s is corrupt", f.Name())
			}
			filled[off] = true
			rows[off] = r
		}
		for i := range n {
			if !filled[i] {
				return Timing{}, fmt.Errorf("spill file %s lacks rank %d", f.Name(), base+i+1)
			}
			k := ranked[base+i]
			row := &rows[i]
			row.Rank = int64(base + i + 1)
			row.Score = s.Prob(k.Ord())
			row.ExpectedRevenue = s.Revenue(k.Ord())
			row.Lane = lanes.Lane(base + i)
			row.ModelID = info.ModelID
			row.RunID = info.RunID
		}
		for _, w := range outs {
			if err := w.Write(rows[:n]); err != nil {
				return Timing{}, err
			}
		}
		clear(rows)
		done += int64(n)
		if progress != nil {
			progress(done)
		}
	}
	return Timing{Rows: done, Wall: time.Since(t0)}, nil
}

func readBucket(f *os.File) ([]byte, error) {
	if _, err := f.Seek(0, 0); err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && st.Size() > 0 {
		return nil, fmt.Errorf("spill: %w", err)
	}
	return data, nil
}

// nextRecord parses one spill record. The strings it returns share data's
// memory: each bucket is read into a buffer of its own that nothing writes
// again, so they stay valid while the rows are written, without a copy per
// row.
func nextRecord(data []byte) (off uint32, id, reasons string, rest []byte, ok bool) {
	if len(data) < 4 {
		return 0, "", "", nil, false
	}
	off = binary.LittleEndian.Uint32(data)
	data = data[4:]
	take := func() (string, bool) {
		l, k := binary.Uvarint(data)
		if k <= 0 || l > uint64(len(data)-k) {
			return "", false
		}
		b := data[k : k+int(l)]
		data = data[k+int(l):]
		if len(b) == 0 {
			return "", true
		}
		return unsafe.String(&b[0], len(b)), true
	}
	if id, ok = take(); !ok {
		return
	}
	if reasons, ok = take(); !ok {
		return
	}
	return off, id, reasons, data, true
}
