package prices

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"risklane/ingest"
)

// Rates converts prices into one currency.
type Rates struct {
	// To is the currency every price is converted into.
	To string
	// Per holds, for each currency, how many units of To one unit of it is
	// worth. To itself is 1 whether listed or not.
	Per map[string]float64
}

// ReadRates reads a rates table (CSV, Parquet or Arrow) with the columns
// currency and rate: one unit of currency is worth rate units of to.
func ReadRates(path, to string) (*Rates, error) {
	to = strings.ToUpper(strings.TrimSpace(to))
	if len(to) != 3 {
		return nil, fmt.Errorf("rates: target currency %q is not a three-letter ISO 4217 code", to)
	}
	t, err := ingest.ReadTable(path)
	if err != nil {
		return nil, fmt.Errorf("rates: %w", err)
	}
	if len(t.Bad) > 0 {
		return nil, fmt.Errorf("rates %s: %s", path, t.Bad[0].Error())
	}
	ci, ok1 := t.Column("currency")
	ri, ok2 := t.Column("rate")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("rates %s: need the columns currency and rate (one unit of currency is worth rate %s); the columns are %s",
			path, to, strings.Join(t.Header, ", "))
	}
	r := &Rates{To: to, Per: map[string]float64{to: 1}}
	seen := map[string]int64{}
	for i, row := range t.Rows {
		line := t.Lines[i]
		c := strings.ToUpper(strings.TrimSpace(row[ci]))
		if len(c) != 3 {
			return nil, fmt.Errorf("rates %s line %d: currency %q is not a three-letter code", path, line, row[ci])
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(row[ri]), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("rates %s line %d, column \"rate\": %q is not a positive number", path, line, row[ri])
		}
		if prev, dup := seen[c]; dup {
			return nil, fmt.Errorf("rates %s: %s appears on lines %d and %d", path, c, prev, line)
		}
		seen[c] = line
		if c == to && v != 1 {
			return nil, fmt.Errorf("rates %s line %d: the rate of %s into itself must be 1, not %v", path, line, c, v)
		}
		r.Per[c] = v
	}
	return r, nil
}

// Convert returns p in r.To, or an error when r has no rate for p's
// currency.
func (r *Rates) Convert(p Price) (Price, error) {
	v, ok := r.Per[p.Currency]
	if !ok {
		return p, fmt.Errorf("no rate from %s to %s in the rates table", p.Currency, r.To)
	}
	// Both are positive and finite (ReadRates, Import), but their product
	// can leave the float range: a price of +Inf or 0 is no price.
	if c := p.Price * v; !(c > 0) || math.IsInf(c, 0) {
		return p, fmt.Errorf("%v %s at %v %s each is %v %s: out of range", p.Price, p.Currency, v, r.To, c, r.To)
	}
	p.Price *= v
	p.Currency = r.To
	return p, nil
}
