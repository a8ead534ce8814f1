package mirror

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"sort"
	"strings"
)

// Tariffs are ad-valorem duty rates in percent, keyed by HS code at 2, 4 or
// 6 digits; the most specific code that matches a flow wins.
type Tariffs struct {
	rates map[string]float64
	// Source names where the rates came from, for the report
	// ("tariffs.csv", "declarations").
	Source string
}

// NewTariffs returns tariffs from rates in percent keyed by HS codes of 2, 4
// or 6 digits (a code of 1, 3 or 5 digits is taken to have lost its leading
// zero). Use it to pass in the average effective rates per HS6 that the
// declarations show.
func NewTariffs(ratesPct map[string]float64, source string) (*Tariffs, error) {
	t := &Tariffs{rates: make(map[string]float64, len(ratesPct)), Source: source}
	for hs, r := range ratesPct {
		code, _, err := normHS(hs, -1)
		if err != nil || code == codeTotal {
			return nil, fmt.Errorf("tariffs: HS code %q: not a 2-, 4- or 6-digit code", hs)
		}
		if math.IsNaN(r) || r < 0 || r > maxRatePct {
			return nil, fmt.Errorf("tariffs: HS %s: rate %v%% is not between 0 and %v", code, r, maxRatePct)
		}
		t.rates[code] = r
	}
	return t, nil
}

// DeclaredSource is the Source of EffectiveRates' tariffs.
const DeclaredSource = "declarations"

// maxRatePct bounds an ad-valorem rate; prohibitive tariffs (tobacco,
// alcohol) reach a few hundred percent.
const maxRatePct = 1000

// EffectiveRates averages the duty actually charged in declarations: for
// every HS6, HS4 and HS2 code, total taxes over total customs value, in
// percent. hs holds each declaration's commodity code (6 digits or more;
// only the first 6 count), taxes the duty charged and value the customs
// value, in any one currency. Rows with a missing or non-positive value are
// skipped. When the declarations carry a rate instead of the tax, pass
// taxes[i] = rate[i] * value[i] / 100: the result is the value-weighted mean
// rate.
func EffectiveRates(hs []string, taxes, value []float64) *Tariffs {
	type acc struct{ tax, val float64 }
	sums := map[string]*acc{}
	add := func(code string, tax, val float64) {
		a := sums[code]
		if a == nil {
			a = &acc{}
			sums[code] = a
		}
		a.tax += tax
		a.val += val
	}
	for i, code := range hs {
		if i >= len(taxes) || i >= len(value) {
			break
		}
		tax, val := taxes[i], value[i]
		if len(code) < 6 || !isDigits(code[:6]) || !(val > 0) || math.IsNaN(tax) || tax < 0 || math.IsInf(val, 0) || math.IsInf(tax, 0) {
			continue
		}
		add(code[:6], tax, val)
		add(code[:4], tax, val)
		add(code[:2], tax, val)
	}
	t := &Tariffs{rates: make(map[string]float64, len(sums)), Source: DeclaredSource}
	for code, a := range sums {
		t.rates[code] = 100 * a.tax / a.val
	}
	return t
}

// RatesPct returns a copy of the rates in percent, keyed by HS code.
func (t *Tariffs) RatesPct() map[string]float64 {
	if t == nil {
		return nil
	}
	return maps.Clone(t.rates)
}

// JoinRates returns the tariffs of rates that EffectiveRates computed apart
// over declarations split by HS2 chapter (the Beam fit stage of
// risklane/beam: each chapter's rows in input order), with source as
// EffectiveRates names it. Every code's sums lie within one chapter, so the
// union is EffectiveRates over all the rows, rate for rate; a code in two
// parts means the split was not by chapter, an error.
func JoinRates(source string, parts ...map[string]float64) (*Tariffs, error) {
	t := &Tariffs{rates: map[string]float64{}, Source: source}
	for _, p := range parts {
		for code, r := range p {
			if _, dup := t.rates[code]; dup {
				return nil, fmt.Errorf("tariffs: HS %s is in two parts of the rates: the parts must be HS2 chapters", code)
			}
			t.rates[code] = r
		}
	}
	return t, nil
}

// Rate returns the rate in percent for an HS6 code and the number of digits
// of the code it was found under (6, 4 or 2).
func (t *Tariffs) Rate(hs6 string) (pct float64, level int, ok bool) {
	if t == nil {
		return 0, 0, false
	}
	for _, n := range [...]int{6, 4, 2} {
		if len(hs6) < n {
			continue
		}
		if r, ok := t.rates[hs6[:n]]; ok {
			return r, n, true
		}
	}
	return 0, 0, false
}

// Len returns the number of codes with a rate.
func (t *Tariffs) Len() int {
	if t == nil {
		return 0
	}
	return len(t.rates)
}

// Codes returns the codes with a rate, sorted.
func (t *Tariffs) Codes() []string {
	out := make([]string, 0, t.Len())
	if t != nil {
		for c := range t.rates {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// ReadTariffs reads a tariff table: a CSV with a header naming an "hs"
// column (or "hs_code") and a "rate" column (or "duty_rate"), rates in
// percent ("12.5" or "12.5%"), codes at 2, 4 or 6 digits. Other columns are
// ignored. Malformed rows and repeated codes are returned as rejects; the
// error is only for a file that cannot be read at all.
func ReadTariffs(r io.Reader, name string) (*Tariffs, []Reject, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("%s: empty file; expected a CSV with columns hs,rate", name)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading the header: %w", name, err)
	}
	header = append([]string(nil), header...)
	hsCol, rateCol := -1, -1
	for i, h := range header {
		switch normHeader(h) {
		case "hs", "hscode":
			if hsCol < 0 {
				hsCol = i
			}
		case "rate", "dutyrate":
			if rateCol < 0 {
				rateCol = i
			}
		}
	}
	if hsCol < 0 || rateCol < 0 {
		return nil, nil, fmt.Errorf("%s: the header must name an hs column and a rate column (percent); it is %q", name, strings.Join(header, ","))
	}
	t := &Tariffs{rates: map[string]float64{}, Source: name}
	firstLine := map[string]int{}
	var rejects []Reject
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rejects = append(rejects, Reject{File: name, Line: pe.StartLine, Reason: "is not valid CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			return nil, rejects, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(row) != len(header) {
			rejects = append(rejects, Reject{File: name, Line: line, Reason: fmt.Sprintf("has %d fields but the header has %d", len(row), len(header))})
			continue
		}
		code, _, err := normHS(row[hsCol], -1)
		if err == nil && code == codeTotal {
			err = errors.New("is not a 2-, 4- or 6-digit HS code")
		}
		if err != nil {
			rejects = append(rejects, Reject{File: name, Line: line, Column: header[hsCol], Value: row[hsCol], Reason: err.Error()})
			continue
		}
		s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(row[rateCol]), "%"))
		rate, err := parseAmount(s)
		if err == nil && rate > maxRatePct {
			err = fmt.Errorf("is above %d percent", maxRatePct)
		}
		if err != nil {
			rejects = append(rejects, Reject{File: name, Line: line, Column: header[rateCol], Value: row[rateCol], Reason: err.Error()})
			continue
		}
		if first, dup := firstLine[code]; dup {
			rejects = append(rejects, Reject{File: name, Line: line, Column: header[hsCol], Value: row[hsCol],
				Reason: fmt.Sprintf("repeats HS %s of line %d; the first rate is kept", code, first)})
			continue
		}
		firstLine[code] = line
		t.rates[code] = rate
	}
	return t, rejects, nil
}
