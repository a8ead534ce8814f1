package mirror

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"risklane/sink"
	"risklane/stats"
)

// DefaultCIFFOB is the CIF/FOB ratio used to bring the reporter's imports
// (valued CIF: cost, insurance and freight to its border) to the FOB basis
// of the partner's exports. 1.10 is the IMF's standard factor: A Guide to
// Direction of Trade Statistics (IMF, 1993) sets imports CIF = exports FOB
// x 1.10, DOTS still applies it to area totals, and mirror-statistics
// studies adopt it as their default. The DOTS Yearbook 2017 notes that the
// IMF's own partner estimates have since used 1.06: set Config.CIFFOB to a
// measured ratio when one is known for the route.
const DefaultCIFFOB = 1.10

// DutyBase is the value duty is levied on.
type DutyBase int8

const (
	// DutyOnCIF: duty is a percentage of the CIF customs value, as under
	// the WTO Valuation Agreement in most countries. The FOB value gap is
	// brought back to CIF with the CIF/FOB factor before the rate applies.
	DutyOnCIF DutyBase = iota
	// DutyOnFOB: duty is levied on the FOB value (United States, Canada,
	// Australia and a few others).
	DutyOnFOB
)

// Config sets up a mirror analysis.
type Config struct {
	// Reporter is the importing country whose declarations are checked
	// (ISO3, ISO2 or M49 code).
	Reporter string
	// CIFFOB divides the reporter's CIF imports into FOB, unless the
	// import record carries its own FOB value. Default DefaultCIFFOB.
	CIFFOB float64
	// MinValue (USD) drops flows whose larger side is below it from the
	// ranking; they are listed as small, not discarded.
	MinValue float64
	// DutyBase says whether duty applies to CIF (default) or FOB values.
	DutyBase DutyBase
	// Tariffs give the duty rate per HS code; EffectiveRates (for
	// example from EffectiveRates over the declarations) fill in codes the
	// tariff table lacks. Flows with no rate from either have no revenue
	// estimate.
	Tariffs, EffectiveRates *Tariffs
	// WeightTolerance and ValueTolerance set the undervaluation rule:
	// net weights agree within WeightTolerance (default 0.10, i.e. +-10%)
	// while partner exports exceed reporter imports by more than
	// ValueTolerance (default 0.20, 20%).
	WeightTolerance, ValueTolerance float64
	// MisclassTolerance sets the misclassification rule: an export
	// surplus under one HS6 code and an import surplus under another of the
	// same chapter, partner and period, equal within MisclassTolerance
	// (default 0.10).
	MisclassTolerance float64
	// OutlierZ is the robust z-score (modified z of Iglewicz and Hoaglin,
	// 1993) above which a flow's export/import ratio is an outlier.
	// Default 3.5.
	OutlierZ float64
}

// DefaultConfig returns the documented defaults for reporter.
func DefaultConfig(reporter string) Config {
	return Config{
		Reporter:          reporter,
		CIFFOB:            DefaultCIFFOB,
		WeightTolerance:   0.10,
		ValueTolerance:    0.20,
		MisclassTolerance: 0.10,
		OutlierZ:          3.5,
	}
}

func (c Config) validate() error {
	switch {
	case strings.TrimSpace(c.Reporter) == "":
		return fmt.Errorf("mirror: no reporter: name the importing country whose statistics are checked (ISO3, e.g. KEN)")
	case !(c.CIFFOB >= 1 && c.CIFFOB <= 2):
		return fmt.Errorf("mirror: CIF/FOB factor %v: expected a ratio between 1 and 2 (the IMF standard is 1.10)", c.CIFFOB)
	case !(c.MinValue >= 0) || math.IsInf(c.MinValue, 0):
		return fmt.Errorf("mirror: minimum value %v: expected zero or more US dollars", c.MinValue)
	case !(c.WeightTolerance >= 0 && c.ValueTolerance >= 0 && c.MisclassTolerance >= 0 && c.OutlierZ > 0):
		return fmt.Errorf("mirror: tolerances must be non-negative and OutlierZ positive")
	}
	return nil
}

// Status says how a flow enters the analysis.
type Status int8

// Flow statuses. Only StatusRanked flows are ranked and carry a revenue
// estimate; the others are kept in their own lists.
const (
	StatusRanked     Status = iota // both sides report, above the minimum value
	StatusSmall                    // both sides report, below the minimum value
	StatusImportOnly               // the reporter records imports the partner does not report exporting
	StatusExportOnly               // the partner reports exports the reporter does not record
	StatusRollup                   // an HS4, HS2 or total roll-up
)

