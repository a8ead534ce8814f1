package ingest

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
	"risklane/ingest/profile"
)

// convKind is how a canonical column is converted; chosen once per column.
type convKind uint8

const (
	convString convKind = iota
	convHS
	convNumber
	convDate
	convIllicit
)

// nCanon is the number of canonical columns.
var nCanon = len(decl.Columns)

// Canonical column positions used by the row checks.
var (
	idxDeclID  = canonIndex(decl.DeclarationID)
	idxDate    = canonIndex(decl.Date)
	idxHS      = canonIndex(decl.HSCode)
	idxIllicit = canonIndex(decl.Illicit)
	idxRevenue = canonIndex(decl.Revenue)
	idxTaxRate = canonIndex(decl.TaxRate)
	required   = []int{idxDeclID, idxDate, idxHS}
	massGroup  = []int{canonIndex(decl.Quantity), canonIndex(decl.NetMassKg), canonIndex(decl.GrossWeightKg)}
	valueGroup = []int{canonIndex(decl.FOBValue), canonIndex(decl.CIFValue)}
)

func canonIndex(name string) int {
	for i, c := range decl.Columns {
		if c.Name == name {
			return i
		}
	}
	panic("ingest: no canonical column " + name)
}

func kindOf(i int) convKind {
	switch {
	case i == idxHS:
		return convHS
	case i == idxIllicit:
		return convIllicit
	case decl.Columns[i].Type.ID() == arrow.DATE32:
		return convDate
	case decl.Columns[i].Type.ID() == arrow.FLOAT64:
		return convNumber
	}
	return convString
}

// boundCol is one mapped column of one file.
type boundCol struct {
	canon int    // index into decl.Columns, or -1 for an extra
	extra int    // index into the extras, for extras
	src   int    // source column index
	name  string // source column name, for rejects
	kind  convKind
}

// plan is how the rows of one file become canonical rows.
type plan struct {
	cols      []boundCol
	canonName []string // source column name of each canonical column, "" if unmapped or not read
	read      []int    // source columns to read
	// projected: only the columns of Options.Columns are read; the checks
	// of the others (required, one-of groups, revenue formula) are not made.
	projected bool
}

// newPlan binds the mapped columns; keep, when not nil, names the
// canonical columns and extras to read (Options.Columns), the others
// staying null.
func newPlan(b *profile.Binding, names []string, keep []string) *plan {
	p := &plan{canonName: make([]string, nCanon), projected: keep != nil}
	for i, s := range b.Source {
		if s < 0 || keep != nil && !slices.Contains(keep, decl.Columns[i].Name) {
			continue
		}
		p.cols = append(p.cols, boundCol{canon: i, src: s, name: names[s], kind: kindOf(i)})
		p.canonName[i] = names[s]
		p.read = append(p.read, s)
	}
	for j, e := range b.Extras {
		if keep != nil && !slices.Contains(keep, e.Field.Name) {
			continue
		}
		p.cols = append(p.cols, boundCol{canon: -1, extra: j, src: e.Source, name: names[e.Source], kind: convString})
		p.read = append(p.read, e.Source)
	}
	return p
}

// rowWriter validates rows and appends the accepted ones to the columns of
// the batch being built.
type rowWriter struct {
	prof     *profile.Profile
	formula  *profile.Formula
	maxField int
	num      numberParser
	dates    *dateParser
	dateDesc string
	illDesc  string
	// positive and negative are the profile's illicit values, trimmed: a
	// handful, so a scan beats hashing each row's value.
	positive []string
	negative []string

	schema    *arrow.Schema
	batchRows int
	cols      []column // output columns: canonical, then extras
	textBytes int      // string bytes in the current batch
	hasCol    []bool   // canonical column mapped in the current file
	nextras   int

	// The row being staged: nothing is appended until the whole row passed.
	text     [][]byte
	num64    []float64
	valid    []bool
	extraTxt [][]byte
	extraOK  []bool
	arena    []byte
	hsBuf    []byte

	seen map[string]int64 // declaration_id -> first line, with UniqueIDs
}

