package ingest

import (
	"bytes"
	"math"
	"strconv"
	"time"
	"unsafe"

	"risklane/decl"
)

// bytesString views b as a string without copying. The string must not
// outlive b's contents; strconv copies what it keeps in its errors.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// stringBytes views s as a byte slice without copying; it must not be written.
func stringBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// trimSpace removes ASCII blanks around a field; exports from fixed-width
// database columns often pad with them.
func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t') {
		j--
	}
	return b[i:j]
}

// numberParser parses decimal numbers written with a given decimal
// separator and optional thousands separator.
type numberParser struct {
	dec     byte // '.' or ','
	thou    byte // 0 for none
	scratch []byte
}

// Reasons a number is refused. They are fixed strings so that the hot loop
// never formats.
const (
	reasonNotNumber   = "not a number"
	reasonNotFinite   = "not a finite number"
	reasonGrouping    = "misplaced thousands separator"
	reasonInvalidUTF8 = "invalid UTF-8"
)

// parse returns the value of b (already trimmed, not empty) or a reason.
// Only digits, one decimal separator, an exponent (e or E with optional
// sign), a leading sign and, if configured, thousands separators between
// groups of three digits are accepted: strconv alone would also take "NaN",
// "Inf", hexadecimal and underscores, none of which belong in a customs file.
func (p *numberParser) parse(b []byte) (float64, string) {
	if p.dec == '.' && p.thou == 0 {
		if v, ok := fastDecimal(b); ok {
			return v, ""
		}
		for _, c := range b {
			if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+') {
				return 0, reasonNotNumber
			}
		}
		return finite(strconv.ParseFloat(bytesString(b), 64))
	}
	s := p.scratch[:0]
	intPart := true
	group := -1 // digits since the last thousands separator; -1 before any
	lead := 0   // digits before the first thousands separator
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if intPart {
				if group >= 0 {
					group++
				} else {
					lead++
				}
			}
			s = append(s, c)
		case c == p.thou && p.thou != 0 && intPart:
			if group == 0 || (group > 0 && group != 3) || (group < 0 && (lead == 0 || lead > 3)) {
				return 0, reasonGrouping
			}
			group = 0
		case c == p.dec:
			if group >= 0 && group != 3 {
				return 0, reasonGrouping
			}
			intPart = false
			s = append(s, '.')
		case c == 'e' || c == 'E':
			if intPart && group >= 0 && group != 3 {
				return 0, reasonGrouping
			}
			intPart = false
			s = append(s, c)
		case c == '-' || c == '+':
			if i > 0 && intPart {
				return 0, reasonNotNumber
			}
			s = append(s, c)
		default:
			return 0, reasonNotNumber
		}
	}
	if intPart && group >= 0 && group != 3 {
		return 0, reasonGrouping
	}
	p.scratch = s
	if v, ok := fastDecimal(s); ok {
		return v, ""
	}
	return finite(strconv.ParseFloat(bytesString(s), 64))
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastDecimal parses the common case, [sign] digits [. digits] with at most
// 15 significant digits and 22 decimals, as an exact integer divided by an
// exact power of ten: IEEE division rounds that correctly, so the result is
// the one strconv.ParseFloat gives, without its general machinery. ok is
// false for anything else, which the caller hands to strconv.
func fastDecimal(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i = 1
	}
	var m uint64
	sig, frac, digits := 0, 0, 0
	dot := false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			if m != 0 || c != '0' {
				sig++
				if sig > 15 {
					return 0, false
				}
			}
			m = m*10 + uint64(c-'0')
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || frac >= len(pow10) {
		return 0, false
	}
	f := float64(m) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

func finite(v float64, err error) (float64, string) {
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, reasonNotFinite
		}
		return 0, reasonNotNumber
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, reasonNotFinite
	}
	return v, ""
}

// Dates outside this window are refused as implausible: a year 0202 or 9999
// in a declaration is a typing or export error, not a date.
const (
	minYear = 1900
	maxYear = 2199
)

// dateParser parses dates with a list of Go time layouts, tried in order.
// Layouts made only of fixed-width numeric fields (2006, 06, 01, 02) and
// separators take a fast path that reads the digits directly; others go
// through time.Parse. A one-entry cache skips the work when a row has the
// same date text as the one before, as consecutive rows usually do.
type dateParser struct {
	layouts    []dateLayout
	last       []byte
	lastDay    int32
	lastOK     bool
	lastReason string
}

