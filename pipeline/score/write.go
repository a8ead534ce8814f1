package score

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"risklane/pipeline/rank"
)

// RunInfo are the values every row of a run's ranked file carries.
type RunInfo struct {
	ModelID string
	RunID   string
}

// Write emits the ranked rows in rank order to every writer, one rank range
// at a time, and removes the spill files as it goes. When every writer can
// encode a range apart from its file (rank.Writer.EncodesApart: CSV, and
// Parquet without contributions), ranges are read, filled and encoded on
// one goroutine per worker (at least two, so that one range is filled
// while another is encoded) and appended in rank order (writeApart): the
// bytes are those of the rows written in place. A Parquet file with
// contributions (parquet-go, one row at a time) is written in place while
// a goroutine reads and fills the next range (writeInPlace).
func (sp *Spill) Write(s *Scored, ranked []rank.Key, lanes rank.Lanes, info RunInfo, outs []*rank.Writer, progress func(int64)) (Timing, error) {
	t0 := time.Now()
	apart := len(outs) > 0
	for _, w := range outs {
		apart = apart && w.EncodesApart()
	}
	var done int64
	var err error
	if apart {
		done, err = sp.writeApart(s, ranked, lanes, info, outs, progress)
	} else {
		done, err = sp.writeInPlace(s, ranked, lanes, info, outs, progress)
	}
	if err != nil {
		return Timing{}, err
	}
	if done != int64(len(ranked)) {
		return Timing{}, fmt.Errorf("internal error: %d rows written of %d", done, len(ranked))
	}
	return Timing{Rows: done, Wall: time.Since(t0)}, nil
}

// encodedRange is one rank range encoded for every writer.
type encodedRange struct {
	groups []*rank.Group
	rows   int
	err    error
}

// writeApart is Write with the ranges encoded concurrently: a job per rank
// range reads its spill files, indexes them and encodes its rows for every
// writer (rank.Writer.BeginGroup), batchFill rows at a time; the caller's
// goroutine appends the encoded ranges in rank order (WriteGroup). At most
// max(workers, 2) ranges are read or encoding at a time, and as many more
// wait encoded, so memory stays a few ranges whatever the file size.
func (sp *Spill) writeApart(s *Scored, ranked []rank.Key, lanes rank.Lanes, info RunInfo, outs []*rank.Writer, progress func(int64)) (int64, error) {
	workers := max(s.cfg.workers(), 2)
	free := make(chan *rangeData, workers)
	for range workers {
		free <- new(rangeData) // its buffers are kept from range to range
	}
	order := make(chan chan encodedRange, workers)
	stop := make(chan struct{})
	var jobs sync.WaitGroup
	defer func() {
		// The jobs touch the spill files: they are gone before the
		// caller may remove them.
		close(stop)
		jobs.Wait()
	}()
	jobs.Add(1)
	go func() {
		defer jobs.Done()
		defer close(order)
		for b := range sp.counts {
			var d *rangeData
			select {
			case d = <-free:
			case <-stop:
				return
			}
			out := make(chan encodedRange, 1)
			jobs.Add(1)
			go func() {
				defer jobs.Done()
				out <- sp.encode(s, ranked, lanes, info, outs, b, d)
				free <- d
			}()
			select {
			case order <- out:
			case <-stop:
				return
			}
		}
	}()
	var done int64
	for out := range order {
		e := <-out
		if e.err != nil {
			return 0, e.err
		}
		for i, w := range outs {
			if err := w.WriteGroup(e.groups[i]); err != nil {
				return 0, err
			}
		}
		done += int64(e.rows)
		if progress != nil {
			progress(done)
		}
	}
	return done, nil
}

// batchFill is how many rows of a range are filled at a time and given to
// the writers' group encoders.
const batchFill = 1 << 14