func (s Status) String() string {
	return [...]string{"ranked", "small", "import-only", "export-only", "rollup"}[s]
}

// AllPartners is the partner name of roll-ups across every partner.
const AllPartners = "ALL"

// FlowGap is one row of the gap table: the reporter's imports from Partner
// against Partner's exports to the reporter, for one HS code and period.
// Money is in US dollar cents; weights in kg. Gaps are partner exports minus
// reporter imports, both FOB: positive when the reporter recorded less than
// was shipped.
type FlowGap struct {
	Partner     string
	HS          string // 6 digits, or 4, 2, "TOTAL" for roll-ups
	Level       int    // 6, 4, 2 or 0
	Year, Month int    // Month 0 = annual
	Status      Status
	Rank        int // 1 = most suspicious; 0 when not ranked

	ImportCIF Cents // as the reporter recorded it
	ImportFOB Cents // converted with the CIF/FOB factor, or reported
	ExportFOB Cents // as the partner recorded it
	// FOBReported is set when ImportFOB comes from the import record's
	// own FOB value rather than the CIF/FOB factor.
	FOBReported bool
	ValueGap    Cents
	// RelGap is ValueGap / ExportFOB; LogRatio is ln(ExportFOB /
	// ImportFOB); Z is LogRatio's robust z-score among ranked flows.
	RelGap, LogRatio, Z float64

	ImportKg, ExportKg, WeightGap float64
	// QtyUnit is the Comtrade quantity unit both sides share; -1 when they
	// differ or are absent, and then the quantities are NaN.
	QtyUnit                      int
	ImportQty, ExportQty, QtyGap float64
	// ImportUV and ExportUV are FOB dollars per kg; UVRatio is
	// ExportUV / ImportUV.
	ImportUV, ExportUV, UVRatio float64

	// RatePct is the duty rate applied, from RateFrom ("tariff HS4",
	// "declarations HS6", ...); NaN when none was found.
	RatePct  float64
	RateFrom string
	// RevenueGap is ValueGap (on the duty base) times RatePct, for ranked
	// flows; zero for the others. Roll-ups sum their flows' estimates.
	RevenueGap Cents

	// Undervalued and Misclassified flag the two patterns (see Analyze);
	// Peer is the other HS6 code of a misclassification pair.
	Undervalued, Misclassified bool
	Peer                       string
}

// Check compares an aggregate the statistics report (an HS2/HS4/TOTAL row or
// a World row) with the sum of the HS6 rows under it. Reported values are
// CIF for the reporter's imports and FOB for partner exports. HS6 sums
// often fall short: countries suppress confidential HS6 lines but keep them
// in the aggregates.
type Check struct {
	File              string
	Line              int
	Flow              Flow // FlowImport: reporter's imports; FlowExport: partner's exports
	Partner           string
	HS                string
	Year, Month       int
	Reported, FromHS6 Cents
}

// Misclassification is a pair of HS6 flows of the same partner, chapter and
// period where the partner's unmatched exports under one code equal (within
// MisclassTolerance) the reporter's unmatched imports under another.
type Misclassification struct {
	Partner                      string
	Year, Month                  int
	ExportedAs, ImportedAs       string
	ExportSurplus, ImportSurplus Cents
	// RateExported and RateImported are the duty rates of the two codes
	// (NaN if unknown); DutyAtStake is the surplus times their difference.
	RateExported, RateImported float64
	DutyAtStake                Cents
}

// FileSummary counts the rows of one input file.
type FileSummary struct {
	Name           string
	Layout         Layout
	Read, Rejected int
}

// Summary reconciles the rows read with the rows used and rejected, and
// totals the revenue estimate.
type Summary struct {
	Reporter string
	Files    []FileSummary
	// Read = Used + Rejected. Used splits into HS6 rows paired into flows,
	// aggregate and World rows checked against the HS6 sums, and rows
	// outside this reporter's mirror (other reporters' trade, re-exports,
	// special flows, breakdown detail rows).
	Read, Used, Rejected            int
	HS6Rows, CheckRows, OutsideRows int
	// Flow counts by status.
	Ranked, Small, ImportOnly, ExportOnly int
	// RevenueGap is the net estimate: the signed sum over ranked flows,
	// so that gaps from measurement noise cancel. RevenueGapPositive sums
	// only the ranked flows with a positive gap (an upper bound).
	RevenueGap, RevenueGapPositive Cents
	// Unrated counts ranked flows with no duty rate (no estimate).
	Unrated int
	// SilentPartners report no exports to the reporter at all: every flow
	// from them is import-only.
	SilentPartners []string
}

