package synth

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/decl"
)

// Extra columns the generator adds after the canonical ones.
const (
	// ModeColumn holds the mode of transport at the border: sea, air, road.
	ModeColumn = decl.ModeOfTransport
	// FraudTypeColumn is the planted fraud type, a label (never a model
	// input): empty for a clean row, else one of the Fraud* values. It is the
	// truth of the simulation, so it is filled even for uninspected rows.
	FraudTypeColumn = "fraud_type"
)

// The planted fraud types, as written in FraudTypeColumn.
const (
	FraudNone              = ""
	FraudUndervaluation    = "undervaluation"
	FraudMisclassification = "misclassification"
	FraudOrigin            = "origin"
	// FraudQuantity is concealment: the declaration leaves out part of the
	// goods, value and quantities alike, so that its unit values look
	// honest. Only Drift.Hidden flows commit it.
	FraudQuantity = "quantity"
)

const (
	typeNone = iota
	typeUnder
	typeMisclass
	typeOrigin
	typeQuantity
	numFraudTypes
)

var fraudNames = [numFraudTypes]string{FraudNone, FraudUndervaluation, FraudMisclassification, FraudOrigin, FraudQuantity}

// Parameters of a row (see the package comment).
const (
	rowValueSD       = 1.1  // log-sd of a shipment's value around its HS6 median
	originPriceSD    = 0.12 // log-sd of an origin's price level
	marginLow        = 0.06 // CIF/FOB margin of a partner-by-HS6 flow: U(marginLow, marginHigh)
	marginHigh       = 0.14
	marginJitter     = 0.01 // a row's margin is the flow's plus U(-jitter, +jitter)
	hubDeparture     = 0.15 // overseas goods departing from a transhipment hub
	roadAir          = 0.10 // a neighbour's goods that fly rather than drive
	quantitySD       = 0.1
	packMin          = 0.03 // gross = net * (1 + U(packMin, packMax))
	packMax          = 0.15
	bulkPackMin      = 0.005
	bulkPackMax      = 0.025
	undervalueMin    = 0.3 // undervaluation cuts the value by U(0.3, 0.9)
	undervalueMax    = 0.9
	misclassSameHS4  = 0.7 // chance a misclassifier uses a code of the same heading when both exist
	weekendSaturday  = 0.45
	weekendSunday    = 0.15
	seasonAmplitude  = 0.10
	seasonPeakDayOfY = 330
)

// Generator produces synthetic declarations batch by batch. It is not safe
// for concurrent use; run it on one goroutine and hand batches to another.
type Generator struct {
	cfg     Config
	ctab    []country
	rep     country
	numOrig int
	cat     *catalogue
	pop     *population
	planted []bool
	margin  []float64
	priceFx []float64
	hubs    []int
	prefIdx []int
	expRate float64
	drift   *drifted // nil without Config.Drift

	schema *arrow.Schema
	rb     *array.RecordBuilder
	cols   builders
	ts     *timestamps // nil unless Config.Timestamps

	rowR, fraudR, labelR *rand.Rand

	next     int64
	dayEnd   []int64
	day      int
	date32   int32
	yearIdx  int
	yearPfx  []byte
	year0    int
	numYears int
	idBuf    []byte

	flows flowTable
	count [numFraudTypes]int64
	lab   int64
	ill   int64
	revC  int64
}

type builders struct {
	id, office, importer, declarant, seller, hs, origin, departure *array.StringBuilder
	date                                                           *array.Date32Builder
	qty, net, gross, fob, cif, taxRate, taxes, revenue             *array.Float64Builder
	illicit                                                        *array.Int8Builder
	mode, fraud                                                    *array.StringBuilder
}

// Schema returns the Arrow schema of the generated batches: the canonical
// columns of decl followed by ModeColumn and the label
// FraudTypeColumn.
func Schema() *arrow.Schema {
	return decl.SchemaFields([]arrow.Field{
		{Name: ModeColumn, Type: arrow.BinaryTypes.String, Nullable: true},
		decl.LabelField(FraudTypeColumn),
	})
}

