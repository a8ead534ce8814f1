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
// range reads its spill files, fills its rows and encodes them for every
// writer (rank.Writer.EncodeGroup); the caller's goroutine appends the
// encoded ranges in rank order (WriteGroup). At most max(workers, 2)
// ranges are filled or encoding at a time, and as many more wait encoded,
// so memory stays a few ranges whatever the file size.
func (sp *Spill) writeApart(s *Scored, ranked []rank.Key, lanes rank.Lanes, info RunInfo, outs []*rank.Writer, progress func(int64)) (int64, error) {
	workers := max(s.cfg.workers(), 2)
	free := make(chan []rank.Row, workers)
	for range workers {
		free <- nil // allocated by the first job that takes it
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
		for b, n := range sp.counts {
			var rows []rank.Row
			select {
			case rows = <-free:
			case <-stop:
				return
			}
			if rows == nil {
				rows = make([]rank.Row, bucketRows)
			}
			out := make(chan encodedRange, 1)
			jobs.Add(1)
			go func() {
				defer jobs.Done()
				out <- sp.encode(s, ranked, lanes, info, outs, b, rows[:n])
				free <- rows
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

// encode prepares rank range b in rows and encodes it for every writer.
func (sp *Spill) encode(s *Scored, ranked []rank.Key, lanes rank.Lanes, info RunInfo, outs []*rank.Writer, b int, rows []rank.Row) encodedRange {
	p := sp.prepare(s, ranked, lanes, info, b, rows)
	if p.err != nil {
		return encodedRange{err: p.err}
	}
	e := encodedRange{rows: len(p.rows), groups: make([]*rank.Group, len(outs))}
	for i, w := range outs {
		if e.groups[i], e.err = w.EncodeGroup(p.rows, &p.ex); e.err != nil {
			return e
		}
	}
	return e
}

// writeInPlace is Write through rank.Writer.WriteExtra, for a Parquet file
// with contributions: a goroutine reads and fills the next range while the
// writers encode this one.
func (sp *Spill) writeInPlace(s *Scored, ranked []rank.Key, lanes rank.Lanes, info RunInfo, outs []*rank.Writer, progress func(int64)) (int64, error) {
	ready := make(chan preparedRange, 1)
	free := make(chan []rank.Row, 2)
	free <- make([]rank.Row, bucketRows)
	free <- make([]rank.Row, bucketRows)
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
			var rows []rank.Row
			select {
			case rows = <-free:
			case <-stop:
				return
			}
			p := sp.prepare(s, ranked, lanes, info, b, rows[:n])
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
		if err := writeAll(outs, p.rows, &p.ex); err != nil {
			return 0, err
		}
		free <- p.rows[:cap(p.rows)]
		done += int64(len(p.rows))
		if progress != nil {
			progress(done)
		}
	}
	return done, nil
}

// preparedRange is one rank range's rows, ready to write. The rows' strings
// share the memory of the range's spill files (fillNamed).
type preparedRange struct {
	rows []rank.Row
	ex   rank.Extra
	err  error
}

// prepare reads rank range b's spill files and fills its rows.
func (sp *Spill) prepare(s *Scored, ranked []rank.Key, lanes rank.Lanes, info RunInfo, b int, rows []rank.Row) preparedRange {
	fail := func(err error) preparedRange { return preparedRange{err: err} }
	n := len(rows)
	ids, err := sp.ids.take(b)
	if err != nil {
		return fail(err)
	}
	reasons, err := sp.reasons.take(b)
	if err != nil {
		return fail(err)
	}
	base := b * bucketRows
	clear(rows)
	ex := rank.Extra{Keep: len(s.cfg.Keep)}
	if s.cfg.Contributions > 0 {
		ex.Contributions = make([][]rank.Contribution, n)
	}
	if len(s.cfg.Keep) > 0 {
		ex.Kept = make([][]string, n)
	}
	if err := fillNamed(rows, &ex, s.cfg.Model.FeatureNames(), ids, reasons); err != nil {
		return fail(fmt.Errorf("spill of ranks %d to %d: %w", base+1, base+n, err))
	}
	for i := range rows {
		rk := base + i
		k := ranked[rk]
		row := &rows[i]
		switch {
		case lanes.Exploration(rk):
			row.Reasons = ExplorationReason
		case lanes.Explained(rk) && row.Reasons == "":
			return fail(fmt.Errorf("spill: rank %d has no reasons", rk+1))
		}
		row.Rank = int64(rk + 1)
		row.Score = s.Prob(k)
		row.ExpectedRevenue = s.Revenue(k.Ord())
		row.Lane = lanes.Lane(rk)
		row.ModelID = info.ModelID
		row.RunID = info.RunID
	}
	return preparedRange{rows: rows, ex: ex}
}

func readAll(f *os.File) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	// Sized from the file, not grown by io.ReadAll's doubling: these are
	// the large spill files, and every regrowth clears and copies.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	data := make([]byte, 0, fi.Size()+1)
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

// fill places the records of one rank range (its ids, its reasons) into its
// rows. The strings it sets share the data's memory: each file is read into
// a buffer of its own that nothing writes again, so they stay valid while
// the rows are written, without a copy per row.
func fill(rows []rank.Row, data ...[]byte) error {
	return fillNamed(rows, &rank.Extra{Contributions: make([][]rank.Contribution, len(rows)), Kept: make([][]string, len(rows)), Keep: 3}, nil, data...)
}

// fillNamed is fill with the rows' contributions (len(rows) entries, or nil
// when the run writes none), named by names (feature index f is names[f];
// "f<index>" without names).
func fillNamed(rows []rank.Row, ex *rank.Extra, names []string, data ...[]byte) error {
	ids := 0
	for _, d := range data {
		n, err := fillFrom(rows, ex, names, d)
		if err != nil {
			return err
		}
		ids += n
	}
	if ids != len(rows) {
		return fmt.Errorf("%d ids for %d ranks", ids, len(rows))
	}
	return nil
}

// fillFrom places the records of data and returns how many were ids.
func fillFrom(rows []rank.Row, ex *rank.Extra, names []string, data []byte) (int, error) {
	ids := 0
	for len(data) > 0 {
		if len(data) < 5 {
			return 0, errCorruptSpill
		}
		off := binary.LittleEndian.Uint32(data)
		kind := data[4]
		l, k := binary.Uvarint(data[5:])
		if k <= 0 || l > uint64(len(data)-5-k) || int(off) >= len(rows) {
			return 0, errCorruptSpill
		}
		v := data[5+k : 5+k+int(l)]
		data = data[5+k+int(l):]
		var s string
		if len(v) > 0 {
			s = unsafe.String(&v[0], len(v))
		}
		switch kind {
		case kindID:
			ids++
			rows[off].DeclarationID = s
		case kindReason:
			rows[off].Reasons = s
		case kindExact:
			if ex.Contributions == nil {
				return 0, errCorruptSpill
			}
			if err := decodeExact(&rows[off], &ex.Contributions[off], names, v); err != nil {
				return 0, err
			}
		case kindKeep:
			if ex.Kept == nil {
				return 0, errCorruptSpill
			}
			vals := make([]string, 0, ex.Keep)
			for len(v) > 0 && len(vals) < ex.Keep {
				l, k := binary.Uvarint(v)
				if k <= 0 || l > uint64(len(v)-k) {
					return 0, errCorruptSpill
				}
				vals = append(vals, string(v[k:k+int(l)]))
				v = v[k+int(l):]
			}
			if len(v) != 0 || len(vals) != ex.Keep {
				return 0, errCorruptSpill
			}
			ex.Kept[off] = vals
		default:
			return 0, errCorruptSpill
		}
	}
	return ids, nil
}

// decodeExact reads a payload of Config.appendPayload into row.
func decodeExact(row *rank.Row, contribs *[]rank.Contribution, names []string, v []byte) error {
	l, k := binary.Uvarint(v)
	if k <= 0 || l > uint64(len(v)-k) {
		return errCorruptSpill
	}
	if l > 0 {
		row.Reasons = unsafe.String(&v[k], int(l))
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