type dateLayout struct {
	layout string
	fast   []dateField // nil when the layout needs time.Parse
	width  int
}

type dateFieldKind uint8

const (
	dfLiteral dateFieldKind = iota
	dfYear4
	dfYear2
	dfMonth
	dfDay
)

type dateField struct {
	kind dateFieldKind
	lit  byte
}

func newDateParser(layouts []string) *dateParser {
	p := &dateParser{}
	for _, l := range layouts {
		p.layouts = append(p.layouts, compileLayout(l))
	}
	return p
}

// compileLayout finds the fast form of a layout, if it has one.
func compileLayout(l string) dateLayout {
	var fields []dateField
	var y, m, d int
	for i := 0; i < len(l); {
		switch {
		case len(l)-i >= 4 && l[i:i+4] == "2006":
			fields = append(fields, dateField{kind: dfYear4})
			i += 4
			y++
		case l[i] == '0' && i+1 < len(l) && l[i+1] == '6':
			fields = append(fields, dateField{kind: dfYear2})
			i += 2
			y++
		case l[i] == '0' && i+1 < len(l) && l[i+1] == '1':
			fields = append(fields, dateField{kind: dfMonth})
			i += 2
			m++
		case l[i] == '0' && i+1 < len(l) && l[i+1] == '2':
			fields = append(fields, dateField{kind: dfDay})
			i += 2
			d++
		case l[i] == '-' || l[i] == '/' || l[i] == '.' || l[i] == ' ':
			fields = append(fields, dateField{kind: dfLiteral, lit: l[i]})
			i++
		default:
			return dateLayout{layout: l}
		}
	}
	if y != 1 || m != 1 || d != 1 {
		return dateLayout{layout: l}
	}
	width := 0
	for _, f := range fields {
		switch f.kind {
		case dfLiteral:
			width++
		case dfYear4:
			width += 4
		default:
			width += 2
		}
	}
	return dateLayout{layout: l, fast: fields, width: width}
}

const (
	reasonBadDate   = "not a date in the profile's layout"
	reasonDateRange = "a date outside the years 1900 to 2199 that declarations have"
)

// parse returns the days since 1970-01-01 of b (trimmed, not empty).
func (p *dateParser) parse(b []byte) (int32, string) {
	if p.last != nil && bytes.Equal(b, p.last) {
		if p.lastOK {
			return p.lastDay, ""
		}
		return 0, p.lastReason
	}
	day, ok := int32(0), false
	for i := range p.layouts {
		l := &p.layouts[i]
		if l.fast != nil {
			day, ok = l.parseFast(b)
		} else if t, err := time.Parse(l.layout, bytesString(b)); err == nil && t.Year() >= minYear && t.Year() <= maxYear {
			day, ok = decl.Days(t.Year(), int(t.Month()), t.Day()), true
		}
		if ok {
			break
		}
	}
	p.last = append(p.last[:0], b...)
	p.lastDay, p.lastOK = day, ok
	if !ok {
		p.lastReason = reasonBadDate
		for i := range p.layouts {
			if _, err := time.Parse(p.layouts[i].layout, bytesString(b)); err == nil {
				p.lastReason = reasonDateRange
			}
		}
		return 0, p.lastReason
	}
	return day, ""
}

func (l *dateLayout) parseFast(b []byte) (int32, bool) {
	if len(b) != l.width {
		return 0, false
	}
	year, month, day := 0, 0, 0
	i := 0
	for _, f := range l.fast {
		switch f.kind {
		case dfLiteral:
			if b[i] != f.lit {
				return 0, false
			}
			i++
		case dfYear4:
			v, ok := digits(b[i : i+4])
			if !ok {
				return 0, false
			}
			year = v
			i += 4
		default:
			v, ok := digits(b[i : i+2])
			if !ok {
				return 0, false
			}
			switch f.kind {
			case dfYear2:
				// Go's (and Python's %y) rule: 69-99 are 1969-1999.
				if v >= 69 {
					year = 1900 + v
				} else {
					year = 2000 + v
				}
			case dfMonth:
				month = v
			case dfDay:
				day = v
			}
			i += 2
		}
	}
	if year < minYear || year > maxYear || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, false
	}
	return decl.Days(year, month, day), true
}

func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
