package score

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/pipeline/rank"
)

// bucketRows is the rank range of one spill file: one row group of the
// ranked file, so that writing holds one range in memory at a time.
const bucketRows = rank.RowGroupRows

// ExplorationReason is the reason given for a red row drawn at random.
const ExplorationReason = "random exploration draw"

// errInputChanged is returned when a second read does not give the rows the
// first one ranked.
var errInputChanged = errors.New("the input changed while it was being scored (a second read gave different rows); rerun when the input files are complete")

// Spill holds every ranked row's declaration_id and reasons in temporary
// files, by rank range, until Write joins them with the scores: one file of
// ids per range, and one of reasons per range that has red or yellow rows.
// Ids and reasons go to separate files so that the goroutine spilling ids
// and the workers writing reasons never wait for each other.
type Spill struct {
	ids, reasons buckets
	counts       []int
	// Repaired is the number of red and yellow rows whose reasons Join had to
	// compute by reading the input again (see Score).
	Repaired int
	Timing   Timing
}

// Remove deletes the spill files. Safe to call more than once.
func (sp *Spill) Remove() {
	sp.ids.remove()
	sp.reasons.remove()
}

// buckets is a set of spill files by rank range, created when first written.
// It is not safe for concurrent use.
type buckets struct {
	dir, name string
	files     []*os.File
	writers   []*bufio.Writer
	rec       []byte
}

func newBuckets(dir, name string, n int) buckets {
	return buckets{dir: dir, name: name, files: make([]*os.File, n), writers: make([]*bufio.Writer, n)}
}

// put appends a record for rank r.
func (b *buckets) put(r uint32, kind byte, v []byte) error {
	k := r / bucketRows
	if b.files[k] == nil {
		f, err := os.Create(filepath.Join(b.dir, fmt.Sprintf("%s-%06d", b.name, k)))
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		b.files[k], b.writers[k] = f, bufio.NewWriterSize(f, 64<<10)
	}
	b.rec = appendBucketRecord(b.rec[:0], r%bucketRows, kind, v)
	if _, err := b.writers[k].Write(b.rec); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	return nil
}

func (b *buckets) flush() error {
	for _, w := range b.writers {
		if w != nil {
			if err := w.Flush(); err != nil {
				return fmt.Errorf("spill: %w", err)
			}
		}
	}
	return nil
}

// take returns the contents of range k's file (empty if it has none), read
// into buf's memory, and deletes the file.
func (b *buckets) take(k int, buf []byte) ([]byte, error) {
	f := b.files[k]
	if f == nil {
		return buf[:0], nil
	}
	data, err := readInto(f, buf)
	f.Close()
	os.Remove(f.Name())
	b.files[k] = nil
	return data, err
}

func (b *buckets) remove() {
	for k, f := range b.files {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
			b.files[k] = nil
		}
	}
}

// Bucket records: the rank within the bucket (4 bytes, little-endian), a
// kind byte, then the value as a uvarint length and bytes.
const (
	kindID     = 'i'
	kindReason = 'r'
	kindExact  = 'c' // reasons with contributions (Config.appendPayload)
	kindKeep   = 'k' // the kept input values (Config.Keep), each a uvarint length and bytes
)

func appendBucketRecord(dst []byte, off uint32, kind byte, v []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, off)
	dst = append(dst, kind)
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}