// Gaps is the result of a mirror analysis.
type Gaps struct {
	Config Config
	// Flows holds every HS6 flow: ranked flows first, in rank order, then
	// small, import-only and export-only flows.
	Flows []FlowGap
	// Rollups sums Flows to HS4, HS2 and TOTAL per partner and period, and
	// to TOTAL across partners (Partner == AllPartners).
	Rollups            []FlowGap
	Checks             []Check
	Misclassifications []Misclassification
	Rejects            []Reject
	Summary            Summary
}

type flowKey struct {
	partner     string
	hs          string
	year, month int
}

type dupKey struct {
	reporter, partner string
	flow              Flow
	hs                string
	year, month       int
}

type location struct {
	file string
	line int
}

type checkKey struct {
	flow        Flow
	partner     string
	hs          string
	year, month int
}

// side accumulates the two records of one HS6 flow.
type side struct {
	key                    flowKey
	hasImp, hasExp         bool
	impCIF, impFOB, expFOB Cents
	impFOBReported         bool
	impKg, expKg           float64
	impQty, expQty         float64
	impUnit, expUnit       int
}

// Builder accumulates trade statistics, file by file, for one reporter.
type Builder struct {
	cfg       Config
	reporter  string
	idx       map[flowKey]int
	sides     []side
	checks    map[checkKey]*Check
	seen      map[dupKey]location
	rejects   []Reject
	files     []FileSummary
	sum       Summary
	reporters map[string]int // import rows per reporter, to explain a wrong --reporter
}

// NewBuilder starts an analysis with cfg; zero tolerances and factor take
// their defaults.
func NewBuilder(cfg Config) (*Builder, error) {
	def := DefaultConfig(cfg.Reporter)
	if cfg.CIFFOB == 0 {
		cfg.CIFFOB = def.CIFFOB
	}
	if cfg.WeightTolerance == 0 {
		cfg.WeightTolerance = def.WeightTolerance
	}
	if cfg.ValueTolerance == 0 {
		cfg.ValueTolerance = def.ValueTolerance
	}
	if cfg.MisclassTolerance == 0 {
		cfg.MisclassTolerance = def.MisclassTolerance
	}
	if cfg.OutlierZ == 0 {
		cfg.OutlierZ = def.OutlierZ
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Builder{
		cfg:       cfg,
		reporter:  Country(cfg.Reporter),
		idx:       map[flowKey]int{},
		checks:    map[checkKey]*Check{},
		seen:      map[dupKey]location{},
		reporters: map[string]int{},
	}, nil
}

// ReadFile adds the statistics in a CSV file (gzip or not).
func (b *Builder) ReadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("trade statistics: %w", err)
	}
	defer f.Close()
	return b.Read(f, path)
}

// Read adds the statistics in r; name is used in messages.
func (b *Builder) Read(r io.Reader, name string) error {
	p, err := ReadPart(r, name, b.reporter)
	if p != nil {
		b.AddPart(p)
	}
	return err
}

// A Part is one trade-statistics file read for one reporter: the records
// of the reporter's mirror (its imports and its partners' exports to it) in
// line order, every other row only counted, and the reader's rejects. The
// reporter's mirror is a small share of a bulk file (every reporter,
// partner and commodity), so parts of many files can be read in parallel
// and added to one Builder, in file order, as Read would have read the
// files (the Beam stage of risklane/beam, docs/beam.md).
type Part struct {
	File FileSummary // its Rejected counts the reader's rejects only
	// Rejects are the reader's rejects (the first sink.MaxRejectRows).
	Rejects []Reject
	Records []Record
	// Outside counts the rows outside the reporter's mirror; Imports the
	// import rows per reporter (to explain a wrong reporter code).
	Outside int
	Imports map[string]int
}

// ReadPart reads the statistics in r for reporter (a country code as
// Country takes it). On an error reading r it returns what was read
// before, with the error.
func ReadPart(r io.Reader, name, reporter string) (*Part, error) {
	rd, err := NewReader(r, name)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	reporter = Country(reporter)
	p := &Part{Imports: map[string]int{}}
	for rd.Next() {
		rec := rd.Record()
		if rec.Flow == FlowImport {
			p.Imports[strings.Clone(rec.Reporter)]++
		}
		if flow, _ := mirrorFlow(rec, reporter); flow == FlowOther {
			p.Outside++
			continue
		}
		c := *rec
		c.Reporter, c.Partner, c.HS = strings.Clone(c.Reporter), strings.Clone(c.Partner), strings.Clone(c.HS)
		p.Records = append(p.Records, c)
	}
	p.File = FileSummary{Name: name, Layout: rd.Layout(), Read: rd.Read(), Rejected: rd.Rejected()}
	p.Rejects = rd.Rejects()
	return p, rd.Err()
}

