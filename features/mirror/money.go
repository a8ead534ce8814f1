package mirror

import (
	"errors"
	"math"
	"math/big"
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
// fractions of a cent half away from zero.
func parseCents(s string) (Cents, error) {
	if !scanDecimal(s) {
		return 0, errNotNumber
	}
	neg := s[0] == '-'
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	mant, exp, ok := decimalParts(s)
	var c Cents
	if ok {
		c, ok = scaleCents(mant, exp+2)
	}
	if !ok {
		// More than 18 significant digits or an extreme exponent: rare
		// enough to afford exact rational arithmetic.
		var r big.Rat
		if _, set := r.SetString(s); !set {
			return 0, errNotNumber
		}
		r.Mul(&r, big.NewRat(100, 1))
		r.Add(&r, big.NewRat(1, 2))
		q := new(big.Int).Quo(r.Num(), r.Denom())
		if !q.IsInt64() || q.Int64() > int64(maxCents) {
			return 0, errTooLarge
		}
		c = Cents(q.Int64())
	}
	if c > maxCents {
		return 0, errTooLarge
	}
	if neg && c != 0 {
		return 0, errNegative
	}
	return c, nil
}

// decimalParts splits an unsigned decimal (already validated) into an
// integer mantissa and a power of ten. It reports false when the mantissa
// would need more than 18 digits or the exponent is out of a sane range.
func decimalParts(s string) (mant uint64, exp int, ok bool) {
	nd := 0
	frac := false
	i := 0
	for ; i < len(s) && s[i] != 'e' && s[i] != 'E'; i++ {
		ch := s[i]
		if ch == '.' {
			frac = true
			continue
		}
		if frac {
			exp--
		}
		if ch == '0' && nd == 0 {
			continue
		}
		if nd == 18 {
			return 0, 0, false
		}
		mant = mant*10 + uint64(ch-'0')
		nd++
	}
	if i < len(s) {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || e < -40 || e > 40 {
			return 0, 0, false
		}
		exp += e
	}
	return mant, exp, true
}

// pow10 holds 10^0 .. 10^19.
var pow10 = func() [20]uint64 {
	var p [20]uint64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// scaleCents returns mant * 10^shift rounded half up, or false on overflow.
func scaleCents(mant uint64, shift int) (Cents, bool) {
	switch {
	case mant == 0:
		return 0, true
	case shift >= 0:
		if shift > 18 || mant > uint64(maxCents)/pow10[shift] {
			return maxCents + 1, true
		}
		return Cents(mant * pow10[shift]), true
	case -shift > 19:
		return 0, true
	default:
		p := pow10[-shift]
		q, r := mant/p, mant%p
		if r >= p-r {
			q++
		}
		return Cents(q), true
	}
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
