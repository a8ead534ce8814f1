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

// ParseShare reads a share or a count of rows, by the one rule of the
// command line and the job files (docs/cli.md):
//   - "5%": a percentage, 0 to 100, decimals allowed ("0.5%");
//   - "0.05": a fraction between 0 and 1, written with a decimal point, is
//     the same share (5%);
//   - "500": a whole number is a number of rows.
//
// So "5" is five rows, not five percent: SmallCount flags such a budget.
func ParseShare(s string) (Share, error) {
	t := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
			return Share{}, fmt.Errorf("%q is not a percentage between 0%% and 100%%", s)
		}
		return Percent(v), nil
	}
	if strings.ContainsAny(t, ".eE") {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil || !(v >= 0 && v <= 1) {
			return Share{}, fmt.Errorf("%q is neither a percentage (5%%), a fraction between 0 and 1 (0.05) nor a number of rows (500)", s)
		}
		return Percent(fraction(v)), nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return Share{}, fmt.Errorf("%q is neither a percentage (5%%), a fraction between 0 and 1 (0.05) nor a number of rows (500)", s)
	}
	return Rows(n), nil
}

// fraction turns a fraction into percent without the binary noise of v*100
// (0.07*100 = 7.000000000000001).
func fraction(v float64) float64 {
	p, _ := strconv.ParseFloat(strconv.FormatFloat(v*100, 'g', 12, 64), 64)
	return p
}

// ParseRate reads a share that cannot be a count (a rejected-rows limit),
// as a fraction from 0 to 1: "2%" or "0.02"; a plain 1 is everything, 0
// nothing. It follows ParseShare's rule except that a whole number is not a
// count.
func ParseRate(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if !strings.HasSuffix(t, "%") && !strings.ContainsAny(t, ".eE") && (t == "0" || t == "1") {
		t += ".0"
	}
	sh, err := ParseShare(t)
	if err != nil || sh.IsCount {
		return 0, fmt.Errorf("%q is not a share: write a percentage (2%%) or a fraction between 0 and 1 (0.02)", s)
	}
	return sh.Percent / 100, nil
}

// SmallCount says, for a budget read by ParseShare, whether it is a count
// of rows so small beside the n rows scored that a percentage was likely
// meant ("--budget 5" for 5%): a count of 1 to 100 rows that is under 1% of
// n. The message says what was understood and how to write a share.
func (s Share) SmallCount(n int) (string, bool) {
	if !s.IsCount || s.Count < 1 || s.Count > 100 || n < 100*s.Count {
		return "", false
	}
	return fmt.Sprintf("%d means %d rows (%.3g%% of the %d scored); write %d%% for a share", s.Count, s.Count,
		100*float64(s.Count)/float64(n), n, s.Count), true
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
