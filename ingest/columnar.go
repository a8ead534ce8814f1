package ingest

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Typed inputs (Parquet, Arrow IPC) are read a column at a time
// (docs/ingest.md):
//
//   - each record batch of the source is converted column by column into
//     staging columns laid out as the output batch (canonical columns, then
//     extras): a loop per column and source type, calling the same value
//     rules as the row path (rowWriter.checkText, amount, checkDays,
//     rowWriter.convert), and noting for each row the first refused value
//     in the plan's column order, which is the one the row path reports;
//   - a text column that needs no change (no nulls, ASCII, no value empty,
//     padded or over the length limit), as in a file risklane wrote, is
//     copied as a whole: its value bytes at once and its offsets shifted;
//   - then a pass over the rows makes the checks of whole rows
//     (rowWriter.rowChecks: required columns, one-of groups, revenue
//     formula, unique ids) on the staged values, hands the rejects to the
//     RejectSink in row order and copies the runs of accepted rows into the
//     output batches with rowWriter.appendRows, which cuts them where the
//     row path cuts them.
//
// Batches, rejects (line, column, value, reason) and counts are the row
// path's (TestColumnarSameAsRows, FuzzColumnarParquet, FuzzArrowIPC).

// stage holds one source batch converted column by column.
type stage struct {
	cols []column // the layout of rowWriter.cols
	fill []bool   // cols filled by the plan in the current batch
	// bad[i] is 1 + the index in rejs of row i's reject, 0 if none.
	bad  []int32
	rejs []rejection
	// dict and dictLo, dictHi: what checkText made of each dictionary value
	// of the text column being converted (dictTextColumn).
	dict           []uint8
	dictLo, dictHi []int32
	// dictWhy and dictOut: for a converted column (dictHSColumn), why each
	// refused dictionary value was refused, and the converted values,
	// dictLo and dictHi then being bounds within dictOut.
	dictWhy []string
	dictOut []byte
}

func newStage(w *rowWriter) *stage {
	s := &stage{cols: make([]column, len(w.cols)), fill: make([]bool, len(w.cols))}
	for i := range s.cols {
		s.cols[i] = column{typ: w.cols[i].typ, dt: w.cols[i].dt}
	}
	return s
}

// reject notes a refused value of row i, unless an earlier column of the
// plan refused one already.
func (s *stage) reject(i int, column string, value []byte, reason string) {
	if s.bad[i] == 0 {
		s.rejs = append(s.rejs, rejection{column: column, value: value, reason: reason})
		s.bad[i] = int32(len(s.rejs))
	}
}

// readColumns reads the rows of one typed file, opened and bound to p,
// column by column, and appends them to w's batches, sending each full
// batch. It counts into total and fs, and reports whether reading may go on
// (false once an error was sent or the consumer stopped); a read error of
// the source is left in src.err.
func (r *Reader) readColumns(src *batchSource, p *plan, path string, w *rowWriter, total *Stats, fs *FileStats,
	send func(arrow.RecordBatch, error) bool) bool {
	s := newStage(w)
	pf := prefetch(src)
	defer pf.stop()
	for {
		rec := pf.next()
		if rec == nil {
			return true
		}
		ok := r.columnBatch(rec, src, s, p, path, w, total, fs, send)
		rec.Release()
		if !ok {
			return false
		}
	}
}