func newRowWriter(p *profile.Profile, schema *arrow.Schema, maxField, batchRows int) *rowWriter {
	w := &rowWriter{
		prof:      p,
		formula:   p.Formula(),
		maxField:  maxField,
		num:       numberParser{dec: p.DecimalSep(), thou: p.ThousandsSep()},
		dates:     newDateParser(p.DateLayouts),
		dateDesc:  fmt.Sprintf("not a date in the profile's layout (%s)", strings.Join(p.DateLayouts, " or ")),
		schema:    schema,
		batchRows: batchRows,
		hasCol:    make([]bool, nCanon),
		text:      make([][]byte, nCanon),
		num64:     make([]float64, nCanon),
		valid:     make([]bool, nCanon),
	}
	for _, v := range p.Illicit.Positive {
		w.positive = append(w.positive, strings.TrimSpace(v))
	}
	for _, v := range p.Illicit.Negative {
		w.negative = append(w.negative, strings.TrimSpace(v))
	}
	w.illDesc = fmt.Sprintf("illicit value is not one of %s (1) or %s (0)",
		quoteValues(p.Illicit.Positive, "1"), quoteValues(p.Illicit.Negative, "0"))
	w.cols = make([]column, schema.NumFields())
	for i, f := range schema.Fields() {
		c := &w.cols[i]
		c.dt = f.Type
		switch f.Type.ID() {
		case arrow.FLOAT64:
			c.typ = colFloat
		case arrow.DATE32:
			c.typ = colDate
		case arrow.INT8:
			c.typ = colInt8
		default:
			c.typ = colString
		}
		c.reset(batchRows)
	}
	w.nextras = schema.NumFields() - nCanon
	w.extraTxt = make([][]byte, w.nextras)
	w.extraOK = make([]bool, w.nextras)
	return w
}

