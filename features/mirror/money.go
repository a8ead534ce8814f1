package mirror

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Cents is an amount of US dollars in whole cents. Trade values are parsed
// straight into cents and every sum (roll-ups, totals, revenue) is an integer
// sum, so roll-ups reconcile with totals to the cent whatever the order of
// addition; only CIF-to-FOB conversion and the duty rate round, once per HS6
// flow.
type Cents int64

// maxCents caps a single trade value at 10 trillion dollars, above any
// country's total trade, so that sums of many values cannot overflow int64.
const maxCents Cents = 1e15

// Dollars returns the amount in dollars.
func (c Cents) Dollars() float64 { return float64(c) / 100 }

// String formats the amount as dollars with two decimals and thousands
// separators: "-1,234,567.89".
func (c Cents) String() string {
	neg := c < 0
	u := uint64(c)
	if neg {
		u = uint64(-c)
	}
	whole := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, ch := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	frac := u % 100
	b.WriteByte('.')
	b.WriteByte(byte('0' + frac/10))
	b.WriteByte(byte('0' + frac%10))
	return b.String()
}

// roundCents rounds a dollar-cent quantity computed in floating point (a
// converted or taxed amount) to whole cents, half away from zero.
func roundCents(cents float64) Cents { return Cents(math.Round(cents)) }

var (
	errNotNumber = errors.New("is not a number")
	errNegative  = errors.New("is negative")
	errTooLarge  = errors.New("is implausibly large")
)

// scanDecimal checks that s is a plain decimal number, optionally signed and
// with an exponent ("1234", "-0.5", "1.2E+07"), the forms spreadsheets and
// statistical software write. It refuses what strconv.ParseFloat would also
// take but a trade file never means: "NaN", "Inf", hexadecimal, underscores.
func scanDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseCents parses a non-negative dollar amount exactly into cents, rounding
// fractions of a cent half up. It works on the decimal digits, so no input,
// however long its mantissa or exponent, costs more than a pass over it.
func parseCents(s string) (Cents, error) {
	if !scanDecimal(s) {
		return 0, errNotNumber
	}
	neg := s[0] == '-'
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	digits, exp := decimalDigits(s)
	c, err := centsOf(digits, exp)
	if err != nil {
		return 0, err
	}
	if neg && c != 0 {
		return 0, errNegative
	}
	return c, nil
}

// decimalDigits splits an unsigned decimal (already validated) into its
// significant digits, without leading or trailing zeros, and the power of
// ten they are multiplied by. The exponent saturates far beyond any range
// that matters.
func decimalDigits(s string) (digits string, exp int) {
	mant := s
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := s[i+1:]
		sign := 1
		if e[0] == '+' || e[0] == '-' {
			if e[0] == '-' {
				sign = -1
			}
			e = e[1:]
		}
		for i := 0; i < len(e) && exp < 1e6; i++ {
			exp = exp*10 + int(e[i]-'0')
		}
		exp *= sign
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	exp -= len(frac)
	all := intPart + frac
	all = strings.TrimLeft(all, "0")
	trimmed := strings.TrimRight(all, "0")
	exp += len(all) - len(trimmed)
	return trimmed, exp
}

// centsOf returns digits * 10^exp dollars in cents, rounded half up.
func centsOf(digits string, exp int) (Cents, error) {
	if digits == "" {
		return 0, nil
	}
	// k is the number of digits before the cents' decimal point.
	k := len(digits) + exp + 2
	switch {
	case k > 16:
		return 0, errTooLarge
	case k < 0:
		return 0, nil
	}
	var c uint64
	for i := 0; i < k; i++ {
		c *= 10
		if i < len(digits) {
			c += uint64(digits[i] - '0')
		}
	}
	if k < len(digits) && digits[k] >= '5' {
		c++
	}
	if Cents(c) > maxCents {
		return 0, errTooLarge
	}
	return Cents(c), nil
}

// parseAmount parses a non-negative quantity or weight.
func parseAmount(s string) (float64, error) {
	if !scanDecimal(s) {
		return 0, errNotNumber
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v > 1e15 {
		return 0, errTooLarge
	}
	if v < 0 {
		return 0, errNegative
	}
	return v, nil
}

// isMissing reports whether a cell stands for "no value" the way Comtrade
// extracts and the tools that re-save them write it.
func isMissing(s string) bool {
	switch s {
	case "", "NA", "N/A", "n/a", "na", "NULL", "null", "None", "nan", "NaN":
		return true
	}
	return false
}