// AddPart adds a file read by ReadPart for the Builder's reporter.
func (b *Builder) AddPart(p *Part) {
	before, rejectedBefore := len(b.rejects), b.sum.Rejected
	for r, n := range p.Imports {
		b.reporters[r] += n
	}
	b.sum.OutsideRows += p.Outside
	b.sum.Used += p.Outside
	for i := range p.Records {
		b.add(&p.Records[i])
	}
	b.sum.Read += p.File.Read
	b.sum.Rejected += p.File.Rejected
	b.rejects = append(b.rejects, p.Rejects[:min(len(p.Rejects), max(0, sink.MaxRejectRows-len(b.rejects)))]...)
	// Duplicates were rejected as they came, malformed rows as the reader
	// met them: put the file's rejects back in line order.
	mine := b.rejects[before:]
	sort.SliceStable(mine, func(i, j int) bool { return mine[i].Line < mine[j].Line })
	b.files = append(b.files, FileSummary{Name: p.File.Name, Layout: p.File.Layout, Read: p.File.Read,
		Rejected: b.sum.Rejected - rejectedBefore})
}

// mirrorFlow says whether rec is in reporter's mirror: FlowImport with the
// partner it came from, FlowExport with the partner that shipped it, or
// FlowOther.
func mirrorFlow(rec *Record, reporter string) (Flow, string) {
	switch {
	case rec.Breakdown:
	case rec.Reporter == reporter && rec.Flow == FlowImport:
		return FlowImport, rec.Partner
	case rec.Partner == reporter && rec.Flow == FlowExport:
		return FlowExport, rec.Reporter
	}
	return FlowOther, ""
}

// add adds one well-formed record. Rows that repeat an earlier row's
// reporter, partner, flow, commodity and period are rejected, whichever file
// they came from.
func (b *Builder) add(rec *Record) {
	flow, partner := mirrorFlow(rec, b.reporter)
	if flow == FlowOther {
		b.sum.OutsideRows++
		b.sum.Used++
		return
	}
	dk := dupKey{rec.Reporter, rec.Partner, rec.Flow, rec.HS, rec.Year, rec.Month}
	if first, dup := b.seen[dk]; dup {
		b.reject(rec, fmt.Sprintf("repeats %s line %d (same reporter, partner, flow, commodity and period); the first row is kept", first.file, first.line))
		return
	}
	b.seen[dk] = location{rec.File, rec.Line}
	b.sum.Used++

	if rec.World || rec.Level != 6 {
		p := partner
		if rec.World {
			p = AllPartners
		}
		reported := rec.Value
		if flow == FlowImport && rec.HasCIF {
			reported = rec.CIF
		} else if flow == FlowExport && rec.HasFOB {
			reported = rec.FOB
		}
		b.checks[checkKey{flow, p, rec.HS, rec.Year, rec.Month}] = &Check{File: rec.File, Line: rec.Line, Flow: flow,
			Partner: p, HS: rec.HS, Year: rec.Year, Month: rec.Month, Reported: reported}
		b.sum.CheckRows++
		return
	}
	b.sum.HS6Rows++
	k := flowKey{partner, strings.Clone(rec.HS), rec.Year, rec.Month}
	i, ok := b.idx[k]
	if !ok {
		i = len(b.sides)
		b.idx[k] = i
		b.sides = append(b.sides, side{key: k, impKg: math.NaN(), expKg: math.NaN(), impQty: math.NaN(),
			expQty: math.NaN(), impUnit: -1, expUnit: -1})
	}
	s := &b.sides[i]
	if flow == FlowImport {
		s.hasImp = true
		switch {
		case rec.HasCIF:
			s.impCIF = rec.CIF
		case rec.HasFOB:
			s.impCIF = roundCents(float64(rec.FOB) * b.cfg.CIFFOB)
		default:
			s.impCIF = rec.Value
		}
		if rec.HasFOB {
			s.impFOB, s.impFOBReported = rec.FOB, true
		} else {
			s.impFOB = roundCents(float64(s.impCIF) / b.cfg.CIFFOB)
		}
		s.impKg, s.impQty, s.impUnit = rec.NetKg, rec.Qty, rec.QtyUnit
		return
	}
	s.hasExp = true
	s.expFOB = rec.Value
	if rec.HasFOB {
		s.expFOB = rec.FOB
	}
	s.expKg, s.expQty, s.expUnit = rec.NetKg, rec.Qty, rec.QtyUnit
}

