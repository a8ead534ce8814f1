package mirror

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"risklane/sink"
)

// Layout is a file layout of bilateral trade statistics.
type Layout int

// The layouts Reader recognises from the header.
const (
	// LayoutBulk is the UN Comtrade bulk-download and legacy API CSV:
	// "Classification,Year,Period,...,Trade Flow Code,...,Reporter ISO,...,
	// Commodity Code,...,Netweight (kg),...,Trade Value (US$),...".
	// risklane generate writes exactly this header. The legacy compact
	// layout, whose value column is "Value", reads as this one.
	LayoutBulk Layout = iota + 1
	// LayoutAPI is the current Comtrade API (v1 get / Comtrade Plus) CSV:
	// "typeCode,freqCode,refPeriodId,...,flowCode,...,cmdCode,...,netWgt,
	// ...,cifvalue,fobvalue,primaryValue,...".
	LayoutAPI
)

func (l Layout) String() string {
	switch l {
	case LayoutBulk:
		return "Comtrade bulk CSV"
	case LayoutAPI:
		return "Comtrade API CSV"
	}
	return "unknown layout"
}

// Flow is the direction of a trade flow as the reporter records it.
type Flow int8

// Trade flows. Mirror analysis pairs FlowImport (the reporter's imports,
// valued CIF) with the partner's FlowExport (valued FOB); re-exports,
// re-imports and the special flows of the current API (processing, domestic
// exports, ...) are read but not paired.
const (
	FlowOther Flow = iota
	FlowImport
	FlowExport
	FlowReExport
	FlowReImport
)

func (f Flow) String() string {
	switch f {
	case FlowImport:
		return "import"
	case FlowExport:
		return "export"
	case FlowReExport:
		return "re-export"
	case FlowReImport:
		return "re-import"
	}
	return "other flow"
}

// Record is one row of trade statistics. Reader reuses it between rows.
type Record struct {
	File string
	Line int // line of the row's first field in the file, header = 1
	// Reporter and Partner are country keys as Country returns them.
	Reporter, Partner string
	// World is set when the partner is the World aggregate.
	World bool
	// Breakdown is set on detail rows of the current API's "plus" mode (a
	// second partner, customs procedure or mode of transport other than
	// the total); the total row of the same flow carries the full value.
	Breakdown bool
	Flow      Flow
	// HS is the commodity code at Level digits (2, 4, 6) or "TOTAL" at
	// level 0, leading zero restored.
	HS    string
	Level int
	// Year and Month give the period; Month is 0 for annual data.
	Year, Month int
	// Value is the trade value as reported: CIF for most importers, FOB
	// for exports and for the few importers that record FOB.
	Value Cents
	// CIF and FOB hold the separately reported CIF and FOB values when
	// the file has them (HasCIF, HasFOB).
	CIF, FOB       Cents
	HasCIF, HasFOB bool
	// QtyUnit is the Comtrade quantity unit code (8 = kg; -1 when
	// absent); Qty and NetKg are NaN when absent.
	QtyUnit int
	Qty     float64
	NetKg   float64
}

// Reject is a row of trade statistics that could not be used, and why.
type Reject struct {
	File   string
	Line   int
	Column string // as the file's header names it; empty for row-level problems
	// Value is the cell's text, or for a row-level problem (a duplicate)
	// the row's reporter, flow, partner, commodity and period.
	Value  string
	Reason string
}

func (r Reject) Error() string {
	if r.Column == "" && r.Value != "" {
		return fmt.Sprintf("%s line %d (%s): %s", r.File, r.Line, r.Value, r.Reason)
	}
	if r.Column == "" {
		return fmt.Sprintf("%s line %d: %s", r.File, r.Line, r.Reason)
	}
	return fmt.Sprintf("%s line %d, column %q: %q %s", r.File, r.Line, r.Column, r.Value, r.Reason)
}

// field identifies a column the reader uses.
type field int

const (
	fClassification field = iota
	fYear
	fPeriod
	fRefMonth
	fFreq
	fLevel
	fFlowCode
	fFlowText
	fReporterCode
	fReporterISO
	fPartnerCode
	fPartnerISO
	fPartner2Code
	fCustoms
	fMOT
	fMOS
	fCommodity
	fQtyUnit
	fQty
	fNetKg
	fValue
	fCIF
	fFOB
	numFields
)