// columnBatch converts one record batch of src and appends its accepted
// rows, sending the batches it fills; false once an error was sent or the
// consumer stopped.
func (r *Reader) columnBatch(rec arrow.RecordBatch, src *batchSource, s *stage, p *plan, path string, w *rowWriter, total *Stats, fs *FileStats,
	send func(arrow.RecordBatch, error) bool) bool {
	n := int(rec.NumRows())
	for i := range s.cols {
		s.cols[i].clear(n)
		s.fill[i] = false
	}
	if cap(s.bad) < n {
		s.bad = make([]int32, n)
	} else {
		s.bad = s.bad[:n]
		clear(s.bad)
	}
	s.rejs = s.rejs[:0]
	for k := range p.cols {
		c := &p.cols[k]
		out := c.canon
		if out < 0 {
			out = nCanon + c.extra
		}
		w.convertColumn(c, rec.Column(src.cols[c.src]), &s.cols[out], s)
		s.fill[out] = true
	}
	for i := range s.cols {
		if !s.fill[i] {
			s.cols[i].appendNulls(n)
		}
	}
	base := src.rowNo
	src.rowNo += int64(n)

	// Whole-row checks, in row order (the unique-id check depends on the
	// rows accepted before).
	for i := 0; i < n; i++ {
		if s.bad[i] != 0 {
			continue
		}
		if rej := w.stagedRowChecks(p, s, i, base+int64(i)+1); rej != nil {
			s.rejs = append(s.rejs, *rej)
			s.bad[i] = int32(len(s.rejs))
		}
	}

	// Rejects and runs of accepted rows.
	a := 0
	take := func(lim int) bool {
		for a < lim {
			k := w.appendRows(s.cols, a, lim)
			a += k
			count(total, fs, int64(k), 0)
			if w.full() && !send(w.flush(), nil) {
				return false
			}
		}
		return true
	}
	for i := 0; i < n; i++ {
		b := s.bad[i]
		if b == 0 {
			continue
		}
		rej := &s.rejs[b-1]
		if !take(i) {
			return false
		}
		a = i + 1
		err := r.reject(total, fs, Reject{
			File: path, Line: base + int64(i) + 1, Column: rej.column,
			Value: clip(rej.value), Reason: rej.reason,
		})
		if err != nil {
			send(nil, err)
			return false
		}
	}
	return take(n)
}

// prefetcher reads a source's record batches on a goroutine of its own,
// one ahead, so that decoding the next batch (Parquet pages) overlaps
// converting this one.
type prefetcher struct {
	out   chan arrow.RecordBatch
	quit  chan struct{}
	done  chan struct{}
	fault any // a panic while reading
}

func prefetch(src *batchSource) *prefetcher {
	p := &prefetcher{out: make(chan arrow.RecordBatch), quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer close(p.out)
		defer func() { p.fault = recover() }()
		for {
			rec := src.nextRecord()
			if rec == nil {
				return
			}
			rec.Retain()
			select {
			case p.out <- rec:
			case <-p.quit:
				rec.Release()
				return
			}
		}
	}()
	return p
}

// next returns the next batch, which the caller releases, or nil at the end
// (the source's err tells why). A panic while reading is raised again here,
// on the Reader's goroutine, which turns it into an error naming the file.
func (p *prefetcher) next() arrow.RecordBatch {
	if rec, ok := <-p.out; ok {
		return rec
	}
	<-p.done
	if f := p.fault; f != nil {
		p.fault = nil
		panic(f)
	}
	return nil
}

// stop ends the reading goroutine and waits for it, so that the source can
// be closed.
func (p *prefetcher) stop() {
	close(p.quit)
	for rec := range p.out {
		rec.Release()
	}
	<-p.done
}

// rowCheckCols are the canonical columns rowChecks looks at without a
// revenue formula.
var rowCheckCols = append(append(append([]int(nil), required...), massGroup...), valueGroup...)

// stagedRowChecks runs rowChecks on row i of the staged columns: it stages
// the values those checks read, and stores the revenue the formula gives.
func (w *rowWriter) stagedRowChecks(p *plan, s *stage, i int, line int64) *rejection {
	formula := w.formula != nil && !w.hasCol[idxRevenue] && !p.projected
	if formula {
		for j := 0; j < nCanon; j++ {
			c := &s.cols[j]
			w.valid[j] = c.isValid(i)
			switch c.typ {
			case colFloat:
				w.num64[j] = c.f64[i]
			case colDate:
				w.num64[j] = float64(c.d32[i])
			case colInt8:
				w.num64[j] = float64(c.i8[i])
			}
		}
	} else {
		for _, j := range rowCheckCols {
			w.valid[j] = s.cols[j].isValid(i)
		}
	}
	if w.seen != nil {
		c := &s.cols[idxDeclID]
		w.text[idxDeclID] = c.data[c.offsets[i]:c.offsets[i+1]]
	}
	if rej := w.rowChecks(p, line); rej != nil {
		return rej
	}
	if formula && w.valid[idxRevenue] {
		c := &s.cols[idxRevenue]
		c.f64[i] = w.num64[idxRevenue]
		c.valid[i>>3] |= 1 << (i & 7)
		c.nulls--
	}
	return nil
}

