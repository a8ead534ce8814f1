package ingest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"risklane/ingest/profile"
)

// RejectSummary is a RejectSink that counts rejected rows by column and
// reason (the reasons are fixed phrases; the value is kept apart), keeps the
// first value of each, and passes every row on to Next (which may be nil).
// Hints reads the counts for what a profile setting would fix.
type RejectSummary struct {
	Next   RejectSink
	counts map[rejectKey]*RejectCount
}

type rejectKey struct{ column, reason string }

// RejectCount is the number of rows rejected for one reason in one column.
type RejectCount struct {
	Column, Reason string
	Rows           int64
	Example        string // the first rejected value
}

// Reject counts r and passes it on.
func (s *RejectSummary) Reject(r Reject) error {
	if s.counts == nil {
		s.counts = map[rejectKey]*RejectCount{}
	}
	k := rejectKey{r.Column, r.Reason}
	c := s.counts[k]
	if c == nil {
		c = &RejectCount{Column: r.Column, Reason: r.Reason, Example: r.Value}
		s.counts[k] = c
	}
	c.Rows++
	if s.Next != nil {
		return s.Next.Reject(r)
	}
	return nil
}

// Counts returns the counts, most rows first (ties by column and reason).
func (s *RejectSummary) Counts() []RejectCount {
	out := make([]RejectCount, 0, len(s.counts))
	for _, c := range s.counts {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b RejectCount) int {
		if a.Rows != b.Rows {
			return int(b.Rows - a.Rows)
		}
		if c := strings.Compare(a.Column, b.Column); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return out
}

var (
	// 372.254,40 or 1.234: "." groups thousands, "," is the decimal mark.
	commaDecimal = regexp.MustCompile(`^[+-]?\d{1,3}(\.\d{3})+,\d+$|^[+-]?\d{1,3}(\.\d{3}){2,}$`)
	// 372,254.40 or 1,234,567: "," groups thousands.
	commaThousands = regexp.MustCompile(`^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$`)
	// 12,5: a decimal comma without grouping.
	bareComma = regexp.MustCompile(`^[+-]?\d+,\d+$`)
)

// Hints says which profile settings would accept the rejected rows: a
// decimal comma or a thousands separator that the profile does not declare,
// text that is not UTF-8 (an encoding key). Each hint names the profile
// key to set.
func (s *RejectSummary) Hints(p *profile.Profile) []string {
	var hints []string
	seen := map[string]bool{}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			hints = append(hints, h)
		}
	}
	for _, c := range s.Counts() {
		v := strings.TrimSpace(c.Example)
		switch {
		case c.Reason == reasonNotNumber || c.Reason == reasonGrouping:
			switch {
			case commaDecimal.MatchString(v) && p.DecimalSep() != ',':
				add(fmt.Sprintf("%d rows of column %q have numbers like %q: set decimal: \",\" and thousands: \".\" in the profile", c.Rows, c.Column, v))
			case commaThousands.MatchString(v) && p.ThousandsSep() != ',':
				add(fmt.Sprintf("%d rows of column %q have numbers like %q: set thousands: \",\" in the profile", c.Rows, c.Column, v))
			case bareComma.MatchString(v) && p.DecimalSep() != ',':
				add(fmt.Sprintf("%d rows of column %q have numbers like %q: set decimal: \",\" in the profile", c.Rows, c.Column, v))
			}
		case c.Reason == reasonInvalidUTF8 && p.Encoding == "":
			add(fmt.Sprintf("%d rows of column %q are not UTF-8 text: if the file is Latin-1 or Windows-1252, set encoding: windows-1252 in the profile", c.Rows, c.Column))
		}
	}
	return hints
}