// Join distributes the ids and the reasons of the red and yellow rows by
// rank range. ranked is s.Keys sorted and cut by rank.Plan.Apply into lanes.
// If some red or yellow row has no reasons from the first pass, reopen is
// called for a second read of the input, which must give the same rows.
func (s *Scored) Join(ctx context.Context, ranked []rank.Key, lanes rank.Lanes, reopen func() (Source, error)) (_ *Spill, err error) {
	t0 := time.Now()
	nb := (len(ranked) + bucketRows - 1) / bucketRows
	sp := &Spill{ids: newBuckets(s.dir, "ids", nb), reasons: newBuckets(s.dir, "reasons", nb), counts: make([]int, nb)}
	defer func() {
		if err != nil {
			sp.Remove()
		}
	}()
	for b := range nb {
		sp.counts[b] = min(bucketRows, len(ranked)-b*bucketRows)
	}
	rankOf := make([]uint32, len(ranked))
	for r, k := range ranked {
		rankOf[k.Ord()] = uint32(r)
	}
	var mu sync.Mutex // reason workers share the reason buckets
	putReason := func(r uint32, v []byte) error {
		mu.Lock()
		defer mu.Unlock()
		kind := byte(kindReason)
		if s.cfg.Contributions > 0 {
			kind = kindExact
		}
		return sp.reasons.put(r, kind, v)
	}

	// The ids, on a goroutine of their own, while workers compute the
	// reasons of the candidates that did land in the red and yellow lanes.
	idErr := make(chan error, 1)
	go func() { idErr <- s.distributeIDs(rankOf, &sp.ids) }()
	explained := lanes.Red + lanes.Yellow
	have := make([]bool, explained)
	err = s.explainCandidates(ctx, rankOf, lanes, have, putReason, &sp.Timing)
	if err := errors.Join(err, <-idErr); err != nil {
		return nil, err
	}
	var missing []uint32
	for rk, ok := range have {
		if !ok && lanes.Explained(rk) {
			missing = append(missing, ranked[rk].Ord())
		}
	}
	if len(missing) > 0 {
		if err := s.repair(ctx, missing, rankOf, reopen, putReason, &sp.Timing); err != nil {
			return nil, err
		}
		sp.Repaired = len(missing)
	}
	if err := errors.Join(sp.ids.flush(), sp.reasons.flush()); err != nil {
		return nil, err
	}
	sp.Timing.Rows = int64(len(ranked))
	sp.Timing.Wall = time.Since(t0)
	return sp, nil
}

var errCorruptSpill = errors.New("spill file corrupt")

// distributeIDs reads the id spill, in blocks of one batch each (first
// ordinal, count, ids), and puts every id in its rank's bucket.
func (s *Scored) distributeIDs(rankOf []uint32, out *buckets) error {
	var buf, kept []byte
	return scanSpill(s.idFile, func(r *bufio.Reader) error {
		start, err := binary.ReadUvarint(r)
		if err != nil {
			return err
		}
		n, err := binary.ReadUvarint(r)
		if err != nil || start+n > uint64(len(rankOf)) {
			return errCorruptSpill
		}
		for ord := start; ord < start+n; ord++ {
			if buf, err = readField(r, buf); err != nil {
				return err
			}
			if err := out.put(rankOf[ord], kindID, buf); err != nil {
				return err
			}
			if len(s.cfg.Keep) == 0 {
				continue
			}
			kept = kept[:0]
			for range s.cfg.Keep {
				if buf, err = readField(r, buf); err != nil {
					return err
				}
				kept = binary.AppendUvarint(kept, uint64(len(buf)))
				kept = append(kept, buf...)
			}
			if err := out.put(rankOf[ord], kindKeep, kept); err != nil {
				return err
			}
		}
		return nil
	})
}

// candidateChunk is a run of candidate records of red and yellow rows, with
// their ranks, on its way from the spill reader to a worker.
type candidateChunk struct {
	data  []byte
	ranks []uint32
}