func (b *Builder) reject(rec *Record, reason string) {
	b.sum.Rejected++
	if len(b.rejects) >= sink.MaxRejectRows {
		return // counted only: memory stays bounded
	}
	b.rejects = append(b.rejects, Reject{File: rec.File, Line: rec.Line,
		Value:  fmt.Sprintf("%s %s from %s, HS %s, %s", rec.Reporter, rec.Flow, rec.Partner, rec.HS, periodString(rec.Year, rec.Month)),
		Reason: reason})
}

func periodString(year, month int) string {
	if month == 0 {
		return fmt.Sprint(year)
	}
	return fmt.Sprintf("%d-%02d", year, month)
}

// Analyze reads the trade-statistics files and computes the gap table.
func Analyze(cfg Config, paths ...string) (*Gaps, error) {
	b, err := NewBuilder(cfg)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		if err := b.ReadFile(p); err != nil {
			return nil, err
		}
	}
	return b.Gaps()
}

// Gaps pairs the accumulated flows and computes gaps, flags, ranks, revenue
// estimates, roll-ups and checks.
//
// Rules, in the order they apply:
//   - Pairing: the reporter's imports from a partner and the partner's
//     exports to the reporter, per HS6 and period. Both present and the
//     larger at least MinValue: ranked; below it: small; one side only:
//     import-only or export-only.
//   - Undervaluation: net weights agree within WeightTolerance while the
//     FOB value the partner exported exceeds the reporter's FOB imports by
//     more than ValueTolerance: the goods arrived, their value did not.
//   - Misclassification: among the HS6 flows of a partner, HS2 chapter and
//     period (all statuses), one code with an export surplus (the reporter
//     recorded less than half of what the partner shipped) and another with
//     an import surplus (the partner shipped less than half of what the
//     reporter recorded), the two surpluses equal within MisclassTolerance
//     and at least MinValue, and the declared code's duty rate lower than
//     the shipped code's when both are known: goods shipped as one code were
//     declared as a cheaper one. Pairs are matched greedily, largest export
//     surplus first, to the closest import surplus. The chapter bound keeps
//     coincidences between unrelated goods out: misclassification swaps
//     similar goods.
//   - Ranking: ranked flows whose log export/import ratio is a robust
//     outlier (modified z-score at least OutlierZ, using the median and
//     the median absolute deviation over all ranked flows) and whose gap is
//     positive come first, by value gap; then the rest, by value gap. The
//     z-score makes the rank robust to big flows whose gap is ordinary
//     noise for their size; the value gap puts the money first.
//   - Revenue: value gap (brought to CIF with the factor under DutyOnCIF)
//     times the duty rate, for ranked flows only, rounded to the cent.
func (b *Builder) Gaps() (*Gaps, error) {
	if b.reporters[b.reporter] == 0 {
		return nil, fmt.Errorf("mirror: no import rows reported by %s in %d rows read; %s", b.reporter, b.sum.Read, b.reportersHint())
	}
	cfg := b.cfg
	g := &Gaps{Config: cfg, Rejects: b.rejects}
	g.Summary = b.sum
	g.Summary.Reporter = b.reporter
	g.Summary.Files = b.files
	minCents := Cents(math.Round(cfg.MinValue * 100))

	silent := map[string]bool{}
	reporting := map[string]bool{}
	flows := make([]FlowGap, len(b.sides))
	for i := range b.sides {
		s := &b.sides[i]
		f := &flows[i]
		*f = FlowGap{Partner: s.key.partner, HS: s.key.hs, Level: 6, Year: s.key.year, Month: s.key.month,
			ImportCIF: s.impCIF, ImportFOB: s.impFOB, ExportFOB: s.expFOB, FOBReported: s.impFOBReported,
			ImportKg: s.impKg, ExportKg: s.expKg, ImportQty: math.NaN(), ExportQty: math.NaN(), QtyGap: math.NaN(), QtyUnit: -1}
		switch {
		case s.hasImp && s.hasExp && max(s.impFOB, s.expFOB) >= minCents:
			f.Status = StatusRanked
		case s.hasImp && s.hasExp:
			f.Status = StatusSmall
		case s.hasImp:
			f.Status = StatusImportOnly
			silent[s.key.partner] = true
		default:
			f.Status = StatusExportOnly
		}
		if s.hasExp {
			reporting[s.key.partner] = true
		}
		if s.hasImp && s.hasExp && s.impUnit == s.expUnit && s.impUnit > 1 && !math.IsNaN(s.impQty) && !math.IsNaN(s.expQty) {
			f.QtyUnit, f.ImportQty, f.ExportQty, f.QtyGap = s.impUnit, s.impQty, s.expQty, s.expQty-s.impQty
		}
		b.derive(f)
		f.RatePct, f.RateFrom = b.rate(f.HS)
		if f.Status == StatusRanked {
			f.Undervalued = f.WeightGap == f.WeightGap && f.ImportKg > 0 && f.ExportKg > 0 &&
				math.Abs(math.Log(f.ExportKg/f.ImportKg)) <= math.Log1p(cfg.WeightTolerance) &&
				f.ImportFOB > 0 && f.LogRatio > math.Log1p(cfg.ValueTolerance)
			f.RevenueGap = b.revenue(f.ValueGap, f.RatePct)
		}
	}
	for p := range silent {
		if !reporting[p] {
			g.Summary.SilentPartners = append(g.Summary.SilentPartners, p)
		}
	}
	sort.Strings(g.Summary.SilentPartners)

	robustZ(flows)
	g.Misclassifications = b.misclassifications(flows, minCents)
	rankFlows(flows, cfg.OutlierZ)
	g.Flows = flows
	for i := range flows {
		f := &flows[i]
		switch f.Status {
		case StatusRanked:
			g.Summary.Ranked++
			g.Summary.RevenueGap += f.RevenueGap
			if f.RevenueGap > 0 {
				g.Summary.RevenueGapPositive += f.RevenueGap
			}
			if math.IsNaN(f.RatePct) {
				g.Summary.Unrated++
			}
		case StatusSmall:
			g.Summary.Small++
		case StatusImportOnly:
			g.Summary.ImportOnly++
		case StatusExportOnly:
			g.Summary.ExportOnly++
		}
	}
	g.Rollups = b.rollups(flows)
	g.Checks = b.fillChecks()
	return g, nil
}