// convertColumn converts the whole column arr (one source batch) of plan
// column c into out, a null for each null or refused value, noting the
// refused ones in s. Common types have loops of their own; every other
// type goes value by value through rowWriter.convert, as the row path does.
func (w *rowWriter) convertColumn(c *boundCol, arr arrow.Array, out *column, s *stage) {
	switch a := arr.(type) {
	case *array.String:
		if c.kind == convString {
			textColumn(w, c, a, a.ValueOffsets(), a.ValueBytes(), out, s)
			return
		}
	case *array.LargeString:
		if c.kind == convString {
			textColumn(w, c, a, a.ValueOffsets(), a.ValueBytes(), out, s)
			return
		}
	case *array.Float64:
		if c.kind == convNumber {
			numberColumn(c, a, a.Float64Values(), out, s)
			return
		}
	case *array.Float32:
		if c.kind == convNumber {
			numberColumn(c, a, a.Float32Values(), out, s)
			return
		}
	case *array.Int64:
		if c.kind == convNumber {
			numberColumn(c, a, a.Int64Values(), out, s)
			return
		}
	case *array.Int32:
		if c.kind == convNumber {
			numberColumn(c, a, a.Int32Values(), out, s)
			return
		}
	case *array.Date32:
		if c.kind == convDate {
			dateColumn(c, a, out, s)
			return
		}
	case *array.Dictionary:
		if c.kind == convString && dictTextColumn(w, c, a, out, s) {
			return
		}
		if c.kind == convHS && dictHSColumn(w, c, a, out, s) {
			return
		}
	}
	w.valueColumn(c, arr, out, s)
}

// The states of a dictionary value in dictTextColumn.
const (
	dictUnseen  uint8 = iota
	dictText          // stored as its trimmed bytes
	dictNull          // empty once trimmed: a null
	dictRefused       // refused by checkText
)

// dictTextColumn converts a dictionary-encoded text column (as a Parquet
// file's dictionary pages are read, see batchSource.dictCols) to a text
// column, checking each dictionary value once, when a row first uses it,
// instead of every row's copy: the rows' values, nulls and rejects are
// those textColumn gives for the same values as plain text. It reports
// false, converting nothing, for layouts it does not handle (indices other
// than int32, large or null dictionary values), which go value by value.
func dictTextColumn(w *rowWriter, c *boundCol, arr *array.Dictionary, out *column, s *stage) bool {
	idx, offs, data, ok := dictParts(arr)
	if !ok {
		return false
	}
	nd := len(offs) - 1
	base := offs[0]
	checkUTF8 := !asciiBytes(data)
	state, lo, hi := s.dictState(nd)
	nulls := arr.NullN() > 0
	for i, k := range idx.Int32Values() {
		if nulls && arr.IsNull(i) {
			out.appendNull()
			continue
		}
		v := data[offs[k]-base : offs[k+1]-base]
		if state[k] == dictUnseen {
			t, reason := w.checkText(v, checkUTF8)
			switch {
			case reason != "":
				state[k] = dictRefused
			case len(t) == 0:
				state[k] = dictNull
			default:
				state[k] = dictText
				// t is v trimmed: its bounds within data.
				lo[k] = offs[k] - base + int32(cap(v)-cap(t))
				hi[k] = lo[k] + int32(len(t))
			}
		}
		switch state[k] {
		case dictText:
			out.appendBytes(data[lo[k]:hi[k]])
		case dictNull:
			out.appendNull()
		default:
			_, reason := w.checkText(v, checkUTF8)
			s.reject(i, c.name, v, reason)
			out.appendNull()
		}
	}
	return true
}

// dictParts are a dictionary text column's indices and its dictionary's
// offsets (nd+1) and bytes; false for layouts the dictionary loops do not
// handle (indices other than int32, large or null dictionary values).
func dictParts(arr *array.Dictionary) (idx *array.Int32, offs []int32, data []byte, ok bool) {
	if idx, ok = arr.Indices().(*array.Int32); !ok {
		return nil, nil, nil, false
	}
	switch d := arr.Dictionary().(type) {
	case *array.String:
		offs, data = d.ValueOffsets(), d.ValueBytes()
	case *array.Binary:
		offs, data = d.ValueOffsets(), d.ValueBytes()
	default:
		return nil, nil, nil, false
	}
	if arr.Dictionary().NullN() > 0 {
		return nil, nil, nil, false
	}
	return idx, offs[:arr.Dictionary().Len()+1], data, true
}

