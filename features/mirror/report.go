package mirror

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Caveats are printed with every revenue-gap estimate.
var Caveats = []string{
	"Mirror gaps are not all fraud: they also come from timing (goods shipped in one period, recorded in the next),",
	"  a CIF/FOB margin that differs from the factor used, re-exports and transit through third countries (origin",
	"  vs. consignment), customs warehouses and free zones, exchange-rate conversion, confidential HS6 lines,",
	"  different HS editions on the two sides, and plain reporting errors.",
	"The estimate is therefore an upper bound on revenue lost to under-declaration, not a measure of evasion:",
	"  use the ranking to choose what to investigate.",
	"Only flows both sides report are estimated; export-only flows (possible smuggling or misclassification)",
	"  and flows below the minimum value carry no estimate.",
	"Tariff-table rates ignore preferences and exemptions; effective rates from declarations include them.",
}

// Report prints the reconciliation, the top suspicious flows, the
// misclassification pairs, the checks against reported aggregates and the
// revenue-gap estimate with its caveats.
func (g *Gaps) Report(w io.Writer, top, maxRejects int) {
	s := &g.Summary
	base := "duty on CIF"
	if g.Config.DutyBase == DutyOnFOB {
		base = "duty on FOB"
	}
	fmt.Fprintf(w, "Mirror analysis of %s's imports against its partners' exports (CIF/FOB factor %.2f; %s)\n",
		s.Reporter, g.Config.CIFFOB, base)
	fmt.Fprintf(w, "Rows: read %d = used %d + rejected %d (used: %d HS6 rows paired, %d aggregate or World rows checked, %d outside %s's mirror)\n",
		s.Read, s.Used, s.Rejected, s.HS6Rows, s.CheckRows, s.OutsideRows, s.Reporter)
	for _, f := range s.Files {
		fmt.Fprintf(w, "  %s (%s): %d rows, %d rejected\n", f.Name, f.Layout, f.Read, f.Rejected)
	}
	if n := len(g.Rejects); n > 0 {
		shown := min(n, maxRejects)
		fmt.Fprintf(w, "Rejected rows (%d of %d shown):\n", shown, max(n, s.Rejected))
		for _, r := range g.Rejects[:shown] {
			fmt.Fprintf(w, "  %s\n", r.Error())
		}
	}
	fmt.Fprintf(w, "Flows (HS6 x partner x period): %d ranked, %d below US$ %s, %d import-only, %d export-only\n",
		s.Ranked, s.Small, Cents(math.Round(g.Config.MinValue*100)), s.ImportOnly, s.ExportOnly)
	if len(s.SilentPartners) > 0 {
		fmt.Fprintf(w, "Partners reporting no exports to %s at all (their flows are import-only): %s\n",
			s.Reporter, strings.Join(s.SilentPartners, ", "))
	}

	n := min(top, s.Ranked)
	if n > 0 {
		fmt.Fprintf(w, "\nTop %d suspicious flows (of %d ranked; outliers of the export/import ratio first, then by value gap):\n", n, s.Ranked)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "rank\tpartner\tHS6\tperiod\timport FOB\texport FOB\tvalue gap\trel gap\tz\tUV ratio\trate %\trevenue gap\tflags\t")
		for i := 0; i < n; i++ {
			f := &g.Flows[i]
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", f.Rank, f.Partner, f.HS, periodString(f.Year, f.Month),
				f.ImportFOB, f.ExportFOB, f.ValueGap, num(f.RelGap, "%.2f"), num(f.Z, "%.1f"), num(f.UVRatio, "%.2f"),
				num(f.RatePct, "%.1f"), f.RevenueGap, flags(f))
		}
		tw.Flush()
	}
	if len(g.Misclassifications) > 0 {
		fmt.Fprintf(w, "\nPossible misclassification (the partner's unmatched exports under one code equal the reporter's unmatched imports under another):\n")
		for i, m := range g.Misclassifications {
			if i == top {
				fmt.Fprintf(w, "  ... %d more in the table (column misclassification)\n", len(g.Misclassifications)-top)
				break
			}
			fmt.Fprintf(w, "  %s %s: exported as %s (US$ %s unmatched), imported as %s (US$ %s unmatched)",
				m.Partner, periodString(m.Year, m.Month), m.ExportedAs, m.ExportSurplus, m.ImportedAs, m.ImportSurplus)
			if !math.IsNaN(m.RateExported) && !math.IsNaN(m.RateImported) {
				fmt.Fprintf(w, "; duty %.1f%% vs %.1f%%: US$ %s at stake", m.RateExported, m.RateImported, m.DutyAtStake)
			}
			fmt.Fprintln(w)
		}
	}
	g.reportChecks(w)

	fmt.Fprintf(w, "\nRevenue-gap estimate for %s: US$ %s (net: signed sum over the %d ranked flows)\n", s.Reporter, s.RevenueGap, s.Ranked)
	fmt.Fprintf(w, "  counting positive gaps only: US$ %s\n", s.RevenueGapPositive)
	if s.Unrated > 0 {
		fmt.Fprintf(w, "  %d ranked flows have no duty rate (neither the tariff table nor the declarations cover them) and no estimate\n", s.Unrated)
	}
	fmt.Fprintln(w, "Caveats:")
	for _, c := range Caveats {
		fmt.Fprintf(w, "  %s\n", c)
	}
}

func (g *Gaps) reportChecks(w io.Writer) {
	if len(g.Checks) == 0 {
		return
	}
	differ := 0
	worst := -1
	var worstDiff Cents
	for i, c := range g.Checks {
		d := c.Reported - c.FromHS6
		if d < 0 {
			d = -d
		}
		if float64(d) > 0.01*float64(c.Reported) {
			differ++
		}
		if worst < 0 || d > worstDiff {
			worst, worstDiff = i, d
		}
	}
	fmt.Fprintf(w, "\nChecks: %d reported aggregates (HS2/HS4/TOTAL or World rows) compared with their HS6 rows; %d differ by more than 1%%\n",
		len(g.Checks), differ)
	if differ > 0 {
		c := g.Checks[worst]
		fmt.Fprintf(w, "  largest: %s line %d, %s, %s %s: reported US$ %s, HS6 rows sum to US$ %s (suppressed or unallocated HS6 lines are common)\n",
			c.File, c.Line, checkFlow(g.Summary.Reporter, c), c.HS, periodString(c.Year, c.Month), c.Reported, c.FromHS6)
	}
}

func num(v float64, format string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

func flags(f *FlowGap) string {
	var s []string
	if f.Undervalued {
		s = append(s, "undervaluation")
	}
	if f.Misclassified {
		s = append(s, "misclass:"+f.Peer)
	}
	return strings.Join(s, " ")
}

func checkFlow(reporter string, c Check) string {
	if c.Flow == FlowExport {
		return fmt.Sprintf("%s's exports to %s", c.Partner, reporter)
	}
	if c.Partner == AllPartners {
		return fmt.Sprintf("%s's imports from the World", reporter)
	}
	return fmt.Sprintf("%s's imports from %s", reporter, c.Partner)
}