func (b *Builder) reportersHint() string {
	type rc struct {
		r string
		n int
	}
	var list []rc
	for r, n := range b.reporters {
		list = append(list, rc{r, n})
	}
	if len(list) == 0 {
		return "the input has no import rows at all (Trade Flow Code 1 / flowCode M)"
	}
	sort.Slice(list, func(i, j int) bool { return list[i].n > list[j].n || list[i].n == list[j].n && list[i].r < list[j].r })
	var names []string
	for i, x := range list {
		if i == 10 {
			names = append(names, "...")
			break
		}
		names = append(names, fmt.Sprintf("%s (%d)", x.r, x.n))
	}
	return "reporters with import rows: " + strings.Join(names, ", ") + "; check the reporter code"
}

// derive fills the gap statistics of f from its values and weights.
func (b *Builder) derive(f *FlowGap) {
	f.ValueGap = f.ExportFOB - f.ImportFOB
	f.RelGap, f.LogRatio, f.Z = math.NaN(), math.NaN(), math.NaN()
	if f.ExportFOB > 0 {
		f.RelGap = float64(f.ValueGap) / float64(f.ExportFOB)
	}
	if f.ExportFOB > 0 && f.ImportFOB > 0 {
		f.LogRatio = math.Log(float64(f.ExportFOB) / float64(f.ImportFOB))
	}
	f.WeightGap = f.ExportKg - f.ImportKg
	f.ImportUV, f.ExportUV, f.UVRatio = math.NaN(), math.NaN(), math.NaN()
	if f.ImportKg > 0 {
		f.ImportUV = f.ImportFOB.Dollars() / f.ImportKg
	}
	if f.ExportKg > 0 {
		f.ExportUV = f.ExportFOB.Dollars() / f.ExportKg
	}
	if f.ImportUV > 0 && f.ExportUV > 0 {
		f.UVRatio = f.ExportUV / f.ImportUV
	}
}

// rate finds the duty rate for an HS6 code: the tariff table first, then the
// rates seen in declarations.
func (b *Builder) rate(hs6 string) (float64, string) {
	if r, lvl, ok := b.cfg.Tariffs.Rate(hs6); ok {
		return r, fmt.Sprintf("tariff HS%d", lvl)
	}
	if r, lvl, ok := b.cfg.EffectiveRates.Rate(hs6); ok {
		return r, fmt.Sprintf("%s HS%d", b.cfg.EffectiveRates.Source, lvl)
	}
	return math.NaN(), ""
}

// revenue is the duty on a value gap, rounded to the cent.
func (b *Builder) revenue(gap Cents, ratePct float64) Cents {
	if math.IsNaN(ratePct) {
		return 0
	}
	base := float64(gap)
	if b.cfg.DutyBase == DutyOnCIF {
		base *= b.cfg.CIFFOB
	}
	return roundCents(base * ratePct / 100)
}