// explainCandidates reads the candidate spill and, on a worker per core,
// writes the reasons of the candidates whose rank is red or yellow (marking
// them in have). The reader skips the other candidates without decoding
// their features.
func (s *Scored) explainCandidates(ctx context.Context, rankOf []uint32, lanes rank.Lanes, have []bool,
	put func(uint32, []byte) error, timing *Timing) error {
	ex := explainerOf(&s.cfg)
	nf := len(s.cfg.Model.FeatureNames())
	cols := s.cfg.Reasoner.Quoted()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	chunks := make(chan candidateChunk, s.cfg.workers())
	// Workers give the chunks' buffers back when done with them, so that
	// the reader refills them instead of growing new ones.
	free := make(chan candidateChunk, 2*s.cfg.workers()+2)
	go func() {
		defer close(chunks)
		var c candidateChunk
		send := func() bool {
			if len(c.ranks) == 0 {
				return true
			}
			select {
			case chunks <- c:
				c = candidateChunk{}
				select {
				case c = <-free:
					c.data, c.ranks = c.data[:0], c.ranks[:0]
				default:
				}
				return true
			case <-ctx.Done():
				return false
			}
		}
		var field []byte
		err := scanSpill(s.candidates, func(r *bufio.Reader) error {
			ord, err := binary.ReadUvarint(r)
			if err != nil {
				return err
			}
			if ord >= uint64(len(rankOf)) {
				return errCorruptSpill
			}
			rk := rankOf[ord]
			keep := lanes.Explained(int(rk))
			if keep {
				c.ranks = append(c.ranks, rk)
				c.data = binary.AppendUvarint(c.data, ord)
			}
			feats := nf * 4
			if keep {
				c.data = slices.Grow(c.data, feats)
				if _, err := io.ReadFull(r, c.data[len(c.data):len(c.data)+feats]); err != nil {
					return err
				}
				c.data = c.data[:len(c.data)+feats]
			} else if _, err := r.Discard(feats); err != nil {
				return err
			}
			for range cols {
				if field, err = readField(r, field); err != nil {
					return err
				}
				if keep {
					c.data = binary.AppendUvarint(c.data, uint64(len(field)))
					c.data = append(c.data, field...)
				}
			}
			if len(c.ranks) == 1024 && !send() {
				return context.Cause(ctx)
			}
			return nil
		})
		if err == nil {
			send()
		} else {
			cancel(err)
		}
	}()
	var wg sync.WaitGroup
	var busy sync.Mutex
	for range s.cfg.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var xs, contribs []float64
			var vals []string
			row := &spillRow{cols: cols}
			var scratch reasonScratch
			var text, payload []byte
			var idx []int
			for c := range chunks {
				t0 := time.Now()
				// Decode the chunk's rows, explain them all in one call
				// (rows walk the trees side by side), then write reasons.
				n := len(c.ranks)
				xs, contribs = slices.Grow(xs[:0], n*nf)[:n*nf], slices.Grow(contribs[:0], n*nf)[:n*nf]
				vals = slices.Grow(vals[:0], n*len(cols))[:n*len(cols)]
				data := c.data
				for i := range n {
					_, k := binary.Uvarint(data)
					data = data[k:]
					for f := range nf {
						xs[i*nf+f] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*f:])))
					}
					data = data[4*nf:]
					for j := range cols {
						// The text shares the chunk's memory: it is read
						// only while the chunk is explained, before the
						// chunk goes back to the reader.
						l, k := binary.Uvarint(data)
						var v string
						if l > 0 {
							v = unsafe.String(&data[k], int(l))
						}
						vals[i*len(cols)+j] = v
						data = data[k+int(l):]
					}
				}
				clear(contribs)
				contributionsRows(ex, xs, n, nf, contribs)
				for i, rk := range c.ranks {
					row.vals = vals[i*len(cols) : (i+1)*len(cols)]
					x, contrib := xs[i*nf:(i+1)*nf], contribs[i*nf:(i+1)*nf]
					text = s.cfg.Reasoner.appendReasons(text[:0], &scratch, row, 0, x, contrib)
					payload, idx = s.cfg.appendPayload(payload[:0], text, x, contrib, idx)
					have[rk] = true
					if err := put(rk, payload); err != nil {
						cancel(err)
					}
				}
				clear(vals) // no string may outlive the chunk's memory
				select {
				case free <- c:
				default:
				}
				busy.Lock()
				timing.Work += time.Since(t0)
				busy.Unlock()
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// scanSpill calls read until f is exhausted.
func scanSpill(f *os.File, read func(*bufio.Reader) error) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		if _, err := r.Peek(1); err == io.EOF {
			return nil
		}
		if err := read(r); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				err = errCorruptSpill
			}
			return fmt.Errorf("spill %s: %w", f.Name(), err)
		}
	}
}