// headerNames maps header names, lower-cased with everything but letters and
// digits removed, to fields. Both layouts share one table: their names do
// not collide, and files re-saved by tools that mangle punctuation
// ("TradeFlow Code", "Netweightkg") still map.
var headerNames = map[string]field{
	// bulk
	"classification":      fClassification,
	"year":                fYear,
	"period":              fPeriod,
	"aggregatelevel":      fLevel,
	"tradeflowcode":       fFlowCode,
	"tradeflow":           fFlowText,
	"reportercode":        fReporterCode,
	"reporteriso":         fReporterISO,
	"partnercode":         fPartnerCode,
	"partneriso":          fPartnerISO,
	"2ndpartnercode":      fPartner2Code,
	"customsproccode":     fCustoms,
	"modeoftransportcode": fMOT,
	"commoditycode":       fCommodity,
	"qtyunitcode":         fQtyUnit,
	"qty":                 fQty,
	"netweightkg":         fNetKg,
	"tradevalueus":        fValue,
	"tradevalue":          fValue,
	"value":               fValue, // the legacy compact layout's "Value"
	"ciftradevalueus":     fCIF,
	"ciftradevalue":       fCIF,
	"fobtradevalueus":     fFOB,
	"fobtradevalue":       fFOB,
	// API
	"classificationcode": fClassification,
	"refyear":            fYear,
	"refmonth":           fRefMonth,
	"freqcode":           fFreq,
	"aggrlevel":          fLevel,
	"flowcode":           fFlowCode,
	"flowdesc":           fFlowText,
	"partner2code":       fPartner2Code,
	"customscode":        fCustoms,
	"motcode":            fMOT,
	"moscode":            fMOS,
	"cmdcode":            fCommodity,
	"netwgt":             fNetKg,
	"primaryvalue":       fValue,
	"cifvalue":           fCIF,
	"fobvalue":           fFOB,
}

func normHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Reader streams trade statistics from a CSV file (gzip-compressed or not)
// in either Comtrade layout, recognised from the header. Rows that cannot
// be used are not returned by Next but kept, with the reason, in Rejects.
type Reader struct {
	name   string
	csv    *csv.Reader
	layout Layout
	col    [numFields]int // index of each field's column, -1 if absent
	header []string
	rec    Record
	read   int
	rej    []Reject // the first sink.MaxRejectRows rejects
	nrej   int      // all rejects
	err    error
	closer io.Closer
}

// NewReader reads the header of r and returns a Reader for its rows. name is
// the file name used in messages. gzip input is recognised by its magic
// bytes.
func NewReader(r io.Reader, name string) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	var closer io.Closer
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		src, closer = gz, gz
	}
	cr := csv.NewReader(src)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file; expected a Comtrade CSV with a header row", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", name, err)
	}
	rd := &Reader{name: name, csv: cr, header: append([]string(nil), header...), closer: closer}
	if len(rd.header) > 0 {
		rd.header[0] = strings.TrimPrefix(rd.header[0], "\ufeff")
	}
	if err := rd.mapHeader(); err != nil {
		return nil, err
	}
	rd.rec.File = name
	return rd, nil
}

func (rd *Reader) mapHeader() error {
	for i := range rd.col {
		rd.col[i] = -1
	}
	for i, h := range rd.header {
		if f, ok := headerNames[normHeader(h)]; ok && rd.col[f] < 0 {
			rd.col[f] = i
		}
	}
	names := map[string]bool{}
	for _, h := range rd.header {
		names[normHeader(h)] = true
	}
	switch {
	case names["cmdcode"]:
		rd.layout = LayoutAPI
	case names["commoditycode"]:
		rd.layout = LayoutBulk
	default:
		return fmt.Errorf("%s: not a Comtrade trade-statistics CSV: the header has neither \"Commodity Code\" (bulk layout) nor \"cmdCode\" (API layout); header is %q", rd.name, strings.Join(rd.header, ","))
	}
	var missing []string
	need := func(what string, fs ...field) {
		for _, f := range fs {
			if rd.col[f] >= 0 {
				return
			}
		}
		missing = append(missing, what)
	}
	need("a reporter column (Reporter ISO / Reporter Code, reporterISO / reporterCode)", fReporterISO, fReporterCode)
	need("a partner column (Partner ISO / Partner Code, partnerISO / partnerCode)", fPartnerISO, fPartnerCode)
	need("a trade flow column (Trade Flow Code / Trade Flow, flowCode / flowDesc)", fFlowCode, fFlowText)
	need("a period column (Period / Year, period / refYear)", fPeriod, fYear)
	need("a value column (Trade Value (US$) or Value, primaryValue, cifvalue or fobvalue)", fValue, fCIF, fFOB)
	if len(missing) > 0 {
		return fmt.Errorf("%s (%s): missing %s", rd.name, rd.layout, strings.Join(missing, "; "))
	}
	return nil
}