// robustZ sets the modified z-score of every ranked flow's log ratio.
func robustZ(flows []FlowGap) {
	var xs []float64
	for i := range flows {
		if flows[i].Status == StatusRanked && !math.IsNaN(flows[i].LogRatio) {
			xs = append(xs, flows[i].LogRatio)
		}
	}
	if len(xs) == 0 {
		return
	}
	med := stats.MedianOf(xs)
	dev := make([]float64, len(xs))
	sumAbs := 0.0
	for i, x := range xs {
		dev[i] = math.Abs(x - med)
		sumAbs += dev[i]
	}
	// 1.4826 * MAD estimates the standard deviation of normal data; when
	// more than half the ratios are identical the MAD is zero and Iglewicz
	// and Hoaglin's fallback, 1.2533 * mean absolute deviation, applies.
	scale := 1.4826 * stats.MedianOf(dev)
	if scale == 0 {
		scale = 1.2533 * sumAbs / float64(len(xs))
	}
	for i := range flows {
		f := &flows[i]
		if f.Status != StatusRanked || math.IsNaN(f.LogRatio) {
			continue
		}
		if scale == 0 {
			f.Z = 0
			continue
		}
		f.Z = (f.LogRatio - med) / scale
	}
}

// rankFlows orders flows (see Gaps for the rule) and numbers the ranked ones.
func rankFlows(flows []FlowGap, outlierZ float64) {
	tier := func(f *FlowGap) int {
		if f.Status != StatusRanked {
			return 2 + int(f.Status)
		}
		if f.Z >= outlierZ && f.ValueGap > 0 {
			return 0
		}
		return 1
	}
	sort.SliceStable(flows, func(i, j int) bool {
		a, b := &flows[i], &flows[j]
		if ta, tb := tier(a), tier(b); ta != tb {
			return ta < tb
		}
		if a.Status == StatusRanked && a.ValueGap != b.ValueGap {
			return a.ValueGap > b.ValueGap
		}
		return flowLess(a, b)
	})
	for i := range flows {
		if flows[i].Status == StatusRanked {
			flows[i].Rank = i + 1
		}
	}
}

func flowLess(a, b *FlowGap) bool {
	if a.Partner != b.Partner {
		return a.Partner < b.Partner
	}
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	if a.Month != b.Month {
		return a.Month < b.Month
	}
	if a.Level != b.Level {
		return a.Level > b.Level
	}
	return a.HS < b.HS
}

// misclassifications applies the misclassification rule (see Gaps) and
// flags the flows of each pair.
func (b *Builder) misclassifications(flows []FlowGap, minCents Cents) []Misclassification {
	type group struct {
		partner     string
		chapter     string
		year, month int
	}
	exp := map[group][]int{}
	imp := map[group][]int{}
	for i := range flows {
		f := &flows[i]
		gk := group{f.Partner, f.HS[:2], f.Year, f.Month}
		switch {
		case f.ValueGap >= minCents && f.ValueGap > 0 && 2*f.ImportFOB < f.ExportFOB:
			exp[gk] = append(exp[gk], i)
		case -f.ValueGap >= minCents && f.ValueGap < 0 && 2*f.ExportFOB < f.ImportFOB:
			imp[gk] = append(imp[gk], i)
		}
	}
	var out []Misclassification
	for gk, as := range exp {
		bs := imp[gk]
		if len(bs) == 0 {
			continue
		}
		sort.Slice(as, func(i, j int) bool {
			return flows[as[i]].ValueGap > flows[as[j]].ValueGap || flows[as[i]].ValueGap == flows[as[j]].ValueGap && flows[as[i]].HS < flows[as[j]].HS
		})
		used := make([]bool, len(bs))
		for _, ai := range as {
			a := &flows[ai]
			best := -1
			var bestDiff Cents
			for j, bi := range bs {
				if used[j] || flows[bi].RatePct >= a.RatePct {
					// NaN rates compare false: unknown rates do not
					// rule a pair out.
					continue
				}
				sb := -flows[bi].ValueGap
				diff := a.ValueGap - sb
				if diff < 0 {
					diff = -diff
				}
				if float64(diff) > b.cfg.MisclassTolerance*float64(max(a.ValueGap, sb)) {
					continue
				}
				if best < 0 || diff < bestDiff || diff == bestDiff && flows[bi].HS < flows[bs[best]].HS {
					best, bestDiff = j, diff
				}
			}
			if best < 0 {
				continue
			}
			used[best] = true
			bf := &flows[bs[best]]
			a.Misclassified, a.Peer = true, bf.HS
			bf.Misclassified, bf.Peer = true, a.HS
			m := Misclassification{Partner: gk.partner, Year: gk.year, Month: gk.month,
				ExportedAs: a.HS, ImportedAs: bf.HS, ExportSurplus: a.ValueGap, ImportSurplus: -bf.ValueGap,
				RateExported: a.RatePct, RateImported: bf.RatePct}
			if !math.IsNaN(a.RatePct) && !math.IsNaN(bf.RatePct) {
				m.DutyAtStake = b.revenue(min(a.ValueGap, -bf.ValueGap), a.RatePct-bf.RatePct)
			}
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ExportSurplus != out[j].ExportSurplus {
			return out[i].ExportSurplus > out[j].ExportSurplus
		}
		return out[i].Partner+out[i].ExportedAs < out[j].Partner+out[j].ExportedAs
	})
	return out
}