// New builds the catalogue and populations of cfg and returns a generator
// positioned before the first row.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{cfg: cfg}
	ri, _ := lookupCountry(cfg.Reporter)
	g.rep = countries[ri]
	for i, c := range countries {
		if i != ri {
			g.ctab = append(g.ctab, c)
		}
	}
	g.numOrig = len(g.ctab)
	for o, c := range g.ctab {
		if c.hub {
			g.hubs = append(g.hubs, o)
		}
		if c.pref {
			g.prefIdx = append(g.prefIdx, o)
		}
	}
	setup := rand.New(rand.NewPCG(cfg.Seed, 1))
	g.cat = buildCatalogue(setup, cfg.NumHS, g.ctab)
	g.pop = buildPopulation(setup, cfg, g.cat, g.ctab)
	g.priceFx = make([]float64, g.numOrig)
	for o := range g.priceFx {
		g.priceFx[o] = setup.NormFloat64() * originPriceSD
	}
	g.margin = make([]float64, cfg.NumHS*g.numOrig)
	for i := range g.margin {
		g.margin[i] = marginLow + (marginHigh-marginLow)*setup.Float64()
	}
	share, traders := g.pop.pairShares(g.numOrig, cfg.NumHS)
	var err error
	if g.planted, err = choosePlanted(cfg.UnderdeclaredFlows, plantedBudget, cfg.FraudRate, share, traders, g.cat, g.ctab); err != nil {
		return nil, err
	}
	if g.expRate, err = g.pop.calibrate(cfg.FraudRate, g.planted, g.cat, g.ctab); err != nil {
		return nil, err
	}
	if cfg.Drift.On() {
		if g.drift, err = g.newDrifted(cfg.Drift, share, traders); err != nil {
			return nil, err
		}
	}
	g.buildDays()
	g.flows = newFlowTable(cfg.NumHS*g.numOrig, g.numYears)

	g.rowR = rand.New(rand.NewPCG(cfg.Seed, 2))
	g.fraudR = rand.New(rand.NewPCG(cfg.Seed, 3))
	g.labelR = rand.New(rand.NewPCG(cfg.Seed, 4))

	g.schema = Schema()
	if cfg.Timestamps {
		g.schema = decl.SchemaFields(append(g.schema.Fields()[len(decl.Columns):], timestampFields()...))
	}
	g.rb = array.NewRecordBuilder(memory.DefaultAllocator, g.schema)
	b := g.rb.Field
	g.cols = builders{
		id: b(0).(*array.StringBuilder), date: b(1).(*array.Date32Builder),
		office: b(2).(*array.StringBuilder), importer: b(3).(*array.StringBuilder),
		declarant: b(4).(*array.StringBuilder), seller: b(5).(*array.StringBuilder),
		hs: b(6).(*array.StringBuilder), origin: b(7).(*array.StringBuilder),
		departure: b(8).(*array.StringBuilder), qty: b(9).(*array.Float64Builder),
		net: b(10).(*array.Float64Builder), gross: b(11).(*array.Float64Builder),
		fob: b(12).(*array.Float64Builder), cif: b(13).(*array.Float64Builder),
		taxRate: b(14).(*array.Float64Builder), taxes: b(15).(*array.Float64Builder),
		illicit: b(16).(*array.Int8Builder), revenue: b(17).(*array.Float64Builder),
		mode: b(18).(*array.StringBuilder), fraud: b(19).(*array.StringBuilder),
	}
	if cfg.Timestamps {
		g.ts = newTimestamps(cfg.Seed, len(g.pop.officeID), g.rb, 20)
	}
	return g, nil
}

// buildDays spreads the rows over the days of the range in date order, in
// proportion to a weekly and yearly pattern: weekdays 1, Saturday 0.45,
// Sunday 0.15, times 1 + 0.10 cos(2 pi (day of year - 330) / 365).
func (g *Generator) buildDays() {
	first, last := day(g.cfg.Start), day(g.cfg.End)
	n := int(last - first + 1)
	w := make([]float64, n)
	total := 0.0
	for d := range n {
		t := time.Unix((first+int64(d))*86400, 0).UTC()
		x := 1.0
		switch t.Weekday() {
		case time.Saturday:
			x = weekendSaturday
		case time.Sunday:
			x = weekendSunday
		}
		x *= 1 + seasonAmplitude*math.Cos(2*math.Pi*float64(t.YearDay()-seasonPeakDayOfY)/365)
		w[d] = x
		total += x
	}
	g.dayEnd = make([]int64, n)
	cum := 0.0
	for d := range n {
		cum += w[d]
		g.dayEnd[d] = int64(math.Round(float64(g.cfg.Rows) * cum / total))
	}
	g.dayEnd[n-1] = g.cfg.Rows
	g.year0 = time.Unix(first*86400, 0).UTC().Year()
	g.numYears = time.Unix(last*86400, 0).UTC().Year() - g.year0 + 1
	g.day = -1
	g.advanceDay()
}