// encode reads and indexes rank range b into d and encodes its rows for
// every writer, batchFill rows at a time: the rows of a whole range
// (262,144 Rows, 27 MB per goroutine) were a fifth of a small model's peak
// heap, memory new to the process.
func (sp *Spill) encode(s *Scored, ranked []rank.Key, lanes rank.Lanes, info RunInfo, outs []*rank.Writer, b int, d *rangeData) encodedRange {
	if err := sp.prepare(s, b, d); err != nil {
		return encodedRange{err: err}
	}
	n := sp.counts[b]
	ges := make([]*rank.GroupEncoder, len(outs))
	abort := func() {
		for _, g := range ges {
			if g != nil {
				g.Abort()
			}
		}
	}
	for i, w := range outs {
		var err error
		if ges[i], err = w.BeginGroup(); err != nil {
			abort()
			return encodedRange{err: err}
		}
	}
	if cap(d.rows) < batchFill {
		d.rows = make([]rank.Row, batchFill)
	}
	for lo := 0; lo < n; lo += batchFill {
		hi := min(lo+batchFill, n)
		rows := d.rows[:hi-lo]
		ex := sliceExtra(&d.ex, lo, hi)
		err := d.fill(rows, s, ranked, lanes, info, b*bucketRows, lo)
		for i := 0; i < len(ges) && err == nil; i++ {
			err = ges[i].Add(rows, ex)
		}
		if err != nil {
			abort()
			return encodedRange{err: err}
		}
	}
	e := encodedRange{rows: n, groups: make([]*rank.Group, len(outs))}
	for i, g := range ges {
		ges[i] = nil
		if e.groups[i], e.err = g.End(); e.err != nil {
			abort()
			return encodedRange{err: e.err}
		}
	}
	d.ex = rank.Extra{}
	return e
}

// writeInPlace is Write through rank.Writer.WriteExtra, for a Parquet file
// with contributions: a goroutine reads and fills the next range while the
// writers encode this one.
func (sp *Spill) writeInPlace(s *Scored, ranked []rank.Key, lanes rank.Lanes, info RunInfo, outs []*rank.Writer, progress func(int64)) (int64, error) {
	ready := make(chan preparedRange, 1)
	free := make(chan *rangeData, 2)
	free <- &rangeData{rows: make([]rank.Row, bucketRows)}
	free <- &rangeData{rows: make([]rank.Row, bucketRows)}
	stop, exited := make(chan struct{}), make(chan struct{})
	defer func() {
		// The preparer touches the spill files: it is gone before the
		// caller may remove them.
		close(stop)
		<-exited
	}()
	go func() {
		defer close(exited)
		defer close(ready)
		for b, n := range sp.counts {
			var d *rangeData
			select {
			case d = <-free:
			case <-stop:
				return
			}
			p := preparedRange{d: d, rows: d.rows[:n]}
			if p.err = sp.prepare(s, b, d); p.err == nil {
				p.err = d.fill(p.rows, s, ranked, lanes, info, b*bucketRows, 0)
			}
			select {
			case ready <- p:
			case <-stop:
				return
			}
			if p.err != nil {
				return
			}
		}
	}()
	var done int64
	for p := range ready {
		if p.err != nil {
			return 0, p.err
		}
		if err := writeAll(outs, p.rows, &p.d.ex); err != nil {
			return 0, err
		}
		p.d.ex = rank.Extra{}
		free <- p.d
		done += int64(len(p.rows))
		if progress != nil {
			progress(done)
		}
	}
	return done, nil
}

// preparedRange is one rank range's rows, ready to write. The rows'
// strings share d's memory.
type preparedRange struct {
	d    *rangeData
	rows []rank.Row
	err  error
}

// rangeData is one rank range's spill files, read into buffers kept from
// range to range, and where each of its rows finds its texts in them.
type rangeData struct {
	ids, reasons []byte
	// idAt and reasonAt are, per row of the range, 1 + the offset in ids
	// (reasons) of its declaration_id (reasons text): a uvarint length
	// and the bytes. 0: none.
	idAt, reasonAt []int
	ex             rank.Extra
	rows           []rank.Row // the rows being filled
}