// Layout returns the layout recognised from the header.
func (rd *Reader) Layout() Layout { return rd.layout }

// Read returns the number of data rows read so far (good and rejected).
func (rd *Reader) Read() int { return rd.read }

// Rejects returns the rows rejected so far, at most sink.MaxRejectRows.
func (rd *Reader) Rejects() []Reject { return rd.rej }

// Rejected returns the number of rows rejected so far, kept or not.
func (rd *Reader) Rejected() int { return rd.nrej }

// reject records a rejected row, keeping only the first ones: a file of one
// duplicated row must not fill memory with rejects.
func (rd *Reader) reject(r Reject) {
	rd.nrej++
	if len(rd.rej) < sink.MaxRejectRows {
		rd.rej = append(rd.rej, r)
	}
}

// Err returns the error that stopped reading, if any: a broken gzip stream
// or an I/O failure. Malformed rows are never errors; they are Rejects.
func (rd *Reader) Err() error { return rd.err }

// Record returns the current row. It is overwritten by the next call to Next.
func (rd *Reader) Record() *Record { return &rd.rec }

// Close releases the gzip decompressor, if any. It does not close the
// underlying reader.
func (rd *Reader) Close() error {
	if rd.closer != nil {
		return rd.closer.Close()
	}
	return nil
}

