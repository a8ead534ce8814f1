package synth

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
)

// flowAgg accumulates one partner-by-HS6-by-year flow, as declared (what
// customs recorded) and as it truly was. Money is in cents and mass in
// tenths of a kg, so sums are exact.
type flowAgg struct {
	declCIF, declNet, declGross          int64
	declRows                             int64
	revenue                              int64
	trueCIF, trueFOB, trueNet, trueGross int64
	trueRows                             int64
}

// flowTable maps (pair, year) to its aggregate; a pair's years are created
// together the first time the pair is seen.
type flowTable struct {
	years int
	slot  []int32
	pairs []int32
	aggs  []flowAgg
}

func newFlowTable(numPairs, years int) flowTable {
	slot := make([]int32, numPairs)
	for i := range slot {
		slot[i] = -1
	}
	return flowTable{years: years, slot: slot}
}

func (f *flowTable) at(pair, year int) *flowAgg {
	s := f.slot[pair]
	if s < 0 {
		s = int32(len(f.pairs))
		f.slot[pair] = s
		f.pairs = append(f.pairs, int32(pair))
		f.aggs = append(f.aggs, make([]flowAgg, f.years)...)
	}
	return &f.aggs[int(s)*f.years+year]
}

// TradeHeader is the header of the UN Comtrade bulk-download CSV, which
// TradeStatistics writes.
var TradeHeader = []string{"Classification", "Year", "Period", "Period Desc.", "Aggregate Level", "Is Leaf Code",
	"Trade Flow Code", "Trade Flow", "Reporter Code", "Reporter", "Reporter ISO", "Partner Code", "Partner",
	"Partner ISO", "2nd Partner Code", "2nd Partner", "2nd Partner ISO", "Customs Proc. Code", "Customs",
	"Mode of Transport Code", "Mode of Transport", "Commodity Code", "Commodity", "Qty Unit Code", "Qty Unit",
	"Qty", "Alt Qty Unit Code", "Alt Qty Unit", "Alt Qty", "Netweight (kg)", "Gross weight (kg)",
	"Trade Value (US$)", "CIF Trade Value (US$)", "FOB Trade Value (US$)", "Flag"}

// TruthHeader is the header of the file Truth writes.
var TruthHeader = []string{"reporter_iso", "partner_iso", "hs6", "year", "declared_import_cif", "true_import_cif",
	"underdeclared_cif", "duty_rate", "duty_lost"}

// Reporting noise of the partner's export statistics.
const (
	exportValueNoiseSD  = 0.02
	exportValueNoiseMax = 0.05
	exportMassNoiseSD   = 0.01
	exportMassNoiseMax  = 0.03
)