func (g *Generator) advanceDay() {
	g.day++
	d := day(g.cfg.Start) + int64(g.day)
	g.date32 = int32(d)
	y := time.Unix(d*86400, 0).UTC().Year()
	g.yearIdx = y - g.year0
	g.yearPfx = strconv.AppendInt(g.yearPfx[:0], int64(y), 10)
	g.yearPfx = append(g.yearPfx, '-')
}

// Schema returns the schema of the batches Next returns.
func (g *Generator) Schema() *arrow.Schema { return g.schema }

// Config returns the generator's configuration.
func (g *Generator) Config() Config { return g.cfg }

// Next returns the next batch of at most Config.BatchSize rows, or io.EOF
// after the last. The caller releases each batch.
func (g *Generator) Next() (arrow.RecordBatch, error) {
	if g.next >= g.cfg.Rows {
		return nil, io.EOF
	}
	n := min(int64(g.cfg.BatchSize), g.cfg.Rows-g.next)
	g.rb.Reserve(int(n))
	for range n {
		g.row()
	}
	return g.rb.NewRecordBatch(), nil
}

// Done reports whether every row has been generated.
func (g *Generator) Done() bool { return g.next >= g.cfg.Rows }

func (g *Generator) row() {
	i := g.next
	g.next++
	for i >= g.dayEnd[g.day] {
		g.advanceDay()
	}
	r, p, c := g.rowR, g.pop, g.cat
	if g.drift != nil && g.drift.pop != nil && g.date32 >= g.drift.day {
		p = g.drift.pop // with Drift.Newcomers
	}

	imp := p.impAlias.sample(r)
	ls, le := p.lineStart[imp], p.lineStart[imp+1]
	l := ls + int32(pickCum(p.lineCum[ls:le], r.Float64()))
	ds, de := p.declStart[imp], p.declStart[imp+1]
	slot := ds + int32(pickCum(p.declCum[ds:de], r.Float64()))
	h, o := int(p.lineHS[l]), int(p.lineOrig[l])
	pair := h*g.numOrig + o

	mode := modeSea
	if g.ctab[o].road {
		mode = modeRoad
		if r.Float64() < roadAir {
			mode = modeAir
		}
	} else if r.Float64() < c.pAir[h] {
		mode = modeAir
	}
	office := p.pickOffice(mode, r.Float64())
	dep := o
	if !g.ctab[o].road && r.Float64() < hubDeparture {
		dep = g.hub(r.IntN(len(g.hubs)), o)
	}

	uv := math.Exp(c.mu[h] + g.priceFx[o] + c.sigma[h]*r.NormFloat64())
	declP, plantedNow := p.declP, g.planted
	hidden, kept := false, false
	if g.drift != nil && g.date32 >= g.drift.day {
		uv *= g.drift.price[h]
		declP, plantedNow = g.drift.declP, g.drift.planted
		hidden = g.drift.hidden[pair]
		kept = g.drift.kept != nil && g.drift.kept[pair]
	}
	value := math.Exp(c.lnValue[h] + rowValueSD*r.NormFloat64())
	net := max(0.1, round1(value/uv))
	fob := max(0.01, round2(net*uv))
	margin := g.margin[pair] + marginJitter*(2*r.Float64()-1)
	cif := round2(fob * (1 + margin))
	pack := r.Float64()
	qty := net
	if c.unitKg[h] == 0 {
		pack = bulkPackMin + (bulkPackMax-bulkPackMin)*pack
	} else {
		pack = packMin + (packMax-packMin)*pack
		qty = max(1, math.Round(net/c.unitKg[h]*math.Exp(quantitySD*r.NormFloat64())))
	}
	gross := max(net, round1(net*(1+pack)))

	// Fraud, from its own stream so that the declarations underneath stay
	// the same whatever the fraud rate.
	f := g.fraudR
	ratePct := c.ratePct[h]
	if g.ctab[o].pref {
		ratePct = 0
	}
	ft := typeNone
	dh, do, ddep := h, o, dep
	dfob, dcif, dRatePct := fob, cif, ratePct
	dnet, dgross, dqty := net, gross, qty
	u := f.Float64()
	pf := declP[slot]
	planted := plantedNow[pair]
	if planted || hidden {
		floor := plantedShare
		if hidden {
			floor = g.drift.hiddenP // Drift.HiddenEstablished's, else plantedShare
		}
		pf = max(pf, floor)
	} else if kept {
		planted, pf = true, max(pf, g.drift.keep)
	}
	if hidden && ratePct > 0 && u < pf {
		// Concealment: a share of the goods is left out of the
		// declaration, value and quantities alike.
		ft = typeQuantity
		keep := 1 - (undervalueMin + (undervalueMax-undervalueMin)*f.Float64())
		dfob = max(0.01, round2(fob*keep))
		dcif = round2(dfob * (1 + margin))
		dnet = max(0.1, round1(net*keep))
		dgross = max(dnet, round1(gross*keep))
		if c.unitKg[h] != 0 {
			dqty = max(1, math.Round(qty*keep))
		} else {
			dqty = dnet
		}
	} else if ratePct > 0 && u < pf {
		ft = typeUnder
		if !planted {
			t := int(p.impType[imp])
			if f.Float64() >= preferredTypeShare {
				t = pickWeights(typeMix[:], f.Float64())
			}
			switch t {
			case typeMisclass:
				if alt := g.misclassTarget(f, h, o); alt >= 0 {
					ft, dh, dRatePct = typeMisclass, alt, c.ratePct[alt]
				}
			case typeOrigin:
				ft = typeOrigin
				do = g.prefIdx[pickCum(c.prefCum[h], f.Float64()*c.prefCum[h][len(c.prefCum[h])-1])]
				dRatePct = 0
				switch v := f.Float64(); {
				case v < 0.4:
					ddep = o
				case v < 0.8:
					ddep = g.hub(f.IntN(len(g.hubs)), o)
				default:
					ddep = do
				}
			}
		}
		if ft == typeUnder {
			cut := undervalueMin + (undervalueMax-undervalueMin)*f.Float64()
			dfob = max(0.01, round2(fob*(1-cut)))
			dcif = round2(dfob * (1 + margin))
		}
	}
	// US$ times percent is cents.
	trueTax := int64(math.Round(cif * ratePct))
	declTax := int64(math.Round(dcif * dRatePct))
	rev := trueTax - declTax
	if ft != typeNone && rev <= 0 {
		// A shipment too small for the evasion to change the duty by a cent.
		ft, dh, do, ddep, dfob, dcif, dRatePct, declTax, rev = typeNone, h, o, dep, fob, cif, ratePct, trueTax, 0
		dnet, dgross, dqty = net, gross, qty
	}
	inspected := g.labelR.Float64() < g.cfg.LabelRate

	b := &g.cols
	g.idBuf = append(g.idBuf[:0], g.yearPfx...)
	g.idBuf = append(g.idBuf, p.officeID[office]...)
	g.idBuf = append(g.idBuf, '-')
	g.idBuf = appendPadded(g.idBuf, i+1, 9)
	b.id.BinaryBuilder.Append(g.idBuf)
	b.date.Append(arrow.Date32(g.date32))
	b.office.Append(p.officeID[office])
	b.importer.Append(p.impID[imp])
	b.declarant.Append(p.decID[p.declIdx[slot]])
	b.seller.Append(p.sellerID[p.lineSeller[l]])
	b.hs.Append(c.tariff[dh])
	b.origin.Append(g.ctab[do].iso)
	b.departure.Append(g.ctab[ddep].iso)
	b.qty.Append(dqty)
	b.net.Append(dnet)
	b.gross.Append(dgross)
	b.fob.Append(dfob)
	b.cif.Append(dcif)
	b.taxRate.Append(dRatePct)
	b.taxes.Append(float64(declTax) / 100)
	if inspected {
		ill := int8(0)
		if ft != typeNone {
			ill = 1
			g.ill++
		}
		b.illicit.Append(ill)
		b.revenue.Append(float64(rev) / 100)
		g.lab++
	} else {
		b.illicit.AppendNull()
		b.revenue.AppendNull()
	}
	b.mode.Append(modeNames[mode])
	b.fraud.Append(fraudNames[ft])
	if g.ts != nil {
		g.ts.row(g.date32, mode, office, ft != typeNone)
	}

	g.count[ft]++
	g.revC += rev
	net10, gross10 := int64(math.Round(net*10)), int64(math.Round(gross*10))
	da := g.flows.at(dh*g.numOrig+do, g.yearIdx)
	da.declCIF += cents(dcif)
	da.declNet += int64(math.Round(dnet * 10))
	da.declGross += int64(math.Round(dgross * 10))
	da.declRows++
	da.revenue += rev
	ta := g.flows.at(pair, g.yearIdx)
	ta.trueCIF += cents(cif)
	ta.trueFOB += cents(fob)
	ta.trueNet += net10
	ta.trueGross += gross10
	ta.trueRows++
}