// Next advances to the next usable row, rejecting malformed rows on the way.
// It returns false at the end of the input or on a fatal error (see Err).
func (rd *Reader) Next() bool {
	if rd.err != nil {
		return false
	}
	for {
		row, err := rd.csv.Read()
		if err == io.EOF {
			return false
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rd.read++
			rd.reject(Reject{File: rd.name, Line: pe.StartLine, Reason: "is not valid CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			rd.err = fmt.Errorf("%s: %w", rd.name, err)
			return false
		}
		line, _ := rd.csv.FieldPos(0)
		rd.read++
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			// A blank line inside the file (encoding/csv skips truly
			// empty ones); count it as read and say so.
			rd.reject(Reject{File: rd.name, Line: line, Reason: "is blank"})
			continue
		}
		if len(row) != len(rd.header) {
			rd.reject(Reject{File: rd.name, Line: line,
				Reason: fmt.Sprintf("has %d fields but the header has %d", len(row), len(rd.header))})
			continue
		}
		if rj, ok := rd.parse(row, line); !ok {
			rd.reject(rj)
			continue
		}
		return true
	}
}

func (rd *Reader) cell(row []string, f field) string {
	if i := rd.col[f]; i >= 0 {
		return strings.TrimSpace(row[i])
	}
	return ""
}

// parse fills rd.rec from row, or returns the first problem found.
func (rd *Reader) parse(row []string, line int) (Reject, bool) {
	r := &rd.rec
	*r = Record{File: rd.name, Line: line, QtyUnit: -1, Qty: math.NaN(), NetKg: math.NaN()}
	bad := func(f field, reason string) (Reject, bool) {
		rj := Reject{File: rd.name, Line: line, Reason: reason}
		if i := rd.col[f]; i >= 0 {
			rj.Column, rj.Value = rd.header[i], row[i]
		}
		return rj, false
	}

	if c := rd.cell(row, fClassification); c != "" && !isHSClassification(c) {
		return bad(fClassification, "is not an HS classification; mirror analysis pairs HS codes (HS, H0..H6)")
	}

	var reason string
	var f field
	if r.Reporter, f, reason = rd.country(row, fReporterISO, fReporterCode); reason != "" {
		if reason == "is missing" {
			return bad(f, "leaves the reporter missing: every row needs the country that reported it")
		}
		return bad(f, reason)
	}
	if r.Partner, f, reason = rd.country(row, fPartnerISO, fPartnerCode); reason != "" {
		if reason == "is missing" {
			return bad(f, "leaves the partner missing: every row needs the partner country (0 / WLD / W00 for World)")
		}
		return bad(f, reason)
	}
	r.World = isWorldPartner(r.Partner)
	if r.Partner == r.Reporter {
		return bad(f, "names the reporter as its own partner")
	}

	var ok bool
	if r.Flow, f, ok = rd.flow(row); !ok {
		return bad(f, "is not a known trade flow (1/2/3/4 or Import/Export/Re-Export/Re-Import in the bulk layout; M/X/RM/RX... in the API layout)")
	}

	level := -1
	if s := rd.cell(row, fLevel); !isMissing(s) {
		n, err := strconv.Atoi(s)
		if err != nil || (n != 0 && n != 2 && n != 4 && n != 6) {
			return bad(fLevel, "is not an HS aggregate level (0, 2, 4 or 6)")
		}
		level = n
	}
	if rd.col[fCommodity] < 0 {
		return bad(fCommodity, "is missing: the file has no commodity column")
	}
	hs, lvl, err := normHS(rd.cell(row, fCommodity), level)
	if err != nil {
		return bad(fCommodity, err.Error())
	}
	r.HS, r.Level = hs, lvl

	if f, reason = rd.period(row); reason != "" {
		return bad(f, reason)
	}

	r.Breakdown = isBreakdown(rd.cell(row, fPartner2Code), "0") ||
		isBreakdown(rd.cell(row, fCustoms), "C00") ||
		isBreakdown(rd.cell(row, fMOT), "0") ||
		isBreakdown(rd.cell(row, fMOS), "0")

	hasValue := false
	for _, m := range []struct {
		f   field
		dst *Cents
		has *bool
	}{{fValue, &r.Value, &hasValue}, {fCIF, &r.CIF, &r.HasCIF}, {fFOB, &r.FOB, &r.HasFOB}} {
		s := rd.cell(row, m.f)
		if isMissing(s) {
			continue
		}
		c, err := parseCents(s)
		if err != nil {
			return bad(m.f, err.Error())
		}
		*m.dst, *m.has = c, true
	}
	if !hasValue {
		switch {
		case r.Flow == FlowImport && r.HasCIF:
			r.Value = r.CIF
		case r.HasFOB:
			r.Value = r.FOB
		case r.HasCIF:
			r.Value = r.CIF
		default:
			return bad(fValue, "is empty: the row has no trade value")
		}
	}

	if s := rd.cell(row, fQtyUnit); !isMissing(s) {
		n, err := strconv.Atoi(s)
		if err != nil || n < -1 || n > 1000 {
			return bad(fQtyUnit, "is not a Comtrade quantity unit code")
		}
		r.QtyUnit = n
	}
	for _, m := range []struct {
		f   field
		dst *float64
	}{{fQty, &r.Qty}, {fNetKg, &r.NetKg}} {
		s := rd.cell(row, m.f)
		if isMissing(s) {
			continue
		}
		v, err := parseAmount(s)
		if err != nil {
			return bad(m.f, err.Error())
		}
		*m.dst = v
	}
	if math.IsNaN(r.NetKg) && r.QtyUnit == 8 && !math.IsNaN(r.Qty) {
		// Unit 8 is "weight in kilograms": the quantity is the weight.
		r.NetKg = r.Qty
	}
	return Reject{}, true
}

// country reads a country from the ISO column, or the code column when the
// ISO one is absent or empty. It returns the field to blame on failure.
func (rd *Reader) country(row []string, isoF, codeF field) (string, field, string) {
	if s := rd.cell(row, isoF); !isMissing(s) {
		if len(s) < 2 || len(s) > 4 || !isCodeChars(s) {
			return "", isoF, "is not a country code"
		}
		return Country(s), isoF, ""
	}
	s := rd.cell(row, codeF)
	if isMissing(s) {
		if rd.col[isoF] >= 0 {
			return "", isoF, "is missing"
		}
		return "", codeF, "is missing"
	}
	if !isDigits(s) || len(s) > 4 {
		return "", codeF, "is not a numeric country code"
	}
	return Country(s), codeF, ""
}

func isCodeChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// flow reads the trade flow from the code column, or from the text column
// when there is no code.
func (rd *Reader) flow(row []string) (Flow, field, bool) {
	if s := rd.cell(row, fFlowCode); !isMissing(s) {
		if rd.layout == LayoutBulk {
			switch s {
			case "1":
				return FlowImport, fFlowCode, true
			case "2":
				return FlowExport, fFlowCode, true
			case "3":
				return FlowReExport, fFlowCode, true
			case "4":
				return FlowReImport, fFlowCode, true
			}
			return 0, fFlowCode, false
		}
		switch strings.ToUpper(s) {
		case "M":
			return FlowImport, fFlowCode, true
		case "X":
			return FlowExport, fFlowCode, true
		case "RX":
			return FlowReExport, fFlowCode, true
		case "RM":
			return FlowReImport, fFlowCode, true
		case "DX", "FM", "MIP", "XIP", "MOP", "XOP", "MIF", "XIF", "MOF", "XOF":
			return FlowOther, fFlowCode, true
		}
		return 0, fFlowCode, false
	}
	s := rd.cell(row, fFlowText)
	switch strings.ToLower(strings.ReplaceAll(s, " ", "")) {
	case "import", "imports":
		return FlowImport, fFlowText, true
	case "export", "exports":
		return FlowExport, fFlowText, true
	case "re-export", "re-exports", "reexport":
		return FlowReExport, fFlowText, true
	case "re-import", "re-imports", "reimport":
		return FlowReImport, fFlowText, true
	}
	if rd.col[fFlowCode] >= 0 {
		return 0, fFlowCode, false
	}
	return 0, fFlowText, false
}

// period reads the period: "2016" (annual) or "201601" (monthly) from the
// period column, else the year column (with refMonth 1-12 when the API
// layout says the data is monthly).
func (rd *Reader) period(row []string) (field, string) {
	r := &rd.rec
	if s := rd.cell(row, fPeriod); !isMissing(s) {
		if !isDigits(s) || (len(s) != 4 && len(s) != 6) {
			return fPeriod, "is not a period (YYYY or YYYYMM)"
		}
		r.Year, _ = strconv.Atoi(s[:4])
		if len(s) == 6 {
			r.Month, _ = strconv.Atoi(s[4:])
			if r.Month < 1 || r.Month > 12 {
				return fPeriod, "has no month 1-12"
			}
		}
	} else {
		s := rd.cell(row, fYear)
		if isMissing(s) {
			if rd.col[fPeriod] >= 0 {
				return fPeriod, "is empty: the row has no period"
			}
			return fYear, "is empty: the row has no period"
		}
		y, err := strconv.Atoi(s)
		if err != nil || len(s) != 4 {
			return fYear, "is not a year"
		}
		r.Year = y
		if strings.EqualFold(rd.cell(row, fFreq), "M") {
			m, err := strconv.Atoi(rd.cell(row, fRefMonth))
			if err != nil || m < 1 || m > 12 {
				return fRefMonth, "is not a month 1-12 in monthly data"
			}
			r.Month = m
		}
	}
	if r.Year < 1950 || r.Year > 2100 {
		if rd.cell(row, fPeriod) != "" {
			return fPeriod, "is not a plausible year (1950-2100)"
		}
		return fYear, "is not a plausible year (1950-2100)"
	}
	return 0, ""
}

// isHSClassification accepts the Harmonized System under its Comtrade names:
// "HS" (as reported) and the editions H0 (1992) to H6 (2022).
func isHSClassification(c string) bool {
	c = strings.ToUpper(c)
	return c == "HS" || (len(c) == 2 && c[0] == 'H' && c[1] >= '0' && c[1] <= '9')
}

// isBreakdown reports whether a breakdown cell names a detail rather than
// the total (empty, or the total's code).
func isBreakdown(s, total string) bool {
	return !isMissing(s) && s != total && !(total == "0" && isDigits(s) && strings.Trim(s, "0") == "")
}
