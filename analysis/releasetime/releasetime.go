// Package releasetime measures the time from a consignment's arrival to its
// release and where it goes, stage by stage, as the WCO Time Release Study
// does: arrival, lodgement of the declaration, risk assessment (lane),
// documentary check or physical inspection, payment, release. See
// docs/release-time.md for the stage rules.
package releasetime

import (
	"fmt"
	"time"

	"risklane/decl"
)

// Stage is one step on the way from arrival to release.
type Stage int

// The stages. Each is the time it adds to the critical path: the stage
// starts when the previous one has ended (or at its own milestone, if that
// came later) and ends at its milestone, so the stages of a declaration add
// up to its arrival-to-release time. A pre-arrival lodgement makes the first
// stage zero; an uninspected declaration has a zero inspection stages.
const (
	ArrivalToLodgement    Stage = iota // the declarant's delay
	LodgementToAssessment              // risk assessment and lane
	InspectionQueue                    // assessment to the start of the check
	Inspection                         // documentary check or physical inspection
	AwaitingPayment                    // until duties are paid
	PaymentToRelease                   // release after payment
	NumStages
)

var stageNames = [NumStages]string{"arrival_lodgement", "lodgement_assessment", "inspection_queue",
	"inspection", "awaiting_payment", "payment_release"}

// String names the stage as the output columns do.
func (s Stage) String() string { return stageNames[s] }

// Dimension is what declarations are grouped by.
type Dimension string

// The dimensions of the breakdown.
const (
	All       Dimension = "all"
	ByLane    Dimension = "lane"
	ByControl Dimension = "inspected"
	ByOffice  Dimension = "office"
	ByMode    Dimension = "mode"
	ByHS2     Dimension = "hs2"
	ByMonth   Dimension = "month"
)

// Dimensions lists the breakdowns in output order.
var Dimensions = []Dimension{All, ByLane, ByControl, ByOffice, ByMode, ByHS2, ByMonth}

// Calendar says when customs works: minutes after midnight, by weekday
// (Sunday first); from == to means closed. Working time is counted on it.
type Calendar struct {
	From, To [7]int
}

// DefaultCalendar is Monday to Friday 08:00-17:00 and Saturday 08:00-12:00.
var DefaultCalendar = Calendar{
	From: [7]int{0, 480, 480, 480, 480, 480, 480},
	To:   [7]int{0, 1020, 1020, 1020, 1020, 1020, 720},
}

// working returns the working minutes of c between a and b (minutes since
// 1970-01-01, local time).
func (c *Calendar) working(a, b int64) int64 {
	var w int64
	for day := floorDiv(a, 1440); day*1440 < b; day++ {
		wd := int(((day+4)%7 + 7) % 7) // 1970-01-01 was a Thursday
		from, to := day*1440+int64(c.From[wd]), day*1440+int64(c.To[wd])
		lo, hi := max(a, from), min(b, to)
		if hi > lo {
			w += hi - lo
		}
	}
	return w
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Reject is a declaration left out of every figure, with the reason.
type Reject struct {
	// Row is the 1-based row number in the input stream.
	Row    int64
	ID     string
	Column string
	Value  string
	Reason string
}

// Measure is one declaration's times, in minutes.
type Measure struct {
	Stages    [NumStages]int64
	Total     int64 // arrival to release, calendar time
	Working   int64 // the same in the calendar's working time
	Inspected bool
	PreLodged bool // lodged before arrival
}

// milestones holds one row's parsed times (minutes since 1970-01-01) and
// whether each was present.
type milestones struct {
	t   [7]int64
	has [7]bool
}

const (
	mArr = iota
	mLodge
	mAssess
	mInspStart
	mInspEnd
	mPay
	mRel
)

// measure checks a row's milestones and measures it; a non-empty reason
// (with the column at fault) rejects the row. These are the rules
// docs/release-time.md lists, tested one by one on hand-worked cases.
func measure(m *milestones, cal *Calendar) (Measure, string, string) {
	var r Measure
	for _, i := range []int{mArr, mLodge, mAssess, mPay, mRel} {
		if !m.has[i] {
			return r, decl.Timestamps[i], "missing " + decl.Timestamps[i]
		}
	}
	if m.has[mInspStart] != m.has[mInspEnd] {
		i := mInspStart
		if !m.has[mInspEnd] {
			i = mInspEnd
		}
		return r, decl.Timestamps[i], "inspection has only one of its start and end"
	}
	r.Inspected = m.has[mInspStart]
	t := m.t
	order := [][2]int{{mLodge, mAssess}, {mAssess, mRel}, {mPay, mRel}, {mArr, mRel}}
	if r.Inspected {
		order = append(order, [2]int{mAssess, mInspStart}, [2]int{mInspStart, mInspEnd}, [2]int{mInspEnd, mRel})
	}
	for _, o := range order {
		if t[o[0]] > t[o[1]] {
			return r, decl.Timestamps[o[1]], fmt.Sprintf("%s is before %s", decl.Timestamps[o[1]], decl.Timestamps[o[0]])
		}
	}
	// The critical path: each stage ends at its milestone or when the
	// previous stage ended, whichever is later.
	cur := t[mArr]
	step := func(s Stage, at int64) {
		if at > cur {
			r.Stages[s] = at - cur
			cur = at
		}
	}
	r.PreLodged = t[mLodge] < t[mArr]
	step(ArrivalToLodgement, t[mLodge])
	step(LodgementToAssessment, t[mAssess])
	if r.Inspected {
		step(InspectionQueue, t[mInspStart])
		step(Inspection, t[mInspEnd])
	}
	step(AwaitingPayment, t[mPay])
	step(PaymentToRelease, t[mRel])
	r.Total = t[mRel] - t[mArr]
	r.Working = cal.working(t[mArr], t[mRel])
	return r, "", ""
}

// parseStamp reads "YYYY-MM-DDTHH:MM[:SS]" (a space for T accepted) as
// minutes since 1970-01-01; seconds are dropped. It is the hot path of the
// analysis, hence no time.Parse.
func parseStamp(s string) (int64, bool) {
	if len(s) != 16 && len(s) != 19 {
		return 0, false
	}
	d := func(i, n int) int {
		v := 0
		for k := i; k < i+n; k++ {
			c := s[k]
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	if s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || (len(s) == 19 && s[16] != ':') {
		return 0, false
	}
	y, mo, dd, h, mi := d(0, 4), d(5, 2), d(8, 2), d(11, 2), d(14, 2)
	if y < 1900 || mo < 1 || mo > 12 || dd < 1 || dd > daysIn(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 {
		return 0, false
	}
	if len(s) == 19 {
		if sec := d(17, 2); sec < 0 || sec > 59 {
			return 0, false
		}
	}
	return int64(decl.Days(y, mo, dd))*1440 + int64(h*60+mi), true
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