func quoteValues(vals []string, def string) string {
	if len(vals) == 0 {
		return fmt.Sprintf("%q", def)
	}
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// startFile resets the per-file state.
func (w *rowWriter) startFile(p *plan) {
	for i := range w.hasCol {
		w.hasCol[i] = p.canonName[i] != ""
	}
	if w.prof.UniqueIDs {
		w.seen = map[string]int64{}
	}
}

// rejection is a rejected row, described for the rejects file.
type rejection struct {
	column string
	value  []byte
	reason string
}

// row stages the current row of src; if it is valid it is appended and nil
// is returned, else the reason it was rejected.
func (w *rowWriter) row(src source, p *plan) *rejection {
	if prob, raw := src.problem(); prob != "" {
		return &rejection{value: raw, reason: prob}
	}
	for i := range w.valid {
		w.valid[i] = false
	}
	for j := range w.extraOK {
		w.extraOK[j] = false
	}
	w.arena = w.arena[:0]
	rowUTF8 := src.validUTF8()
	// A CSV row's cells are its fields (their count was checked with the
	// row's problem): read them directly rather than through the source.
	var fields [][]byte
	switch s := src.(type) {
	case *csvSource:
		fields = s.sc.fields
	case *chunkSource:
		fields = s.fields
	}
	for k := range p.cols {
		c := &p.cols[k]
		var v cell
		if fields != nil {
			v = cell{kind: kindText, text: fields[c.src]}
		} else {
			v = src.cell(c.src)
		}
		if v.kind == kindText {
			t, reason := w.checkText(v.text, !rowUTF8)
			if reason != "" {
				return &rejection{column: c.name, value: v.text, reason: reason}
			}
			if v.text = t; len(t) == 0 {
				continue // null
			}
		} else if v.kind == kindNull {
			continue
		}
		if reason := w.convert(c, v); reason != "" {
			return &rejection{column: c.name, value: w.rawValue(v), reason: reason}
		}
	}
	if r := w.rowChecks(p, src.line()); r != nil {
		return r
	}
	w.append()
	return nil
}

// checkText checks a text value, as it came from the source, for its
// length and, with checkUTF8, for invalid UTF-8 and NUL bytes; it returns
// the value trimmed of blanks (empty: null), or the reason it is refused.
func (w *rowWriter) checkText(t []byte, checkUTF8 bool) ([]byte, string) {
	if len(t) > w.maxField {
		return nil, fmt.Sprintf("field is %d bytes, longer than the %d-byte limit", len(t), w.maxField)
	}
	if checkUTF8 {
		if !utf8.Valid(t) {
			return nil, reasonInvalidUTF8
		}
		if bytes.IndexByte(t, 0) >= 0 {
			return nil, "NUL byte in text (a binary or UTF-16 value)"
		}
	}
	return trimSpace(t), ""
}

// rowChecks makes the checks of a whole row whose values were staged (in
// w.valid, w.num64 and, for the ids, w.text), row by row or column by
// column (columnar.go): required columns, the one-of groups, the revenue
// formula (which stages revenue), unique ids. line is the row's line.
// Columns the plan does not read (Options.Columns) are not required.
func (w *rowWriter) rowChecks(p *plan, line int64) *rejection {
	for _, i := range required {
		if !w.valid[i] && p.canonName[i] != "" {
			return &rejection{column: p.canonName[i], reason: "missing " + decl.Columns[i].Name}
		}
	}
	if r := w.needOne(p, massGroup, "no quantity, net mass or gross weight"); r != nil {
		return r
	}
	if r := w.needOne(p, valueGroup, "no FOB or CIF value"); r != nil {
		return r
	}
	if w.formula != nil && !w.hasCol[idxRevenue] && !p.projected {
		w.num64[idxRevenue], w.valid[idxRevenue] = w.formula.Eval(w.num64, w.valid)
		if w.valid[idxRevenue] && w.num64[idxRevenue] < 0 {
			return &rejection{reason: fmt.Sprintf("the revenue formula gives a negative value (%g)", w.num64[idxRevenue])}
		}
	}
	if w.seen != nil && p.canonName[idxDeclID] != "" {
		id := w.text[idxDeclID]
		if first, dup := w.seen[string(id)]; dup {
			return &rejection{column: p.canonName[idxDeclID], value: id,
				reason: fmt.Sprintf("duplicate declaration_id (first on line %d)", first)}
		}
		w.seen[string(id)] = line
	}
	return nil
}

// needOne requires a value in one of the group's columns, unless the plan
// reads none of them (Options.Columns).
func (w *rowWriter) needOne(p *plan, group []int, reason string) *rejection {
	first := ""
	for _, i := range group {
		if w.valid[i] {
			return nil
		}
		if first == "" {
			first = p.canonName[i]
		}
	}
	if first == "" {
		return nil
	}
	return &rejection{column: first, reason: reason}
}

// rawValue is the source text of a value, for the rejects file.
func (w *rowWriter) rawValue(v cell) []byte {
	if v.kind == kindText {
		return v.text
	}
	return formatCell(nil, v)
}

// convert stages one non-null value.
func (w *rowWriter) convert(c *boundCol, v cell) string {
	switch c.kind {
	case convString:
		t := v.text
		if v.kind != kindText {
			start := len(w.arena)
			w.arena = formatCell(w.arena, v)
			t = w.arena[start:]
		}
		if c.canon < 0 {
			w.extraTxt[c.extra], w.extraOK[c.extra] = t, true
		} else {
			w.text[c.canon], w.valid[c.canon] = t, true
		}
		return ""
	case convNumber:
		var f float64
		switch v.kind {
		case kindText:
			var reason string
			if f, reason = w.num.parse(v.text); reason != "" {
				return reason
			}
		case kindFloat:
			if math.IsNaN(v.f) {
				return "" // how pandas writes a missing number
			}
			f = v.f
		case kindInt:
			f = float64(v.i)
		default:
			return reasonNotNumber
		}
		f, reason := amount(c.canon, f)
		if reason != "" {
			return reason
		}
		w.num64[c.canon], w.valid[c.canon] = f, true
		return ""
	case convDate:
		switch v.kind {
		case kindDays:
			if reason := checkDays(v.i); reason != "" {
				return reason
			}
			w.num64[c.canon] = float64(v.i)
		case kindText:
			d, reason := w.dates.parse(v.text)
			if reason == reasonDateRange {
				return reason
			}
			if reason != "" {
				return w.dateDesc
			}
			w.num64[c.canon] = float64(d)
		default:
			return w.dateDesc
		}
		w.valid[c.canon] = true
		return ""
	case convIllicit:
		var x float64
		switch v.kind {
		case kindText:
			s := bytesString(v.text)
			switch {
			case slices.Contains(w.positive, s):
				x = 1
			case slices.Contains(w.negative, s):
				x = 0
			default:
				f, reason := w.num.parse(v.text)
				if reason != "" {
					return w.illDesc
				}
				x = f
			}
		case kindFloat:
			if math.IsNaN(v.f) {
				return ""
			}
			x = v.f
		case kindInt, kindBool:
			x = float64(v.i)
		default:
			return w.illDesc
		}
		if x != 0 && x != 1 {
			return w.illDesc
		}
		w.num64[c.canon], w.valid[c.canon] = x, true
		return ""
	case convHS:
		return w.hsCode(c, v)
	}
	return ""
}

// Plausible ranges of declaration numbers (docs/input-safety.md): beyond
// them a value is a typing or unit error, or hostile, and would overflow
// what is computed from it (a net mass of 1e-320 gave infinite unit values).
const (
	maxAmount  = 1e15 // values, masses, quantities, taxes, revenue
	minAmount  = 1e-6 // the smallest non-zero one
	maxTaxRate = 1000 // percent
)

// amount checks number f (not NaN: a NaN is null) of canonical column
// canon: finite, not negative, plausible. It returns the value to store
// (-0 made 0) or the reason it is refused.
func amount(canon int, f float64) (float64, string) {
	if math.IsInf(f, 0) {
		return 0, reasonNotFinite
	}
	if f < 0 {
		return 0, "negative value"
	}
	if reason := implausible(canon, f); reason != "" {
		return 0, reason
	}
	return f + 0, "" // +0 turns -0 into 0
}

// Days bounds of a declaration date.
var (
	minDay = int64(decl.Days(minYear, 1, 1))
	maxDay = int64(decl.Days(maxYear, 12, 31))
)

// checkDays refuses a typed date (days since 1970-01-01) outside the years
// declarations have.
func checkDays(d int64) string {
	if d < minDay || d > maxDay {
		return fmt.Sprintf("date outside %d..%d", minYear, maxYear)
	}
	return ""
}

// implausible returns why number f of canonical column canon is out of
// range, or "".
func implausible(canon int, f float64) string {
	switch {
	case canon == idxTaxRate && f > maxTaxRate:
		return "tax rate above 1000%: not a plausible rate (is it an amount?)"
	case f > maxAmount:
		return "larger than 1e15: not a plausible declaration value"
	case f > 0 && f < minAmount:
		return "positive but below 1e-6: too small to be a declared value or mass"
	}
	return ""
}

// hsCode stages an HS code: digits only (dots and spaces inside, as in
// 8703.23.29, are dropped), 6 to 10 of them, with a dropped leading zero
// restored when the profile asks for it.
func (w *rowWriter) hsCode(c *boundCol, v cell) string {
	const reason = "HS code must have 6 to 10 digits"
	w.hsBuf = w.hsBuf[:0]
	switch v.kind {
	case kindText:
		// 870323.0 is a code a spreadsheet turned into a number: dropping
		// the dot would make it 8703230, another code.
		if n := len(v.text); n > 2 && v.text[n-2] == '.' && v.text[n-1] == '0' {
			return "HS code ends in \".0\", as a spreadsheet writes a number: store the code as text"
		}
		for _, ch := range v.text {
			switch {
			case ch >= '0' && ch <= '9':
				w.hsBuf = append(w.hsBuf, ch)
			case ch == '.' || ch == ' ':
			default:
				return reason
			}
		}
	case kindInt:
		if v.i < 0 {
			return reason
		}
		w.hsBuf = strconv.AppendInt(w.hsBuf, v.i, 10)
	case kindFloat:
		if v.f < 0 || v.f != math.Trunc(v.f) || v.f >= 1e10 {
			return reason
		}
		w.hsBuf = strconv.AppendInt(w.hsBuf, int64(v.f), 10)
	default:
		return reason
	}
	if pad := w.prof.HSCodePad; pad > 0 && len(w.hsBuf) == pad-1 {
		w.hsBuf = append(w.hsBuf, 0)
		copy(w.hsBuf[1:], w.hsBuf)
		w.hsBuf[0] = '0'
	}
	if len(w.hsBuf) < 6 || len(w.hsBuf) > 10 {
		return reason
	}
	w.text[c.canon], w.valid[c.canon] = w.hsBuf, true
	return ""
}

// maxBatchText bounds the text in one batch, so that memory stays bounded
// even when every field is near the length limit.
var maxBatchText = 64 << 20 // a variable for tests

// append adds the staged row to the batch.
func (w *rowWriter) append() {
	for i := 0; i < nCanon; i++ {
		c := &w.cols[i]
		if !w.valid[i] {
			c.appendNull()
			continue
		}
		switch c.typ {
		case colString:
			c.appendBytes(w.text[i])
			w.textBytes += len(w.text[i])
		case colFloat:
			c.appendFloat(w.num64[i])
		case colDate:
			c.appendDate(arrow.Date32(w.num64[i]))
		case colInt8:
			c.appendInt8(int8(w.num64[i]))
		}
	}
	for j := 0; j < w.nextras; j++ {
		c := &w.cols[nCanon+j]
		if w.extraOK[j] {
			c.appendBytes(w.extraTxt[j])
			w.textBytes += len(w.extraTxt[j])
		} else {
			c.appendNull()
		}
	}
}

// rows is the number of rows in the current batch.
func (w *rowWriter) rows() int { return w.cols[0].n }

// full reports whether the current batch should be sent.
func (w *rowWriter) full() bool { return w.rows() >= w.batchRows || w.textBytes >= maxBatchText }

// flush returns the current batch and starts a new one.
func (w *rowWriter) flush() arrow.RecordBatch {
	arrs := make([]arrow.Array, len(w.cols))
	n := w.rows()
	for i := range w.cols {
		arrs[i] = w.cols[i].array()
		w.cols[i].reset(w.batchRows)
	}
	w.textBytes = 0
	rec := array.NewRecordBatch(w.schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// appendRows appends the accepted rows [a, lim) of a chunk's columns (in
// the layout of w.cols) to the batch, stopping where row-by-row appends
// would have found the batch full: it returns how many rows it took, at
// least one when lim > a and the batch is not full.
func (w *rowWriter) appendRows(src []column, a, lim int) int {
	k := min(lim-a, w.batchRows-w.rows())
	text := 0
	for i := range src {
		text += src[i].textBytes(a, a+k)
	}
	if w.textBytes+text >= maxBatchText {
		// The batch fills on its text: find the row that reaches the limit.
		text = 0
		for j := a; j < a+k; j++ {
			for i := range src {
				text += src[i].textBytes(j, j+1)
			}
			if w.textBytes+text >= maxBatchText {
				k = j + 1 - a
				break
			}
		}
	}
	for i := range w.cols {
		w.cols[i].appendRange(&src[i], a, a+k)
	}
	w.textBytes += text
	return k
}