// prepare reads rank range b's spill files into d and indexes them.
func (sp *Spill) prepare(s *Scored, b int, d *rangeData) error {
	n := sp.counts[b]
	var err error
	if d.ids, err = sp.ids.take(b, d.ids); err != nil {
		return err
	}
	if d.reasons, err = sp.reasons.take(b, d.reasons); err != nil {
		return err
	}
	d.ex = rank.Extra{Keep: len(s.cfg.Keep)}
	if s.cfg.Contributions > 0 {
		d.ex.Contributions = make([][]rank.Contribution, n)
	}
	if len(s.cfg.Keep) > 0 {
		d.ex.Kept = make([][]string, n)
	}
	if err := d.index(n, s.cfg.Model.FeatureNames()); err != nil {
		base := b * bucketRows
		return fmt.Errorf("spill of ranks %d to %d: %w", base+1, base+n, err)
	}
	return nil
}

// index notes where each of the n rows finds its id and its reasons in d's
// data, and decodes their kept values and contributions into d.ex
// (len(d.ex.Contributions) is n, or 0 when the run writes none), named by
// names (feature index f is names[f]; "f<index>" without names).
func (d *rangeData) index(n int, names []string) error {
	d.idAt, d.reasonAt = growClear(d.idAt, n), growClear(d.reasonAt, n)
	ids, err := d.indexFrom(d.ids, names, kindID, kindKeep)
	if err != nil {
		return err
	}
	if _, err := d.indexFrom(d.reasons, names, kindReason, kindExact); err != nil {
		return err
	}
	if ids != n {
		return fmt.Errorf("%d ids for %d ranks", ids, n)
	}
	return nil
}

// growClear returns s resized to n zeros.
func growClear(s []int, n int) []int {
	s = grow(s, n)
	clear(s)
	return s
}

// indexFrom indexes the records of data, which may be of the two given
// kinds only (ids and kept values, or reasons), and returns how many were
// ids (a rank's second id is an error).
func (d *rangeData) indexFrom(data []byte, names []string, kinds ...byte) (int, error) {
	ids, at := 0, 0
	for at < len(data) {
		rec := data[at:]
		if len(rec) < 5 {
			return 0, errCorruptSpill
		}
		off := binary.LittleEndian.Uint32(rec)
		kind := rec[4]
		l, k := binary.Uvarint(rec[5:])
		if k <= 0 || l > uint64(len(rec)-5-k) || int(off) >= len(d.idAt) || (kind != kinds[0] && kind != kinds[1]) {
			return 0, errCorruptSpill
		}
		v := rec[5+k : 5+k+int(l)]
		switch kind {
		case kindID:
			if d.idAt[off] != 0 {
				return 0, errCorruptSpill
			}
			ids++
			d.idAt[off] = 1 + at + 5
		case kindReason:
			d.reasonAt[off] = 1 + at + 5
		case kindExact:
			if d.ex.Contributions == nil {
				return 0, errCorruptSpill
			}
			if err := decodeExact(&d.ex.Contributions[off], names, v); err != nil {
				return 0, err
			}
			d.reasonAt[off] = 1 + at + 5 + k
		case kindKeep:
			if d.ex.Kept == nil {
				return 0, errCorruptSpill
			}
			vals := make([]string, 0, d.ex.Keep)
			for len(v) > 0 && len(vals) < d.ex.Keep {
				l, k := binary.Uvarint(v)
				if k <= 0 || l > uint64(len(v)-k) {
					return 0, errCorruptSpill
				}
				vals = append(vals, string(v[k:k+int(l)]))
				v = v[k+int(l):]
			}
			if len(v) != 0 || len(vals) != d.ex.Keep {
				return 0, errCorruptSpill
			}
			d.ex.Kept[off] = vals
		}
		at += 5 + k + int(l)
	}
	return ids, nil
}

// text is the uvarint-prefixed text at 1-based offset at of data ("" for
// 0), sharing data's memory (index checked the lengths).
func text(data []byte, at int) string {
	if at == 0 {
		return ""
	}
	l, k := binary.Uvarint(data[at-1:])
	if l == 0 {
		return ""
	}
	return unsafe.String(&data[at-1+k], int(l))
}