// TradeStatistics writes bilateral trade statistics in the UN Comtrade
// bulk-download CSV layout (TradeHeader), one row per year, partner, HS6 and
// flow, sorted in that order:
//
//   - Trade Flow Code 1 (Import), reported by Config.Reporter: the sums of
//     the declared CIF values, net and gross masses of the declarations of
//     that origin, HS6 code and year, exactly as customs recorded them
//     (Trade Value and CIF Trade Value, to the cent).
//   - Trade Flow Code 2 (Export), reported by the partner with the reporter
//     as its partner: the partner's FOB value of what it truly shipped (true
//     origin, true HS6, true value) times 1 + e, e ~ Normal(0, 0.02)
//     truncated to [-0.05, 0.05], and the true masses times 1 + d,
//     d ~ Normal(0, 0.01) truncated to [-0.03, 0.03]; e and d are drawn per
//     partner, HS6 and year.
//
// The true CIF value of a flow is its true FOB times its CIF/FOB factor
// 1 + m, where m ~ Uniform(0.06, 0.14) per partner and HS6 (mean factor
// 1.10, the usual default of mirror analysis), and every row's own margin is
// the flow's m plus Uniform(-0.01, 0.01). Qty is the net mass (Qty Unit Code
// 8, kg); money in US$ with two decimals, masses in kg with one. Partner
// codes are Comtrade's numeric codes (M49, with Comtrade's own for India
// 699, USA 842, France 251, Italy 381, Switzerland 757).
func (g *Generator) TradeStatistics(w io.Writer) error {
	if err := g.requireDone("trade statistics"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(TradeHeader); err != nil {
		return err
	}
	rec := make([]string, len(TradeHeader))
	for y := range g.numYears {
		year := strconv.Itoa(g.year0 + y)
		for _, pair := range g.sortedPairs() {
			a := g.flows.aggs[int(g.flows.slot[pair])*g.numYears+y]
			h, o := pair/g.numOrig, pair%g.numOrig
			partner := g.ctab[o]
			if a.declRows > 0 {
				g.tradeRecord(rec, year, h, 1, g.rep, partner, a.declNet, a.declGross, a.declCIF)
				rec[32] = formatCents(a.declCIF)
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
			if a.trueRows > 0 {
				nr := g.flowNoise(pair, g.year0+y)
				e := truncNormal(nr, exportValueNoiseSD, exportValueNoiseMax)
				d := truncNormal(nr, exportMassNoiseSD, exportMassNoiseMax)
				fob := int64(math.Round(float64(a.trueFOB) * (1 + e)))
				net := int64(math.Round(float64(a.trueNet) * (1 + d)))
				gross := max(net, int64(math.Round(float64(a.trueGross)*(1+d))))
				g.tradeRecord(rec, year, h, 2, partner, g.rep, net, gross, fob)
				rec[33] = formatCents(fob)
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func (g *Generator) tradeRecord(rec []string, year string, h, flow int, reporter, partner country, net, gross, value int64) {
	for i := range rec {
		rec[i] = ""
	}
	rec[0], rec[1], rec[2], rec[3], rec[4], rec[5] = "HS", year, year, year, "6", "1"
	rec[6], rec[7] = strconv.Itoa(flow), "Import"
	if flow == 2 {
		rec[7] = "Export"
	}
	rec[8], rec[9], rec[10] = strconv.Itoa(reporter.code), reporter.name, reporter.iso
	rec[11], rec[12], rec[13] = strconv.Itoa(partner.code), partner.name, partner.iso
	rec[21], rec[22] = g.cat.hs6Str[h], g.cat.desc[h]
	rec[23], rec[24], rec[25] = "8", "Weight in kilograms", formatTenths(net)
	rec[29], rec[30] = formatTenths(net), formatTenths(gross)
	rec[31] = formatCents(value)
	rec[34] = "0"
}

// sortedPairs returns the pairs seen, by partner ISO code then HS6 code.
func (g *Generator) sortedPairs() []int {
	out := make([]int, len(g.flows.pairs))
	for i, p := range g.flows.pairs {
		out[i] = int(p)
	}
	sort.Slice(out, func(a, b int) bool {
		pa, pb := g.ctab[out[a]%g.numOrig].iso, g.ctab[out[b]%g.numOrig].iso
		if pa != pb {
			return pa < pb
		}
		return g.cat.hs6[out[a]/g.numOrig] < g.cat.hs6[out[b]/g.numOrig]
	})
	return out
}

// flowNoise returns a random stream private to one flow and year, so that
// its noise does not depend on the order flows are visited in.
func (g *Generator) flowNoise(pair, year int) *rand.Rand {
	h := g.cfg.Seed ^ 0x9e3779b97f4a7c15
	h = splitmix(h ^ uint64(pair))
	h = splitmix(h ^ uint64(year))
	return rand.New(rand.NewPCG(h, 5))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func truncNormal(r *rand.Rand, sd, limit float64) float64 {
	return max(-limit, min(limit, r.NormFloat64()*sd))
}

// Truth writes the planted under-declared flows (TruthHeader), one row per
// partner, HS6 and year with declarations, sorted in that order:
// declared_import_cif is the reporter's recorded import (the Trade Value of
// the flow-1 row of TradeStatistics), true_import_cif the true CIF value of
// the same shipments, underdeclared_cif their difference, duty_rate the
// flow's ad-valorem duty in percent (25 for 25%, as tax_rate in the
// declarations and the tariff table), and duty_lost the duty the
// under-declaration removed: the sum of the revenue of the flow's rows, equal
// to underdeclared_cif * duty_rate / 100 up to the rounding of each row's
// duty to the cent. Only undervaluation touches a planted flow: no row
// is misclassified or misdeclared into or out of one.
func (g *Generator) Truth(w io.Writer) error {
	if err := g.requireDone("the truth file"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(TruthHeader); err != nil {
		return err
	}
	for _, pair := range g.sortedPairs() {
		if !g.plantedAny(pair) {
			continue
		}
		h, o := pair/g.numOrig, pair%g.numOrig
		for y := range g.numYears {
			a := g.flows.aggs[int(g.flows.slot[pair])*g.numYears+y]
			if a.declRows == 0 {
				continue
			}
			rec := []string{g.rep.iso, g.ctab[o].iso, g.cat.hs6Str[h], strconv.Itoa(g.year0 + y),
				formatCents(a.declCIF), formatCents(a.trueCIF), formatCents(a.trueCIF - a.declCIF),
				strconv.FormatFloat(g.cat.ratePct[h], 'f', -1, 64), formatCents(a.revenue)}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// PlantedFlow is one systematically under-declared partner-by-HS6 flow.
type PlantedFlow struct {
	Partner string // ISO3
	HS6     string
	// DutyRate is the ad-valorem duty in percent.
	DutyRate float64
}

// PlantedFlows lists the under-declared flows by partner and HS6; it is
// known before any row is generated.
func (g *Generator) PlantedFlows() []PlantedFlow {
	var out []PlantedFlow
	for pair := range g.planted {
		if g.plantedAny(pair) {
			h, o := pair/g.numOrig, pair%g.numOrig
			out = append(out, PlantedFlow{g.ctab[o].iso, g.cat.hs6Str[h], g.cat.ratePct[h]})
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Partner != out[b].Partner {
			return out[a].Partner < out[b].Partner
		}
		return out[a].HS6 < out[b].HS6
	})
	return out
}

// Tariffs writes the catalogue's tariff table, a CSV with columns hs,rate:
// every HS6 code with its MFN ad-valorem duty in percent, sorted by code.
// Preferential partners pay 0 on every code, which the table does not show.
func (g *Generator) Tariffs(w io.Writer) error {
	idx := make([]int, g.cat.numCodes)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return g.cat.hs6[idx[a]] < g.cat.hs6[idx[b]] })
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"hs", "rate"}); err != nil {
		return err
	}
	for _, h := range idx {
		if err := cw.Write([]string{g.cat.hs6Str[h], strconv.FormatFloat(g.cat.ratePct[h], 'f', -1, 64)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func formatCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

func formatTenths(t int64) string {
	return fmt.Sprintf("%d.%d", t/10, t%10)
}