// dictState returns the per-value state of a dictionary of nd values,
// all dictUnseen.
func (s *stage) dictState(nd int) (state []uint8, lo, hi []int32) {
	if cap(s.dict) < nd {
		s.dict = make([]uint8, nd)
		s.dictLo = make([]int32, nd)
		s.dictHi = make([]int32, nd)
		s.dictWhy = make([]string, nd)
	}
	state = s.dict[:nd]
	clear(state)
	return state, s.dictLo[:nd], s.dictHi[:nd]
}

// dictHSColumn converts a dictionary-encoded HS code column (as the page
// decoder hands over a column whose pages are all dictionary-encoded),
// converting each dictionary value once, when a row first uses it, with
// valueColumn's steps (checkText, then rowWriter.convert): the rows' values,
// nulls and rejects (value and reason) are those valueColumn gives for the
// same values as plain text. It reports false, converting nothing, for
// the layouts dictParts refuses.
func dictHSColumn(w *rowWriter, c *boundCol, arr *array.Dictionary, out *column, s *stage) bool {
	idx, offs, data, ok := dictParts(arr)
	if !ok || c.canon < 0 {
		return false
	}
	nd := len(offs) - 1
	base := offs[0]
	checkUTF8 := !asciiBytes(data)
	state, lo, hi := s.dictState(nd)
	why := s.dictWhy[:nd]
	s.dictOut = s.dictOut[:0]
	nulls := arr.NullN() > 0
	for i, k := range idx.Int32Values() {
		if nulls && arr.IsNull(i) {
			out.appendNull()
			continue
		}
		if state[k] == dictUnseen {
			v := data[offs[k]-base : offs[k+1]-base]
			t, reason := w.checkText(v, checkUTF8)
			switch {
			case reason != "":
				// The raw value is v: its bounds within data.
				state[k], why[k], lo[k], hi[k] = dictRefused, reason, offs[k]-base, offs[k+1]-base
			case len(t) == 0:
				state[k] = dictNull
			default:
				w.arena = w.arena[:0]
				w.valid[c.canon] = false
				if reason := w.convert(c, cell{kind: kindText, text: t}); reason != "" {
					// The raw value is t (rawValue of a text cell).
					state[k], why[k] = dictRefused, reason
					lo[k] = offs[k] - base + int32(cap(v)-cap(t))
					hi[k] = lo[k] + int32(len(t))
				} else if !w.valid[c.canon] {
					state[k] = dictNull
				} else {
					state[k] = dictText
					lo[k] = int32(len(s.dictOut))
					s.dictOut = append(s.dictOut, w.text[c.canon]...)
					hi[k] = int32(len(s.dictOut))
				}
			}
		}
		switch state[k] {
		case dictText:
			out.appendBytes(s.dictOut[lo[k]:hi[k]])
		case dictNull:
			out.appendNull()
		default:
			s.reject(i, c.name, data[lo[k]:hi[k]], why[k])
			out.appendNull()
		}
	}
	return true
}

// valueColumn converts arr value by value with the row path's rules.
func (w *rowWriter) valueColumn(c *boundCol, arr arrow.Array, out *column, s *stage) {
	get := getter(arr)
	checkUTF8 := !asciiText(arr)
	for i, n := 0, arr.Len(); i < n; i++ {
		v := get(i)
		if v.kind == kindText {
			t, reason := w.checkText(v.text, checkUTF8)
			if reason != "" {
				s.reject(i, c.name, v.text, reason)
				out.appendNull()
				continue
			}
			if v.text = t; len(t) == 0 {
				out.appendNull()
				continue
			}
		} else if v.kind == kindNull {
			out.appendNull()
			continue
		}
		w.arena = w.arena[:0]
		if c.canon >= 0 {
			w.valid[c.canon] = false
		}
		if reason := w.convert(c, v); reason != "" {
			s.reject(i, c.name, w.rawValue(v), reason)
			out.appendNull()
			continue
		}
		if c.canon >= 0 && !w.valid[c.canon] {
			out.appendNull() // a NaN number or illicit
			continue
		}
		switch out.typ {
		case colString:
			if c.canon < 0 {
				out.appendBytes(w.extraTxt[c.extra])
			} else {
				out.appendBytes(w.text[c.canon])
			}
		case colFloat:
			out.appendFloat(w.num64[c.canon])
		case colDate:
			out.appendDate(arrow.Date32(w.num64[c.canon]))
		case colInt8:
			out.appendInt8(int8(w.num64[c.canon]))
		}
	}
}