// readField reads a uvarint length and that many bytes into buf.
func readField(r *bufio.Reader, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > 1<<24 {
		return nil, errCorruptSpill
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err = io.ReadFull(r, buf)
	return buf, err
}

// repair reads the input again and writes the reasons of the rows at the
// given ordinals (sorted or not), checking that the read gives the rows the
// first pass ranked.
func (s *Scored) repair(ctx context.Context, missing []uint32, rankOf []uint32, reopen func() (Source, error),
	put func(uint32, []byte) error, timing *Timing) error {
	if reopen == nil {
		return fmt.Errorf("%d red or yellow rows lack reasons and the input cannot be read again", len(missing))
	}
	src, err := reopen()
	if err != nil {
		return err
	}
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	want := make(map[uint32]bool, len(missing))
	for _, o := range missing {
		want[o] = true
	}
	ex := explainerOf(&s.cfg)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := s.cfg.workers()
	batches := make(chan batch, workers)
	go readBatches(ctx, cancel, src, batches, &timing.Read)
	var (
		mu     sync.Mutex // guards put, digest, rows, timing
		digest uint64
		rows   int64
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newScoreWorker(&s.cfg, ex, &s.ids, nil)
			for b := range batches {
				t1 := time.Now()
				out, d, err := w.reasonsFor(b, want)
				n := b.rec.NumRows()
				b.rec.Release()
				if err != nil {
					cancel(err)
					drain(batches)
					return
				}
				mu.Lock()
				for _, o := range out {
					if err := put(rankOf[o.ord], o.text); err != nil {
						cancel(err)
					}
				}
				digest += d
				rows += n
				timing.Work += time.Since(t1)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if rows != int64(len(rankOf)) || digest != s.ids.sum {
		return errInputChanged
	}
	return nil
}

type ordReason struct {
	ord  uint32
	text []byte
}

// reasonsFor computes the reasons of the rows of b whose ordinals are in
// want, and the batch's id digest.
func (w *scoreWorker) reasonsFor(b batch, want map[uint32]bool) ([]ordReason, uint64, error) {
	n := int(b.rec.NumRows())
	if int64(b.start)+int64(n) > maxRows {
		return nil, 0, errInputChanged
	}
	idCol, err := idColumn(b.rec)
	if err != nil {
		return nil, 0, err
	}
	var digest uint64
	for i := range n {
		digest += w.ids.rowHash(b.start+i, idCol.Value(i))
	}
	var out []ordReason
	for i := 0; i < n; i += subBatch {
		j := min(i+subBatch, n)
		var rows []int
		for t := i; t < j; t++ {
			if want[uint32(b.start+t)] {
				rows = append(rows, t-i)
			}
		}
		if len(rows) == 0 {
			continue
		}
		sub := b.rec.NewSlice(int64(i), int64(j))
		err := w.explain(sub, b.start+i, rows, func(t int, text []byte) {
			out = append(out, ordReason{uint32(b.start + i + t), text})
		})
		sub.Release()
		if err != nil {
			return nil, 0, err
		}
	}
	return out, digest, nil
}

// explain computes the features of sub (at most subBatch rows, the first at
// ordinal start) and calls emit with the reasons of each of the given rows
// (0-based in sub, ascending).
func (w *scoreWorker) explain(sub arrow.RecordBatch, start int, rows []int, emit func(t int, text []byte)) error {
	n := int(sub.NumRows())
	feats := w.feats[:n*w.nf]
	if err := w.cfg.Model.Features(sub, feats); err != nil {
		return fmt.Errorf("features of rows %d to %d: %w", start+1, start+n, err)
	}
	w.row.bind(sub)
	for _, t := range rows {
		// Rounded as the candidate spill rounds them, so that a row's
		// reasons read the same whichever way they were computed.
		x := feats[t*w.nf : (t+1)*w.nf]
		for f, v := range x {
			x[f] = float64(float32(v))
		}
		clear(w.contrib)
		w.ex.Contributions(x, w.contrib)
		text := w.cfg.Reasoner.appendReasons(nil, &w.scratch, &w.row, t, x, w.contrib)
		text, _ = w.cfg.appendPayload(nil, text, x, w.contrib, nil)
		emit(t, text)
	}
	return nil
}