// rollups sums HS6 flows to HS4, HS2 and TOTAL per partner and period, and
// to TOTAL across partners per period. Money sums are exact; weights are
// summed only when every flow of the roll-up has them.
func (b *Builder) rollups(flows []FlowGap) []FlowGap {
	idx := map[flowKey]int{}
	var out []FlowGap
	add := func(partner, hs string, f *FlowGap) {
		k := flowKey{partner, hs, f.Year, f.Month}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			lvl := len(hs)
			if hs == codeTotal {
				lvl = 0
			}
			out = append(out, FlowGap{Partner: partner, HS: hs, Level: lvl, Year: f.Year, Month: f.Month,
				Status: StatusRollup, QtyUnit: -1, ImportQty: math.NaN(), ExportQty: math.NaN(), QtyGap: math.NaN(),
				RatePct: math.NaN(), FOBReported: true})
		}
		r := &out[i]
		r.ImportCIF += f.ImportCIF
		r.ImportFOB += f.ImportFOB
		r.ExportFOB += f.ExportFOB
		r.RevenueGap += f.RevenueGap
		r.FOBReported = r.FOBReported && f.FOBReported
		r.ImportKg = sumKg(r.ImportKg, f.ImportKg, f.ImportFOB)
		r.ExportKg = sumKg(r.ExportKg, f.ExportKg, f.ExportFOB)
	}
	for i := range flows {
		f := &flows[i]
		add(f.Partner, f.HS[:4], f)
		add(f.Partner, f.HS[:2], f)
		add(f.Partner, codeTotal, f)
		add(AllPartners, codeTotal, f)
	}
	for i := range out {
		b.derive(&out[i])
	}
	sort.Slice(out, func(i, j int) bool {
		a, c := &out[i], &out[j]
		if (a.Partner == AllPartners) != (c.Partner == AllPartners) {
			return a.Partner == AllPartners
		}
		return flowLess(a, c)
	})
	return out
}

// sumKg adds a flow's weight to a roll-up's; a flow with value but no
// weight makes the roll-up's weight unknown (NaN) for good.
func sumKg(acc, kg float64, value Cents) float64 {
	if math.IsNaN(kg) {
		if value > 0 {
			return math.NaN()
		}
		return acc
	}
	return acc + kg
}

// fillChecks sums the HS6 records under each reported aggregate.
func (b *Builder) fillChecks() []Check {
	if len(b.checks) == 0 {
		return nil
	}
	addTo := func(flow Flow, partner, hs string, year, month int, v Cents) {
		if c, ok := b.checks[checkKey{flow, partner, hs, year, month}]; ok {
			c.FromHS6 += v
		}
	}
	for i := range b.sides {
		s := &b.sides[i]
		k := s.key
		for _, hs := range [...]string{k.hs, k.hs[:4], k.hs[:2], codeTotal} {
			if s.hasImp {
				if hs != k.hs {
					addTo(FlowImport, k.partner, hs, k.year, k.month, s.impCIF)
				}
				addTo(FlowImport, AllPartners, hs, k.year, k.month, s.impCIF)
			}
			if s.hasExp && hs != k.hs {
				addTo(FlowExport, k.partner, hs, k.year, k.month, s.expFOB)
			}
		}
	}
	out := make([]Check, 0, len(b.checks))
	for _, c := range b.checks {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, c := out[i], out[j]
		if a.Flow != c.Flow {
			return a.Flow < c.Flow
		}
		if a.Partner != c.Partner {
			return a.Partner < c.Partner
		}
		if a.Year != c.Year || a.Month != c.Month {
			return a.Year*100+a.Month < c.Year*100+c.Month
		}
		return a.HS < c.HS
	})
	return out
}
