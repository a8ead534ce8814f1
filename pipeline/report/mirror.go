package report

import (
	"fmt"
	"strings"

	"risklane/features/mirror"
)

// MirrorSection is the top of a mirror analysis: the reporter's imports
// against its partners' exports, most suspicious flows first.
type MirrorSection struct {
	Reporter string
	// Ranked is the number of flows both sides report above the minimum
	// value; Flows are the first of them in the analysis' order (outliers of
	// the export/import ratio first, then by value gap).
	Ranked int
	Flows  []MirrorFlow
	// RevenueGap is the net estimate over every ranked flow (US dollars);
	// RevenueGapPositive counts positive gaps only (an upper bound).
	RevenueGap, RevenueGapPositive float64
	Caveats                        []string
}

// MirrorFlow is one partner-by-HS6 flow, in US dollars.
type MirrorFlow struct {
	Rank                           int
	Partner, PartnerName           string
	HS6, Period                    string
	ImportFOB, ExportFOB, ValueGap float64
	// RelGap is ValueGap/ExportFOB; UVRatio is the partner's export unit
	// value over the reporter's import unit value; RatePct the duty rate
	// (NaN when unknown).
	RelGap, UVRatio, RatePct float64
	RevenueGap               float64
	Undervalued              bool
	// MisclassifiedAs is the other HS6 code of a misclassification pair.
	MisclassifiedAs string
}

// NewMirrorSection takes the top ranked flows of a mirror analysis.
func NewMirrorSection(g *mirror.Gaps, top int) *MirrorSection {
	s := &MirrorSection{
		Reporter:           g.Summary.Reporter,
		Ranked:             g.Summary.Ranked,
		RevenueGap:         g.Summary.RevenueGap.Dollars(),
		RevenueGapPositive: g.Summary.RevenueGapPositive.Dollars(),
		Caveats:            sentences(mirror.Caveats),
	}
	for i := range g.Flows {
		f := &g.Flows[i]
		if f.Status != mirror.StatusRanked || len(s.Flows) == top {
			break
		}
		_, name, ok := mirror.CountryNumeric(f.Partner)
		if !ok {
			name = f.Partner
		}
		period := fmt.Sprint(f.Year)
		if f.Month != 0 {
			period = fmt.Sprintf("%d-%02d", f.Year, f.Month)
		}
		mf := MirrorFlow{
			Rank: f.Rank, Partner: f.Partner, PartnerName: name, HS6: f.HS, Period: period,
			ImportFOB: f.ImportFOB.Dollars(), ExportFOB: f.ExportFOB.Dollars(), ValueGap: f.ValueGap.Dollars(),
			RelGap: f.RelGap, UVRatio: f.UVRatio, RatePct: f.RatePct, RevenueGap: f.RevenueGap.Dollars(),
			Undervalued: f.Undervalued,
		}
		if f.Misclassified {
			mf.MisclassifiedAs = f.Peer
		}
		s.Flows = append(s.Flows, mf)
	}
	return s
}

// sentences joins lines written for a terminal, where a continuation starts
// with spaces, into one string per item.
func sentences(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, " ") && len(out) > 0 {
			out[len(out)-1] += " " + strings.TrimSpace(l)
			continue
		}
		out = append(out, strings.TrimSpace(l))
	}
	return out
}
