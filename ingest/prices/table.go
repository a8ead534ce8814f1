package prices

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/sink"
)

// Price is one market price of a product.
type Price struct {
	// HS6 is the product's six-digit HS subheading.
	HS6     string
	Product string
	// Price is per Unit, in Currency (ISO 4217, upper case).
	Price    float64
	Currency string
	// Unit is "kg" or "u" (a piece): the two bases of a declared unit
	// value. NormalizeUnit turns other units into these.
	Unit string
	// Source names where the price was seen: the configured source name,
	// or the price list's.
	Source string
	// FetchedAt is when the price was seen (UTC).
	FetchedAt time.Time
}

// Column names of the price table.
const (
	ColHS6       = "hs6"
	ColProduct   = "product"
	ColPrice     = "price"
	ColCurrency  = "currency"
	ColUnit      = "unit"
	ColSource    = "source"
	ColFetchedAt = "fetched_at"
)

// Schema is the layout of the price table. fetched_at is an RFC 3339 UTC
// time as text, so that CSV and Parquet carry it alike.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: ColHS6, Type: arrow.BinaryTypes.String},
	{Name: ColProduct, Type: arrow.BinaryTypes.String},
	{Name: ColPrice, Type: arrow.PrimitiveTypes.Float64},
	{Name: ColCurrency, Type: arrow.BinaryTypes.String},
	{Name: ColUnit, Type: arrow.BinaryTypes.String},
	{Name: ColSource, Type: arrow.BinaryTypes.String},
	{Name: ColFetchedAt, Type: arrow.BinaryTypes.String},
}, nil)

// Units of a price table.
const (
	PerKg   = "kg"
	PerUnit = "u"
)

// NormalizeUnit maps a unit as shops and lists write it to PerKg or PerUnit
// and the factor a price per that unit is multiplied by to be per the
// result ("g" gives "kg", 1000: a price per gram times 1000 is per kg).
func NormalizeUnit(u string) (string, float64, bool) {
	switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(u), "/"))) {
	case "kg", "kgm", "kilogram", "kilograms", "kilo":
		return PerKg, 1, true
	case "g", "gram", "grams", "grm":
		return PerKg, 1000, true
	case "t", "tonne", "tonnes", "tne", "ton":
		return PerKg, 0.001, true
	case "u", "unit", "units", "piece", "pieces", "pc", "pcs", "item", "each", "ea", "nmb", "nar":
		return PerUnit, 1, true
	}
	return "", 0, false
}

// CheckHS6 returns a six-digit HS code: an all-digit code of 6 or more
// digits is cut to 6, dots and spaces dropped ("8504.40" gives "850440").
func CheckHS6(s string) (string, error) {
	s = strings.NewReplacer(".", "", " ", "").Replace(strings.TrimSpace(s))
	if len(s) < 6 {
		return "", fmt.Errorf("HS code %q has fewer than 6 digits", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", fmt.Errorf("HS code %q is not all digits", s)
		}
	}
	return s[:6], nil
}

// Record builds the price table as one record batch (the caller releases
// it).
func Record(ps []Price) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, Schema)
	defer b.Release()
	for _, p := range ps {
		b.Field(0).(*array.StringBuilder).Append(p.HS6)
		b.Field(1).(*array.StringBuilder).Append(p.Product)
		b.Field(2).(*array.Float64Builder).Append(p.Price)
		b.Field(3).(*array.StringBuilder).Append(p.Currency)
		b.Field(4).(*array.StringBuilder).Append(p.Unit)
		b.Field(5).(*array.StringBuilder).Append(p.Source)
		b.Field(6).(*array.StringBuilder).Append(p.FetchedAt.UTC().Format(time.RFC3339))
	}
	return b.NewRecordBatch()
}

// Sort orders prices by HS6, source, product, time and price, so that the
// same prices always give the same file.
func Sort(ps []Price) {
	slices.SortStableFunc(ps, func(a, b Price) int {
		return cmpAll(strings.Compare(a.HS6, b.HS6), strings.Compare(a.Source, b.Source),
			strings.Compare(a.Product, b.Product), a.FetchedAt.Compare(b.FetchedAt), cmpFloat(a.Price, b.Price))
	})
}