// textColumn converts a text column to a text column: copied as a whole
// when no value needs a change or a check, else value by value.
func textColumn[O int32 | int64](w *rowWriter, c *boundCol, arr arrow.Array, offs []O, data []byte, out *column, s *stage) {
	n := arr.Len()
	checkUTF8 := !asciiBytes(data)
	if arr.NullN() == 0 && !checkUTF8 && plainText(offs[:n+1], data, w.maxField) {
		appendText(out, offs[:n+1], data)
		return
	}
	for i := 0; i < n; i++ {
		if arr.IsNull(i) {
			out.appendNull()
			continue
		}
		v := data[offs[i]-offs[0] : offs[i+1]-offs[0]]
		t, reason := w.checkText(v, checkUTF8)
		if reason != "" {
			s.reject(i, c.name, v, reason)
			out.appendNull()
			continue
		}
		if len(t) == 0 {
			out.appendNull()
			continue
		}
		out.appendBytes(t)
	}
}

// plainText reports whether every value (offsets offs into data, which
// starts at the first value) is stored as is: not empty, not longer than
// maxField, not padded with blanks (see trimSpace).
func plainText[O int32 | int64](offs []O, data []byte, maxField int) bool {
	base := offs[0]
	for i := 1; i < len(offs); i++ {
		a, b := offs[i-1]-base, offs[i]-base
		if b <= a || int(b-a) > maxField {
			return false
		}
		if f, l := data[a], data[b-1]; f == ' ' || f == '\t' || l == ' ' || l == '\t' {
			return false
		}
	}
	return true
}

// numberColumn converts a column of numbers to a number column.
func numberColumn[T int32 | int64 | float32 | float64](c *boundCol, arr arrow.Array, vals []T, out *column, s *stage) {
	nulls := arr.NullN() > 0
	for i, v := range vals {
		f := float64(v)
		if nulls && arr.IsNull(i) || math.IsNaN(f) { // NaN: how pandas writes a missing number
			out.appendNull()
			continue
		}
		x, reason := amount(c.canon, f)
		if reason != "" {
			s.reject(i, c.name, formatCell(nil, numberCell(v, f)), reason)
			out.appendNull()
			continue
		}
		out.appendFloat(x)
	}
}

// numberCell is the cell the row path sees for v (getter).
func numberCell[T int32 | int64 | float32 | float64](v T, f float64) cell {
	switch any(v).(type) {
	case int32, int64:
		return cell{kind: kindInt, i: int64(v)}
	}
	return cell{kind: kindFloat, f: f}
}

// dateColumn converts a date32 column to a date column.
func dateColumn(c *boundCol, arr *array.Date32, out *column, s *stage) {
	nulls := arr.NullN() > 0
	for i, d := range arr.Date32Values() {
		if nulls && arr.IsNull(i) {
			out.appendNull()
			continue
		}
		if reason := checkDays(int64(d)); reason != "" {
			s.reject(i, c.name, formatCell(nil, cell{kind: kindDays, i: int64(d)}), reason)
			out.appendNull()
			continue
		}
		out.appendDate(d)
	}
}

// appendNulls appends k nulls.
func (c *column) appendNulls(k int) {
	switch c.typ {
	case colString:
		end := int32(len(c.data))
		for range k {
			c.offsets = append(c.offsets, end)
		}
	case colFloat:
		c.f64 = append(c.f64, make([]float64, k)...)
	case colDate:
		c.d32 = append(c.d32, make([]arrow.Date32, k)...)
	case colInt8:
		c.i8 = append(c.i8, make([]int8, k)...)
	}
	c.nulls += k
	c.n += k
}

// appendText appends the values of a text column at once, none null: its
// offsets offs (the first one where data starts) into data.
func appendText[O int32 | int64](c *column, offs []O, data []byte) {
	k := len(offs) - 1
	base := int64(len(c.data)) - int64(offs[0])
	c.data = append(c.data, data[:offs[k]-offs[0]]...)
	for _, o := range offs[1:] {
		c.offsets = append(c.offsets, int32(int64(o)+base))
	}
	for i := c.n; i < c.n+k; i++ {
		c.valid[i>>3] |= 1 << (i & 7)
	}
	c.n += k
}

// isValid reports whether row i holds a value.
func (c *column) isValid(i int) bool { return c.valid[i>>3]&(1<<(i&7)) != 0 }
