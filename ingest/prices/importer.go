package prices

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"risklane/ingest"
)

// MaxListBytes bounds a JSON price list.
const MaxListBytes = 64 << 20

// ImportOptions complete the rows of a price list.
type ImportOptions struct {
	// Source names rows without a source column (default: the file name).
	Source string
	// Currency and Unit fill rows that leave them empty.
	Currency, Unit string
	// Date fills rows without a date.
	Date time.Time
	// Rates, if set, converts every price into Rates.To.
	Rates *Rates
}

// Import reads a price list: CSV, Parquet or Arrow (sniffed as declaration
// inputs are) or JSON (a file ending in .json: an array of objects). Its
// columns or keys are those of Schema; "date" may stand for fetched_at and
// "hs_code" for hs6. Rows that cannot be used are returned as rejects with
// their line (JSON: their index from 1) and reason.
func Import(path string, opt ImportOptions) ([]Price, []Reject, error) {
	var rows []map[string]string
	var where []string
	if strings.EqualFold(filepath.Ext(path), ".json") {
		var err error
		if rows, err = readJSONList(path); err != nil {
			return nil, nil, err
		}
		for i := range rows {
			where = append(where, fmt.Sprintf("%s:item %d", path, i+1))
		}
	} else {
		t, err := ingest.ReadTable(path)
		if err != nil {
			return nil, nil, err
		}
		for i, r := range t.Rows {
			m := map[string]string{}
			for j, h := range t.Header {
				m[strings.ToLower(strings.TrimSpace(h))] = r[j]
			}
			rows = append(rows, m)
			where = append(where, fmt.Sprintf("%s:%d", path, t.Lines[i]))
		}
		var rejects []Reject
		for _, b := range t.Bad {
			rejects = append(rejects, Reject{Where: fmt.Sprintf("%s:%d", path, b.Line), Reason: b.Reason})
		}
		ps, more := fromRows(rows, where, path, opt)
		return ps, append(rejects, more...), nil
	}
	ps, rejects := fromRows(rows, where, path, opt)
	return ps, rejects, nil
}

// readJSONList reads a JSON array of flat objects, every value as text.
func readJSONList(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxListBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB; split the list", path, MaxListBytes>>20)
	}
	return ParseJSONList(data, path)
}

// ParseJSONList parses a JSON price list: an array of objects whose values
// are strings, numbers or null. Errors name the byte offset.
func ParseJSONList(data []byte, path string) ([]map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var items []map[string]any
	if err := dec.Decode(&items); err != nil {
		if se, ok := err.(*json.SyntaxError); ok {
			return nil, fmt.Errorf("%s: byte %d: %v", path, se.Offset, err)
		}
		return nil, fmt.Errorf("%s: a price list in JSON is an array of objects (%v)", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: text after the array", path)
	}
	out := make([]map[string]string, len(items))
	for i, it := range items {
		m := map[string]string{}
		for k, v := range it {
			switch v := v.(type) {
			case nil:
			case string:
				m[strings.ToLower(k)] = v
			case json.Number:
				m[strings.ToLower(k)] = v.String()
			default:
				return nil, fmt.Errorf("%s: item %d, key %q: a value must be a string or a number", path, i+1, k)
			}
		}
		out[i] = m
	}
	return out, nil
}

func fromRows(rows []map[string]string, where []string, path string, opt ImportOptions) ([]Price, []Reject) {
	var ps []Price
	var rejects []Reject
	defSource := opt.Source
	if defSource == "" {
		defSource = filepath.Base(path)
	}
	for i, r := range rows {
		get := func(keys ...string) string {
			for _, k := range keys {
				if v := strings.TrimSpace(r[k]); v != "" {
					return v
				}
			}
			return ""
		}
		p := Price{Product: get(ColProduct, "name", "description"), Source: get(ColSource)}
		if p.Source == "" {
			p.Source = defSource
		}
		fail := func(format string, a ...any) {
			rejects = append(rejects, Reject{Where: where[i], Source: p.Source, HS6: p.HS6, Reason: fmt.Sprintf(format, a...)})
		}
		var err error
		if p.HS6, err = CheckHS6(get(ColHS6, "hs_code", "hs")); err != nil {
			fail("%v", err)
			continue
		}
		amount, cur, err := ParseAmount(get(ColPrice))
		if err != nil {
			fail("%v", err)
			continue
		}
		p.Currency = strings.ToUpper(get(ColCurrency))
		switch {
		case p.Currency == "" && cur != "":
			p.Currency = cur
		case p.Currency == "":
			p.Currency = strings.ToUpper(opt.Currency)
		case cur != "" && cur != p.Currency:
			fail("price %q is in %s but the currency column says %s", get(ColPrice), cur, p.Currency)
			continue
		}
		if len(p.Currency) != 3 {
			fail("no currency: give a currency column or --currency")
			continue
		}
		unit := get(ColUnit)
		if unit == "" {
			unit = opt.Unit
		}
		u, factor, ok := NormalizeUnit(unit)
		if !ok {
			fail("unit %q is neither a mass (kg, g, t) nor a piece (u, unit, piece)", unit)
			continue
		}
		p.Unit, p.Price = u, amount*factor
		if !(p.Price > 0) || math.IsInf(p.Price, 0) {
			fail("price %q is not positive", get(ColPrice))
			continue
		}
		p.FetchedAt = opt.Date
		if d := get(ColFetchedAt, "date"); d != "" {
			if p.FetchedAt, err = ParseDate(d); err != nil {
				fail("%v", err)
				continue
			}
		}
		if p.FetchedAt.IsZero() {
			fail("no date: give a fetched_at or date column, or --date")
			continue
		}
		if opt.Rates != nil {
			if p, err = opt.Rates.Convert(p); err != nil {
				fail("%v", err)
				continue
			}
		}
		ps = append(ps, p)
	}
	return ps, rejects
}

// ParseDate reads an RFC 3339 time or a date (2006-01-02), as UTC.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339, "2006-01-02", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if _, err := strconv.Atoi(s); err == nil {
		return time.Time{}, fmt.Errorf("date %q: write it as 2006-01-02", s)
	}
	return time.Time{}, fmt.Errorf("date %q is neither 2006-01-02 nor an RFC 3339 time", s)
}