func cmpAll(cs ...int) int {
	for _, c := range cs {
		if c != 0 {
			return c
		}
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Write writes the price table to path (.parquet, .csv or .arrow)
// atomically, sorted.
func Write(path string, ps []Price) error {
	ps = slices.Clone(ps)
	Sort(ps)
	rec := Record(ps)
	defer rec.Release()
	return sink.WriteTable(path, rec)
}

// ParseAmount reads a price as shops write it: "1.234,56 €", "$1,234.56",
// "US$ 12", "12,5", "EUR 7.99". It returns the number and the currency its
// symbol or three-letter code names ("" if none). Of "," and ".", the last
// is the decimal separator when both occur; a lone separator is a decimal
// one unless it occurs more than once or exactly three digits follow it
// ("1,234" is a thousand, "12,50" twelve and a half).
func ParseAmount(s string) (float64, string, error) {
	if v, ok := exponentForm(strings.TrimSpace(s)); ok {
		return v, "", nil
	}
	cur := ""
	var num, letters strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '.', r == ',':
			num.WriteRune(r)
		case r == '\'' || unicode.IsSpace(r):
			// thousands separators and spacing
		case r == '-':
			return 0, "", fmt.Errorf("price %q is negative", s)
		case r < unicode.MaxASCII && unicode.IsLetter(r):
			letters.WriteRune(unicode.ToUpper(r))
		default:
			c, ok := symbols[r]
			if !ok {
				return 0, "", fmt.Errorf("price %q holds %q, neither a number nor a currency", s, r)
			}
			if cur != "" && cur != c {
				return 0, "", fmt.Errorf("price %q names two currencies", s)
			}
			cur = c
		}
	}
	l := letters.String()
	if c, ok := letterSymbols[l]; ok {
		l = c
	}
	switch {
	case l == "" || l == "US" && cur == "USD":
	case len(l) == 3 && (cur == "" || cur == l):
		cur = l
	default:
		return 0, "", fmt.Errorf("price %q holds text other than a number and a currency", s)
	}
	v, err := parseNumber(num.String())
	if err != nil {
		return 0, "", fmt.Errorf("price %q: %v", s, err)
	}
	return v, cur, nil
}

// exponentForm reads a number in exponent form ("1e-05", "2.5E+21"): how
// risklane's own price tables hold prices below 0.0001 or from 1e21 up
// (strconv's shortest format, the same for Parquet and Arrow values read
// back as text), which the separator rules above would refuse. Negative and
// infinite values are left to them, to refuse with their reasons.
func exponentForm(s string) (float64, bool) {
	e := strings.IndexAny(s, "eE")
	if e < 1 || strings.Trim(s, "0123456789.eE+-") != "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// letterSymbols are currency signs written in letters.
var letterSymbols = map[string]string{"KSH": "KES", "TSH": "TZS", "USH": "UGX"}

var symbols = map[rune]string{'€': "EUR", '$': "USD", '£': "GBP", '¥': "JPY", '₹': "INR", '₦': "NGN"}

// parseNumber reads digits with "," or "." as separators.
func parseNumber(s string) (float64, error) {
	if s == "" {
		return 0, fmt.Errorf("no number")
	}
	for i := 0; i < len(s); i++ {
		if sep := s[i] == '.' || s[i] == ','; sep && (i == 0 || i == len(s)-1 || s[i-1] == '.' || s[i-1] == ',') {
			return 0, fmt.Errorf("%q is not a number", s)
		}
	}
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	dec := byte(0)
	switch {
	case lastDot >= 0 && lastComma >= 0:
		dec = '.'
		if lastComma > lastDot {
			dec = ','
		}
	case lastComma >= 0:
		// "12,5" and "12,50" are decimals; "1,234" and "1,234,567" thousands.
		if strings.Count(s, ",") > 1 || len(s)-lastComma-1 == 3 {
			dec = 0
		} else {
			dec = ','
		}
	case lastDot >= 0:
		if strings.Count(s, ".") > 1 {
			dec = 0
		} else {
			dec = '.'
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == dec:
			b.WriteByte('.')
		case c == '.' || c == ',':
		default:
			b.WriteByte(c)
		}
	}
	v, err := strconv.ParseFloat(b.String(), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// WriteCSV writes the price table as CSV, sorted, in the layout Write gives
// a .csv file.
func WriteCSV(w io.Writer, ps []Price) error {
	ps = slices.Clone(ps)
	Sort(ps)
	cw := sink.NewCSVWriter(w)
	if err := cw.Write([]string{ColHS6, ColProduct, ColPrice, ColCurrency, ColUnit, ColSource, ColFetchedAt}); err != nil {
		return err
	}
	for _, p := range ps {
		if err := cw.Write([]string{p.HS6, p.Product, strconv.FormatFloat(p.Price, 'g', -1, 64), p.Currency, p.Unit, p.Source,
			p.FetchedAt.UTC().Format(time.RFC3339)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