// hub returns the k-th transhipment hub, skipping the origin itself.
func (g *Generator) hub(k, origin int) int {
	d := g.hubs[k]
	if d == origin && len(g.hubs) > 1 {
		d = g.hubs[(k+1)%len(g.hubs)]
	}
	return d
}

// misclassTarget picks the lower-duty code a misclassifier declares instead
// of h, or -1 when there is none outside the planted flows.
func (g *Generator) misclassTarget(f *rand.Rand, h, o int) int {
	a4, a2 := g.cat.altHS4[h], g.cat.altHS2[h]
	alts := a2
	if len(a4) > 0 && (len(a2) == 0 || f.Float64() < misclassSameHS4) {
		alts = a4
	}
	if len(alts) == 0 {
		return -1
	}
	k := f.IntN(len(alts))
	for j := range alts {
		a := int(alts[(k+j)%len(alts)])
		// Rows moved into a planted flow would blur what its truth records.
		if !g.plantedAny(a*g.numOrig + o) {
			return a
		}
	}
	return -1
}

// Summary describes what was generated so far.
type Summary struct {
	Rows int64
	// ByType counts rows by planted fraud type (FraudNone for clean rows).
	ByType map[string]int64
	// Labelled and Illicit count inspected rows and the illicit ones among
	// them.
	Labelled, Illicit int64
	// Revenue is the duty that inspecting every fraudulent row would raise.
	Revenue float64
	// PlantedFlows is the number of systematically under-declared
	// partner-by-HS6 flows.
	PlantedFlows int
	// ExpectedFraudRate is the fraud rate the calibration aimed at.
	ExpectedFraudRate float64
}

// FraudRate returns the share of rows that are fraudulent.
func (s Summary) FraudRate() float64 {
	if s.Rows == 0 {
		return 0
	}
	return float64(s.Rows-s.ByType[FraudNone]) / float64(s.Rows)
}

// Summary returns counts of what was generated so far.
func (g *Generator) Summary() Summary {
	s := Summary{Rows: g.next, ByType: map[string]int64{}, Labelled: g.lab, Illicit: g.ill,
		Revenue: float64(g.revC) / 100, ExpectedFraudRate: g.expRate}
	for t, n := range g.count {
		s.ByType[fraudNames[t]] = n
	}
	for _, p := range g.planted {
		if p {
			s.PlantedFlows++
		}
	}
	return s
}

func (g *Generator) requireDone(what string) error {
	if !g.Done() {
		return fmt.Errorf("%s needs every row generated first (%d of %d so far); call Next until io.EOF", what, g.next, g.cfg.Rows)
	}
	return nil
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
func round2(x float64) float64 { return math.Round(x*100) / 100 }
func cents(x float64) int64    { return int64(math.Round(x * 100)) }

// appendPadded appends v in decimal with at least width digits.
func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for k := len(s); k < width; k++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
