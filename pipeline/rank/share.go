// Package rank turns scored declarations into the morning's inspection list:
// it orders them by score (ties by input order), cuts the red, yellow and
// green lanes, draws the exploration share of the red lane at random, and
// writes the ranked file (Parquet, and CSV on request).
//
// Ranking works on packed 64-bit keys (score and input ordinal in one word),
// so that ten million declarations rank in 160 MB and a few tenths of a second;
// everything else about a row (its identifier, its reasons) is joined back in
// rank order by the caller.
package rank

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Share is the size of a lane: a percentage of some number of rows, or an
// absolute number of rows.
type Share struct {
	// Percent is the share in percent when IsCount is false.
	Percent float64
	// Count is the number of rows when IsCount is true.
	Count   int
	IsCount bool
}

// Percent returns a Share of p percent.
func Percent(p float64) Share { return Share{Percent: p} }

// Rows returns a Share of n rows.
func Rows(n int) Share { return Share{Count: n, IsCount: true} }

// ParseShare reads "5%" (a percentage, 0 to 100, decimals allowed) or "500"
// (a number of rows).
func ParseShare(s string) (Share, error) {
	t := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
			return Share{}, fmt.Errorf("%q is not a percentage between 0%% and 100%%", s)
		}
		return Percent(v), nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return Share{}, fmt.Errorf("%q is neither a percentage (like 5%%) nor a number of rows (like 500)", s)
	}
	return Rows(n), nil
}

// String formats the share the way ParseShare reads it.
func (s Share) String() string {
	if s.IsCount {
		return strconv.Itoa(s.Count)
	}
	return strconv.FormatFloat(s.Percent, 'f', -1, 64) + "%"
}

// MarshalText lets a Share appear in JSON and YAML as "5%" or "500".
func (s Share) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads what MarshalText writes.
func (s *Share) UnmarshalText(b []byte) error {
	v, err := ParseShare(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Of returns how many of n rows the share takes, as docs/DESIGN.md defines the top
// n% for metrics: max(1, round(n*p/100)) for a positive percentage (math.Round,
// as the metrics package does), so that the red lane at 5% is exactly the rows
// Precision@5% counts. A count is capped at n.
func (s Share) Of(n int) int {
	if n <= 0 {
		return 0
	}
	if s.IsCount {
		return min(s.Count, n)
	}
	if s.Percent <= 0 {
		return 0
	}
	k := int(math.Round(float64(n) * s.Percent / 100))
	return min(max(1, k), n)
}

// part returns round(n*p/100) without the minimum of one row, for shares of a
// lane (a 3-row red lane with 10% exploration has no exploration draw).
func (s Share) part(n int) int {
	if n <= 0 {
		return 0
	}
	if s.IsCount {
		return min(s.Count, n)
	}
	return min(int(math.Round(float64(n)*s.Percent/100)), n)
}