// fill sets rows to the range's rows from its row from on, the range's
// first rank being base. Their strings share d's memory.
func (d *rangeData) fill(rows []rank.Row, s *Scored, ranked []rank.Key, lanes rank.Lanes, info RunInfo, base, from int) error {
	for i := range rows {
		off := from + i
		rk := base + off
		k := ranked[rk]
		row := &rows[i]
		reasons := text(d.reasons, d.reasonAt[off])
		switch {
		case lanes.Exploration(rk):
			reasons = ExplorationReason
		case lanes.Explained(rk) && reasons == "":
			return fmt.Errorf("spill: rank %d has no reasons", rk+1)
		}
		*row = rank.Row{Rank: int64(rk + 1), DeclarationID: text(d.ids, d.idAt[off]), Score: s.Prob(k),
			ExpectedRevenue: s.Revenue(k.Ord()), Lane: lanes.Lane(rk), Reasons: reasons, ModelID: info.ModelID, RunID: info.RunID}
	}
	return nil
}

// sliceExtra is ex's values of rows [lo, hi).
func sliceExtra(ex *rank.Extra, lo, hi int) *rank.Extra {
	out := &rank.Extra{Keep: ex.Keep}
	if ex.Contributions != nil {
		out.Contributions = ex.Contributions[lo:hi]
	}
	if ex.Kept != nil {
		out.Kept = ex.Kept[lo:hi]
	}
	return out
}

// readInto reads f whole into buf's memory (grown when too small).
func readInto(f *os.File, buf []byte) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	// Sized from the file, not grown by io.ReadAll's doubling: these are
	// the large spill files, and every regrowth clears and copies.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	if size := fi.Size() + 1; int64(cap(buf)) < size {
		buf = make([]byte, 0, size+size/8)
	}
	data := buf[:0]
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
		if len(data) == cap(data) {
			data = slices.Grow(data, len(data)/2+512) // the file grew since Stat
		}
	}
}

// fill places the records of one rank range (its ids, its reasons: any
// mix of them in data) into its rows, as the write stage does; for tests.
func fill(rows []rank.Row, data []byte) error {
	d := &rangeData{ids: data, reasons: data,
		ex: rank.Extra{Contributions: make([][]rank.Contribution, len(rows)), Kept: make([][]string, len(rows)), Keep: 3}}
	d.idAt, d.reasonAt = growClear(nil, len(rows)), growClear(nil, len(rows))
	_, err1 := d.indexFrom(data, nil, kindID, kindKeep)
	_, err2 := d.indexFrom(data, nil, kindReason, kindExact)
	for i := range rows {
		rows[i].DeclarationID, rows[i].Reasons = text(d.ids, d.idAt[i]), text(d.reasons, d.reasonAt[i])
	}
	return errors.Join(err1, err2)
}

// decodeExact reads the contributions of a payload of
// Config.appendPayload (its text is read by fill).
func decodeExact(contribs *[]rank.Contribution, names []string, v []byte) error {
	l, k := binary.Uvarint(v)
	if k <= 0 || l > uint64(len(v)-k) {
		return errCorruptSpill
	}
	v = v[k+int(l):]
	n, k := binary.Uvarint(v)
	if k <= 0 || n > uint64(len(v))/17 {
		return errCorruptSpill
	}
	v = v[k:]
	cs := make([]rank.Contribution, n)
	*contribs = cs
	for i := range cs {
		f, k := binary.Uvarint(v)
		if k <= 0 || len(v)-k < 16 || f > 1<<31 {
			return errCorruptSpill
		}
		name := "f" + strconv.FormatUint(f, 10)
		if f < uint64(len(names)) {
			name = names[f]
		}
		cs[i] = rank.Contribution{Feature: name,
			Value:        math.Float64frombits(binary.LittleEndian.Uint64(v[k:])),
			Contribution: math.Float64frombits(binary.LittleEndian.Uint64(v[k+8:]))}
		v = v[k+16:]
	}
	if len(v) != 0 {
		return errCorruptSpill
	}
	return nil
}

// writeAll writes rows to every writer, each on its own goroutine: the
// Parquet and CSV encoders are independent and each single-threaded.
func writeAll(outs []*rank.Writer, rows []rank.Row, ex *rank.Extra) error {
	if len(outs) == 1 {
		return outs[0].WriteExtra(rows, ex)
	}
	errs := make([]error, len(outs))
	var wg sync.WaitGroup
	for i, w := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.WriteExtra(rows, ex)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
